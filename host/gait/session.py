"""The strides stage of a whole session: per-stride metrics, bouts, rides and the cycles the flags read,
from the gait events (host.gait.events) and the pelvic angles.

Pelvic angles are an input: without them, contacts, cadence, activity and riding cadence are still
available, the angle metrics are not. The pipeline (host.analysis) hands in angles whose rotation already
follows the direction of travel along the strides (host.pelvis.heading, which needs the contacts).
"""
from __future__ import annotations

from dataclasses import dataclass

from tiltguard.host.pelvis.angles import PelvicAngles

from .activity import ActivitySegments
from .cadence import cadence_spm
from .contacts import InitialContacts
from .cycles import CycleTable, ride_cycles, stride_cycles
from .events import GaitEvents
from .riding import Ride, analyse_rides
from .stance import StancePhases
from .strides import BoutGait, StrideTable, stride_metrics, summarise_bouts


@dataclass
class GaitSession:
    activity: ActivitySegments
    contacts: InitialContacts
    stance: StancePhases  # per contact (host.gait.stance)
    strides: StrideTable | None  # None without pelvic angles
    bouts: list[BoutGait]
    rides: list[Ride]
    cycles: CycleTable | None  # what the flag engines consume
    angles: PelvicAngles | None = None  # as handed in (rotation relative to the stride-averaged heading)

    def cadence_spm(self) -> float:
        return cadence_spm(self.contacts.t)


def analyse_strides(events: GaitEvents, rate_hz: float, angles: PelvicAngles | None = None) -> GaitSession:
    """Strides, bouts, rides and flag cycles of a session from its gait events and (optionally) its angles."""
    sig, activity, contacts = events.signals, events.activity, events.contacts
    t = activity.t
    if angles is None:
        rides = analyse_rides(activity, sig.gyr[:, 0], rate_hz)
        return GaitSession(activity, contacts, events.stance, None, [], rides, None)
    strides = stride_metrics(t, angles.tilt, angles.obliquity, angles.rotation, contacts.t, contacts.left,
                             sig.vertical, activity.codes, events.stance)
    per_sample = {"tilt": angles.tilt, "obliquity": angles.obliquity, "rotation": angles.rotation}
    bouts = summarise_bouts(strides, activity.bouts, per_sample)
    rides = analyse_rides(activity, sig.gyr[:, 0], rate_hz, angles.tilt, angles.obliquity, angles.rotation)
    cycles = CycleTable.concat([
        stride_cycles(t, angles.tilt, angles.obliquity, angles.rotation, activity.codes, contacts.t, contacts.left),
        ride_cycles(t, angles.tilt, angles.obliquity, activity.codes),
    ])
    return GaitSession(activity, contacts, events.stance, strides, bouts, rides, cycles, angles)
