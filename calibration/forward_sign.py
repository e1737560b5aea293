"""Which way along the pelvis' fore-aft axis is forward on an indoor trainer, where nobody travels.

The usual sign is the speed gained when setting off from the stand (calibration.alignment). Seated with the
hands on the bars the pelvis sits tipped forward of its standing neutral, a forward hinge held for the whole
ride, and as it tips forward the measured vertical moves towards the pelvis' back. The steps' evidence (a
treadmill) needs the foot contacts, so it is a later stage: host.gait.direction.
Each answers +1 (the axis points forward), -1 (backward) or 0 (cannot tell: ask, or wait for more steps).
"""
from __future__ import annotations

import numpy as np

from .axes import unit

# How many steps the steps' evidence (host.gait.direction) needs, and over how much of a bout it looks: the
# alignment's advice and the live calibration's wait use them.
BRAKING_MIN_STEPS = 20
BRAKING_WINDOW_S = 120.0
# Seated on a road, gravel, mountain or trainer bike the pelvis sits ~10-30 deg anterior of standing; an
# upright city bike may not, and a sit-up-and-beg posture can even roll it back: below this, no guess.
MIN_SADDLE_TILT_DEG = 8.0


def forward_sign_from_saddle(acc: np.ndarray, up_sensor: np.ndarray, axis_sensor: np.ndarray,
                             bout: tuple[int, int]) -> int:
    """Sign of `axis_sensor` from how far the ride's posture (the bout) is tipped from the stand's vertical
    `up_sensor` along it; 0 below MIN_SADDLE_TILT_DEG."""
    a, b = bout
    up_ride = unit(np.asarray(acc, float)[a:b].mean(axis=0))  # the pedal strokes average out
    tipped = float(np.dot(unit(up_sensor) - up_ride, unit(axis_sensor)))  # ≈ sin(forward tip angle)
    if abs(tipped) < np.sin(np.radians(MIN_SADDLE_TILT_DEG)):
        return 0
    return 1 if tipped > 0 else -1
