"""Orientation error measures of the BROAD benchmark (Laidig et al. 2021).

Error quaternion in the earth frame e = q_est ⊗ conj(q_ref). Heading error does not affect the
inclination error 2·acos√(e_w² + e_z²), so 6D estimates with arbitrary heading are scored fairly.
"""
from __future__ import annotations

import numpy as np
from tiltguard.host.orientation import quaternion as quat


def inclination_error_rad(q_est: np.ndarray, q_ref: np.ndarray) -> np.ndarray:
    e = quat.multiply(q_est, quat.conjugate(q_ref))
    return 2.0 * np.arccos(np.clip(np.sqrt(e[..., 0] ** 2 + e[..., 3] ** 2), 0.0, 1.0))


def heading_error_rad(q_est: np.ndarray, q_ref: np.ndarray) -> np.ndarray:
    e = quat.multiply(q_est, quat.conjugate(q_ref))
    return 2.0 * np.arctan(np.abs(e[..., 3] / e[..., 0]))


def inclination_rmse_deg(q_est: np.ndarray, q_ref: np.ndarray, mask: np.ndarray | None = None) -> float:
    """RMS inclination error (degrees) over `mask` samples where the reference is valid (not NaN)."""
    valid = ~np.isnan(q_ref).any(axis=1)
    if mask is not None:
        valid &= np.asarray(mask, bool)
    if not valid.any():
        raise ValueError("no samples with a valid reference inside the evaluation mask")
    err = inclination_error_rad(q_est[valid], q_ref[valid])
    return float(np.degrees(np.sqrt(np.mean(err**2))))


def gyro_lag_samples(gyr: np.ndarray, q_ref: np.ndarray, rate_hz: float, mask: np.ndarray | None = None,
                     max_lag: float = 4.0, step: float = 1 / 16) -> float:
    """How many samples the gyroscope lags an orientation reference (< 0: it leads), estimator-free.

    The reference's body-frame angular rate between consecutive samples, conj(q_k) ⊗ q_k+1 as a rotation
    vector, belongs to the instant k + ½; the gyro is interpolated there and compared with the reference
    rate read `lag` samples earlier (linear interpolation, NaN reference samples skipped). The lag with the
    least mean squared difference over `mask` is returned, to `step` samples. A timing offset between a
    recording's IMU and its reference costs every orientation filter alike: a filter cannot see it in the IMU
    data, so a benchmark with such an offset has an error floor (docs/validation.md)."""
    q_ref = np.asarray(q_ref, float)
    gyr = np.asarray(gyr, float)
    rel = quat.multiply(quat.conjugate(q_ref[:-1]), q_ref[1:])
    rel *= np.where(rel[:, :1] < 0, -1.0, 1.0)  # the short way round
    half = np.arccos(np.clip(rel[:, 0], -1.0, 1.0))
    scale = np.where(half > 1e-12, 2.0 * half / np.maximum(np.sin(half), 1e-12), 2.0)
    ref_rate = rel[:, 1:] * scale[:, None] * rate_hz  # rad/s at k + ½ (NaN where the reference was lost)
    gyr_mid = 0.5 * (gyr[:-1] + gyr[1:])  # rad/s at k + ½
    use = np.ones(len(ref_rate), bool) if mask is None else np.asarray(mask, bool)[:-1].copy()
    pad = int(np.ceil(max_lag)) + 1
    use[:pad] = use[-pad:] = False
    k = np.flatnonzero(use)
    if len(k) == 0:
        raise ValueError("no samples inside the mask to compare the gyro with the reference")
    lags = np.arange(-max_lag, max_lag + step / 2, step)
    cost = np.full(len(lags), np.inf)
    for i, lag in enumerate(lags):
        at = k - lag
        lo = np.floor(at).astype(int)
        frac = (at - lo)[:, None]
        rate = ref_rate[lo] * (1 - frac) + ref_rate[lo + 1] * frac
        diff = rate - gyr_mid[k]
        ok = np.isfinite(diff).all(axis=1)
        if ok.sum() > 0.5 * len(k):
            cost[i] = float(np.mean(np.sum(diff[ok] ** 2, axis=1)))
    if not np.isfinite(cost).any():
        raise ValueError("the reference is lost on most samples inside the mask")
    return float(lags[int(np.argmin(cost))])
