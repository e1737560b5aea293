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

import bisect
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from vqf import VQF

from .catalogue import ANGLES, FACE_DOWN, DrillSpec, get_drill
from .frame import angle_between_deg, body_from_sensor, euler_zxy, quat_to_matrix
from .heading import DEEP_BOW_DEG, heading_bounds, heading_error_deg, reframe
from .reps import (
    FAULT_MARGIN,
    HOLD_SHARE,
    LEVEL_DEG,
    PARTIAL_FRACTION,
    RHYTHM_GAPS,
    SAME_TEMPO_SHARE,
    SWAY_DEG,
    Excursion,
    RepCounter,
    rep_vector,
    same_movement,
    without_heading_drift,
)
from .results import DrillResult, RepResult, SetResult, compare_sides

TICK_HZ = 25.0  # the engine's decision rate: 40 ms, well inside the 250 ms a fault cue may take
STILL_DPS = 3.0  # still: the pelvis turns slower than this (quiet standing sways < 0.5 deg/s)
REFERENCE_DPS = 1.0  # the starting posture is taken only this still (a rep's first moments turn faster)
STAND_S = 2.0
STAND_BIAS_SIGMA_DPS = 0.1  # a 2-s stand's mean rate is good to about this (quiet standing sways < 0.5 deg/s)
VQF_BIAS_REACH_DPS = 1.5  # VQF clips its bias estimate at 2 deg/s per axis: beyond this it cannot learn it
MAX_GYRO_OFFSET_DPS = 15.0  # a MEMS gyro's zero-rate offset is within ~10 deg/s; a steadier turn is a movement
REST_TAU_ACC_S = 1.0  # resting, gravity is all the accelerometer feels: 3 time constants within a 3-s rest
MOVING_TAU_ACC_S = 3.0  # VQF's default tauAcc
REST_MIN_S = 1.5  # VQF's restMinT: quiet this long between reps, the pelvis is at rest
HOLD_MAX_RATIO = 2.5  # a hold drill's hold stays under this many times its typical excursion
TURN_ONLY_SHARE = 0.2  # gravity moved less than this share of the excursion: a turn about the vertical (a turn
# of 2.5 deg or more with the standing sway's 0.5 deg; a single-leg stance's drop of 1.5 deg with 4 deg of rotation
# is 0.35)
OFF_PRIMARY_MIN_DEG = 12.0  # side movements of a rep stay under this (a poor rep's rock or drop included)
POSITION_S = 1.5
BOW_MIN_DEG = 15.0
BOW_BACK_DEG = 8.0
LYING_DEG = (50.0, 130.0)  # gravity this far from standing: lying
UPRIGHT_MAX_DEG = 40.0
LEFT_POSITION_DEG = 55.0  # a set ends when gravity moves this far from the set's start (lying drills)
SET_GAP_S = 10.0  # no rep for this long: the set is over
RESUME_GAP_S = 2 * SET_GAP_S  # ... unless the same movement comes back this soon, short of the dose and in position
HEADING_DRIFT_DPS = 0.2  # the gyro's heading drifts slower than this once VQF has learnt its bias (1-2 deg over a
# 20-s stance); a faster turn about the vertical is a real one
FAULT_HYSTERESIS_DEG = 1.0
RETURN_STILL_S = 0.3  # still this long between reps: back in the starting posture
RETURN_DEG = 3.0  # gravity within this of the set's start
REST_SHIFT_DEG = 1.5  # two rests' gravity differ by up to twice the sway (0.5 deg each way) and a 1-s mean still
# carries part of a 0.1-0.4 Hz breathing sway: further apart is another posture
START_QUIET_S = 1.0  # the starting posture is where the pelvis rests this long; a fidget (a shift, a scratch)
# turns round at its top in well under a second
SIDE_NOISE_DEG = 1.0  # a side angle under this at a rep's top is no vote for either side (sway, noise)
SIDE_REPEAT_COST = 1.0  # per-set sides: the guidance alternates, so a repeated side needs the reps of ...
SIDE_FIRST_COST = 0.5  # ... a whole set against it (and starting on the right, half a set)


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
        # the gyro's offset, taken off every sample before the filter: given, or the stand's mean rate. VQF clips
        # its own estimate at 2 deg/s per axis, a MEMS gyro can be 5-10 deg/s off (the pelvis would never look
        # still and the session never start)
        self._offset = np.zeros(3) if gyro_bias is None else np.asarray(gyro_bias, float).copy()
        self._recent_gyr: list[np.ndarray] = []  # the stand phase's last second of tick rates
        self._still_gyr: list[np.ndarray] = []  # rates and specific forces of the current still stretch
        self._still_acc: list[np.ndarray] = []
        self.phase = "stand"
        self.result = DrillResult(self.spec.name, self.spec.kind,
                                  {f.name: f.tolerance_deg for f in self.spec.faults})
        self.events: list[DrillEvent] = []
        self._buf_t = np.empty(0)
        self._buf_gyr = np.empty((0, 3))
        self._buf_acc = np.empty((0, 3))
        self._still_since: float | None = None
        self._still_up: list[np.ndarray] = []
        self.up_stand: np.ndarray | None = None
        self.body: np.ndarray | None = None  # R_body<-sensor
        self._bow_max = 0.0
        self._bow_up: np.ndarray | None = None
        self._ref: np.ndarray | None = None  # R_earth<-sensor at the set's start
        self._set_up: np.ndarray | None = None
        self._set_gravity: np.ndarray | None = None  # gravity felt at rest at the set's start (sensor)
        self._set_start = 0.0
        self._last_set_in_position = False  # the last set ended on a pause, the person still in position
        self._counter: RepCounter | None = None
        self._hist: list = []  # (t, R_earth<-sensor, up, still_s, speed) of the set's ticks before its first rep
        self._recent: deque = deque(maxlen=int(SET_GAP_S * TICK_HZ))  # the same, of the set's latest ticks
        self._drift_t = 0.0  # when the heading was last taken back to the start's (gyro drift)
        self._speed_dps = 0.0
        self._quiet_since: float | None = None
        self._quiet_s = 0.0  # how long the pelvis has turned slower than REFERENCE_DPS
        self._halves: list[Excursion] = []
        self._set_reps: list[RepResult] = []
        self._set_exs: list[list[Excursion]] = []  # each rep's excursions (two-way: its halves)
        self._faults_on: set[str] = set()
        self._held_prompted = False
        self._peaks: list[float] = []
        self._rep_ticks: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id(rep): its angles, its top's rows
        self.heading_error_deg = 0.0  # taken out of the bow's frame once both sides are done (heading.py)
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
        bt = np.concatenate([self._buf_t, np.asarray(t, float)])
        bg = np.concatenate([self._buf_gyr, gyr])
        ba = np.concatenate([self._buf_acc, acc])
        n_ticks = len(bt) // self.step
        for k in range(n_ticks):  # the filter tick by tick: each tick decides whether it may learn bias
            sl = slice(k * self.step, (k + 1) * self.step)
            g = np.ascontiguousarray(bg[sl] - self._offset)
            q = self.vqf.updateBatch(g, np.ascontiguousarray(ba[sl]))["quat6D"]
            self._tick(float(bt[sl][-1]), quat_to_matrix(q[-1]), g.mean(axis=0), ba[sl].mean(axis=0))
        used = n_ticks * self.step
        self._buf_t, self._buf_gyr, self._buf_acc = bt[used:], bg[used:], ba[used:]
        return self.events[n_before:]

    def finish(self) -> DrillResult:
        """The recording (or the live session) ended: close an open set and compare the sides."""
        if self.phase == "set":
            self._end_set(self.last_t)
        self._assign_sides()
        if self._correct_heading():
            self._assign_sides()  # the sides' votes in the corrected frame
        self.result.sides = compare_sides(self.spec, self.result.reps)
        return self.result

    # --- one tick ---------------------------------------------------------------------------------------
    def _tick(self, t: float, r_es: np.ndarray, gyr: np.ndarray, acc: np.ndarray) -> None:
        self.last_t = t
        up = r_es[2, :]  # earth up in sensor coordinates
        if self.up_stand is None:  # before the stand the offset is unknown: still is a steady rate, any size
            self._recent_gyr = (self._recent_gyr + [gyr])[-int(TICK_HZ):]
            self._speed_dps = float(np.degrees(np.linalg.norm(gyr - np.mean(self._recent_gyr, axis=0))))
        else:
            self._speed_dps = float(np.degrees(np.linalg.norm(gyr - self._bias())))
        still = self._speed_dps < STILL_DPS
        if still:
            if self._still_since is None:
                self._still_since, self._still_up, self._still_gyr, self._still_acc = t, [], [], []
            self._still_up.append(up)
            self._still_gyr.append(gyr)
            self._still_acc.append(acc)
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
        self.vqf.setRestBiasEstEnabled(self._may_learn_bias())
        # resting, the accelerometer feels gravity alone: the inclination may follow it fast (a move into a
        # lying position leaves ~1 deg of gyro scale error that VQF's 3-s time constant is still taking out
        # when the reps begin 2 s later); moving, the sacrum's lever acceleration is in it: VQF's own 3 s
        self.vqf.setTauAcc(REST_TAU_ACC_S if self._quiet_s >= RETURN_STILL_S else MOVING_TAU_ACC_S)

    def _may_learn_bias(self) -> bool:
        """VQF takes any steady turn under 2 deg/s for 1.5 s as rest (its test is how much the gyro wobbles,
        not its size) and learns it as gyro bias: the slow top of a rep held less than that (a bird dog's
        2-4 deg rock held ~1 s) taught it ~0.5 deg/s, which then tipped every later rep. In a set of such
        reps it may learn only between reps, quiet (turning under REFERENCE_DPS) for VQF's own 1.5 s. Drills
        whose reps are held longer (a bridge's 3 s, a test's 10-30 s) hold truly still and learn in the hold too,
        once quiet for as long: a slow rise into a small hold (a single-leg stance's 2 deg in 1.5 s) is under
        VQF's 2 deg/s, and learnt as bias it turned the whole hold about the vertical by 0.2-0.3 deg/s."""
        if self.phase != "set":
            return True
        if self.spec.hold_s >= REST_MIN_S:
            return self._quiet_s >= REST_MIN_S
        return not self._counter.in_rep and self._quiet_s >= REST_MIN_S

    def _bias(self) -> np.ndarray:
        return np.asarray(self.vqf.getBiasEstimate()[0])

    def _still_mean_up(self) -> np.ndarray:
        u = np.mean(self._still_up, axis=0)
        return u / np.linalg.norm(u)

    def _phase_stand(self, t, r_es, up, still_s) -> None:
        if still_s >= STAND_S:
            rate = np.degrees(np.mean(self._still_gyr, axis=0))
            if np.abs(rate).max() > MAX_GYRO_OFFSET_DPS:  # a steady turn, not a gyro's offset
                return
            if np.abs(rate).max() > VQF_BIAS_REACH_DPS:
                # an offset VQF cannot learn: off every sample from now on, and the filter starts again from the
                # stand's gravity (VQF aligns its inclination to its first sample), so an inclination pulled by
                # the offset does not carry into the bow. (Within VQF's reach it has learnt it at the stand.)
                self._offset = self._offset + np.radians(rate)
                g = np.mean(self._still_acc, axis=0)
                self.vqf = VQF(1.0 / self.rate_hz)
                self.vqf.setBiasEstimate(np.zeros(3), np.radians(STAND_BIAS_SIGMA_DPS))
                self.vqf.updateBatch(np.zeros((1, 3)), np.ascontiguousarray(g[None, :]))
                self._still_up = [g / np.linalg.norm(g)]
            self.up_stand = self._still_mean_up()
            if self.spec.lying:
                self.phase = "position"
                self._prompt(t, self._position_prompt())
            else:
                self.phase = "bow"
                self._prompt(t, "Bow forward from the hips until your back is nearly level, then stand tall again")

    def _phase_bow(self, t, r_es, up, still_s) -> None:
        a = angle_between_deg(up, self.up_stand)
        if a > self._bow_max:
            self._bow_max, self._bow_up = a, up.copy()
        if self._bow_max >= BOW_MIN_DEG and a < BOW_BACK_DEG:
            self.body = body_from_sensor(self.up_stand, self._bow_up, turned_forward=True)
            if self._bow_max < DEEP_BOW_DEG:
                self.result.notes.append(
                    f"the bow was {self._bow_max:.0f}° deep: a sideways lean in it turns the body's left axis by "
                    f"about {1 / np.tan(np.radians(self._bow_max)):.1f}× the lean, which reads as obliquity and "
                    "rotation in every rep (a bow to a nearly level back: at most 1×)")
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
        self._set_gravity = None  # known once the pelvis has rested (< 1 deg/s) for a second: the still stretch
        # that found the position (< 3 deg/s) may end in the slow tail of the move into it
        self._new_counter(self._reference_deg())
        self._halves, self._set_reps, self._set_exs, self._faults_on = [], [], [], set()
        self._held_prompted = False
        side = self._next_set_side()
        self._emit(t, "set_start", "Start" + (f": {side} side" if side else ""), side=side)

    def _reference_deg(self) -> float:
        """The reference rep: the median of the reps so far (this set's too, as they come), but never above
        the drill's typical rep, so that a few big (faulty) reps do not raise the bar over the small good
        ones. In the "norm" drills a fault is part of the counted movement (an arch adds to a lift's tilt), so
        the reference is the reps without a fault while there are any: a partial rep is half a good one."""
        reps = self.result.reps + self._set_reps
        if self.spec.sides == "per_set":  # a side's sets against that side's (the weaker side moves less)
            side = _guided_side(len(self.result.sets))
            same_side = [r for k, st in enumerate(self.result.sets) if _guided_side(k) == side for r in st.reps]
            reps = same_side + self._set_reps if same_side or self._set_reps else reps
        if self.spec.primary == "norm":
            reps = [r for r in reps if not r.faults] or reps
        peaks = [r.peak_deg for r in reps]
        return min(float(np.median(peaks)), self.spec.nominal_deg) if peaks else self.spec.nominal_deg

    def _phase_set(self, t, r_es, up, still_s) -> None:
        # within a set, "still" is the stricter kind: a slow rep of a few degrees turns at 1-3 deg/s
        still_s = self._quiet_s
        self._recent.append((t, r_es.copy(), up.copy(), still_s, self._speed_dps))
        c = self._counter
        moved = self._posture_deg(np.asarray(self.angles_deg), np.zeros(3))
        if c.in_rep and self._settled(c, still_s):
            # moved and still again, longer than any of this drill's holds: the person settled into a new
            # posture (shifted on the floor, turned); count from here
            near_start = moved < c.enter
            if not c.excursions:
                c = self._new_counter(c.ref_deg)
            elif not c.under_way and not near_start:
                # a set is done from one starting posture: what came before the person settled into this
                # one (before the set was under way) was fidgets at rest, or a set of its own that ended.
                # Within a rep's `enter` of the start it is that posture still (a slow movement too small to
                # count, lowered to rest just off the start), and the reps before it stand
                if len(self._set_reps) < self.spec.min_set_reps:
                    self._forget_set_reps()
                    c = self._new_counter(c.ref_deg)
                    self._set_start = t
                else:
                    self._end_set(t, flush=False)  # judged as any set; the next starts at this stillness
                    return
            else:  # mid-set (or near the start): the movement was no rep, and later reps start from here
                c.state = "idle"
                self._ref = r_es.copy()
        if (not c.in_rep and still_s >= START_QUIET_S and self._speed_dps < REFERENCE_DPS
                and (not c.excursions or (self._before_the_set(c) and (moved > c.enter or self._regravitated())))):
            # resting before the first rep: the starting posture (and the set's start) is now (not the
            # instant a fidget turns round at its top: that start would make its way back a "rep"). So too
            # after a few "reps" that are not yet a set, resting in another posture: gravity as the accelerometer
            # feels it at rest moved further than two rests' sway from the start's (not the filter's inclination,
            # which after a deep hinge or a lie-down is still taking out ~1 deg for a second or two), or the posture
            # moved further than a rep rises: the next rep starts from there; in the latter case those "reps"
            # were fidgets before the person settled into the posture the set is done from
            if c.excursions and moved > c.enter:
                self._forget_set_reps()
                c = self._new_counter(c.ref_deg)
            if not c.excursions:
                self._set_start = t
            self._ref, self._set_up = r_es.copy(), up.copy()
            self._set_gravity = self._rest_gravity()
        elif not c.in_rep and still_s >= RETURN_STILL_S and angle_between_deg(up, self._set_up) < RETURN_DEG:
            # back in the starting posture between reps (the floor, the planted feet hold the pelvis there):
            # what turned about the vertical since the start is gyro drift, the one thing gravity cannot see
            d = r_es @ self._ref.T
            psi = np.arctan2(d[1, 0], d[0, 0])
            drift = HEADING_DRIFT_DPS * (t - max(self._drift_t, self._set_start))
            turned = abs(np.degrees(psi)) > max(c.enter + SWAY_DEG, drift)
            if c.excursions and self._before_the_set(c) and turned:
                # turned about the vertical far faster than the gyro drifts, and further than a rep rises and
                # the pelvis sways: the person turned on the floor since the start, and the "reps" before were
                # fidgets before the set, which starts from here
                self._forget_set_reps()
                c = self._new_counter(c.ref_deg)
                self._set_start = t
            cz, sz = np.cos(psi), np.sin(psi)
            self._ref = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]]) @ self._ref
            self._drift_t = t
        ex = self._count_tick(t, r_es, up, still_s)
        c = self._counter
        if ex is None and c.in_rep and (not c.excursions or self._before_the_set(c)):
            self._new_start_before_first_rep()
            c = self._counter
        self._live_cues(t, c)
        if ex is not None and (len(c.excursions) == 1 or self._before_the_set(c)) and self._moved_away(c, ex):
            ex = self._recount_from_last_stillness(ex)
        if ex is not None:
            self._add_excursion(t, ex)
            if self.spec.is_hold and self.spec.reps == 1:
                # a set of one hold (the tests, the isometric holds) is that hold: the guidance says rest
                # or switch sides now, and what the pelvis does next starts the next set from its own start
                self._end_set(t, flush=False)
                return
        moved = angle_between_deg(up, self._set_up if self.spec.lying else self.up_stand)
        left_position = moved > self._left_position_deg(c)
        if c.aborted and not left_position and not c.under_way:
            j = self._settled_in_aborted(c)
            if j is not None:
                # the "rep" that ran too long was a move into a new posture, and the reps began from there
                # before it had been still long enough to tell. A set is done from one starting posture: the
                # few "reps" before it were fidgets at rest or, if they were enough for a set, a set of their
                # own that ended with the move (judged as any set); the next set starts at that stillness
                if len(self._set_reps) >= self.spec.min_set_reps:
                    hist = self._hist
                    self._end_set(t, flush=False, ended_s=hist[j][0])  # where the next one starts, not now
                    self._start_set_at(t, hist, j)
                    return
                if self._set_reps:
                    self._forget_set_reps()
                self._restart_at(j)
                return
        quiet_for = t - (c.last_activity_t if c.last_activity_t is not None else self._set_start)
        if c.aborted and not c.excursions:
            # no rep yet and a movement far beyond one (a shift, getting up): start afresh at the next stillness
            c = self._new_counter(c.ref_deg)
            self._set_start = t
        left_position = left_position or c.aborted
        # no rep yet: still waiting for the first (the starting posture follows each stillness), not a set to end
        if left_position or (not c.in_rep and c.excursions and quiet_for > SET_GAP_S):
            resume = None if left_position else self._rest_before_new_movement(c)
            self._end_set(t, flush=not left_position)
            if resume is not None:
                # the set ran out of time while the person had already started moving again, after resting in
                # position: the next set started at that rest (waiting for the next stillness would miss a set
                # done rep after rep without one)
                self._start_set_at(resume[0][0], resume, 0)

    def _start_set_at(self, t: float, hist: list, j: int) -> None:
        """The next set starts at tick `j` of `hist` (ticks of the set just ended; the start announced at `t`):
        its ticks since are counted again."""
        self._start_set(t, *hist[j][1:3])
        self._hist = hist
        self._restart_at(j)

    def _rest_before_new_movement(self, c: RepCounter) -> list | None:
        """The set's latest ticks from the last rest (START_QUIET_S) before a movement the counter entered
        after the set's last rep, if that rest was in the drill's position (upright; lying, where the set was
        done: its body frame holds); None if there is no such movement or rest."""
        last = c.last_activity_t if c.last_activity_t is not None else self._set_start
        if not c.t or c.t[c.i_up] <= last:
            return None
        ticks = list(self._recent)
        k = next((k for k in range(len(ticks) - 1, -1, -1)
                  if ticks[k][0] < c.t[c.i_up] and ticks[k][3] >= START_QUIET_S), None)
        if k is None or ticks[k][0] <= last:
            return None
        up = ticks[k][2]
        if self.spec.lying:
            in_position = angle_between_deg(up, self._set_up) < RETURN_DEG
        else:
            in_position = angle_between_deg(up, self.up_stand) <= UPRIGHT_MAX_DEG
        return ticks[k:] if in_position else None

    def _left_position_deg(self, c: RepCounter) -> float:
        """Gravity this far away (lying: from the set's start; upright: from standing) has left the
        position. Upright, lying down is 90°, but a hinge drill's deep rep tips the pelvis as far (a
        kickstand RDL of 1.4 x its typical 45° from a start already bent a few degrees forward passes
        80°): there a movement is no leaving the position while it stays within what the counter takes
        for a rep (`max_peak`); lying down for good still ends the set once it runs past the longest rep."""
        if self.spec.lying:
            return LEFT_POSITION_DEG
        upright = 90.0 - UPRIGHT_MAX_DEG + 30.0
        return max(upright, c.max_peak) if self.spec.primary == "tilt" else upright

    def _count_tick(self, t, r_es, up, still_s):
        rel = self.body @ self._ref.T @ r_es @ self.body.T
        rot, obl, tilt = np.degrees(euler_zxy(rel))
        self.angles_deg = (float(tilt), float(obl), float(rot))
        if not self._counter.under_way:  # kept until the set is under way, in case the start must be re-taken
            self._hist.append((t, r_es.copy(), up.copy(), still_s, self._speed_dps))
        return self._counter.update(t, self.angles_deg, still_s, angle_between_deg(up, self._set_up))

    def _forget_set_reps(self) -> None:
        """The set's reps so far are no set of their own: the last set resumed after a pause (they join it),
        or fidgets."""
        if self._set_reps and self._resumes_last_set(self._set_reps):
            self._resume_last_set(self.last_t, self._set_reps)
        else:
            for r in self._set_reps:
                self._peaks.remove(r.peak_deg)
        self._set_reps, self._set_exs, self._halves = [], [], []
        side = self._next_set_side()  # the live counter goes back to 0
        self._emit(self.last_t, "set_start", "Start" + (f": {side} side" if side else ""), side=side, restart=True)

    def _new_counter(self, ref_deg: float) -> RepCounter:
        self._counter, self._hist = RepCounter(self.spec, ref_deg), []
        self._plateau, self._plateaus = None, []
        return self._counter

    def _new_start_before_first_rep(self) -> None:
        """Before the set's first rep (or after "reps" that may be fidgets at rest, `_before_the_set`), the still
        plateaus of the excursion under way tell a new starting posture (settling on the floor, stepping into
        the stance, kneeling on the other knee) from a rep:
        - drills of short reps: the pelvis left a plateau away from the start, went elsewhere and came back
          to it: that plateau is where the reps start from, not the top of one;
        - hold drills: a plateau held for less than the drill's shortest hold and followed by a rise to
          another level was not the hold.
        The start is re-taken at the end of that plateau and the ticks since are counted again."""
        c, hist = self._counter, self._hist
        i = len(hist) - 1
        if hist[i][3] < RETURN_STILL_S:  # moving: a plateau (if any) ended on the tick before
            if self._plateau is not None:
                if self._plateau >= c.i_up:  # plateaus of this excursion only (older ones had another start)
                    self._plateaus.append((self._plateau, i - 1))
                self._plateau = None
            return
        if self._plateau is not None:
            return
        self._plateau = i
        ang = np.asarray(c.ang)
        here = ang[i]
        hold_drill = self.spec.is_hold
        for k, (first, last) in enumerate([] if hold_drill else self._plateaus):
            if first < c.i_up or abs(c.p[last]) <= c.enter:
                continue
            went = any(np.linalg.norm(ang[b] - ang[last]) > c.enter for _, b in self._plateaus[k + 1:])
            if went and np.linalg.norm(here - ang[last]) < c.enter:
                self._restart_from_plateau(last)
                return
        if hold_drill and self._plateaus and self._plateaus[-1][0] >= c.i_up:
            first, last = self._plateaus[-1]
            held = hist[last][0] - (hist[first][0] - hist[first][3])
            if (held < HOLD_SHARE * self.spec.hold_s and abs(c.p[last]) > c.enter
                    and np.linalg.norm(here - ang[last]) > c.enter and abs(c.p[i]) > c.enter):
                self._restart_from_plateau(last)

    def _restart_from_plateau(self, j: int) -> None:
        """The set starts at tick `j` (a plateau's end): "reps" counted before it were fidgets at rest."""
        if self._set_reps or self._halves:
            self._forget_set_reps()
        self._restart_at(j)

    def _history_kept(self, c: RepCounter) -> bool:
        """The set's tick history is kept (until the set is under way) and lines up with the counter's ticks."""
        return len(self._hist) == len(c.t)

    def _settled_in_aborted(self, c: RepCounter) -> int | None:
        """An excursion that ran past the longest rep: the end of the first stillness in it (resting
        START_QUIET_S), where a new starting posture was taken; None if the pelvis never rested in it."""
        hist = self._hist
        if not self._history_kept(c):
            return None
        j = next((k for k in range(c.i_up, len(hist)) if hist[k][3] >= START_QUIET_S), None)
        if j is None:
            return None
        while j + 1 < len(hist) and hist[j + 1][3] > hist[j][3]:
            j += 1  # to the end of that stillness
        return j if j < len(hist) - 1 else None

    def _retake_start_at(self, j: int) -> list:
        """The starting posture is the tick `j` of the set's history: a new counter from there. Returns the
        ticks since, to be counted again."""
        ticks = self._hist[j:]
        self._ref, self._set_start, self._set_up = ticks[0][1].copy(), ticks[0][0], ticks[0][2].copy()
        self._set_gravity = None
        self._new_counter(self._counter.ref_deg)
        return ticks

    def _restart_at(self, j: int) -> None:
        """The starting posture is the tick `j` of the set's history: count again from there."""
        for t, r_es, up, still_s, speed in self._retake_start_at(j):
            self._speed_dps = speed
            got = self._count_tick(t, r_es, up, still_s)
            if got is not None:
                self._add_excursion(t, got)

    def _moved_away(self, c: RepCounter, ex: Excursion) -> bool:
        """The "rep" did not come back to where it started: the person settled into another posture (shifted
        on the floor, turned) on the way, then did the rep from there. Seen on the counted angle (it ended
        far above where it started), or on the whole posture: it rested on its way up in a posture away from
        the start (a shift mostly about the other axes: lying on the back, turned on the floor) and came back
        to that posture rather than to the start."""
        if self.spec.is_hold and self._level_at(c, ex.i_end):
            # a hold drill's long hold ended back where gravity says the start is: what is left is a turn about
            # the vertical, the gyro's heading drift over the hold (0.2 deg/s over 20 s is 4 deg), not a move
            return False
        start, end = abs(c.p[ex.i_start]), abs(c.p[ex.i_end])
        if end - start > max(c.enter, 0.2 * ex.peak):
            return True
        j = self._last_stillness_before_top(ex)
        if j is None:
            return False
        base = _rise_began(c, ex.i_start)
        a = np.asarray(c.ang)
        return (self._posture_deg(a[j], a[base]) > c.enter
                and self._posture_deg(a[ex.i_end], a[j]) < self._posture_deg(a[ex.i_end], a[base]))

    def _still_medians(self, c: RepCounter, still_s: float) -> tuple[float, float]:
        """Over the last `still_s` seconds of the counter's ticks, the medians of the counted signal's size and
        of how far gravity is from the set's start (deg; the latter now, if the tick history is not kept)."""
        first = bisect.bisect_left(c.t, c.t[-1] - still_s)
        level = float(np.median(np.abs(c.p[first:])))
        if not self._history_kept(c):
            return level, angle_between_deg(self._up, self._set_up)
        ups = np.array([h[2] for h in self._hist[first:]])  # unit vectors (rows of rotation matrices)
        cos = ups @ (self._set_up / np.linalg.norm(self._set_up))
        return level, float(np.degrees(np.arccos(np.clip(np.median(cos), -1.0, 1.0))))

    def _level_at(self, c: RepCounter, i: int) -> bool:
        """Gravity at the counter's tick `i` within LEVEL_DEG of the set's start (the tick's history kept)."""
        return self._history_kept(c) and angle_between_deg(self._hist[i][2], self._set_up) < LEVEL_DEG

    def _rest_gravity(self) -> np.ndarray | None:
        """Gravity as the accelerometer felt it over the last START_QUIET_S of stillness (sensor frame; resting,
        gravity is all it feels), None if not still that long."""
        n = int(START_QUIET_S * TICK_HZ)
        return np.mean(self._still_acc[-n:], axis=0) if len(self._still_acc) >= n else None

    def _regravitated(self) -> bool:
        """Resting where gravity, as the accelerometer feels it, is further from the set's start than two
        rests' sway apart: another posture (a turn about the vertical cannot show here)."""
        g = self._rest_gravity()
        return (g is not None and self._set_gravity is not None
                and angle_between_deg(g, self._set_gravity) > REST_SHIFT_DEG)

    def _before_the_set(self, c: RepCounter) -> bool:
        """None agreeing yet, and fewer "reps" than a set or scattered as no set is (`_out_of_rhythm`, as the set
        is judged when it ends): they may still be fidgets at rest before the set began."""
        if c.under_way:
            return False
        reps = self._set_reps
        if len(reps) + len(self._halves) < self.spec.min_set_reps:
            return True
        return self._out_of_rhythm(reps, 25 if len(reps) < self._dose() else 0)

    def _posture_deg(self, a: np.ndarray, b: np.ndarray) -> float:
        """How far apart two postures are (deg; tilt, obliquity, rotation against the set's start). Face down
        in the "norm" drills obliquity is a turn about the vertical, gravity cannot see it and the gyro's drift
        builds up in it (as in the counter's signal): left out."""
        return float(np.linalg.norm(without_heading_drift(self.spec, np.asarray(a, float) - np.asarray(b, float))))

    def _last_stillness_before_top(self, ex: Excursion) -> int | None:
        """The tick ending the last stillness on the rep's way up (below 80 % of its top), if any after its start."""
        hist, c = self._hist, self._counter
        if not self._history_kept(c):
            return None
        j = ex.i_top
        while j > ex.i_start and abs(c.p[j]) >= 0.8 * ex.peak:  # back down from the top (and its hold)
            j -= 1
        while j > ex.i_start and not (hist[j][3] >= RETURN_STILL_S and hist[j][4] < REFERENCE_DPS):
            j -= 1  # back down the rise to the stillness it started from
        return j if j > ex.i_start else None

    def _recount_from_last_stillness(self, ex: Excursion) -> Excursion | None:
        """Take the starting posture at the last stillness before the rep's top and count again from there
        (the ticks are kept until the set is under way); "reps" before it were fidgets before the set."""
        j = self._last_stillness_before_top(ex)
        if j is None:
            return ex
        if len(self._counter.excursions) > 1:
            self._forget_set_reps()
        found = None
        for t, r_es, up, still_s, speed in self._retake_start_at(j):
            self._speed_dps = speed
            got = self._count_tick(t, r_es, up, still_s)
            if got is not None:
                if found is not None:
                    self._add_excursion(t, found)
                found = got
        return found

    def _settled(self, c: RepCounter, still_s: float) -> bool:
        """Still for longer than any hold of this drill, away from the start: a new starting posture."""
        if not c.p or c.i_relax is not None:  # a hold drill's hold is over: the rep ends once the relax holds
            return False
        if self._off_primary(c):  # moved mostly in angles the drill does not move: not a rep's top
            return still_s >= POSITION_S
        if self.spec.is_hold:
            # a hold drill: held past `enter` is its hold (a partial one counts), unless the pelvis only turned
            # about the vertical (gravity where it was): a turn into position. Judged on the still stretch's
            # medians: a small hold sways across either limit from tick to tick
            if still_s < POSITION_S:
                return False
            level, gravity_deg = self._still_medians(c, still_s)
            turned = gravity_deg < TURN_ONLY_SHARE * level
            too_big = (self.spec.primary != "norm"  # a shift along the counted angle, not this drill's hold
                       and level > HOLD_MAX_RATIO * self.spec.nominal_deg)
            small = level < c.enter  # not even a partial hold: settled a little off the start
            return small or turned or too_big
        if still_s < POSITION_S + 1.5 * self.spec.hold_s:
            return False
        # a stillness that began at the start is a slow small rep (a half reach rising at 0.5 deg/s turns
        # slower than "still"), not a move into a new posture and a rest there: that rest begins after the move
        return abs(c.p[bisect.bisect_left(c.t, c.t[-1] - still_s)]) >= SWAY_DEG

    def _off_primary(self, c: RepCounter) -> bool:
        """The pelvis is away from the start mostly about axes other than the counted one (a shift on the
        floor, a turn), far more than a rep's own side movements. Face down, the "norm" drills count tilt and
        rotation only: obliquity is the whole body turned about the vertical (onto a new heading on the
        floor), which no rep does."""
        if self.spec.primary == "norm":
            if self.spec.position not in FACE_DOWN:
                return False
            k = ANGLES.index("obliquity")
            other = abs(c.ang[-1][k])
        else:
            k = ANGLES.index(self.spec.primary)
            other = float(np.hypot(*[a for i, a in enumerate(c.ang[-1]) if i != k]))
        # a faulty rep's side movement goes up to FAULT_MARGIN x its tolerance (the hip-flexor test's twist)
        faults = [FAULT_MARGIN * f.tolerance_deg for f in self.spec.faults if f.angle != self.spec.primary
                  and (self.spec.primary != "norm" or f.angle == "obliquity")]
        return other > max(OFF_PRIMARY_MIN_DEG, *faults, 1.5 * abs(c.p[-1]))

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
        # False: not prompted in this rep; None: prompted and lowered, until the rep is over (not "hold" again)
        if self.spec.hold_s > 0 and c.state == "up" and self._held_prompted is False and len(c.p) > 3:
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
        self._set_exs.append(list(exs))
        self._peaks.append(rep.peak_deg)
        self._counter.ref_deg = self._reference_deg()  # a partial rep is judged against this person's reps
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
        if self.spec.position in FACE_DOWN and self.spec.primary == "norm":
            # face down, obliquity turns about the vertical: gravity cannot see it, and between quick reps
            # the gyro's drift builds up in it; each rep's obliquity is taken from where its rise began
            # (where the pelvis was back at the start, the lowest point of the counted movement before it)
            j = _rise_began(c, i0)
            a = a.copy()
            a[:, 1] -= a[j, 1]
        rep_angles = a[i0 : i1 + 1]
        tilt, obl, rot, fault_values = self._angles_and_faults(rep_angles, top - i0)
        hold = max(c.hold_s(e) for e in exs)
        rng = None
        if self.spec.two_way:
            p = np.asarray(c.p[i0 : i1 + 1])
            rng = float(p.max() - p.min())
        peak = float(top_ex.peak)
        duration = c.t[i1] - c.t[i0]
        rep = RepResult(
            start_s=float(c.t[i0]), top_s=float(np.mean(np.asarray(c.t)[top])), end_s=float(c.t[i1]), side=None,
            hold_s=float(hold), tilt_deg=float(tilt), obliquity_deg=float(obl), rotation_deg=float(rot),
            peak_deg=peak, range_deg=rng,
            faults=[k for k, v in fault_values.items() if v > self._tolerance(k)],
            fault_values_deg={k: round(v, 2) for k, v in fault_values.items()},
            too_fast=(duration - hold) < self.spec.min_rep_s * len(exs))
        self._rep_ticks[id(rep)] = (rep_angles.copy(), top - i0)
        return rep

    def _angles_and_faults(self, rep_angles: np.ndarray, top: np.ndarray) -> tuple:
        """A rep's tilt, obliquity, rotation at its top (deg) and each fault's largest excursion over it."""
        tilt, obl, rot = rep_angles[top].mean(axis=0)
        fault_values = {f.name: float(max(f.value(dict(zip(ANGLES, row))) for row in rep_angles))
                        for f in self.spec.faults}
        return tilt, obl, rot, fault_values

    def _correct_heading(self) -> bool:
        """Standing drills whose side shows as a one-signed hip drop (obliquity): the bow's heading error,
        bounded by both sides' reps (host.drills.heading), is taken out of every rep. False if nothing
        changed (lying drills: their frame is each set's own; one side only; the bow inside the bounds)."""
        s = self.spec
        if s.lying or s.sides != "per_set" or s.side_angle != "obliquity" or s.primary != "tilt":
            return False
        if self.heading_error_deg:  # finished before (the live window may ask twice): already turned
            return False
        bounds = self._heading_bounds([st.side for st in self.result.sets])
        if bounds is None:
            # the sides as voted contradict each other: they were voted in the bow's frame, whose error is what
            # is sought (an error of a few degrees turns a good side's 1-3 deg drop the other way). The sides
            # the guidance asked for (left first, then alternating) are the other hypothesis
            bounds = self._heading_bounds([_guided_side(k) for k in range(len(self.result.sets))])
        psi = heading_error_deg(bounds, self._bow_max)
        if psi == 0.0:
            return False
        self.heading_error_deg = psi
        self.result.notes.append(
            f"the bow's left axis turned {psi:+.1f}° about the vertical, as both sides' reps bound it "
            "(docs/drills.md); the live numbers used the bow's")
        for r in self.result.reps:
            rows, top = self._rep_ticks[id(r)]
            tilt, obl, rot, fault_values = self._angles_and_faults(reframe(rows, psi), top)
            r.tilt_deg, r.obliquity_deg, r.rotation_deg = float(tilt), float(obl), float(rot)
            r.fault_values_deg = {k: round(v, 2) for k, v in fault_values.items()}
            r.faults = [k for k, v in fault_values.items() if v > self._tolerance(k)]
        return True

    def _heading_bounds(self, sides: list[str | None]) -> tuple[float, float] | None:
        """host.drills.heading's bounds on the bow's heading error with the sets on these sides."""
        s, by_side = self.spec, {"left": [], "right": []}
        for st, side in zip(self.result.sets, sides):
            if side in by_side:
                by_side[side] += [(s.primary_sign * r.tilt_deg, s.side_sign * r.obliquity_deg) for r in st.reps]
        return heading_bounds(by_side["left"], by_side["right"])

    def _tolerance(self, name: str) -> float:
        return next(f.tolerance_deg for f in self.spec.faults if f.name == name)

    def _end_set(self, t: float, flush: bool = True, ended_s: float | None = None) -> None:
        """Close the set at `t` (found now; `ended_s`: the set itself ended earlier)."""
        c = self._counter
        if flush and c is not None:
            ex = c.flush()
            if ex is not None:
                self._add_excursion(t, ex)
            if self._halves:  # an unpaired half turn: a partial two-way rep
                self._count(t, self._halves)
                self._halves = []
        self.phase = "position"
        if self.spec.two_way:
            self._pair_halves()
        reps = self._set_reps = self._past_the_dose(self._in_rhythm_part(self._consistent_part(self._set_reps)))
        # short of the dose, most pauses must be in rhythm; a whole dose, at least one (pauses for breath)
        scattered = self._out_of_rhythm(reps, 25 if len(reps) < self._dose() else 0)
        if len(reps) < self.spec.min_set_reps and not scattered and self._resumes_last_set(reps):
            self._resume_last_set(t, reps)
            self._set_reps = []
            return
        if len(reps) < self.spec.min_set_reps or scattered or not self._turns(reps):
            for _ in reps:
                self._peaks.pop()
            self._emit(t, "set_dropped", "", reps=len(reps))
            self._prompt(t, self._position_prompt())
            return
        _mark_partials(reps)
        side = self._next_set_side()
        end = t if ended_s is None else min(t, ended_s)
        self.result.sets.append(SetResult(self._set_start, end, side, self.spec.position, reps))
        self._last_set_in_position = flush
        self._set_done(t, side)

    def _set_done(self, t: float, side: str | None) -> None:
        n = len(self.result.sets[-1].reps)
        self._emit(t, "set_end", f"Set done: {n} reps", reps=n)
        nxt = self._next_set_side()
        self._prompt(t, "Rest" + (f", then switch to the {nxt} side" if nxt and nxt != side else ""))

    def _resumes_last_set(self, reps: list[RepResult]) -> bool:
        """Too few reps for a set of their own, but the last set's movement resumed: that set ended on a pause
        in position (SET_GAP_S without a rep: catching breath, or a partial rep too small to count), short of
        its dose, and these reps go its way and began within RESUME_GAP_S of its last rep. The rest between
        sets the guidance asks for is longer, and the next set of a per-side drill goes the other way. The same
        movement at the same tempo: a fidget at rest is a twitch beside a rep."""
        if not reps or not self.result.sets or not self._last_set_in_position:
            return False
        last = self.result.sets[-1]
        if not last.reps or len(last.reps) + len(reps) > self._dose():
            return False
        if reps[0].start_s - last.reps[-1].end_s > RESUME_GAP_S:
            return False
        typical = np.median([self._rep_vector(r) for r in last.reps], axis=0)
        along = self._counter.enter - max(0.5, 0.1 * self._counter.enter)
        brief = SAME_TEMPO_SHARE * float(np.median([r.end_s - r.start_s for r in last.reps]))
        return all(r.end_s - r.start_s >= brief and same_movement(self._rep_vector(r), typical, along,
                                                                  self._counter.allow) for r in reps)

    def _resume_last_set(self, t: float, reps: list[RepResult]) -> None:
        last = self.result.sets[-1]
        last.reps.extend(reps)
        last.end_s = t
        _mark_partials(last.reps)
        self._set_done(t, last.side)

    def _consistent_part(self, reps: list[RepResult]) -> list[RepResult]:
        """The set's reps judged against the whole set (the live count judged each against the reps before
        it, and the first two against nothing): while some rep goes another way than the set's typical rep,
        or is far briefer, the most deviant goes (a fidget before, in or after the set). Far briefer than the
        person's tempo: the median rep of this set and the sets before it (a person keeps a tempo through a
        session; a "set" of fidgets at rest, each a twitch of a second, is no set of 5-s reps)."""
        reps = list(reps)
        before = [r.end_s - r.start_s for r in self.result.reps]
        while len(reps) >= 3:
            vecs = np.array([self._rep_vector(r) for r in reps])
            typical = np.median(vecs, axis=0)
            durs = np.array([r.end_s - r.start_s for r in reps])
            brief = durs < SAME_TEMPO_SHARE * float(np.median(np.concatenate([durs, before])))
            # a rep's angles are the mean over its top (within max(0.5, 10 %) of its peak): counted once its
            # peak passed `enter`, its top lies along the set's movement by `enter` less that band
            along = self._counter.enter - max(0.5, 0.1 * self._counter.enter)
            off = np.array([not same_movement(v, typical, along, self._counter.allow) for v in vecs])
            bad = np.flatnonzero(brief | off)
            if not len(bad):
                break
            u = typical / max(1e-9, float(np.linalg.norm(typical)))
            worst = max(bad, key=lambda i: float(np.linalg.norm(vecs[i] - (vecs[i] @ u) * u))
                        - float(vecs[i] @ u) + (100.0 if brief[i] else 0.0))
            dropped = reps.pop(int(worst))
            self._set_exs.pop(int(worst))
            self._peaks.remove(dropped.peak_deg)
        return reps

    def _pair_halves(self) -> None:
        """Two-way drills: a rep is a turn one way and straight on back the other (through the start, no
        pause); between reps the pelvis rests at the start. Live, the halves were paired as they came, so a
        lone half before the set (a fidget, a turn into position) shifts every pair by one. Pair again, the
        set's way round: the leading direction whose pairs leave the fewest halves alone, then the shortest
        time between a pair's halves."""
        halves = [e for exs in self._set_exs for e in exs]
        if len(halves) < 2:
            return
        t = self._counter.t
        best = None
        for lead in (1, -1):
            groups, gap, i = [], 0.0, 0
            while i < len(halves):
                if halves[i].sign == lead and i + 1 < len(halves) and halves[i + 1].sign == -lead:
                    groups.append(halves[i : i + 2])
                    gap += t[halves[i + 1].i_start] - t[halves[i].i_end]
                    i += 2
                else:
                    groups.append([halves[i]])
                    i += 1
            score = (sum(len(g) == 1 for g in groups), gap)
            if best is None or score < best[0]:
                best = (score, groups)
        for r in self._set_reps:
            self._peaks.remove(r.peak_deg)
        self._set_exs = best[1]
        self._set_reps = [self._measure(g) for g in self._set_exs]
        self._peaks.extend(r.peak_deg for r in self._set_reps)

    def _turns(self, reps: list[RepResult]) -> bool:
        """Drills whose rep is a turn about one axis (`rep_angle`): the set's typical rep (the median of
        its reps' angles at the top) goes more along that axis than across it. Fidgets at rest tip and
        shift the pelvis about any axis; three of them in rhythm are no set of turns."""
        if not self.spec.rep_angle:
            return True
        typical = np.abs(np.median([self._rep_vector(r) for r in reps], axis=0))
        k = ANGLES.index(self.spec.rep_angle)
        return bool(typical[k] > np.hypot(*np.delete(typical, k)))

    def _in_rhythm_part(self, reps: list[RepResult]) -> list[RepResult]:
        """Drop fidgets before or after the set: while the median pause between reps is longer than
        RHYTHM_GAPS typical reps, the end rep with the longer gap to its neighbour goes, but never below the
        dose asked for: as many reps as asked, all one movement (`_consistent_part`), are the set even with
        long pauses for breath between them (five slow turns with three pauses are the five turns)."""
        reps = list(reps)
        while len(reps) > max(3, self._dose()) and self._out_of_rhythm(reps, 50):
            head = reps[1].start_s - reps[0].end_s
            tail = reps[-1].start_s - reps[-2].end_s
            dropped = reps.pop(0) if head > tail else reps.pop()
            self._peaks.remove(dropped.peak_deg)
        return reps

    def _past_the_dose(self, reps: list[RepResult]) -> list[RepResult]:
        """The set is the dose the guidance asked for, in rhythm: once it is done, a "rep" after a pause
        longer than RHYTHM_GAPS typical reps is a fidget at rest (more reps in rhythm still count); so is a
        "rep" before such a pause that the whole dose follows (a fidget in the rest before the set)."""
        dose = self._dose()
        reps = list(reps)
        typical = float(np.median([r.end_s - r.start_s for r in reps])) if reps else 0.0
        while len(reps) > dose:
            if reps[-1].start_s - reps[-2].end_s > RHYTHM_GAPS * typical:
                dropped = reps.pop()
            elif reps[1].start_s - reps[0].end_s > RHYTHM_GAPS * typical:
                dropped = reps.pop(0)
            else:
                break
            self._peaks.remove(dropped.peak_deg)
        return reps

    def _dose(self) -> int:
        """The reps a set is asked for (alternating drills: both sides')."""
        return self.spec.reps * (2 if self.spec.sides == "alternating" else 1)

    @staticmethod
    def _out_of_rhythm(reps: list[RepResult], percentile: float = 25) -> bool:
        """A set is reps one after another: its pauses between reps (the median one when trimming the
        ends, the shorter quarter when judging the whole set, so that a few pauses for breath do not count;
        the shortest when the set holds the whole dose: as many reps as asked are the set however often the
        person paused for breath, but not when no two of them follow one another) are shorter than RHYTHM_GAPS
        typical reps. Movements all scattered with long stillness between them were fidgets at rest, not a
        set (five 1.2-s twitches face down, 6-10 s apart)."""
        if len(reps) < 3:
            return False
        gaps = [b.start_s - a.end_s for a, b in pairwise(reps)]
        typical = float(np.median([r.end_s - r.start_s for r in reps]))
        return float(np.percentile(gaps, percentile)) > RHYTHM_GAPS * typical

    def _rep_vector(self, r: RepResult) -> np.ndarray:
        return rep_vector(self.spec, (r.tilt_deg, r.obliquity_deg, r.rotation_deg))

    def _next_set_side(self) -> str | None:
        if self.spec.sides != "per_set":
            return None
        return _guided_side(len(self.result.sets))

    def _assign_sides(self) -> None:
        """per_set: left first, then alternating, as the guidance asks, unless the sets' own reps say
        otherwise (a set lost or repeated breaks the alternation: each set's reps vote with the sign of the
        drill's side angle, and the most likely sequence wins); alternating: the phase of the left-right
        alternation that the side angle agrees with on most reps."""
        s = self.spec
        if s.sides == "per_set":
            for st, side in zip(self.result.sets, self._per_set_sides()):
                st.side = side
                for r in st.reps:
                    r.side = side
        for st in self.result.sets:
            if s.sides == "alternating" and s.side_angle:
                votes = [np.sign(s.side_sign * r.angles()[s.side_angle]) for r in st.reps]
                pattern = [1 if i % 2 == 0 else -1 for i in range(len(votes))]
                left_first = float(np.dot(votes, pattern)) >= 0
                for i, r in enumerate(st.reps):
                    r.side = "left" if (i % 2 == 0) == left_first else "right"

    def _per_set_sides(self) -> list[str]:
        """Viterbi over the sets: a set's vote is the mean sign of its reps' side angle (+1 all say left;
        angles under SIDE_NOISE_DEG are no vote); two sets in a row on one side cost SIDE_REPEAT_COST (a set
        was lost or done twice), starting on the right costs SIDE_FIRST_COST."""
        s, sets = self.spec, self.result.sets
        votes = []
        for st in sets:
            if not s.side_angle:
                votes.append(0.0)
                continue
            x = np.array([s.side_sign * r.angles()[s.side_angle] for r in st.reps])
            votes.append(float(np.mean(np.where(np.abs(x) < SIDE_NOISE_DEG, 0.0, np.sign(x)))) if len(x) else 0.0)
        sides = (1, -1)  # left, right
        cost = {d: -votes[0] * d + (SIDE_FIRST_COST if d < 0 else 0.0) for d in sides} if sets else {}
        back = []
        for v in votes[1:]:
            new, ptr = {}, {}
            for d in sides:
                prev = min(sides, key=lambda e: cost[e] + (SIDE_REPEAT_COST if e == d else 0.0))
                new[d] = cost[prev] + (SIDE_REPEAT_COST if prev == d else 0.0) - v * d
                ptr[d] = prev
            cost = new
            back.append(ptr)
        if not sets:
            return []
        d = min(sides, key=lambda e: cost[e])
        path = [d]
        for ptr in reversed(back):
            d = ptr[d]
            path.append(d)
        return ["left" if d > 0 else "right" for d in reversed(path)]

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


def _guided_side(k: int) -> str:
    """The side the guidance asks for in set `k` of a drill done one side per set: left first, then alternating."""
    return "left" if k % 2 == 0 else "right"


def _mark_partials(reps: list[RepResult]) -> None:
    """A rep short of PARTIAL_FRACTION of its set's median peak is a partial one."""
    med = float(np.median([r.peak_deg for r in reps]))
    for r in reps:
        r.partial = r.peak_deg < PARTIAL_FRACTION * med


def _rise_began(c: RepCounter, i_start: int) -> int:
    """The tick a rep's rise began from: the lowest point of the counted movement in the 3 s before its start
    (where the pelvis was back at the start)."""
    lo = max(0, i_start - round(3.0 * TICK_HZ))
    return lo + int(np.argmin(np.abs(np.asarray(c.p[lo : i_start + 1]))))


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
