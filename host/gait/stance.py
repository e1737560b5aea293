"""The rest of each running step after its initial contact: toe-off, ground contact time, flight time and
braking, from a sacral IMU.

Physics: the specific force of the centre of mass is the ground reaction force per body mass, and the sacrum
sits close to the centre of mass (Zijlstra & Hof 2003). In running, the vertical specific force over a step
is therefore one pulse, the stance, between flights near 0 g; averaged over the step it is 1 g. The pulse's
centroid is mid-stance, and its spread gives its length: the spring-mass model's vertical force is close to a
half-sine (Morin et al. 2005), whose duration is 1/sqrt(1/4 − 2/π²) ≈ 4.59 standard deviations. Toe-off is
the centroid plus half of that length. The spread is read over one step-long window centred on the pulse (so
neighbouring stances do not enter it), found by iterating from the contact.

A second reading of the same toe-off from the pulse's unloading edge: its steepest tangent extended down to the
flight level (the lowest force before the next stance). It needs no pulse shape and no flight level of 0 g (a
sacral sensor in flight reads below it where the pelvis' rotation adds to the free fall), but reads early where
the force tails off before the foot leaves. The two err in opposite directions on the real sacral accelerometer
(half-sine +15 ms, tangent -7 ms median) and scatter independently, so toe-off is their mean (both running sets:
median |error| 13.0 and 9.2 ms, against 20.0 and 15.3 ms from the half-sine alone; bench/running.py).

Why not a threshold: the sacral pulse is smoothed by soft tissue and the trunk's motion, so the level at
which it crosses a fixed threshold moves by ±30-50 ms from runner to runner and with speed (both running
sets in ../shared/data/running), while its centroid and spread move far less.

Where it fails: slow running with a long stance (a duty factor over ~0.8, about 2 m/s): the last ~50 ms of the
stance carry almost no force to the sacrum (the virtual runners at 2 m/s: toe-off 36-57 ms early, every
reading of the pulse alike). Contact time is toe-off minus the detected contact, so a contact found late (the
virtual set's missing impact, 10-50 ms) shortens it by as much. Walking is not a pulse between flights: its
steps get no toe-off here (NaN).

Braking: the peak fore-aft deceleration between the contact and mid-stance (m/s², positive = slowing down),
as running pods report it; at the sacrum the push back is short (the first ~15-25 % of the step, both running
sets), so its mean over the loading half would mix in the propulsion that follows. It needs the direction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.samples import GRAVITY

from .body_frame import LevelSignals, level_signals
from .contacts import InitialContacts
from .sequence import MAX_STEP_S, MIN_STEP_S

HALF_SINE_SD_PER_DURATION = float(np.sqrt(0.25 - 2.0 / np.pi**2))  # a half-sine pulse's SD / its duration
FIRST_CENTRE_SHARE = 0.35  # where to start looking for the pulse's centre: a third of the step after contact
CENTRE_ITERATIONS = 3  # the step-long window re-centred on the pulse; it settles within 2-3 passes
EDGE_SEARCH_SHARE = 0.1  # the unloading edge is looked for up to this share of the step past the next contact
RUNNING = ACTIVITIES.index("running")


@dataclass
class StancePhases:
    """Per initial contact (same order as InitialContacts), s and m/s²; NaN where not measured (walking, the
    last contact, a step outside the step-time limits)."""

    toe_off_t: np.ndarray  # (K,) s, same clock as the contacts
    contact_s: np.ndarray  # ground contact time: toe-off − contact
    flight_s: np.ndarray  # next contact − toe-off (≥ 0)
    braking_mps2: np.ndarray  # peak fore-aft deceleration, contact → mid-stance (positive = braking)

    @classmethod
    def empty(cls, n: int) -> "StancePhases":
        nan = np.full(n, np.nan)
        return cls(nan, nan.copy(), nan.copy(), nan.copy())

    def __len__(self) -> int:
        return len(self.toe_off_t)


def contact_balance_pct(left_s, right_s) -> float | None:
    """The left foot's share of the ground contact time, % (50 = even), from the two feet's contact times (s;
    NaN ignored); None without both feet. Each foot's typical contact time is its median: a 1-pp balance is a
    ~5-ms difference, which one mis-read step (a stumble, a pulse cut by a missed contact) would move by more
    (real sacral accelerometer, 6 steps a side: worst error 4.5 pp with means, 2.2 with medians)."""
    left, right = np.asarray(left_s, float), np.asarray(right_s, float)
    if not (np.isfinite(left).any() and np.isfinite(right).any()):
        return None
    typical_left, typical_right = np.nanmedian(left), np.nanmedian(right)
    return float(100 * typical_left / (typical_left + typical_right))


def unloading_edge_end(force: np.ndarray, centre: float, until: float) -> float | None:
    """Where the unloading edge of a stance's force pulse, extended along its steepest tangent, meets the flight
    level (the lowest force between that point and `until`): fractional sample, or None. Smoothing rounds the
    pulse's corner at toe-off (soft tissue, the sensor, filters) but keeps the slope of the edge before it."""
    a, b = int(np.ceil(centre)), min(int(until), len(force) - 1)
    if b - a < 3:
        return None
    slope = np.gradient(force[a : b + 1])
    m = int(np.argmin(slope[:-1]))
    if slope[m] >= 0:
        return None
    flight = float(force[a + m : b + 1].min())
    return a + m + (flight - force[a + m]) / slope[m]


def stance_phases(sig: LevelSignals, contacts: InitialContacts, activity_codes: np.ndarray, t0: float = 0.0
                  ) -> StancePhases:
    """Toe-off, contact time, flight time and braking of every running step (contact to the next contact)."""
    n = len(contacts)
    out = StancePhases.empty(n)
    if n < 2:
        return out
    fs = sig.rate_hz
    force = np.asarray(sig.vertical_wide, float) + GRAVITY  # vertical specific force, m/s²
    smooth = np.asarray(sig.vertical, float) + GRAVITY  # the same at 10 Hz: its edges' slopes are not ringing
    weight = np.clip(force, 0.0, None)  # the flight reads ~0 g; below it is sensor motion, not force
    fore_aft = np.asarray(sig.acc[:, 0], float)
    cum_w = np.concatenate([[0.0], np.cumsum(weight)])
    idx = np.asarray(contacts.index, float)
    codes = np.asarray(activity_codes)
    for k in range(n - 1):
        step = contacts.t[k + 1] - contacts.t[k]
        at = int(round(idx[k]))
        if not (MIN_STEP_S <= step <= MAX_STEP_S) or codes[min(at, len(codes) - 1)] != RUNNING:
            continue
        span = step * fs
        centre = idx[k] + FIRST_CENTRE_SHARE * span
        for _ in range(CENTRE_ITERATIONS):
            a, b = int(round(centre - span / 2)), int(round(centre + span / 2))
            if a < 0 or b > len(weight) or cum_w[b] - cum_w[a] <= 0:
                break
            pos = np.arange(a, b, dtype=float)
            w = weight[a:b]
            centre = float(np.dot(w, pos) / w.sum())
        else:
            sd = float(np.sqrt(np.dot(w, (pos - centre) ** 2) / w.sum()))
            toe_off = centre + 0.5 * sd / HALF_SINE_SD_PER_DURATION
            if not idx[k] < toe_off < idx[k + 1] + 0.25 * span:
                continue
            edge = unloading_edge_end(smooth, centre, idx[k + 1] + EDGE_SEARCH_SHARE * span)
            if edge is not None and centre < edge < idx[k + 1] + EDGE_SEARCH_SHARE * span:
                toe_off = 0.5 * (toe_off + edge)
            out.toe_off_t[k] = t0 + toe_off / fs
            out.contact_s[k] = (toe_off - idx[k]) / fs
            out.flight_s[k] = max(0.0, (idx[k + 1] - toe_off) / fs)
            c0, c1 = int(np.ceil(idx[k])), int(np.floor(centre)) + 1
            if c1 > c0:
                out.braking_mps2[k] = -float(fore_aft[c0:c1].min())
    return out


def stance_of_running_steps(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, sensor_to_pelvis: np.ndarray,
                            t0: float, contact_t: np.ndarray, left: np.ndarray) -> StancePhases:
    """The live variant: the stance phases of a few running steps whose contacts are known (the live step
    detector's), from the raw samples around them (sensor axes, starting at t0). Every contact but the last
    gets its phases (the last step is not over)."""
    sig = level_signals(np.asarray(acc, float), np.asarray(gyr, float), rate_hz, sensor_to_pelvis)
    t = np.asarray(contact_t, float)
    index = (t - t0) * rate_hz
    contacts = InitialContacts(t, np.asarray(left, bool), np.ones(len(t)), index)
    return stance_phases(sig, contacts, np.full(len(sig.acc), RUNNING), t0)
