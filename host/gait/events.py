"""The gait events of a whole session: level signals, stepping rhythm, activity and initial contacts.

The level signals and the stepping rhythm are computed once and shared by activity segmentation, the
contact detector and the stance phases (toe-off, contact and flight time, braking) that follow each contact.
Needs no pelvic angles; the strides stage (host.gait.session) builds on these events.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activity import ActivitySegments, segment_level_signals
from .body_frame import LevelSignals, level_signals
from .contacts import InitialContacts, detect_in_level_signals
from .lever_arm import level_signals_at_centre
from .rhythm import stride_period
from .stance import StancePhases, stance_phases


@dataclass
class GaitEvents:
    signals: LevelSignals
    activity: ActivitySegments
    contacts: InitialContacts
    stance: StancePhases  # per contact: toe-off, contact and flight time, braking (running steps)


def detect_gait_events(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, t0: float = 0.0,
                       sensor_to_pelvis: np.ndarray | None = None) -> GaitEvents:
    """acc m/s², gyr rad/s in sensor axes; `sensor_to_pelvis` R_pelvis<-sensor (None: already pelvis axes)."""
    sig = level_signals(acc, gyr, rate_hz, sensor_to_pelvis)
    rhythm = stride_period(sig.vertical, sig.acc[:, 1], rate_hz)
    activity = segment_level_signals(sig, t0, rhythm)
    centre = level_signals_at_centre(acc, gyr, sig, sensor_to_pelvis)
    contacts = detect_in_level_signals(sig, t0, rhythm, activity, centre)
    return GaitEvents(sig, activity, contacts, stance_phases(sig, contacts, activity.codes, t0))
