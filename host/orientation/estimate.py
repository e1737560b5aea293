"""One entry point for orientation in both modes.

- mode="causal": every estimate uses only samples up to its own (live view, on-line flags).
- mode="post":   the whole recording is known (report); may look ahead and back.

method="tiltguard" is the project's filter: VQF (Laidig & Seel 2023) with rest and motion gyro-bias estimation
in causal mode, and its forward-backward offline variant in post mode (bias fused from a forward and a backward
run via their covariances, gyro integration with that bias, zero-phase low-pass of the accelerometer in the
strapdown frame). VQF's inclination correction low-passes the accelerometer *in the inertial frame*
(τ = 3 s), so foot-strike impacts (zero mean over a stride) average out instead of pulling the inclination, and
its bias estimator learns during rest (stands) and during motion (runs), following slow temperature drift.
The comparison filters (plain VQF, Madgwick, Mahony, EKF, imufusion) live with the benches
(bench/tiltguard_eval/orientation_filters.py), not in the product.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vqf import VQF, offlineVQF

from .travel import travel_compensated_acc
from .travel_stream import TravelStream

MODES = ("causal", "post")
TILTGUARD = "tiltguard"


@dataclass
class OrientationResult:
    quat: np.ndarray  # (N, 4) sensor -> earth, [w x y z], earth z up, heading arbitrary (6D)
    method: str
    mode: str
    gyro_bias: np.ndarray | None = None  # (N, 3) rad/s, where the filter estimates it
    rest: np.ndarray | None = None  # (N,) bool, rest detected


def _as_imu_arrays(acc, gyr) -> tuple[np.ndarray, np.ndarray]:
    acc = np.ascontiguousarray(acc, dtype=float)
    gyr = np.ascontiguousarray(gyr, dtype=float)
    if acc.ndim != 2 or acc.shape[1] != 3 or acc.shape != gyr.shape:
        raise ValueError(f"acc {acc.shape} and gyr {gyr.shape} must both be (N, 3)")
    if len(acc) == 0:
        raise ValueError("no samples")
    if not (np.isfinite(acc).all() and np.isfinite(gyr).all()):
        raise ValueError("acc/gyr contain NaN or inf; cut or interpolate the gap first")
    return acc, gyr


def vqf_params(**overrides) -> dict:
    """VQF parameters used by the tiltguard filter (the library defaults, which are not tuned to any data)."""
    return dict(overrides)


def estimate_orientation(
    acc: np.ndarray,
    gyr: np.ndarray,
    rate_hz: float,
    mode: str = "post",
    gyro_bias: np.ndarray | None = None,
    travel: bool = False,
) -> OrientationResult:
    """Orientation (sensor -> earth) of every sample from specific force (m/s²) and angular rate (rad/s).

    `gyro_bias` (rad/s, e.g. from calibration.gyro_bias_at_rest) seeds the bias estimate of the tiltguard
    filter; VQF keeps refining it. `travel=True` (tiltguard) is for a sensor worn by someone who travels on
    foot or by bike: the modelled travel acceleration (starts, stops, corners) is removed before the
    inclination correction (post: host.orientation.travel; causal: host.orientation.travel_stream).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if rate_hz <= 0:
        raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
    acc, gyr = _as_imu_arrays(acc, gyr)
    # the travel model's own slow filter learns a bias too, clipped at 2°/s per axis: hand it the known one
    unbiased = gyr if gyro_bias is None else np.ascontiguousarray(gyr - np.asarray(gyro_bias, float))
    if travel and mode == "post":
        acc = np.ascontiguousarray(travel_compensated_acc(acc, unbiased, rate_hz))
    elif travel:
        acc = TravelStream(rate_hz).update(acc, unbiased)
    return _tiltguard(acc, gyr, rate_hz, mode, gyro_bias)


def _tiltguard(acc, gyr, rate_hz, mode, gyro_bias) -> OrientationResult:
    # A calibrated bias is removed up front and VQF estimates what remains (temperature drift): VQF clips its
    # own estimate at 2°/s per axis (and takes a larger constant rate for no rest), while a MEMS gyro's offset
    # can be 5-10°/s, and which axes carry it depends on how the pod is turned.
    g = gyr if gyro_bias is None else np.ascontiguousarray(gyr - np.asarray(gyro_bias, float))
    if mode == "causal":
        out = VQF(1.0 / rate_hz, **vqf_params()).updateBatch(g, acc)
    else:
        out = offlineVQF(g, acc, None, 1.0 / rate_hz, vqf_params())
    if gyro_bias is not None:
        out["bias"] = out["bias"] + np.asarray(gyro_bias, float)
    return OrientationResult(out["quat6D"], TILTGUARD, mode, out["bias"], out["restDetected"])
