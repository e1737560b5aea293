"""Simulated drill and test sessions with their truth (docs/drills.md, "The simulator").

    rec, truth = simulate_drill("glute-bridge", seed=3)

A session: standing still, a bow (standing and kneeling drills), then sets: into position, still, reps,
(pauses), and rests between sets (staying in position or standing up) full of fidgets. The pelvis'
orientation is built as R_earth<-body(t) = R_posture(t) · R_excursion(t); the sacrum moves on a lever
about the movement's pivot (shoulders in a bridge, hips in a hinge) so the accelerometer feels the
movement's own acceleration, and the pod sits any way round (a random mounting). Sensor errors are the
project's model (host.simulator.sensor_errors). People vary: tempo, range, control (good/poor: how often
and how far the pelvis arches, rocks, twists or drops past the drill's tolerances), partial reps, pauses,
and asymmetry (one side worse by 5-10°).

The truth is the simulated rotation itself: for every set, the pelvis' tilt, obliquity and rotation
against the set's starting posture at every sample, and each rep's window, side, hold and whether it was
a partial rep. The simulator knows nothing of the engine (host.drills): what the person does is its own
table (PLANS); the evaluation (bench/tiltguard_eval/drill_scoring.py) applies the documented definitions
(a rep's angles at its top, faults past the tolerances) to this truth.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation
from tiltguard.host.samples import GRAVITY, RawRecording
from tiltguard.host.simulator.scenarios import SensorErrors
from tiltguard.host.simulator.sensor_errors import SensorErrorModel

ANGLES = ("tilt", "obliquity", "rotation")
# The bow the guidance asks for ("until your back is nearly level"): the pelvis hinges 40-65° (less in a person
# with tight hamstrings, whose low back rounds for the rest), with a sideways lean of up to 3°
GUIDED_BOW_DEG = (40.0, 65.0)
SHALLOW_BOW_DEG = (22.0, 40.0)  # a person who bows less than asked (a quick nod from the hips)


@dataclass(frozen=True)
class DrillPlan:
    """What the simulated person does in a drill (the dose of host/report/drills.py)."""

    position: str
    sides: str  # "none", "per_set", "alternating"
    sets: int
    reps: int
    hold_s: float
    two_way: bool = False
    fault_angle: str = "rotation"  # two-way drills: the angle whose excursion happens on one half

    @property
    def lying(self) -> bool:
        return self.position in ("prone", "supine", "quadruped")


PLANS = {
    "prone-hip-extension": DrillPlan("prone", "per_set", 2, 5, 0.0),
    "hip-flexor-test": DrillPlan("kneeling", "per_set", 2, 1, 10.0),
    "single-leg-stance": DrillPlan("standing", "per_set", 2, 1, 20.0),
    "glute-bridge": DrillPlan("supine", "none", 3, 10, 3.0),
    "single-leg-bridge": DrillPlan("supine", "per_set", 3, 8, 0.0),
    "bird-dog": DrillPlan("quadruped", "alternating", 3, 8, 1.0),
    "kickstand-rdl": DrillPlan("standing", "per_set", 3, 8, 0.0),
    "banded-hip-twist": DrillPlan("standing", "per_set", 1, 40, 0.0, two_way=True, fault_angle="obliquity"),
    "rotisserie-chicken": DrillPlan("supine", "per_set", 2, 8, 0.0, two_way=True, fault_angle="tilt"),
    "twisted-warrior": DrillPlan("standing", "per_set", 2, 5, 0.0),
    "hamstring-isometric": DrillPlan("supine", "none", 5, 1, 30.0),
}
DRILL_NAMES = tuple(PLANS)

POSTURE_PITCH_DEG = {"standing": 0.0, "kneeling": 0.0, "prone": 90.0, "supine": -90.0, "quadruped": 80.0}
LEVER_M = {"supine": (0.0, 0.0, -0.45), "prone": (0.0, 0.0, -0.1), "quadruped": (0.0, 0.0, -0.15),
           "standing": (-0.1, 0.0, 0.1), "kneeling": (-0.1, 0.0, 0.15)}  # sacrum from the pivot, body frame


@dataclass
class Person:
    control: str = "good"  # "good" or "poor"
    asymmetry: str = "none"  # "none", "left" (left side worse), "right"
    asymmetry_deg: float = 0.0
    tempo: float = 1.0  # >1 slower
    amplitude: float = 1.0
    partial_share: float = 0.05
    pause_share: float = 0.1
    noise: float = 1.0  # sensor noise scale
    mount: tuple[float, float, float, float] | None = None  # scipy quaternion x y z w, None = random

    @staticmethod
    def random(rng: np.random.Generator) -> Person:
        asym = rng.choice(["none", "left", "right"], p=[0.5, 0.25, 0.25])
        return Person(control=str(rng.choice(["good", "poor"])), asymmetry=str(asym),
                      asymmetry_deg=float(rng.uniform(5.0, 10.0)) if asym != "none" else 0.0,
                      tempo=float(rng.uniform(0.6, 1.6)), amplitude=float(rng.uniform(0.6, 1.4)),
                      partial_share=float(rng.uniform(0.0, 0.15)), pause_share=float(rng.uniform(0.0, 0.25)),
                      noise=float(rng.uniform(0.5, 2.0)))


@dataclass
class DrillTruth:
    drill: str
    person: Person
    sets: list[dict] = field(default_factory=list)  # start_s, end_s, side, reps: [rep dicts]
    rests: list[tuple[float, float]] = field(default_factory=list)  # time outside the sets, s
    sides_verdict: str | None = None  # "left worse", "right worse", "no clear difference" (None: no sides)
    mount_quat: np.ndarray | None = None

    @property
    def reps(self) -> list[dict]:
        return [r for s in self.sets for r in s["reps"]]

    @property
    def rest_s(self) -> float:
        return float(sum(b - a for a, b in self.rests))


# --- per-drill rep shapes: the angles (deg) at the top of one rep, by side (+1 left, -1 right) ---------------
def _u(rng, lo, hi):
    return float(rng.uniform(lo, hi))


def _rep_top(name: str, person: Person, side: int, rng: np.random.Generator) -> dict[str, float]:
    """tilt, obliquity, rotation at the top (deg), before the person's range scale on the counted angle."""
    poor = person.control == "poor" and rng.random() < 0.5  # a poor-control person faults on about half
    weak = (person.asymmetry == "left" and side > 0) or (person.asymmetry == "right" and side < 0)
    extra = person.asymmetry_deg if weak else 0.0
    n = name
    if n == "prone-hip-extension":
        arch = (_u(rng, 6.5, 11) if poor else _u(rng, 1.5, 3.5)) + extra
        twist = _u(rng, 6.5, 10) if poor and rng.random() < 0.5 else _u(rng, 1.0, 3.5)
        return {"tilt": arch, "obliquity": side * _u(rng, 0, 1.5), "rotation": side * twist}
    if n == "hip-flexor-test":
        reach = person.amplitude * _u(rng, 10, 15)
        reach -= min(extra, 0.5 * reach)  # the tight side still tucks part of the way
        return {"tilt": -reach, "obliquity": _u(rng, -1.5, 1.5),
                "rotation": rng.choice([-1, 1]) * _u(rng, 9, 12) if poor else _u(rng, -3, 3)}
    if n == "single-leg-stance":
        drop = (_u(rng, 6, 9) if poor else _u(rng, 1.5, 3.5)) + extra
        return {"tilt": _u(rng, -2, 2), "obliquity": side * drop, "rotation": side * _u(rng, 1.5, 4)}
    if n == "glute-bridge":
        return {"tilt": -person.amplitude * _u(rng, 16, 26), "obliquity": _u(rng, -2, 2),
                "rotation": rng.choice([-1, 1]) * _u(rng, 6, 9) if poor else _u(rng, -3, 3)}
    if n == "single-leg-bridge":
        drop = (_u(rng, 7.5, 11) if poor else _u(rng, 1.0, 4.0)) + extra
        return {"tilt": -person.amplitude * _u(rng, 13, 22), "obliquity": _u(rng, -2, 2), "rotation": -side * drop}
    if n == "bird-dog":
        rock = (_u(rng, 6.5, 10) if poor else _u(rng, 2.0, 4.0)) + extra
        arch = _u(rng, 6.5, 10) if poor and rng.random() < 0.5 else _u(rng, 0.0, 3.0)
        return {"tilt": arch, "obliquity": _u(rng, -1.5, 1.5), "rotation": side * rock}
    if n == "kickstand-rdl":
        drop = (_u(rng, 6.5, 9) if poor else _u(rng, 0.5, 3.5)) + extra
        twist = rng.choice([-1, 1]) * _u(rng, 10, 13) if poor and rng.random() < 0.5 else _u(rng, -4, 4)
        return {"tilt": person.amplitude * _u(rng, 35, 55), "obliquity": side * drop, "rotation": twist}
    if n == "banded-hip-twist":
        turn = person.amplitude * _u(rng, 14, 22) - extra / 2
        return {"tilt": _u(rng, -2, 2), "obliquity": rng.choice([-1, 1]) * _u(rng, 6.5, 9) if poor
                else _u(rng, -3, 3), "rotation": turn}
    if n == "rotisserie-chicken":
        turn = person.amplitude * _u(rng, 16, 28) - extra / 2
        return {"tilt": _u(rng, 7.5, 11) if poor else _u(rng, -3, 3), "obliquity": _u(rng, -2, 2), "rotation": turn}
    if n == "twisted-warrior":
        twist = (_u(rng, 10, 14) if poor else _u(rng, 2.5, 6)) + extra
        return {"tilt": _u(rng, -2, 2), "obliquity": _u(rng, -1.5, 1.5), "rotation": side * twist}
    if n == "hamstring-isometric":
        return {"tilt": -person.amplitude * _u(rng, 3, 6), "obliquity": _u(rng, -1, 1),
                "rotation": rng.choice([-1, 1]) * _u(rng, 6.5, 9) if poor else _u(rng, -2.5, 2.5)}
    raise KeyError(n)


# --- the timeline -----------------------------------------------------------------------------------------
@dataclass
class _Plan:
    rate: float
    keys_t: list[float] = field(default_factory=list)  # posture key times
    keys_r: list[Rotation] = field(default_factory=list)  # posture at each key (held until the next moves)
    moves: list[tuple[float, float, Rotation, Rotation]] = field(default_factory=list)
    bumps: list[tuple[float, float, float, float, np.ndarray, np.ndarray, int]] = field(default_factory=list)
    t: float = 0.0
    posture: Rotation = field(default_factory=Rotation.identity)
    lever: tuple = (0.0, 0.0, 0.0)

    def hold(self, s: float) -> None:
        self.t += s

    def move_to(self, r: Rotation, s: float) -> None:
        self.moves.append((self.t, self.t + s, self.posture, r))
        self.posture = r
        self.t += s

    def bump(self, rise: float, hold: float, fall: float, top: np.ndarray, kind: int = 0,
             back: np.ndarray | None = None) -> tuple[float, float, float]:
        """An excursion out and back: (start, top-plateau start, end). kind 1: a two-way turn (top then
        `back`, the other way, then home)."""
        t0 = self.t
        self.bumps.append((t0, rise, hold, fall, np.asarray(top, float),
                           np.zeros(3) if back is None else np.asarray(back, float), kind))
        self.t = t0 + rise + hold + fall + (rise + fall if kind == 1 else 0.0)
        return t0, t0 + rise, self.t


def _smooth(u):
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _bump_profile(t, b):
    """Excursion (N, 3) of one bump, deg."""
    t0, rise, hold, fall, top, back, kind = b
    x = np.zeros((len(t), 3))
    if kind == 0:
        up = _smooth((t - t0) / rise)
        down = _smooth((t - (t0 + rise + hold)) / fall)
        return (up - down)[:, None] * top
    # two-way: 0 -> top (rise), hold, top -> back (fall + rise, through zero), back -> 0 (fall)
    t1 = t0 + rise + hold
    a = _smooth((t - t0) / rise)[:, None] * top
    b2 = _smooth((t - t1) / (fall + rise))[:, None] * (back - top)
    c = _smooth((t - (t1 + fall + rise)) / fall)[:, None] * (-back)
    x[:] = a + b2 + c
    return x


def simulate_drill(drill: str, seed: int = 0, rate_hz: float = 100.0, person: Person | None = None,
                   errors: SensorErrors | None = None, sets: int | None = None,
                   reps: int | None = None, bow_deg: tuple[float, float] = GUIDED_BOW_DEG
                   ) -> tuple[RawRecording, DrillTruth]:
    """One session of `drill` by a random (or the given) person. `bow_deg`: the range the bow's depth is
    drawn from (the guidance asks for a back nearly level; a shallower range is a person who bows less)."""
    if drill not in PLANS:
        raise KeyError(f"unknown drill {drill!r}; known: {', '.join(PLANS)}")
    spec = PLANS[drill]
    rng = np.random.default_rng(seed)
    person = person or Person.random(rng)
    plan = _Plan(rate_hz)
    heading = Rotation.from_euler("z", rng.uniform(-np.pi, np.pi))
    standing = heading
    plan.posture = standing
    plan.hold(_u(rng, 3.0, 6.0))
    if not spec.lying:  # the bow
        bow = standing * Rotation.from_euler("YX", [_u(rng, *bow_deg), _u(rng, -3, 3)], degrees=True)
        plan.move_to(bow, 1.2 * person.tempo)
        plan.hold(_u(rng, 0.3, 1.0))
        plan.move_to(standing, 1.2 * person.tempo)
        plan.hold(_u(rng, 1.5, 3.0))
    n_sets = sets or spec.sets * (2 if spec.sides == "per_set" else 1)
    n_reps = reps or spec.reps
    truth = DrillTruth(drill, person)
    set_windows = []
    for k in range(n_sets):
        side = (1 if k % 2 == 0 else -1) if spec.sides == "per_set" else 0
        pose = _position(spec, rng, heading)
        if pose.as_quat().tolist() != plan.posture.as_quat().tolist():
            plan.move_to(pose, _u(rng, 2.0, 3.5) if spec.lying else _u(rng, 1.0, 2.0))
        plan.hold(_u(rng, 2.0, 4.0))
        if drill == "rotisserie-chicken":  # up into the bridge, then still: the set's starting posture
            pose = pose * Rotation.from_euler("Y", -person.amplitude * _u(rng, 15, 25), degrees=True)
            plan.move_to(pose, 1.5 * person.tempo)
            plan.hold(_u(rng, 2.0, 3.0))
        set_start = plan.t
        reps_out = []
        count = n_reps * (2 if spec.sides == "alternating" else 1)
        first_left = rng.random() < 0.5
        for i in range(count):
            s = side if spec.sides != "alternating" else (1 if (i % 2 == 0) == first_left else -1)
            top = _rep_top(drill, person, s if s else 1, rng)
            partial = rng.random() < person.partial_share
            if partial:  # half a rep: the counted movement reaches about half its range
                top = {a: v * _u(rng, 0.45, 0.65) for a, v in top.items()}
            vec = np.array([top[a] for a in ANGLES])
            rise = person.tempo * _u(rng, 0.8, 1.4) * (2.0 if drill == "kickstand-rdl" else 1.0)
            fall = person.tempo * _u(rng, 0.9, 1.6) * (2.0 if drill == "kickstand-rdl" else 1.0)
            hold = max(0.0, spec.hold_s + _u(rng, -0.5, 1.0) * (1 if spec.hold_s < 10 else 5)) if spec.hold_s \
                else _u(rng, 0.0, 0.4)
            if spec.two_way:
                back = vec.copy()
                back[2] = -vec[2] * _u(rng, 0.8, 1.2)
                back[0], back[1] = -vec[0] * _u(rng, 0.3, 1.0), -vec[1] * _u(rng, 0.3, 1.0)
                if spec.fault_angle != "rotation":  # the fault angle's excursion happens on one half
                    fa = ANGLES.index(spec.fault_angle)
                    back[fa] = rng.choice([0.2, 1.0]) * vec[fa]
                b0, b_top, b_end = plan.bump(rise * 0.7, hold, fall * 0.7, vec, kind=1, back=back)
            else:
                b0, b_top, b_end = plan.bump(rise, hold, fall, vec)
            reps_out.append({"planned_start_s": b0, "planned_end_s": b_end, "side": _side_name(s),
                             "hold_s": hold if spec.hold_s else 0.0, "partial": partial})
            gap = _u(rng, 0.2, 1.2) * person.tempo
            if rng.random() < person.pause_share:
                gap = _u(rng, 2.5, 7.0)  # a pause mid-set
            plan.hold(gap)
        set_end = plan.t
        plan.hold(_u(rng, 1.0, 2.0))
        set_windows.append((set_start, set_end, _side_name(side), reps_out))
        # rest: stay in position or stand up, with fidgets; at least one long enough for the set to end
        rest_s = _u(rng, 20.0, 60.0) if k < n_sets - 1 else _u(rng, 12.0, 20.0)
        if rng.random() < 0.5 or k == n_sets - 1:
            plan.move_to(standing * Rotation.from_euler("z", _u(rng, -40, 40), degrees=True), _u(rng, 1.5, 3.0))
        _fidgets(plan, rng, rest_s)
    plan.hold(_u(rng, 2.0, 4.0))

    mount = Rotation.random(random_state=rng) if person.mount is None else Rotation.from_quat(person.mount)
    rec, body_rot = _render(plan, spec, mount, rate_hz, rng, errors, person.noise)
    truth.mount_quat = mount.as_quat()
    _fill_truth(truth, rec.t, body_rot, set_windows)
    rec.meta = {"source": "tiltguard drill simulator", "drill": drill, "seed": seed,
                "mount_quat_xyzw": mount.as_quat().round(6).tolist()}
    return rec, truth


def _side_name(s: int) -> str | None:
    return {1: "left", -1: "right"}.get(s)


def _position(spec: DrillPlan, rng, heading: Rotation) -> Rotation:
    """The pelvis' posture at the start of a set (a new heading on the floor for lying drills)."""
    pitch = POSTURE_PITCH_DEG[spec.position] + rng.normal(0.0, 4.0)
    if spec.position == "kneeling":  # half-kneeling tips the pelvis forward a little (the hip flexors pull)
        pitch = _u(rng, 0.0, 6.0)
    roll = rng.normal(0.0, 2.0)
    h = heading * Rotation.from_euler("z", _u(rng, -30, 30), degrees=True)
    return h * Rotation.from_euler("YX", [pitch, roll], degrees=True)


def _fidgets(plan: _Plan, rng, seconds: float) -> None:
    """Rest: still stretches and fidgets (shifting, scratching, settling): a turn of 1-8° about any axis over
    0.3-2 s, out and back; now and then a shift that stays (a new resting posture)."""
    end = plan.t + seconds
    while plan.t < end - 3.0:
        plan.hold(_u(rng, 1.5, 10.0))
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        amp = _u(rng, 1.0, 8.0)
        dur = _u(rng, 0.3, 2.0)
        if rng.random() < 0.2:
            plan.move_to(plan.posture * Rotation.from_rotvec(np.radians(amp) * axis), dur)
        else:
            plan.bump(dur * 0.4, _u(rng, 0.0, 0.6), dur * 0.6, amp * axis)
    plan.t = max(plan.t, end)
    plan.hold(_u(rng, 2.0, 3.0))  # settled before the next set


def _render(plan: _Plan, spec: DrillPlan, mount: Rotation, rate: float, rng, errors, noise):
    n = int(plan.t * rate)
    t = np.arange(n) / rate
    # posture: the latest finished move's end, blended through the move in progress
    posture = np.tile(plan.moves[0][2].as_quat() if plan.moves else plan.posture.as_quat(), (n, 1))
    rot_post = Rotation.from_quat(posture)
    for (a, b, r0, r1) in plan.moves:
        i0, i1 = int(a * rate), min(n, int(b * rate))
        u = _smooth((t[i0:i1] - a) / (b - a))
        step = (r0.inv() * r1).as_rotvec()
        seg = r0 * Rotation.from_rotvec(u[:, None] * step)
        q = rot_post.as_quat()
        q[i0:i1] = seg.as_quat()
        q[i1:] = r1.as_quat()
        rot_post = Rotation.from_quat(q)
    exc = np.zeros((n, 3))
    for b in plan.bumps:
        i0 = int(b[0] * rate)
        dur = b[1] + b[2] + b[3] + ((b[1] + b[3]) if b[6] == 1 else 0.0)
        i1 = min(n, int((b[0] + dur) * rate) + 2)
        exc[i0:i1] += _bump_profile(t[i0:i1], b)
    exc += _sway(t, rng)
    # body = posture · Rz(rotation) Rx(obliquity) Ry(tilt)
    body = rot_post * Rotation.from_euler("ZXY", exc[:, [2, 1, 0]], degrees=True)
    sensor = body * mount
    lever = np.asarray(LEVER_M[spec.position])
    pos = body.apply(lever)
    acc_earth = np.gradient(np.gradient(pos, t, axis=0), t, axis=0)
    f_earth = acc_earth + np.array([0.0, 0.0, GRAVITY])
    acc = sensor.inv().apply(f_earth)
    rv = (sensor[:-2].inv() * sensor[2:]).as_rotvec() * rate / 2.0
    gyr = np.vstack([rv[:1], rv, rv[-1:]])
    e = errors or SensorErrors()
    e = SensorErrors(**{**e.__dict__, "gyro_noise_dps_rthz": e.gyro_noise_dps_rthz * noise,
                        "acc_noise_ug_rthz": e.acc_noise_ug_rthz * noise, "jitter_us": 0.0})
    model = SensorErrorModel(e, plan.t, rng)
    acc_m, gyr_m, temp = model.apply(t, acc, gyr, rate)
    return RawRecording(t, acc_m, gyr_m, rate, "sim-imu", temp_c=temp), body


def _sway(t, rng):
    """Breathing and postural sway: a few tenths of a degree, below 0.5 Hz."""
    out = np.zeros((len(t), 3))
    for k in range(3):
        for f in (0.1, 0.25, 0.4):
            out[:, k] += rng.uniform(0.03, 0.12) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return out


def _fill_truth(truth: DrillTruth, t, body: Rotation, set_windows) -> None:
    """Per set: the true angles against the set's starting posture (25 Hz is plenty for the truth of a
    rep's top and its faults) and the reps' windows."""
    rate = 1.0 / (t[1] - t[0])
    step = max(1, int(round(rate / TRUTH_HZ)))
    prev_end = 0.0
    for (s0, s1, side, reps) in set_windows:
        i_ref = int(s0 * rate)
        last = min(len(t), int((max(r["planned_end_s"] for r in reps) + 1.0) * rate)) if reps else i_ref + 1
        idx = np.arange(i_ref, last, step)
        e = (body[i_ref].inv() * body[idx]).as_euler("ZXY", degrees=True)
        truth.sets.append({
            "start_s": s0, "end_s": s1, "side": side, "t": t[idx],
            "angles_deg": np.stack([e[:, 2], e[:, 1], e[:, 0]], axis=1),  # tilt, obliquity, rotation
            "reps": [{"start_s": r["planned_start_s"], "end_s": r["planned_end_s"], "side": r["side"],
                      "hold_s": r["hold_s"], "partial": r["partial"]} for r in reps]})
        truth.rests.append((prev_end, s0))
        prev_end = s1
    truth.rests.append((prev_end, float(t[-1])))
    truth.sides_verdict = "no clear difference" if truth.person.asymmetry == "none" else \
        f"{truth.person.asymmetry} worse"


TRUTH_HZ = 50.0
