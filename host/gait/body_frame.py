"""Gravity-levelled, heading-aligned signals of a trunk-worn IMU, the common input of the gait detectors.

The vertical comes from the accelerometer's low-passed direction (gravity dominates below ~0.3 Hz while
stepping averages out); forward is the horizontal part of the pelvis' forward axis, so a sensor pitched on
the waistband or a bent-forward trunk still gives true vertical and horizontal accelerations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import sosfilt
from tiltguard.host.samples import GRAVITY
from tiltguard.host.signal.filters import butter_sos, filtfilt

GRAVITY_CUTOFF_HZ = 0.3  # below the slowest step rate (~0.8 Hz), above posture changes
SIGNAL_CUTOFF_HZ = 10.0  # keeps the loading-response rise (~50 ms) and drops impact ringing
FRAME_DECIMATION = 10  # the level frame is computed on means of this many samples (post mode)
TIMING_CUTOFF_HZ = 40.0  # keeps a running foot-strike impact (~20 ms rise) for contact timing


@dataclass
class LevelSignals:
    """acc: (N, 3) forward, left, up, m/s², gravity removed; gyr: (N, 3) roll, pitch, yaw rate (about the
    same axes), rad/s; both low-passed at SIGNAL_CUTOFF_HZ. vertical_wide: the vertical acceleration
    low-passed at TIMING_CUTOFF_HZ (or 0.45 × the rate), for timing impacts. up: the slow vertical in
    pelvis axes, from which posture (tilt, obliquity of the whole body) follows."""

    rate_hz: float
    acc: np.ndarray
    gyr: np.ndarray
    vertical_wide: np.ndarray
    up: np.ndarray | None = None  # (N, 3) the vertical in pelvis axes (posture; [0, 0, 1] at neutral)

    @property
    def vertical(self) -> np.ndarray:
        return self.acc[:, 2]


def _lowpass(x: np.ndarray, cutoff_hz: float, rate_hz: float, causal: bool) -> np.ndarray:
    cutoff = min(cutoff_hz, 0.45 * rate_hz)
    sos = butter_sos(2, cutoff, rate_hz)
    if causal:
        return sosfilt(sos, x, axis=0)
    padlen = min(len(x) - 1, 3 * int(rate_hz / cutoff))
    return filtfilt(sos, x, axis=0, padlen=max(padlen, 0))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def _level_frame(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(up, forward, left) unit vectors in pelvis axes from the low-passed specific force g."""
    norm = np.linalg.norm(g, axis=1, keepdims=True)
    up = np.where(norm > 1e-6, g / np.maximum(norm, 1e-12), np.array([0.0, 0.0, 1.0]))
    fwd = np.array([1.0, 0.0, 0.0]) - up[:, :1] * up  # pelvis forward minus its vertical part
    fwd_norm = np.linalg.norm(fwd, axis=1, keepdims=True)
    # A trunk pitched 90° has no horizontal forward; fall back to the pelvis' up axis turned down.
    fallback = np.array([0.0, 0.0, 1.0]) - up[:, 2:3] * up
    fwd = _unit(np.where(fwd_norm > 0.2, fwd, -fallback))
    return up, fwd, np.cross(up, fwd)


def level_signals(
    acc: np.ndarray,
    gyr: np.ndarray,
    rate_hz: float,
    sensor_to_pelvis: np.ndarray | None = None,
    causal: bool = False,
) -> LevelSignals:
    """Rotate sensor-frame acc (m/s²) / gyr (rad/s) into a level frame whose x is the pelvis' forward
    direction projected on the horizontal plane.

    `sensor_to_pelvis` (3×3, rows = pelvis x forward, y left, z up in sensor coordinates) comes from the
    mounting calibration; without it the sensor axes are taken as the pelvis axes.
    """
    acc = np.asarray(acc, dtype=float)
    gyr = np.asarray(gyr, dtype=float)
    if acc.ndim != 2 or acc.shape[1] != 3 or acc.shape != gyr.shape:
        raise ValueError(f"acc {acc.shape} and gyr {gyr.shape} must both be (N, 3)")
    if len(acc) < 2:
        raise ValueError("need at least two samples")
    m = np.eye(3) if sensor_to_pelvis is None else np.asarray(sensor_to_pelvis, dtype=float)
    n = len(acc)
    if causal or n < 40 * FRAME_DECIMATION:
        up, fwd, left = _level_frame(_lowpass(acc @ m.T, GRAVITY_CUTOFF_HZ, rate_hz, causal))
        level = np.stack([fwd, left, up], axis=1) @ m  # (N, 3, 3): sensor -> level
    else:
        # The frame follows the 0.3 Hz gravity direction: compute it on block means (whose sinc response
        # also keeps the stepping harmonics from aliasing) and interpolate back, ~10x less work.
        k = FRAME_DECIMATION
        n_blocks = n // k
        blocks = acc[: n_blocks * k].reshape(n_blocks, k, 3).mean(axis=1) @ m.T
        up, fwd, left = _level_frame(_lowpass(blocks, GRAVITY_CUTOFF_HZ, rate_hz / k, False))
        coarse = (np.stack([fwd, left, up], axis=1) @ m).reshape(n_blocks, 9)
        centres = np.arange(n_blocks) * k + (k - 1) / 2.0
        fine = np.arange(n, dtype=float)
        level = np.empty((n, 9))
        for c in range(9):
            level[:, c] = np.interp(fine, centres, coarse[:, c])
        level = level.reshape(n, 3, 3)
        up = level[:, 2, :] @ m.T  # pelvis axes (interpolated, near unit)
    a = np.einsum("nij,nj->ni", level, acc)
    w = np.einsum("nij,nj->ni", level, gyr)
    a[:, 2] -= GRAVITY
    return LevelSignals(
        rate_hz,
        _lowpass(a, SIGNAL_CUTOFF_HZ, rate_hz, causal),
        _lowpass(w, SIGNAL_CUTOFF_HZ, rate_hz, causal),
        _lowpass(a[:, 2], TIMING_CUTOFF_HZ, rate_hz, causal),
        up,
    )
