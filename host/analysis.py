"""A whole recorded session through the pipeline, in data-flow order:

samples → neutral stand → orientation → sensor-to-pelvis alignment → pelvic angles → activity → initial
contacts → per-stride / per-ride-window cycles → flags.

`mode="post"` is the report's best estimate (looks ahead and back); `mode="causal"` uses only the past at
every step where the stage has a causal variant (orientation), as the live view would see it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calibration.alignment import Alignment, calibrate_from_session
from calibration.stand import find_neutral_stand
from host.flags import Flag, FlagSettings, detect_flags
from host.gait.activity import ActivitySegments, segment_activity
from host.gait.contacts import InitialContacts, detect_initial_contacts
from host.gait.cycles import CycleTable, ride_cycles, stride_cycles
from host.orientation import estimate_orientation
from host.pelvis.angles import PelvicAngles, pelvic_angles
from host.samples import RawRecording


@dataclass
class SessionAnalysis:
    rec: RawRecording
    mode: str
    stand: tuple[int, int]  # samples of the neutral stand
    alignment: Alignment
    angles: PelvicAngles
    activity: ActivitySegments
    contacts: InitialContacts
    cycles: CycleTable
    flags: list[Flag]

    def cadence_spm(self, activity: str = "running") -> float | None:
        """Median cadence over the strides of an activity (None if there were none)."""
        m = self.cycles.activity == activity
        if not m.any():
            return None
        return float(np.median(120.0 / (self.cycles.t_end[m] - self.cycles.t_start[m])))


def analyse_recording(rec: RawRecording, mode: str = "post", settings: FlagSettings | None = None,
                      neutral_tilt_deg: float | None = None) -> SessionAnalysis:
    acc, gyr, rate = rec.acc, rec.gyr, rec.rate_hz
    stand = find_neutral_stand(acc, gyr, rate)
    quat = estimate_orientation(acc, gyr, rate, mode=mode).quat
    alignment = calibrate_from_session(acc, gyr, rate, stand, quat=quat)
    to_pelvis = alignment.R_pelvis_sensor
    angles = pelvic_angles(quat, to_pelvis, rate, neutral_tilt_deg=neutral_tilt_deg)
    activity = segment_activity(acc, gyr, rate, t0=float(rec.t[0]), sensor_to_pelvis=to_pelvis)
    contacts = detect_initial_contacts(acc, gyr, rate, t0=float(rec.t[0]), sensor_to_pelvis=to_pelvis,
                                       activity=activity)
    cycles = CycleTable.concat([
        stride_cycles(rec.t, angles.tilt, angles.obliquity, angles.rotation, activity.codes, contacts.t,
                      contacts.left),
        ride_cycles(rec.t, angles.tilt, angles.obliquity, activity.codes),
    ])
    return SessionAnalysis(rec, mode, stand, alignment, angles, activity, contacts, cycles,
                           detect_flags(cycles, settings))
