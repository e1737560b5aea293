"""A whole session through the gait pipeline: activity, contacts, strides, bouts, rides, cycles for flags.

The level signals and the stepping rhythm are computed once and shared by activity segmentation and the
contact detector. Pelvic angles (host.pelvis) are an input: without them, contacts, cadence, activity and
riding cadence are still available, the angle metrics are not. With them, the contacts first set the
direction of travel along the strides (host.pelvis.heading), so rotation stays clean through corners; the
session's angles are returned with that rotation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiltguard.host.pelvis.angles import PelvicAngles
from tiltguard.host.pelvis.heading import follow_strides

from .activity import ActivitySegments, segment_level_signals
from .body_frame import level_signals
from .cadence import cadence_spm
from .contacts import InitialContacts, detect_in_level_signals
from .cycles import CycleTable, ride_cycles, stride_cycles
from .rhythm import stride_period
from .riding import Ride, analyse_rides
from .strides import BoutGait, StrideTable, stride_metrics, summarise_bouts


@dataclass
class GaitSession:
    activity: ActivitySegments
    contacts: InitialContacts
    strides: StrideTable | None  # None without pelvic angles
    bouts: list[BoutGait]
    rides: list[Ride]
    cycles: CycleTable | None  # what the flag engines consume
    angles: PelvicAngles | None = None  # rotation relative to the stride-averaged heading

    def cadence_spm(self) -> float:
        return cadence_spm(self.contacts.t)


def analyse_gait(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, t0: float = 0.0,
                 sensor_to_pelvis: np.ndarray | None = None, angles=None) -> GaitSession:
    """acc m/s², gyr rad/s in sensor axes; `angles` a host.pelvis.PelvicAngles of the same samples."""
    sig = level_signals(acc, gyr, rate_hz, sensor_to_pelvis)
    rhythm = stride_period(sig.vertical, sig.acc[:, 1], rate_hz)
    activity = segment_level_signals(sig, t0, rhythm)
    contacts = detect_in_level_signals(sig, t0, rhythm, activity)
    t = activity.t
    if angles is None:
        rides = analyse_rides(activity, sig.gyr[:, 0], rate_hz)
        return GaitSession(activity, contacts, None, [], rides, None)
    angles = follow_strides(angles, rate_hz, contacts.index)
    strides = stride_metrics(t, angles.tilt, angles.obliquity, angles.rotation, contacts.t, contacts.left,
                             sig.vertical, activity.codes)
    per_sample = {"tilt": angles.tilt, "obliquity": angles.obliquity, "rotation": angles.rotation}
    bouts = summarise_bouts(strides, activity.bouts, per_sample)
    rides = analyse_rides(activity, sig.gyr[:, 0], rate_hz, angles.tilt, angles.obliquity, angles.rotation)
    cycles = CycleTable.concat([
        stride_cycles(t, angles.tilt, angles.obliquity, angles.rotation, activity.codes, contacts.t, contacts.left),
        ride_cycles(t, angles.tilt, angles.obliquity, activity.codes),
    ])
    return GaitSession(activity, contacts, strides, bouts, rides, cycles, angles)
