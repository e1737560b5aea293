"""A stand that must be still, or the calibration says why not (gyro bias, stand, 6-position checks).
The definition of still is shared with the other stages: host.signal.stillness."""
from __future__ import annotations

import numpy as np
from tiltguard.host.signal.stillness import (
    MAX_ACC_STD,
    MAX_GYR_STD,
    StillnessReport,
    stillness,
)

from .errors import CalibrationRejected

GRAVITY = 9.80665


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
