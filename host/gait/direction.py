"""Which way along the pelvis' fore-aft axis is forward, from the steps (a treadmill: no speed gained).

In walking and running alike the ground brakes the body in the first part of every stance, so the fore-aft
acceleration just after each initial contact points backwards. A stage after contact detection: the contacts
come from host.gait.contacts, whose timing does not depend on which way the trial axis points. The pipeline
hands `forward_sign_from_braking` to the alignment (calibration.alignment, `step_sign=`).
Answers +1 (the axis points forward), -1 (backward) or 0 (cannot tell: ask, or wait for more steps).
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt
from tiltguard.calibration.axes import pelvis_frame
from tiltguard.calibration.forward_sign import BRAKING_MIN_STEPS, BRAKING_WINDOW_S

from .body_frame import level_signals
from .contacts import detect_initial_contacts

# The mean fore-aft acceleration over the first half of each step (from the detected contact) must point
# back, consistently: |t| of the per-step means >= 3. Real lower-back walking (mobgap: two participants,
# 8-218 s): t = 2.8-9.6 along the true forward axis, except the first 60 s of one free-living recording with
# many turns (0.7: unclear, so the session waits or asks).
BRAKING_MIN_T = 3.0
BRAKING_SHARE_OF_STEP = 0.5  # walking brakes until mid-stance (~0.6 of a step), running until ~0.35


def forward_sign_from_braking(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, up_sensor: np.ndarray,
                              axis_sensor: np.ndarray, bout: tuple[int, int]) -> int:
    """Sign of `axis_sensor` from the braking after each foot strike of the bout (its first 120 s). The
    contacts come from the gait stage's detector (host.gait.contacts), whose timing does not depend on which
    way the trial axis points."""
    a, b = bout
    b = min(b, a + int(BRAKING_WINDOW_S * rate_hz))
    acc, gyr = np.asarray(acc, float)[a:b], np.asarray(gyr, float)[a:b]
    trial = pelvis_frame(up_sensor, axis_sensor)
    contacts = np.round(detect_initial_contacts(acc, gyr, rate_hz, sensor_to_pelvis=trial).index).astype(int)
    fore_aft = sosfiltfilt(butter(2, 15.0, fs=rate_hz, output="sos"), level_signals(acc, gyr, rate_hz, trial).acc[:, 0])
    w = max(2, int(rate_hz))
    fore_aft -= np.convolve(fore_aft, np.ones(w) / w, mode="same")  # the swing about this second's level
    contacts = contacts[(contacts >= 0) & (contacts < len(fore_aft) - w)]
    if len(contacts) < BRAKING_MIN_STEPS:
        return 0
    n = max(2, int(BRAKING_SHARE_OF_STEP * np.median(np.diff(contacts))))
    per_step = np.array([fore_aft[i:i + n].mean() for i in contacts])
    t = -per_step.mean() / (per_step.std() / np.sqrt(len(per_step)) + 1e-12)  # > 0: braking along the axis
    return int(np.sign(t)) if abs(t) >= BRAKING_MIN_T else 0
