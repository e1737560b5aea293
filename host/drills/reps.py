"""Reps within one set, tick by tick (causal): a rep is an excursion of the drill's counted movement away
from the set's starting posture and back.

A rep starts when the counted signal p (deg) leaves the baseline, is counted once it passes `enter`
(a fraction of the reference rep: the drill's typical excursion, then the median of the reps already
seen), and ends when p is back near where it started, or turns and rises into the next rep. An
excursion that never reaches `enter`, or lasts under MIN_REP_S (a two-way rep's half: half that), is a fidget or a
wobble, not a rep.
Two-way drills (twists) count a turn out and the turn back in as one rep.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from .catalogue import ANGLES, FACE_DOWN, DrillSpec

ENTER_FRACTION = 0.25  # of the reference rep: partial reps (half range) still count, fidgets do not
MIN_ENTER_DEG = 1.0  # the smallest movement counted as a rep (sway and breathing stay under ~0.5 deg)
SWAY_DEG = 0.5  # breathing and postural sway: the pelvis within this of the start is at the start
MIN_REP_S = 0.6  # a deliberate rep, even a fast one, takes longer (a twitch or a bump does not)
HOLD_SPEED_DPS = 1.0  # held "still" at the top: the pelvis turns slower than this, and than
HOLD_SPEED_SHARE = 0.15  # this share of the rep's fastest movement
DECEL_TAIL_SHARE = 0.6  # a hold's ends: the rise's speed below this share of its fastest is it slowing into the top
KNEE_WINDOW_S = 1.2  # a hold's ends: read from the rise's last fast tick this far on (its slowing, then the hold)
SWAY_RATIO = 2.0  # a hold's ends: turning faster than twice the hold's median speed is the rise or the lowering
PARTIAL_FRACTION = 0.6
SETTLED_S = 0.5  # still this long on the way down, well below the top: the rep is over
SAME_MOVEMENT_TAN = 1.73  # a rep's direction within 60 degrees (tan 60) of the set's typical rep ...
WOBBLE_DEG = 2.5  # ... or off it by less than a steady rep's own side wobble (sway, breathing, a good rep's
# small drop or rock, which change from rep to rep: up to about half the fault tolerances)
SAME_TEMPO_SHARE = 0.5  # a rep lasts at least half the set's typical rep (a person keeps a tempo; the slowest
# lift-and-lower of a set is under twice its fastest); a fidget is a brief twitch
RECENT_REPS = 3
RHYTHM_GAPS = 2.0  # a set is reps one after another: pauses between them are under 2 typical reps (mostly)
FAULT_MARGIN = 2.0  # a faulty rep goes up to this many times past the fault's tolerance
HOLD_SHARE = 0.4  # ... and count a rep only if held at least this share of the target
MAX_REP_EXTRA_S = 12.0  # a rep lasts at most its hold and this (the slowest lift and lowering)
RELAX_S = 1.0  # hold drills: the hold is over once the pelvis stays down this long (a fidget on top of a
# shifted posture dips and comes back within well under a second)
LEVEL_DEG = 0.5  # hold drills: gravity back within this of the set's start (quiet sway) is relaxed, whatever the
# gyro's heading says
NEAR_TOP_MOVING_S = 2.0  # hold drills: time near the top (quarter) outside the one still hold is the end of the rise
# and the start of the lowering (a smooth movement spends its last quarter of range in a third of its time: under
# 2 s for a slow 3-s tuck and 3-s lowering); more is a top broken up by movements


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
    i_relax: int | None = None  # hold drills: where the pelvis came down from the hold (the rep ends there)
    sign: int = 1
    excursions: list[Excursion] = field(default_factory=list)
    last_activity_t: float | None = None
    i_floor: int = 0
    i_low: int = 0  # idle: the lowest point since the last excursion ended (the next must rise from it)
    aborted: bool = False  # an excursion far beyond a rep: the set is over
    under_way: bool = False  # RECENT_REPS reps in a row agreed: later excursions must be like them
    typical: list[Excursion] = field(default_factory=list)  # the reps that agreed, and those like them

    @property
    def enter(self) -> float:
        return max(MIN_ENTER_DEG, ENTER_FRACTION * self.ref_deg)

    @property
    def allow(self) -> np.ndarray:
        return fault_allowance(self.spec)

    @property
    def max_peak(self) -> float:
        """Far more than any rep of this drill: the person got up, turned round, walked off. Twice the
        largest rep a person does: the drill's full range (1.5 x the typical rep) with its worst fault at
        FAULT_MARGIN x its tolerance on top (in "norm" drills a fault is part of the counted movement)."""
        worst_fault = max((f.tolerance_deg for f in self.spec.faults), default=0.0) * FAULT_MARGIN
        largest_rep = 1.5 * self.spec.nominal_deg + (worst_fault if self.spec.primary == "norm" else 0.0)
        return max(3.0 * self.ref_deg, self.ref_deg + 15.0, 2.0 * largest_rep)

    @property
    def max_rep_s(self) -> float:
        return 1.5 * self.spec.hold_s + MAX_REP_EXTRA_S

    @property
    def in_rep(self) -> bool:
        return self.state != "idle"

    def signal(self, angles: tuple[float, float, float]) -> float:
        s = self.spec
        if s.primary == "norm":
            if s.position in FACE_DOWN:
                # face down the body's forward axis is the vertical: obliquity is the pelvis turning about
                # it, which these drills do not do (the floor holds the pelvis) and gravity cannot see
                # (the gyro's drift would build up in it between the moments the pelvis rests at the start)
                return float(np.hypot(angles[0], angles[2]))
            return float(np.sqrt(sum(a * a for a in angles)))
        return s.primary_sign * angles[ANGLES.index(s.primary)]

    def update(self, t: float, angles: tuple[float, float, float], still_s: float = 0.0,
               gravity_deg: float | None = None) -> Excursion | None:
        """Add a tick (`still_s`: how long the pelvis has been still; `gravity_deg`: how far gravity is from
        the set's start); returns an excursion the moment it is complete."""
        p_signed = self.signal(angles)
        self.t.append(t)
        self.ang.append(angles)
        self.p.append(p_signed)
        i = len(self.p) - 1
        p = abs(p_signed) if self.spec.two_way else p_signed
        # a hold drill's hold held long is back where gravity says the start is, with only a turn about
        # the vertical left: the gyro's heading drift over the hold, which no movement made
        level = self.spec.is_hold and gravity_deg is not None and gravity_deg < LEVEL_DEG
        done = None
        if self.state != "idle" and (p > self.max_peak or t - self.t[self.i_up] > self.max_rep_s):
            self.state, self.aborted = "idle", True  # far bigger or longer than a rep: the position was left
            return None
        if self.state == "idle":
            if p < self._mag(self.i_low):
                self.i_low = i
            # a rep rises from where the pelvis came down to, by at least `enter` (not the tail of the last);
            # come down to within sway of the start, the pelvis is back at the start
            low = self._mag(self.i_low)
            if p > self.enter and p - (low if low > SWAY_DEG else 0.0) > self.enter:
                self.state, self.i_up, self.i_peak = "up", i, i
                self.sign = 1 if p_signed >= 0 else -1
        elif self.state == "up":
            if self._same_way(p_signed) and p >= self._mag(self.i_peak) and not level:
                self.i_peak = i
            elif p < 0.5 * self._mag(self.i_peak) or not self._same_way(p_signed) or level:
                self.state, self.i_turn = "down", i
        else:  # down: back to the baseline ends the rep; rising again turns into the next one
            if self._same_way(p_signed) and p < self._mag(self.i_turn):
                self.i_turn = i
            base = self._baseline(self.i_up)
            back = p <= base + 0.2 * (self._mag(self.i_peak) - base)
            settled = still_s >= SETTLED_S and p < 0.6 * self._mag(self.i_peak)  # back down, a little off
            if self.spec.is_hold:
                # relaxed: down in the starting posture (the other angles too), or gravity back where it was
                # at the start whatever the gyro's heading says (on the back it drifts 3 deg over a 35-s hold)
                done = self._hold_end(i, p, level or ((back or settled or not self._same_way(p_signed))
                                                      and self._off_primary_deg(angles) <= WOBBLE_DEG), level)
            elif back or settled or not self._same_way(p_signed):
                done = self._close(i)
            elif p > self._mag(self.i_turn) + self.enter and p > 0.5 * self._mag(self.i_peak):
                done = self._close(self.i_turn)
                self.state, self.i_up, self.i_peak = "up", self.i_turn, i
                self.sign = 1 if p_signed >= 0 else -1
        return done

    def _off_primary_deg(self, angles) -> float:
        """How far the pelvis is from the start in the angles the drill does not count (deg)."""
        if self.spec.primary == "norm":
            return 0.0
        k = ANGLES.index(self.spec.primary)
        return float(np.hypot(*[a for j, a in enumerate(angles) if j != k]))

    def _hold_end(self, i: int, p: float, down: bool, level: bool = False) -> Excursion | None:
        """A hold drill's rep ends when the person relaxes: back down in the starting posture (the other
        angles too, within a steady rep's wobble: a tuck's twist comes back with it), and staying down for
        RELAX_S. Back up near the hold before that (a dip, a fidget on top of a shifted posture), the same
        hold goes on: a held posture is one rep however it wobbles, never two. A posture shifted about by
        fidgets never comes back: it runs past the longest rep and is dropped."""
        if p > 0.6 * self._mag(self.i_peak) and not level:
            self.state, self.i_relax = "up", None
            return None
        if self.i_relax is None:
            if down:
                self.i_relax = i
            return None
        if self.t[i] - self.t[self.i_relax] >= RELAX_S:
            return self._close(self.i_relax)
        return None

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
        self.state, self.i_low, self.i_relax = "idle", i_end, None
        base = self._baseline(self.i_up)
        peak = self._mag(self.i_peak)
        level = base + 0.2 * (peak - base)
        i_start = self.i_up
        while i_start > self.i_floor and self._mag(i_start - 1) > level and (not self.spec.two_way
                                                                  or (self.p[i_start - 1] >= 0) == (self.sign > 0)):
            i_start -= 1
        ex = Excursion(i_start, self.i_peak, i_end, self.sign, peak)
        self.i_floor = i_end  # the next excursion starts after this one ended
        # a two-way rep's turn out and turn back are each half of it (a fast twist turns out in under 0.5 s)
        min_s = MIN_REP_S / 2 if self.spec.two_way else MIN_REP_S
        if self.t[i_end] - self.t[i_start] < min_s or peak < self.enter:
            return None
        if self.spec.is_hold:
            # a hold drill's rep is the hold: a movement that is not held is something else, and so is a
            # top broken up by movements (a posture shifted about by fidgets), not one still hold
            held, near_top = self.hold_s(ex, trim=False), self.near_top_s(ex)
            if held < HOLD_SHARE * self.spec.hold_s or near_top - held > self._near_top_moving_s(ex):
                return None
        if not self._like_the_others(ex):
            return None
        self.excursions.append(ex)
        self.last_activity_t = self.t[i_end]
        return ex

    def _like_the_others(self, ex: Excursion) -> bool:
        """Reps repeat one movement at one tempo. Once RECENT_REPS reps in a row agree with each other and
        follow one another in rhythm, the set is under way: from then on an excursion unlike each of the
        set's last RECENT_REPS reps (another direction, or far briefer) is a fidget, not a rep (not its
        size: a poor-control person's faulty reps are 3-5 times the good ones). Before that anything counts,
        as the first "reps" may be fidgets before the set began: the set's end judges all its reps together."""
        if not self.under_way:
            recent = self.excursions[-(RECENT_REPS - 1):] + [ex]
            if len(recent) == RECENT_REPS and self._agree(recent):
                self.under_way, self.typical = True, recent
            return True
        v = rep_vector(self.spec, self.ang[ex.i_top], ex.sign)
        dur = self.t[ex.i_end] - self.t[ex.i_start]
        like = any(same_movement(v, rep_vector(self.spec, self.ang[e.i_top], e.sign), self.enter, self.allow)
                   and dur >= SAME_TEMPO_SHARE * (self.t[e.i_end] - self.t[e.i_start])
                   for e in self.typical[-RECENT_REPS:])
        if like:
            self.typical.append(ex)
        return like

    def _agree(self, reps: list[Excursion]) -> bool:
        """These reps go one way at one tempo, one after another (not fidgets scattered through a rest)."""
        vecs = [rep_vector(self.spec, self.ang[e.i_top], e.sign) for e in reps]
        durs = [self.t[e.i_end] - self.t[e.i_start] for e in reps]
        typical, tempo = np.median(vecs, axis=0), float(np.median(durs))
        gaps = [self.t[b.i_start] - self.t[a.i_end] for a, b in pairwise(reps)]
        return all(same_movement(v, typical, allow=self.allow) and d >= SAME_TEMPO_SHARE * tempo
                   for v, d in zip(vecs, durs)) \
            and float(np.median(gaps)) <= RHYTHM_GAPS * tempo

    def flush(self) -> Excursion | None:
        """The set ended: an excursion still open counts if it reached its top and came part way back."""
        if self.state == "down" and self.i_relax is not None:
            return self._close(self.i_relax)
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

    def _near_top(self, ex: Excursion) -> np.ndarray:
        """Per tick of the excursion: near its top (within `_top_band_deg` of the peak)."""
        mag = np.abs(np.asarray(self.p[ex.i_start : ex.i_end + 1]))
        return mag >= abs(ex.peak) - _top_band_deg(ex.peak)

    def _near_top_moving_s(self, ex: Excursion) -> float:
        """The most time a hold's rise and lowering spend near its top (`_near_top`): NEAR_TOP_MOVING_S for
        the top quarter, more where the band is a larger share of a small hold (its 1.5-deg floor is two
        thirds of a 2-deg press): a smooth movement spends the top share f of its range in arccos(1 - 2f)/pi
        of its time."""
        f = _top_band_deg(ex.peak) / max(1e-6, abs(ex.peak))
        return NEAR_TOP_MOVING_S * _smooth_time_share(f) / _smooth_time_share(0.25)

    def near_top_s(self, ex: Excursion) -> float:
        """How long the excursion spent near its top, held or not."""
        t = np.asarray(self.t[ex.i_start : ex.i_end + 1])
        if len(t) < 2:
            return 0.0
        return float(np.sum(self._near_top(ex)[1:] * np.diff(t)))

    def hold_s(self, ex: Excursion, trim: bool = True) -> float:
        """Longest time held still near the top (turning slower than HOLD_SPEED_DPS within 25 % of the peak),
        its ends trimmed to where the pelvis turns no faster than the hold's own sway (`_held_edges`), then
        timed from where the rise's slowing meets the hold's own drift to where the lowering leaves it
        (`_movement_stops`; neither when judging whether a hold drill's rep was held: its rules count the
        still stretch as found)."""
        t = np.asarray(self.t[ex.i_start : ex.i_end + 1])
        a = np.asarray(self.ang[ex.i_start : ex.i_end + 1])
        if len(t) < 3:
            return 0.0
        speed = np.linalg.norm(np.gradient(a, t, axis=0), axis=1)
        # held: turning slower than a small share of the rep's own lift speed (sway stays under ~0.5 deg/s)
        fastest = _sustained_max(speed)
        limit = max(HOLD_SPEED_DPS, HOLD_SPEED_SHARE * fastest)
        held = self._held_at_top(speed < limit, self._near_top(ex), ex)
        best, run = 0.0, None
        for k0, k1 in _runs(held):
            if t[k1] - t[k0] > best:
                best, run = float(t[k1] - t[k0]), (k0, k1)
        if run is None:
            return 0.0
        if not trim:
            return best
        # held: the whole pelvis still and the counted movement still, each against its own sway in the
        # hold (breathing rocks a bird dog's tilt at 0.4 deg/s while its 2-deg reach is still slowing)
        p = np.asarray(self.p[ex.i_start : ex.i_end + 1], float)
        v = ex.sign * np.gradient(p, t)  # the counted movement's velocity, > 0 towards the top
        speeds = (speed, np.abs(v))
        limits = _sway_limits(speeds, *run, HOLD_SPEED_SHARE * fastest)
        k0, k1 = _held_edges(speeds, *run, limits)
        return _movement_stops(t, v, k0, k1, limits[1])

    def _held_at_top(self, still: np.ndarray, near_top: np.ndarray, ex: Excursion) -> np.ndarray:
        """Per tick of the excursion: held at the top. A hold is stillness that began near the top and lasts
        until the pelvis moves again: while it stays still, a slow creep (the gyro's heading drifting 1-2 deg
        over a 20-s stance, a press easing off) does not end it, down to half the peak (below that it has
        come down)."""
        mag = np.abs(np.asarray(self.p[ex.i_start : ex.i_end + 1], float))
        up = mag >= 0.5 * abs(ex.peak)
        held = still & near_top
        for k0, k1 in _runs(still):
            near = np.flatnonzero(near_top[k0 : k1 + 1])
            if len(near):
                k = k0 + int(near[0])
                while k <= k1 and up[k]:
                    held[k] = True
                    k += 1
        return held


def _sustained_max(speed: np.ndarray) -> float:
    """The fastest speed held over three ticks in a row: a movement's, not a one-tick jump (the heading's
    drift taken out between reps steps the angles at once: 0.5° in a tick reads as 6°/s)."""
    if len(speed) < 3:
        return float(speed.max())
    return float(np.max(np.minimum(np.minimum(speed[:-2], speed[1:-1]), speed[2:])))


def _top_band_deg(peak: float) -> float:
    """How far below its peak a rep is still near its top: 25 % of it, at least 1.5 deg."""
    return max(1.5, 0.25 * abs(peak))


def _smooth_time_share(f: float) -> float:
    """The share of a smooth (cosine) movement's time spent in the last share `f` of its range."""
    return float(np.arccos(1.0 - 2.0 * min(1.0, max(0.0, f))) / np.pi)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    out, start = [], None
    for k, h in enumerate(mask):
        if h and start is None:
            start = k
        if (not h or k == len(mask) - 1) and start is not None:
            out.append((start, k if h else k - 1))
            start = None
    return out


def _sway_limits(speeds: tuple[np.ndarray, ...], k0: int, k1: int, share_dps: float) -> list[float]:
    """Per speed, the fastest a held pelvis turns in the held run k0..k1: SWAY_RATIO x the run's own median
    speed (its sway and noise), at least `share_dps` (HOLD_SPEED_SHARE of the rep's fastest)."""
    return [max(SWAY_RATIO * float(np.median(s[k0 : k1 + 1])), share_dps) for s in speeds]


def _held_edges(speeds: tuple[np.ndarray, ...], k0: int, k1: int, limits: list[float]) -> tuple[int, int]:
    """The held run's ends moved in past the end of the rise and the start of the lowering: held is turning
    no faster than its `limits` (`_sway_limits`) in each of `speeds` (the whole pelvis' turning speed, and the
    counted movement's: sway across the movement, such as breathing, raises the first's median while the
    movement itself is still slowing into the top). HOLD_SPEED_DPS finds the hold whatever the sway, but a
    slow small press (2.5° at 2°/s) is still rising at 1°/s a quarter of a second before its top."""

    def moving(k: int) -> bool:
        return any(s[k] > lim for s, lim in zip(speeds, limits))

    while k0 < k1 and moving(k0):
        k0 += 1
    while k1 > k0 and moving(k1):
        k1 -= 1
    return k0, k1


def _movement_stops(t: np.ndarray, v: np.ndarray, k0: int, k1: int, sway: float) -> float:
    """The hold's length between where the rise stops and the lowering starts (s). Any speed limit cuts a
    smooth movement short by limit / deceleration: its speed falls steadily to zero at the top (a 2-deg reach
    rising in 1.8 s slows by 2 deg/s per s there, and under 0.7 deg/s took in 0.2 s of the rise and as much
    of the lowering). So the rise is read as a knee (`_knee`) over KNEE_WINDOW_S from its last tick at
    DECEL_TAIL_SHARE of its fastest (half-way to the lowering at most): its speed falling on a line, then the
    held pelvis' own sway (breathing carries it on at a few tenths of a deg/s; where the two meet, the
    movement's own speed is zero); the lowering likewise, back in time from its first such tick. Read on the
    counted movement alone, wherever the held run's edges `k0`, `k1` fell (the fallback): sway across the
    movement at half a deg/s can keep a small rise's edge a second into the hold. The rise is the last
    movement towards the top before `k0` (`_last_push`; an excursion may have begun with another, stopped
    short of the top), faster than `sway`, the hold's own sway speed; the lowering the first after `k1`."""
    if t[k1] <= t[k0]:
        return 0.0
    reach = int(round(KNEE_WINDOW_S / max(1e-6, float(np.median(np.diff(t))))))
    start, end = float(t[k0]), float(t[k1])
    r0 = k0 - _last_push(v[: k0 + 1][::-1], sway)
    rise, fall = v[r0 : k0 + 1], -v[k1 : k1 + _last_push(-v[k1:], sway) + 1]
    rise_fast = np.flatnonzero(rise >= DECEL_TAIL_SHARE * rise.max())
    fall_fast = np.flatnonzero(fall >= DECEL_TAIL_SHARE * fall.max())
    a = r0 + int(rise_fast[-1]) if len(rise_fast) else k0  # the rise's last fast tick
    b = k1 + int(fall_fast[0]) if len(fall_fast) else k1  # the lowering's first
    mid = (a + b) // 2
    if len(rise_fast):
        knee = _knee(t[a : min(mid, a + reach) + 1], v[a : min(mid, a + reach) + 1])
        start = knee if knee is not None else start
    if len(fall_fast):
        lo = max(mid, b - reach)
        knee = _knee(-t[lo : b + 1][::-1], -v[lo : b + 1][::-1])
        end = -knee if knee is not None else end
    return max(0.0, end - start)


def _last_push(v: np.ndarray, sway: float) -> int:
    """From v[0] (the held edge) on: past the sway (speed up to `sway`), then through the movement's ticks
    (speed > 0); the index of the movement's far end, or the last index if none was found."""
    k = 0
    while k < len(v) - 1 and v[k] <= sway:
        k += 1
    if v[k] <= sway:
        return len(v) - 1
    while k < len(v) - 1 and v[k + 1] > 0.0:
        k += 1
    return k


def _knee(t: np.ndarray, v: np.ndarray) -> float | None:
    """Where a speed falling on a line meets the sway after it (the least-squares hinge v = c + d·(t − knee)
    + s·min(0, t − knee), s < 0, over every tick as the knee: the sway's own speed changes slowly, close to a
    line over the second read); None where no falling line fits."""
    best, knee = np.inf, None
    for j in range(2, len(t) - 2):
        x = np.minimum(0.0, t - t[j])
        a = np.column_stack([np.ones_like(x), t - t[j], x])
        coef = np.linalg.lstsq(a, v, rcond=None)[0]
        sse = float(np.sum(np.square(a @ coef - v)))
        if coef[2] < 0.0 and sse < best:
            best, knee = sse, float(t[j])
    return knee


def rep_vector(spec: DrillSpec, angles, sign: int = 1) -> np.ndarray:
    """A rep's movement as a signed vector (tilt, obliquity, rotation at its top, deg). Two-way drills: the
    half turned the positive way (the other half mirrored). Alternating drills: the side angle's size only
    (its sign is the side). Face down in the "norm" drills, tilt and rotation only, as counted: obliquity
    there is the pelvis turned about the vertical, gyro drift that no rep makes."""
    v = without_heading_drift(spec, np.asarray(angles, float) * (sign if spec.two_way else 1))
    if spec.sides == "alternating" and spec.side_angle:
        k = ANGLES.index(spec.side_angle)
        v = v.copy()
        v[k] = abs(v[k])
    return v


def without_heading_drift(spec: DrillSpec, angles) -> np.ndarray:
    """(tilt, obliquity, rotation) as the drill's reps move them: face down in the "norm" drills obliquity is
    the pelvis turned about the vertical, gyro drift that no rep makes, and is set to 0 (the vector form of
    `RepCounter.signal`'s rule). A new array."""
    v = np.array(angles, float)
    if spec.primary == "norm" and spec.position in FACE_DOWN:
        v[ANGLES.index("obliquity")] = 0.0
    return v


def fault_allowance(spec: DrillSpec) -> np.ndarray:
    """Per angle (tilt, obliquity, rotation), how far a rep may go off the set's typical rep by a fault (deg):
    in drills counted on one angle a fault is a side movement (the banded twist's hip drop), and a faulty rep
    goes up to FAULT_MARGIN x its tolerance in it; it is still the same rep. ("norm" drills count the faults
    as part of the movement: no allowance.)"""
    allow = np.zeros(3)
    if spec.primary != "norm":
        for f in spec.faults:
            if f.angle != spec.primary:
                k = ANGLES.index(f.angle)
                allow[k] = max(allow[k], FAULT_MARGIN * f.tolerance_deg)
    return allow


def same_movement(v: np.ndarray, typical: np.ndarray, min_along: float = 0.0,
                  allow: np.ndarray | None = None) -> bool:
    """`v` goes the way of the set's typical rep, by at least `min_along` (deg: the counter's `enter`), and
    its part across that direction is within 60 degrees of its part along it, or under a steady rep's own
    wobble; `allow` (`fault_allowance`): per angle, how much of `v`'s difference from the typical rep is a
    fault's side movement, taken off before judging."""
    if allow is not None and allow.any():
        d = np.asarray(v, float) - typical
        v = typical + np.sign(d) * np.maximum(0.0, np.abs(d) - allow)
    n = float(np.linalg.norm(typical))
    if n < 1e-6:
        return True
    u = typical / n
    along = float(v @ u)
    across = float(np.linalg.norm(v - along * u))
    return along > max(0.0, min_along) and across <= max(SAME_MOVEMENT_TAN * along, WOBBLE_DEG)
