"""Is a block of samples still? Shared by the gyro-bias, stand and 6-position checks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import CalibrationRejected

# A person standing as still as they can sways ~0.1-0.3 deg/s and ~0.05 m/s² at the sacrum; a table is
# far below. These limits reject fidgeting and walking while accepting quiet human stance.
MAX_GYR_STD = np.radians(2.0)  # rad/s, per-axis standard deviation
MAX_ACC_STD = 0.3  # m/s², per-axis standard deviation
GRAVITY = 9.80665


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


def check_still(acc: np.ndarray, gyr: np.ndarray, what: str = "recording",
                max_gyr_std: float = MAX_GYR_STD, max_acc_std: float = MAX_ACC_STD) -> StillnessReport:
    if len(acc) < 2:
        raise CalibrationRejected(f"{what} has no samples")
    rep = stillness(acc, gyr)
    if rep.gyr_std > max_gyr_std:
        raise CalibrationRejected(
            f"{what} was not still: rotation varied by {np.degrees(rep.gyr_std):.1f} deg/s "
            f"(limit {np.degrees(max_gyr_std):.1f}); hold still and repeat")
    if rep.acc_std > max_acc_std:
        raise CalibrationRejected(
            f"{what} was not still: acceleration varied by {rep.acc_std:.2f} m/s² (limit {max_acc_std:.2f}); "
            "hold still and repeat")
    return rep


def true_runs(mask: np.ndarray, min_len: int = 1) -> list[tuple[int, int]]:
    """(first, end) indices of every run of True in `mask` at least `min_len` long."""
    edges = np.flatnonzero(np.diff(np.r_[0, np.asarray(mask).astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_len]
