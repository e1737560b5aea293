"""Gyroscope bias from a still recording (pod on a table, or a quiet stand)."""
from __future__ import annotations

import numpy as np

from .errors import CalibrationRejected
from .still import check_still

MIN_SECONDS = 2.0


def gyro_bias_at_rest(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    """Mean angular rate (rad/s) of a still block; raises CalibrationRejected if it moved or is too short."""
    if len(gyr) < MIN_SECONDS * rate_hz:
        raise CalibrationRejected(
            f"gyro bias needs at least {MIN_SECONDS:g} s of stillness, got {len(gyr) / rate_hz:.1f} s")
    check_still(acc, gyr, "gyro-bias recording")
    return np.asarray(gyr, float).mean(axis=0)
