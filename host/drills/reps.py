"""Reps within one set, tick by tick (causal): a rep is an excursion of the drill's counted movement away
from the set's starting posture and back.

A rep starts when the counted signal p (deg) leaves the baseline, is counted once it passes `enter`
(a fraction of the reference rep: the drill's typical excursion, then the median of the reps already
seen), and ends when p is back near where it started, or turns and rises into the next rep. An
excursion that never reaches `enter`, or lasts under MIN_REP_S, is a fidget or a wobble, not a rep.
Two-way drills (twists) count a turn out and the turn back in as one rep.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .catalogue import ANGLES, DrillSpec

ENTER_FRACTION = 0.3  # of the reference rep: half-range reps still count, fidgets do not
MIN_ENTER_DEG = 1.5  # the smallest movement counted as a rep (sway and breathing stay under ~0.5 deg)
MIN_REP_S = 0.6  # a deliberate rep, even a fast one, takes longer (a twitch or a bump does not)
HOLD_SPEED_DPS = 1.0  # held "still" at the top: the pelvis turns slower than this, and than
HOLD_SPEED_SHARE = 0.15  # this share of the rep's fastest movement
PARTIAL_FRACTION = 0.6
SETTLED_S = 0.5  # still this long on the way down, well below the top: the rep is over
SAME_MOVEMENT_COS = 0.5  # direction of a rep's excursion against the set's reps (60 degrees apart)
HOLD_DRILL_S = 10.0  # drills whose target hold is this long are holds (tests, isometrics)
HOLD_SHARE = 0.4  # ... and count a rep only if held at least this share of the target
MAX_REP_EXTRA_S = 12.0  # a rep lasts at most its hold and this (the slowest lift and lowering)  # a rep smaller than this fraction of the set's median is a partial rep


@dataclass
class Excursion:
    """One counted excursion (a rep, or half of a two-way rep) as indices into the set's tick buffers."""

    i_start: int
    i_top: int
    i_end: int
    sign: int  # +1 / -1 (two-way: which way it turned)
    peak: float


@dataclass
class RepCounter:
    spec: DrillSpec
    ref_deg: float  # the reference rep's excursion (deg)
    t: list[float] = field(default_factory=list)
    ang: list[tuple[float, float, float]] = field(default_factory=list)  # tilt, obliquity, rotation (deg)
    p: list[float] = field(default_factory=list)
    state: str = "idle"
    i_up: int = 0  # where the current excursion was entered
    i_peak: int = 0
    i_turn: int = 0  # lowest point since the peak (a turn into the next rep)
    sign: int = 1
    excursions: list[Excursion] = field(default_factory=list)
    last_activity_t: float | None = None
    i_floor: int = 0
    aborted: bool = False  # an excursion far beyond a rep: the set is over

    @property
    def enter(self) -> float:
        return max(MIN_ENTER_DEG, ENTER_FRACTION * self.ref_deg)

    @property
    def max_peak(self) -> float:
        """Far more than any rep of this drill: the person got up, turned round, walked off."""
        return max(3.0 * self.ref_deg, self.ref_deg + 15.0)

    @property
    def max_rep_s(self) -> float:
        return 1.5 * self.spec.hold_s + MAX_REP_EXTRA_S

    @property
    def in_rep(self) -> bool:
        return self.state != "idle"

    def signal(self, angles: tuple[float, float, float]) -> float:
        s = self.spec
        if s.primary == "norm":
            return float(np.sqrt(sum(a * a for a in angles)))
        return s.primary_sign * angles[ANGLES.index(s.primary)]

    def update(self, t: float, angles: tuple[float, float, float], still_s: float = 0.0) -> Excursion | None:
        """Add a tick (`still_s`: how long the pelvis has been still); returns an excursion the moment it is
        complete."""
        p_signed = self.signal(angles)
        self.t.append(t)
        self.ang.append(angles)
        self.p.append(p_signed)
        i = len(self.p) - 1
        p = abs(p_signed) if self.spec.two_way else p_signed
        done = None
        if self.state != "idle" and (p > self.max_peak or t - self.t[self.i_up] > self.max_rep_s):
            self.state, self.aborted = "idle", True  # far bigger or longer than a rep: the position was left
            return None
        if self.state == "idle":
            if p > self.enter:
                self.state, self.i_up, self.i_peak = "up", i, i
                self.sign = 1 if p_signed >= 0 else -1
        elif self.state == "up":
            if self._same_way(p_signed) and p >= self._mag(self.i_peak):
                self.i_peak = i
            elif p < 0.5 * self._mag(self.i_peak) or not self._same_way(p_signed):
                self.state, self.i_turn = "down", i
        else:  # down: back to the baseline ends the rep; rising again turns into the next one
            if self._same_way(p_signed) and p < self._mag(self.i_turn):
                self.i_turn = i
            base = self._baseline(self.i_up)
            back = p <= base + 0.2 * (self._mag(self.i_peak) - base)
            settled = still_s >= SETTLED_S and p < 0.6 * self._mag(self.i_peak)  # back down, a little off
            if back or settled or not self._same_way(p_signed):
                done = self._close(i)
            elif p > self._mag(self.i_turn) + self.enter and p > 0.5 * self._mag(self.i_peak):
                done = self._close(self.i_turn)
                self.state, self.i_up, self.i_peak = "up", self.i_turn, i
                self.sign = 1 if p_signed >= 0 else -1
        return done

    def _mag(self, i: int) -> float:
        return abs(self.p[i]) if self.spec.two_way else self.p[i]

    def _same_way(self, p_signed: float) -> bool:
        return not self.spec.two_way or (p_signed >= 0) == (self.sign > 0)

    def _baseline(self, i_up: int) -> float:
        """The level the excursion left from: the lowest point of the 3 s before it was entered."""
        lo = max(0, i_up - int(3.0 * self._rate()))
        seg = self.p[lo : i_up + 1]
        vals = [abs(v) for v in seg] if self.spec.two_way else seg
        return max(0.0, min(vals)) if vals else 0.0

    def _rate(self) -> float:
        if len(self.t) < 2:
            return 25.0
        return (len(self.t) - 1) / max(1e-6, self.t[-1] - self.t[0])

    def _close(self, i_end: int) -> Excursion | None:
        """End the current excursion at `i_end`; returns it if it counts."""
        self.state = "idle"
        base = self._baseline(self.i_up)
        peak = self._mag(self.i_peak)
        level = base + 0.2 * (peak - base)
        i_start = self.i_up
        while i_start > self.i_floor and self._mag(i_start - 1) > level and (not self.spec.two_way
                                                                  or (self.p[i_start - 1] >= 0) == (self.sign > 0)):
            i_start -= 1
        ex = Excursion(i_start, self.i_peak, i_end, self.sign, peak)
        self.i_floor = i_end  # the next excursion starts after this one ended
        if self.t[i_end] - self.t[i_start] < MIN_REP_S or peak < self.enter:
            return None
        if self.spec.hold_s >= HOLD_DRILL_S and self.hold_s(ex) < HOLD_SHARE * self.spec.hold_s:
            return None  # a hold drill's rep is the hold: a movement that is not held is something else
        if not self._like_the_others(ex):
            return None
        self.excursions.append(ex)
        self.last_activity_t = self.t[i_end]
        return ex

    def _direction(self, ex: Excursion) -> np.ndarray:
        v = np.abs(np.asarray(self.ang[ex.i_top]))
        return v / max(1e-9, float(np.linalg.norm(v)))

    def _like_the_others(self, ex: Excursion) -> bool:
        """Reps repeat one movement: once a set has two, an excursion whose direction (which angles moved,
        sides aside) is far from theirs is a fidget, not a rep. (Not its size: a poor-control person's faulty
        reps are 3-5 times the good ones.)"""
        if len(self.excursions) < 2:
            return True
        dirs = np.array([self._direction(e) for e in self.excursions])
        mean = dirs.mean(axis=0)
        cos = float(self._direction(ex) @ (mean / np.linalg.norm(mean)))
        return cos >= SAME_MOVEMENT_COS

    def flush(self) -> Excursion | None:
        """The set ended: an excursion still open counts if it reached its top and came part way back."""
        if self.state == "down":
            return self._close(len(self.p) - 1)
        self.state = "idle"
        return None

    # --- per-rep measures -------------------------------------------------------------------------------
    def top_window(self, ex: Excursion) -> np.ndarray:
        """Indices at the top: within 10 % (at least 0.5 deg) of the peak, inside the excursion."""
        idx = np.arange(ex.i_start, ex.i_end + 1)
        mag = np.array([self._mag(i) if self._same_sign(i, ex.sign) else 0.0 for i in idx])
        near = mag >= ex.peak - max(0.5, 0.1 * abs(ex.peak))
        return idx[near] if near.any() else np.array([ex.i_top])

    def _same_sign(self, i: int, sign: int) -> bool:
        return not self.spec.two_way or (self.p[i] >= 0) == (sign > 0)

    def hold_s(self, ex: Excursion) -> float:
        """Longest time held still near the top (turning slower than HOLD_SPEED_DPS within 25 % of the peak)."""
        t = np.asarray(self.t[ex.i_start : ex.i_end + 1])
        a = np.asarray(self.ang[ex.i_start : ex.i_end + 1])
        mag = np.abs(np.asarray(self.p[ex.i_start : ex.i_end + 1]))
        if len(t) < 3:
            return 0.0
        speed = np.linalg.norm(np.gradient(a, t, axis=0), axis=1)
        # held: turning slower than a small share of the rep's own lift speed (sway stays under ~0.5 deg/s)
        limit = max(HOLD_SPEED_DPS, HOLD_SPEED_SHARE * float(speed.max()))
        held = (speed < limit) & (mag >= abs(ex.peak) - max(1.5, 0.25 * abs(ex.peak)))
        best, run_start = 0.0, None
        for k, h in enumerate(held):
            if h and run_start is None:
                run_start = k
            if (not h or k == len(held) - 1) and run_start is not None:
                end = k if h else k - 1
                best = max(best, float(t[end] - t[run_start]))
                run_start = None
        return best
