"""The drill engine: samples in (block by block, causal), guidance events and results out.

One engine for the live guidance and the offline analysis (`analyse_recording` feeds a whole file
through it). Phases, each ended by what the pod sees, not by a clock:

    stand     standing still >= 2 s: the body's up axis in the sensor frame
    bow       (standing and kneeling drills) a bow forward from the hips and back: the left axis
    position  still >= 1.5 s in the drill's position (lying drills: gravity 50-130° from standing gives the
              left axis again, for this set); the set's starting posture is taken here
    set       reps counted against that posture (host.drills.reps); ends after SET_GAP_S without a rep or
              when the position is left; a "set" of fewer than the drill's minimum reps was fidgeting and
              is dropped
    (back to position for the next set: rest, fidgets and walking about between sets count nothing)

Orientation is the project's VQF (6D: gravity for inclination, the gyro for everything else, its bias
learned at rest); rotation is the gyro's, relative to the set's start, never a magnetometer's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from vqf import VQF

from .catalogue import ANGLES, FACE_DOWN, DrillSpec, get_drill
from .frame import angle_between_deg, body_from_sensor, euler_zxy, quat_to_matrix
from .reps import HOLD_DRILL_S, PARTIAL_FRACTION, Excursion, RepCounter
from .results import DrillResult, RepResult, SetResult, compare_sides

TICK_HZ = 25.0  # the engine's decision rate: 40 ms, well inside the 250 ms a fault cue may take
STILL_DPS = 3.0  # still: the pelvis turns slower than this (quiet standing sways < 0.5 deg/s)
REFERENCE_DPS = 1.0  # the starting posture is taken only this still (a rep's first moments turn faster)
STAND_S = 2.0
HOLD_MAX_RATIO = 2.5  # a hold drill's hold stays under this many times its typical excursion
TURN_ONLY_SHARE = 0.3  # gravity moved less than this share of the excursion: mostly a turn about the vertical
OFF_PRIMARY_MIN_DEG = 12.0  # side movements of a rep stay under this (a poor rep's rock or drop included)
POSITION_S = 1.5
BOW_MIN_DEG = 15.0
BOW_BACK_DEG = 8.0
LYING_DEG = (50.0, 130.0)  # gravity this far from standing: lying
UPRIGHT_MAX_DEG = 40.0
LEFT_POSITION_DEG = 55.0  # a set ends when gravity moves this far from the set's start (lying drills)
MIN_DUTY = 0.4  # share of a set's time spent in reps (pauses included, real sets are above 0.5)
SET_GAP_S = 10.0  # no rep for this long: the set is over
FAULT_HYSTERESIS_DEG = 1.0
RETURN_STILL_S = 0.3  # still this long between reps: back in the starting posture
RETURN_DEG = 3.0  # gravity within this of the set's start


@dataclass
class DrillEvent:
    t: float
    kind: str  # prompt, set_start, rep, fault_start, fault_end, hold, lower, too_fast, set_end, set_dropped
    text: str = ""
    data: dict = field(default_factory=dict)


class DrillTracker:
    def __init__(self, drill: str | DrillSpec, rate_hz: float, tolerances: dict[str, float] | None = None,
                 gyro_bias: np.ndarray | None = None) -> None:
        spec = get_drill(drill) if isinstance(drill, str) else drill
        self.spec = spec.with_tolerances(tolerances)
        self.rate_hz = float(rate_hz)
        self.step = max(1, int(round(self.rate_hz / TICK_HZ)))
        self.vqf = VQF(1.0 / self.rate_hz)
        if gyro_bias is not None:
            self.vqf.setBiasEstimate(np.asarray(gyro_bias, float), -1.0)
        self.phase = "stand"
        self.result = DrillResult(self.spec.name, self.spec.kind,
                                  {f.name: f.tolerance_deg for f in self.spec.faults})
        self.events: list[DrillEvent] = []
        self._buf_t = np.empty(0)
        self._buf_gyr = np.empty((0, 3))
        self._buf_q = np.empty((0, 4))
        self._still_since: float | None = None
        self._still_up: list[np.ndarray] = []
        self.up_stand: np.ndarray | None = None
        self.body: np.ndarray | None = None  # R_body<-sensor
        self._bow_max = 0.0
        self._bow_up: np.ndarray | None = None
        self._ref: np.ndarray | None = None  # R_earth<-sensor at the set's start
        self._set_up: np.ndarray | None = None
        self._set_start = 0.0
        self._counter: RepCounter | None = None
        self._hist: list = []  # (t, R_earth<-sensor, up, still_s, speed) of the set's ticks before its first rep
        self._speed_dps = 0.0
        self._quiet_since: float | None = None
        self._quiet_s = 0.0  # how long the pelvis has turned slower than REFERENCE_DPS
        self._halves: list[Excursion] = []
        self._set_reps: list[RepResult] = []
        self._faults_on: set[str] = set()
        self._held_prompted = False
        self._peaks: list[float] = []
        self.angles_deg = (0.0, 0.0, 0.0)  # the latest tilt, obliquity, rotation against the set's start
        self.last_t = 0.0
        self._prompt(0.0, "Stand tall and still")

    # --- feeding ----------------------------------------------------------------------------------------
    def feed(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[DrillEvent]:
        """Add a block of samples (device time s, m/s², rad/s; sensor frame); returns the new events."""
        n_before = len(self.events)
        acc = np.ascontiguousarray(acc, dtype=float)
        gyr = np.ascontiguousarray(gyr, dtype=float)
        if len(t) == 0:
            return []
        q = self.vqf.updateBatch(gyr, acc)["quat6D"]
        bt = np.concatenate([self._buf_t, np.asarray(t, float)])
        bg = np.concatenate([self._buf_gyr, gyr])
        bq = np.concatenate([self._buf_q, q])
        n_ticks = len(bt) // self.step
        for k in range(n_ticks):
            sl = slice(k * self.step, (k + 1) * self.step)
            self._tick(float(bt[sl][-1]), quat_to_matrix(bq[sl][-1]), bg[sl].mean(axis=0))
        used = n_ticks * self.step
        self._buf_t, self._buf_gyr, self._buf_q = bt[used:], bg[used:], bq[used:]
        return self.events[n_before:]

    def finish(self) -> DrillResult:
        """The recording (or the live session) ended: close an open set and compare the sides."""
        if self.phase == "set":
            self._end_set(self.last_t)
        self._assign_sides()
        self.result.sides = compare_sides(self.spec, self.result.reps)
        return self.result

    # --- one tick ---------------------------------------------------------------------------------------
    def _tick(self, t: float, r_es: np.ndarray, gyr: np.ndarray) -> None:
        self.last_t = t
        up = r_es[2, :]  # earth up in sensor coordinates
        self._speed_dps = float(np.degrees(np.linalg.norm(gyr - self._bias())))
        still = self._speed_dps < STILL_DPS
        if still:
            if self._still_since is None:
                self._still_since, self._still_up = t, []
            self._still_up.append(up)
        else:
            self._still_since = None
        still_s = 0.0 if self._still_since is None else t - self._still_since
        if self._speed_dps < REFERENCE_DPS:
            self._quiet_since = t if self._quiet_since is None else self._quiet_since
        else:
            self._quiet_since = None
        self._quiet_s = 0.0 if self._quiet_since is None else t - self._quiet_since
        self._up = up
        getattr(self, f"_phase_{self.phase}")(t, r_es, up, still_s)

    def _bias(self) -> np.ndarray:
        return np.asarray(self.vqf.getBiasEstimate()[0])

    def _still_mean_up(self) -> np.ndarray:
        u = np.mean(self._still_up, axis=0)
        return u / np.linalg.norm(u)

    def _phase_stand(self, t, r_es, up, still_s) -> None:
        if still_s >= STAND_S:
            self.up_stand = self._still_mean_up()
            if self.spec.lying:
                self.phase = "position"
                self._prompt(t, self._position_prompt())
            else:
                self.phase = "bow"
                self._prompt(t, "Bow forward from the hips once, then stand tall again")

    def _phase_bow(self, t, r_es, up, still_s) -> None:
        a = angle_between_deg(up, self.up_stand)
        if a > self._bow_max:
            self._bow_max, self._bow_up = a, up.copy()
        if self._bow_max >= BOW_MIN_DEG and a < BOW_BACK_DEG:
            self.body = body_from_sensor(self.up_stand, self._bow_up, turned_forward=True)
            self.phase = "position"
            self._prompt(t, self._position_prompt())

    def _phase_position(self, t, r_es, up, still_s) -> None:
        if still_s < POSITION_S:
            return
        mean_up = self._still_mean_up()
        a = angle_between_deg(mean_up, self.up_stand)
        if self.spec.lying:
            if not LYING_DEG[0] <= a <= LYING_DEG[1]:
                return
            self.body = body_from_sensor(self.up_stand, mean_up, turned_forward=self.spec.position in FACE_DOWN)
        elif a > UPRIGHT_MAX_DEG:
            return
        self._start_set(t, r_es, up)

    def _start_set(self, t, r_es, up) -> None:
        self.phase = "set"
        self._ref, self._set_up, self._set_start = r_es.copy(), up.copy(), t
        # the reps seen so far, but never above the drill's typical rep: a few big (faulty) reps must not
        # raise the bar over the small good ones
        ref = min(float(np.median(self._peaks)), self.spec.nominal_deg) if self._peaks else self.spec.nominal_deg
        self._new_counter(ref)
        self._halves, self._set_reps, self._faults_on = [], [], set()
        self._held_prompted = False
        side = self._next_set_side()
        self._emit(t, "set_start", "Start" + (f": {side} side" if side else ""), side=side)

    def _phase_set(self, t, r_es, up, still_s) -> None:
        # within a set, "still" is the stricter kind: a slow rep of a few degrees turns at 1-3 deg/s
        still_s = self._quiet_s
        c = self._counter
        if c.in_rep and self._settled(c, still_s):
            # moved and still again, longer than any of this drill's holds: the person settled into a new
            # posture (shifted on the floor, turned); count from here
            if not c.excursions:
                c = self._new_counter(c.ref_deg)
            else:  # mid-set: the movement was no rep, and later reps start from the new posture
                c.state = "idle"
                self._ref = r_es.copy()
        if not c.in_rep and not c.excursions and still_s > 0 and self._speed_dps < REFERENCE_DPS:
            # still before the first rep: the starting posture (and the set's start) is now
            self._ref, self._set_start, self._set_up = r_es.copy(), t, up.copy()
        elif not c.in_rep and still_s >= RETURN_STILL_S and angle_between_deg(up, self._set_up) < RETURN_DEG:
            # back in the starting posture between reps (the floor, the planted feet hold the pelvis there):
            # what turned about the vertical since the start is gyro drift, the one thing gravity cannot see
            d = r_es @ self._ref.T
            psi = np.arctan2(d[1, 0], d[0, 0])
            cz, sz = np.cos(psi), np.sin(psi)
            self._ref = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]]) @ self._ref
        ex = self._count_tick(t, r_es, up, still_s)
        c = self._counter
        self._live_cues(t, c)
        if ex is not None and len(c.excursions) == 1 and self._moved_away(c, ex):
            ex = self._recount_from_last_stillness(ex)
        if ex is not None:
            self._add_excursion(t, ex)
        moved = angle_between_deg(up, self._set_up if self.spec.lying else self.up_stand)
        left_position = moved > (LEFT_POSITION_DEG if self.spec.lying else 90.0 - UPRIGHT_MAX_DEG + 30.0)
        quiet_for = t - (c.last_activity_t if c.last_activity_t is not None else self._set_start)
        if c.aborted and not c.excursions:
            # no rep yet and a movement far beyond one (a shift, getting up): start afresh at the next stillness
            c = self._new_counter(c.ref_deg)
            self._set_start = t
        left_position = left_position or c.aborted
        # no rep yet: still waiting for the first (the starting posture follows each stillness), not a set to end
        if left_position or (not c.in_rep and c.excursions and quiet_for > SET_GAP_S):
            self._end_set(t, flush=not left_position)

    def _count_tick(self, t, r_es, up, still_s):
        rel = self.body @ self._ref.T @ r_es @ self.body.T
        rot, obl, tilt = np.degrees(euler_zxy(rel))
        self.angles_deg = (float(tilt), float(obl), float(rot))
        if not self._counter.excursions:  # kept until the first rep, in case the start must be re-taken
            self._hist.append((t, r_es.copy(), up.copy(), still_s, self._speed_dps))
        return self._counter.update(t, self.angles_deg, still_s)

    def _new_counter(self, ref_deg: float) -> RepCounter:
        self._counter, self._hist = RepCounter(self.spec, ref_deg), []
        return self._counter

    @staticmethod
    def _moved_away(c: RepCounter, ex: Excursion) -> bool:
        """The first "rep" did not come back to where it started: the person settled into another posture
        (shifted on the floor, turned) on the way, then did the rep from there."""
        start, end = abs(c.p[ex.i_start]), abs(c.p[ex.i_end])
        return end - start > max(c.enter, 0.2 * ex.peak)

    def _recount_from_last_stillness(self, ex: Excursion) -> Excursion | None:
        """Take the starting posture at the last stillness before the first rep's top and count again from
        there (the ticks are kept until the first rep)."""
        hist, c = self._hist, self._counter
        j = ex.i_top
        while j > ex.i_start and abs(c.p[j]) >= 0.8 * ex.peak:  # back down from the top (and its hold)
            j -= 1
        while j > ex.i_start and not (hist[j][3] >= RETURN_STILL_S and hist[j][4] < REFERENCE_DPS):
            j -= 1  # back down the rise to the stillness it started from
        if j <= ex.i_start:
            return ex
        ticks = hist[j:]
        self._ref, self._set_start, self._set_up = ticks[0][1].copy(), ticks[0][0], ticks[0][2].copy()
        self._new_counter(c.ref_deg)
        found = None
        for t, r_es, up, still_s, speed in ticks:
            self._speed_dps = speed
            got = self._count_tick(t, r_es, up, still_s)
            if got is not None:
                if found is not None:
                    self._add_excursion(t, found)
                found = got
        return found

    def _settled(self, c: RepCounter, still_s: float) -> bool:
        """Still for longer than any hold of this drill, away from the start: a new starting posture."""
        if not c.p:
            return False
        if self._off_primary(c):  # moved mostly in angles the drill does not move: not a rep's top
            return still_s >= POSITION_S
        if self.spec.hold_s >= HOLD_DRILL_S:  # a hold drill: held half-way to a typical hold or more is its hold,
            # unless the pelvis only turned about the vertical (gravity where it was): a turn into position
            turned = angle_between_deg(self._up, self._set_up) < TURN_ONLY_SHARE * abs(c.p[-1])
            too_big = (self.spec.primary != "norm"  # a shift along the counted angle, not this drill's hold
                       and abs(c.p[-1]) > HOLD_MAX_RATIO * self.spec.nominal_deg)
            small = abs(c.p[-1]) < max(c.enter, 0.5 * c.ref_deg)
            return (small or turned or too_big) and still_s >= POSITION_S
        return still_s >= POSITION_S + 1.5 * self.spec.hold_s

    def _off_primary(self, c: RepCounter) -> bool:
        """The pelvis is away from the start mostly about axes other than the counted one (a shift on the
        floor, a turn), far more than a rep's own side movements."""
        if self.spec.primary == "norm":
            return False
        k = ANGLES.index(self.spec.primary)
        other = float(np.hypot(*[a for i, a in enumerate(c.ang[-1]) if i != k]))
        return other > max(OFF_PRIMARY_MIN_DEG, 1.5 * abs(c.p[-1]))

    def _live_cues(self, t: float, c: RepCounter) -> None:
        angles = dict(zip(ANGLES, self.angles_deg))
        for f in self.spec.faults:
            v = f.value(angles)
            if f.name not in self._faults_on and c.in_rep and v > f.tolerance_deg:
                self._faults_on.add(f.name)
                self._emit(t, "fault_start", f.cue, fault=f.name, value_deg=round(v, 1))
            elif f.name in self._faults_on and v < f.tolerance_deg - FAULT_HYSTERESIS_DEG:
                self._faults_on.discard(f.name)
                self._emit(t, "fault_end", "", fault=f.name)
        if self.spec.hold_s > 0 and c.state == "up" and not self._held_prompted and len(c.p) > 3:
            speed = abs(c.p[-1] - c.p[-3]) / max(1e-6, c.t[-1] - c.t[-3])
            if abs(c.p[-1]) > c.enter and speed < 5.0:
                self._held_prompted, self._hold_from = True, t
                self._emit(t, "hold", f"Hold {self.spec.hold_s:g} s")
        if self._held_prompted and c.state == "up" and t - self._hold_from >= self.spec.hold_s:
            self._held_prompted = None  # prompted once per rep
            self._emit(t, "lower", "Lower slowly")
        if c.state == "idle" and self._held_prompted is None:
            self._held_prompted = False

    def _add_excursion(self, t: float, ex: Excursion) -> None:
        if not self.spec.two_way:
            self._count(t, [ex])
            return
        self._halves.append(ex)
        if len(self._halves) == 2:
            a, b = self._halves
            if a.sign != b.sign:
                self._count(t, [a, b])
                self._halves = []
            else:
                self._count(t, [a])
                self._halves = [b]

    def _count(self, t: float, exs: list[Excursion]) -> None:
        rep = self._measure(exs)
        self._set_reps.append(rep)
        self._peaks.append(rep.peak_deg)
        n = len(self._set_reps)
        self._emit(t, "rep", str(n), count=n, faults=list(rep.faults))
        if rep.too_fast:
            self._emit(t, "too_fast", "Slower")

    def _measure(self, exs: list[Excursion]) -> RepResult:
        c = self._counter
        top_ex = max(exs, key=lambda e: e.sign * e.peak) if self.spec.two_way else exs[0]
        top = c.top_window(top_ex)
        a = np.asarray(c.ang)
        i0, i1 = min(e.i_start for e in exs), max(e.i_end for e in exs)
        tilt, obl, rot = a[top].mean(axis=0)
        rep_angles = a[i0 : i1 + 1]
        fault_values = {}
        for f in self.spec.faults:
            vals = [f.value(dict(zip(ANGLES, row))) for row in rep_angles]
            fault_values[f.name] = float(max(vals))
        hold = max(c.hold_s(e) for e in exs)
        rng = None
        if self.spec.two_way:
            p = np.asarray(c.p[i0 : i1 + 1])
            rng = float(p.max() - p.min())
        peak = float(top_ex.peak)
        duration = c.t[i1] - c.t[i0]
        return RepResult(
            start_s=float(c.t[i0]), top_s=float(np.mean(np.asarray(c.t)[top])), end_s=float(c.t[i1]), side=None,
            hold_s=float(hold), tilt_deg=float(tilt), obliquity_deg=float(obl), rotation_deg=float(rot),
            peak_deg=peak, range_deg=rng,
            faults=[k for k, v in fault_values.items() if v > self._tolerance(k)],
            fault_values_deg={k: round(v, 2) for k, v in fault_values.items()},
            too_fast=(duration - hold) < self.spec.min_rep_s * len(exs))

    def _tolerance(self, name: str) -> float:
        return next(f.tolerance_deg for f in self.spec.faults if f.name == name)

    def _end_set(self, t: float, flush: bool = True) -> None:
        c = self._counter
        if flush and c is not None:
            ex = c.flush()
            if ex is not None:
                self._add_excursion(t, ex)
            if self._halves:  # an unpaired half turn: a partial two-way rep
                self._count(t, self._halves)
                self._halves = []
        self.phase = "position"
        reps = self._set_reps = self._steady_part(self._set_reps)
        if len(reps) < self.spec.min_set_reps or self._scattered(reps):
            for _ in reps:
                self._peaks.pop()
            self._emit(t, "set_dropped", "", reps=len(reps))
            self._prompt(t, self._position_prompt())
            return
        med = float(np.median([r.peak_deg for r in reps]))
        for r in reps:
            r.partial = r.peak_deg < PARTIAL_FRACTION * med
        side = self._next_set_side()
        self.result.sets.append(SetResult(self._set_start, t, side, self.spec.position, reps))
        self._emit(t, "set_end", f"Set done: {len(reps)} reps", reps=len(reps))
        nxt = self._next_set_side()
        self._prompt(t, "Rest" + (f", then switch to the {nxt} side" if nxt and nxt != side else ""))

    def _steady_part(self, reps: list[RepResult]) -> list[RepResult]:
        """Drop fidgets counted before or after the set: while the set is scattered, the end rep with the
        longer gap to its neighbour goes."""
        reps = list(reps)
        while len(reps) > 3 and self._scattered(reps):
            head = reps[1].start_s - reps[0].end_s
            tail = reps[-1].start_s - reps[-2].end_s
            dropped = reps.pop(0) if head > tail else reps.pop()
            self._peaks.remove(dropped.peak_deg)
        return reps

    @staticmethod
    def _scattered(reps: list[RepResult]) -> bool:
        """A set is done at a steady pace: the pelvis is in a rep most of the time from the first to the last.
        Movements scattered with long gaps between them (< MIN_DUTY of the time) were fidgets, not a set."""
        if len(reps) < 3:
            return False
        busy = sum(r.end_s - r.start_s for r in reps)
        return busy < MIN_DUTY * (reps[-1].end_s - reps[0].start_s)

    def _next_set_side(self) -> str | None:
        if self.spec.sides != "per_set":
            return None
        return "left" if len(self.result.sets) % 2 == 0 else "right"

    def _assign_sides(self) -> None:
        """per_set: the set's side (left first, then alternating, as the guidance asks); alternating: the
        phase of the left-right alternation that the drill's side angle agrees with on most reps."""
        s = self.spec
        for st in self.result.sets:
            if s.sides == "per_set":
                for r in st.reps:
                    r.side = st.side
            elif s.sides == "alternating" and s.side_angle:
                votes = [np.sign(s.side_sign * r.angles()[s.side_angle]) for r in st.reps]
                pattern = [1 if i % 2 == 0 else -1 for i in range(len(votes))]
                left_first = float(np.dot(votes, pattern)) >= 0
                for i, r in enumerate(st.reps):
                    r.side = "left" if (i % 2 == 0) == left_first else "right"

    # --- guidance ---------------------------------------------------------------------------------------
    def _position_prompt(self) -> str:
        return {
            "prone": "Lie face down and keep still", "supine": "Lie on your back and keep still",
            "quadruped": "Get on hands and knees and keep still", "kneeling": "Kneel on one knee and keep still",
            "standing": "Get into position and keep still",
        }[self.spec.position]

    def _prompt(self, t: float, text: str) -> None:
        self._emit(t, "prompt", text)

    def _emit(self, t: float, kind: str, text: str = "", **data) -> None:
        self.events.append(DrillEvent(t, kind, text, data))


def analyse_recording(rec, drill: str | DrillSpec, tolerances: dict[str, float] | None = None,
                      block_s: float = 1.0) -> DrillResult:
    """A whole recording (host.samples.RawRecording that starts with the person standing still) through the
    live engine, block by block, exactly as the live guidance would see it."""
    tracker = DrillTracker(drill, rec.rate_hz, tolerances)
    n = max(1, int(block_s * rec.rate_hz))
    for a in range(0, len(rec), n):
        tracker.feed(rec.t[a : a + n], rec.acc[a : a + n], rec.gyr[a : a + n])
    if tracker.up_stand is None:
        tracker.result.notes.append("no still stand found at the start: nothing could be measured")
    elif tracker.body is None:
        tracker.result.notes.append("the position (or, for standing drills, the bow) was never found")
    return tracker.finish()
