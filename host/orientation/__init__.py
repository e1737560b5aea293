"""Orientation from accelerometer + gyroscope, live (causal) and post-session, plus BROAD error measures."""
from .estimate import METHODS, MODES, OrientationResult, estimate_orientation
from .metrics import heading_error_rad, inclination_error_rad, inclination_rmse_deg
from .streaming import OrientationStream

__all__ = [
    "METHODS",
    "MODES",
    "OrientationResult",
    "OrientationStream",
    "estimate_orientation",
    "heading_error_rad",
    "inclination_error_rad",
    "inclination_rmse_deg",
]
