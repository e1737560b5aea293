"""Orientation error measures of the BROAD benchmark (Laidig et al. 2021).

Error quaternion in the earth frame e = q_est ⊗ conj(q_ref). Heading error does not affect the
inclination error 2·acos√(e_w² + e_z²), so 6D estimates with arbitrary heading are scored fairly.
"""
from __future__ import annotations

import numpy as np

from . import quaternion as quat


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
