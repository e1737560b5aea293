"""Calibration: gyro bias at rest, optional 6-position accelerometer fit, sensor-to-pelvis alignment.

Calibrations are kept per device, with the time they were made, in the session store (host.store)."""
from .accel_six_position import AccelCalibration, fit_ellipsoid, guided_six_position, pose_prompt
from .alignment import (Alignment, alignment_from_axes, calibrate_from_session, check_upright, first_bout,
                        forward_from_walking, stand_vertical)
from .errors import CalibrationRejected
from .gyro_bias import gyro_bias_at_rest
from .hinge import find_held_hinge, forward_from_hinge

__all__ = [
    "AccelCalibration", "Alignment", "CalibrationRejected", "alignment_from_axes",
    "calibrate_from_session", "check_upright", "find_held_hinge", "first_bout", "fit_ellipsoid", "forward_from_hinge",
    "forward_from_walking", "gyro_bias_at_rest", "guided_six_position", "pose_prompt", "stand_vertical",
]
