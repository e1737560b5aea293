"""Live contacts -> stride records for the flag engine, per-step tilt means for the bars, and cadence.

A stride is left contact -> right contact -> left contact (as in host.gait.cycles.stride_cycles, which
builds the record here too, so live and post strides are the same numbers). Its two halves are the left-
and right-stance steps; their mean tilts are the L/R bars of the live view.

The cadence readout is the mean over the recent strides of 120 / stride time, the post-session cadence's
formula (host.gait.cadence; its own test for a missed contact, as a few seconds hold no neighbourhood to compare
with). Strides, not steps: a contact read a few ms early shortens one step and lengthens the next, and a foot
whose contacts all read late does so every stride, but neither changes a stride. On the real sacral
accelerometer the median of the last six steps was within 1 spm of the force plate's same readout in 44 % of
readouts, these strides (with the steps from before the alignment) in 96 % (bench/running.py, cadence_readout_*).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.gait.cycles import Cycle, ride_cycles, stride_cycles
from tiltguard.host.gait.sequence import MIN_STEP_S
from tiltguard.host.gait.streaming import LiveContact

CADENCE_CONTACTS = 9  # the last 8 steps (4 strides, ~3 s running): steady without hiding a change for long
# Two strides before a first readout: with one, a missed contact (a step twice the others) is the median step
# itself. Real walking's live contacts (mobgap, host.gait.streaming): |error| mean 6.2 spm from the third contact
# on, 2.5 from the fifth (bench/gait.py, cadence_readout_*; few readouts there, 20).
CADENCE_MIN_CONTACTS = 5
MAX_STEP_S = 1.2  # 50 steps/min; longer: a pause, the old rhythm no longer applies
# A step this far from the window's median step holds a missed or an extra contact (a limp's short step is over
# ~0.75 of it): the strides it is part of are left out
REGULAR_STEP_SHARE = (0.7, 1.4)


@dataclass
class StrideRecord:
    cycle: Cycle
    tilt_left_stance: float  # rad, mean tilt from the left contact to the right contact
    tilt_right_stance: float  # rad, right contact to the next left contact


class SampleRing:
    """The last `seconds` of per-sample signals (time + named columns), for slicing by time."""

    def __init__(self, rate_hz: float, seconds: float, names: tuple[str, ...]) -> None:
        self.cap = int(seconds * rate_hz)
        self.names = names
        self._data = np.full((len(names) + 1, 2 * self.cap), np.nan)
        self._end = 0

    def append(self, t: np.ndarray, *cols: np.ndarray) -> None:
        n = len(t)
        if n >= self.cap:
            t, cols, n = t[-self.cap:], [c[-self.cap:] for c in cols], self.cap
        if self._end + n > self._data.shape[1]:  # slide the last cap samples to the front (amortised)
            keep = self.cap - n
            self._data[:, :keep] = self._data[:, self._end - keep : self._end]
            self._end = keep
        self._data[0, self._end : self._end + n] = t
        for i, c in enumerate(cols, 1):
            self._data[i, self._end : self._end + n] = c
        self._end += n

    def view(self) -> np.ndarray:
        """(1 + columns, n) the samples held, oldest first (a view: copy before keeping)."""
        return self._data[:, max(0, self._end - self.cap) : self._end]


class CadenceReadout(NamedTuple):
    t: float  # the contact after which it was read, s
    spm: float  # steps/min
    since_t: float  # the first contact of the steps it is over, s


class RecentCadence:
    """Steps/min over the strides of the last CADENCE_CONTACTS contacts (module docstring), from the
    CADENCE_MIN_CONTACTS-th on, started afresh after a pause."""

    def __init__(self) -> None:
        self.times: deque[float] = deque(maxlen=CADENCE_CONTACTS)  # the contacts the readout is over

    def add(self, t: float) -> CadenceReadout | None:
        """The cadence after a contact at `t` (None before the CADENCE_MIN_CONTACTS-th contact since a pause, or
        while no stride in view is regular)."""
        if self.times and t - self.times[-1] > MAX_STEP_S:
            self.times.clear()  # a pause: the old rhythm no longer applies
        self.times.append(t)
        if len(self.times) < CADENCE_MIN_CONTACTS:
            return None
        steps = np.diff(np.asarray(self.times))
        lo, hi = REGULAR_STEP_SHARE
        typical = float(np.median(steps))
        regular = (steps >= max(MIN_STEP_S, lo * typical)) & (steps <= hi * typical)
        strides = (steps[:-1] + steps[1:])[regular[:-1] & regular[1:]]
        if not len(strides):
            return None
        return CadenceReadout(float(t), float(np.mean(120.0 / strides)), float(self.times[0]))


class LiveStrides:
    def __init__(self, rate_hz: float, ring: SampleRing) -> None:
        self.rate_hz = rate_hz
        self.ring = ring  # columns: tilt, obliquity, rotation
        self.contacts: deque[LiveContact] = deque(maxlen=3)
        self.cadence = RecentCadence()

    def add_earlier(self, c: LiveContact) -> None:
        """A contact from before the live view started (host.gait.streaming): its cadence counts it, nothing else."""
        self.cadence.add(c.t)

    def add_contact(self, c: LiveContact, activity_code: int) -> tuple[StrideRecord | None, CadenceReadout | None]:
        """(the stride this contact completes, if any; the cadence readout after it, if known)."""
        self.contacts.append(c)
        cadence = self.cadence.add(c.t)
        if len(self.contacts) < 3 or not c.left:
            return None, cadence
        return self._stride(activity_code), cadence

    def _stride(self, activity_code: int) -> StrideRecord | None:
        v = self.ring.view()
        t, tilt, obl, rot = v[0], v[1], v[2], v[3]
        ic_t = np.array([c.t for c in self.contacts])
        ic_left = np.array([c.left for c in self.contacts])
        if len(t) == 0 or ic_t[0] < t[0] or np.isnan(tilt[np.searchsorted(t, ic_t[0])]):
            return None  # the stride began before calibration (or before the ring)
        codes = np.full(len(t), activity_code, dtype=int)
        table = stride_cycles(t, tilt, obl, rot, codes, ic_t, ic_left)
        if len(table) == 0:
            return None
        cycle = next(table.cycles())
        s0, s1, s2 = np.searchsorted(t, ic_t)
        return StrideRecord(cycle, float(np.mean(tilt[s0:s1])), float(np.mean(tilt[s1:s2])))


def ride_window(t: np.ndarray, tilt: np.ndarray, obliquity: np.ndarray, codes: np.ndarray,
                window_s: float) -> Cycle | None:
    """One riding record from the last `window_s` (None unless it was nearly all riding)."""
    if len(t) < 2 or not np.any(codes == ACTIVITIES.index("riding")):
        return None
    table = ride_cycles(t, tilt, obliquity, codes, window_s=window_s)
    return next(table.cycles(), None) if len(table) else None
