"""Is a block of samples still, and which samples are? One definition for every stage: the calibration's
stands (calibration.still), rest in the travel model (host.orientation), re-clip detection."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

# A person standing as still as they can sways ~0.1-0.3 deg/s and ~0.05 m/s² at the sacrum; a table is
# far below. These limits reject fidgeting and walking while accepting quiet human stance.
MAX_GYR_STD = np.radians(2.0)  # rad/s, per-axis standard deviation
MAX_ACC_STD = 0.3  # m/s², per-axis standard deviation


@dataclass
class StillnessReport:
    gyr_std: float  # rad/s, largest per-axis std
    acc_std: float  # m/s², largest per-axis std
    acc_norm: float  # m/s², norm of the mean specific force


def stillness(acc: np.ndarray, gyr: np.ndarray) -> StillnessReport:
    acc = np.asarray(acc, float)
    gyr = np.asarray(gyr, float)
    return StillnessReport(float(gyr.std(axis=0).max()), float(acc.std(axis=0).max()),
                           float(np.linalg.norm(acc.mean(axis=0))))


def is_still(acc: np.ndarray, gyr: np.ndarray) -> bool:
    """As still as a calibration stand (the limits above)."""
    rep = stillness(acc, gyr)
    return rep.gyr_std <= MAX_GYR_STD and rep.acc_std <= MAX_ACC_STD


def true_runs(mask: np.ndarray, min_len: int = 1) -> list[tuple[int, int]]:
    """(first, end) indices of every run of True in `mask` at least `min_len` long."""
    edges = np.flatnonzero(np.diff(np.r_[0, np.asarray(mask).astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_len]


def still_mask(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, window_s: float = 1.0) -> np.ndarray:
    """Samples whose surrounding second is as still as a calibration stand (same limits as calibration)."""
    w = max(2, int(window_s * rate_hz))

    def moving_std(x):
        mean = uniform_filter1d(x, w, axis=0, mode="nearest")
        return np.sqrt(np.maximum(uniform_filter1d(x * x, w, axis=0, mode="nearest") - mean * mean, 0)).max(axis=1)

    return (moving_std(np.asarray(gyr, float)) <= MAX_GYR_STD) & (moving_std(np.asarray(acc, float)) <= MAX_ACC_STD)
