"""A whole recorded session to pelvic angles: orientation in post mode, then the angles."""
from __future__ import annotations

import numpy as np
from tiltguard.host.orientation import estimate_orientation

from .angles import PelvicAngles, pelvic_angles, per_stride_ranges


def analyse_session(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, R_pelvis_sensor: np.ndarray,
                    gyro_bias: np.ndarray | None = None, mode: str = "post") -> PelvicAngles:
    q = estimate_orientation(acc, gyr, rate_hz, mode=mode, gyro_bias=gyro_bias, travel=True).quat
    return pelvic_angles(q, R_pelvis_sensor, rate_hz, acc=acc)


def summary(angles: PelvicAngles, stride_starts: np.ndarray | None = None) -> dict:
    """Degrees, for reports: mean/sd of relative tilt, absolute tilt with its uncertainty, and mean
    per-stride ranges of obliquity and rotation when strides are known."""
    d = np.degrees
    out = {
        "tilt_mean_deg": float(d(angles.tilt.mean())),
        "tilt_sd_deg": float(d(angles.tilt.std())),
        "tilt_abs_mean_deg": float(d(angles.tilt_abs.mean())),
        "tilt_abs_uncertainty_deg": float(d(angles.tilt_abs_sd)),
        "obliquity_sd_deg": float(d(angles.obliquity.std())),
        "rotation_sd_deg": float(d(angles.rotation.std())),
    }
    if stride_starts is not None and len(stride_starts) > 2:
        for name in ("tilt", "obliquity", "rotation"):
            out[f"{name}_stride_range_deg"] = float(d(per_stride_ranges(getattr(angles, name), stride_starts).mean()))
    return out
