"""The tests and drills the pod guides and measures: how each is done (in our own words), its dose, and
what the engine measures in it.

Angles are the pelvis' change from the set's starting posture, in the *body* frame (x forward, y left,
z up when standing; tilt about y, obliquity about x, rotation about z, Baker's order). The frame goes
with the pelvis, so in a lying position the words keep their anatomical meaning: lying on the back
(supine) the forward axis points at the ceiling and "rotation" is the pelvis rolling about the body's long
axis (one hip towards the floor); face down (prone, hands and knees) the forward axis points at the floor
and rotation > 0 lifts the left hip. Signs: tilt > 0 anterior (low back arching), obliquity > 0 left side
up, rotation > 0 turned left (lying face down: left hip up; on the back: right hip up).

`primary` is the movement a rep is counted on: a signed angle ("tilt", -1 = posterior lift of a bridge),
or "norm" (the whole angle turned away from the start: drills where the pelvis should stay nearly still
and only the limbs move; each lift still turns it a few degrees). `two_way` drills (twists) count one rep
per turn out and back in. Tolerances are the defaults of the fault cues; the user can change them
(`--tolerance drop=6`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

ANGLES = ("tilt", "obliquity", "rotation")
POSITIONS = ("standing", "kneeling", "prone", "supine", "quadruped")
LYING = ("prone", "supine", "quadruped")
FACE_DOWN = ("prone", "quadruped")  # the forward axis points at the floor
HOLD_DRILL_S = 10.0  # drills whose target hold is this long are holds (tests, isometrics)


@dataclass(frozen=True)
class FaultSpec:
    name: str  # arch, rock, twist, drop
    angle: str  # one of ANGLES
    direction: int  # +1: only the positive side is a fault (arch = anterior tilt); 0: either side
    tolerance_deg: float
    cue: str  # what the live cue says

    def value(self, angles: dict[str, float]) -> float:
        """How far (deg) past neutral in the faulty direction."""
        v = angles[self.angle]
        return abs(v) if self.direction == 0 else self.direction * v


@dataclass(frozen=True)
class SideMetric:
    """The per-rep number compared left against right."""

    label: str
    angle: str
    sign: int  # the metric is sign * angle at the rep's top (0: abs(angle); for two-way: the rep's range)
    higher_is_worse: bool  # drop, arch: the larger side is worse; range of motion: the smaller side is worse
    smallest_real_deg: float  # below this a difference is not called an asymmetry (repeatability of a rep)


@dataclass(frozen=True)
class DrillSpec:
    name: str
    title: str
    kind: str  # "drill" or "test"
    position: str  # one of POSITIONS
    sides: str  # "none", "per_set" (a set per side, left first, then alternating), "alternating" (within a set)
    dose: str
    sets: int
    reps: int  # per side per set
    hold_s: float  # target hold at the top of each rep (0: no hold)
    primary: str  # "tilt" / "obliquity" / "rotation" (signed by primary_sign) or "norm"
    primary_sign: int
    nominal_deg: float  # a typical rep's excursion along `primary` (the counter's first reference)
    min_rep_s: float  # a rep faster than this draws the "slower" cue (hold excluded)
    steps: tuple[str, ...]
    watch: str
    measures: str
    faults: tuple[FaultSpec, ...] = ()
    side_metric: SideMetric | None = None
    # the angle whose sign at the top tells the side: the working leg's pull seen at the pelvis (alternating
    # drills: per rep; per-set drills: the set's reps vote, against the left-right order the guidance asks)
    side_angle: str | None = None
    side_sign: int = 1  # side_sign * side_angle > 0 at the top -> left
    two_way: bool = False
    min_set_reps: int = 3  # a "set" with fewer reps was fidgeting, not a set
    # "norm" drills whose rep is a turn about one axis (the twisted warrior's pelvis follows the trunk about
    # the vertical): a "set" whose typical rep goes mostly another way was fidgets (a tip, a shift), not turns
    rep_angle: str | None = None
    advice_ids: tuple[str, ...] = field(default_factory=tuple)  # the advice (host/flags/advice.toml) it checks

    @property
    def lying(self) -> bool:
        return self.position in LYING

    @property
    def is_hold(self) -> bool:
        """A hold drill: its rep is the hold (tests, isometrics)."""
        return self.hold_s >= HOLD_DRILL_S

    def with_tolerances(self, tolerances: dict[str, float] | None) -> DrillSpec:
        """The same drill with some fault tolerances (deg) changed by the user."""
        if not tolerances:
            return self
        unknown = set(tolerances) - {f.name for f in self.faults}
        if unknown:
            known = ", ".join(f.name for f in self.faults) or "none"
            raise ValueError(f"{self.name} has no fault {', '.join(sorted(unknown))} (its faults: {known})")
        for name, tol in tolerances.items():
            if not 0.5 <= tol <= 45.0:
                raise ValueError(f"tolerance {name}={tol} deg is outside 0.5-45 deg")
        faults = tuple(replace(f, tolerance_deg=float(tolerances.get(f.name, f.tolerance_deg))) for f in self.faults)
        return replace(self, faults=faults)


ARCH = "Keep the low back still: the pelvis tipped forward"
_D = [
    DrillSpec(
        "prone-hip-extension", "Prone hip extension", "test", "prone", "per_set", "5 lifts per side", 2, 5, 0.0,
        "norm", 1, 4.0, 1.0,  # a good lift, under both 5-deg tolerances: faults add to the counted turn
        ("Lie face down, forehead on your hands, legs straight.",
         "Squeeze the glute of one side and lift that straight leg a few inches off the floor; lower it slowly.",
         "Five lifts, then the other leg."),
        "The pelvis stays on the floor: a lift with the pelvis still is a glute-led lift.",
        "Per lift: how far the pelvis tips forward (the low back arching), rocks and twists.",
        faults=(FaultSpec("arch", "tilt", 1, 5.0, ARCH), FaultSpec("twist", "rotation", 0, 5.0,
                                                                   "Keep both hips on the floor")),
        side_metric=SideMetric("low-back arch per lift", "tilt", 1, True, 2.0),
        side_angle="rotation", side_sign=1,  # lifting the left leg turns the left hip up off the floor
        advice_ids=("after-glute-bridge",)),
    DrillSpec(
        "hip-flexor-test", "Kneeling hip-flexor test", "test", "kneeling", "per_set", "once per side, 10-s hold",
        2, 1, 10.0, "tilt", -1, 10.0, 1.0,
        ("Kneel on one knee, the front foot one step ahead, shin vertical; stand tall.",
         "Squeeze the glute of the kneeling side and tuck your tailbone under as far as you can; hold 10 s.",
         "Relax, then switch knees."),
        "Tuck, do not lean: the trunk stays upright.",
        "The posterior tilt you reach and hold on each side: a side that reaches clearly less is the tight one.",
        faults=(FaultSpec("twist", "rotation", 0, 8.0, "Keep the hips square"),),
        side_metric=SideMetric("posterior tilt reached", "tilt", -1, False, 3.0), min_set_reps=1,
        advice_ids=("after-hip-flexor-test", "after-hip-flexor-stretch")),
    DrillSpec(
        "single-leg-stance", "Single-leg stance", "test", "standing", "per_set", "20 s per leg", 2, 1, 20.0,
        "norm", 1, 3.0, 1.0,
        ("Stand tall, hands on the hips.", "Lift one foot a little off the floor and stand still for 20 s.",
         "Put it down, then stand on the other leg."),
        "Stand tall on the standing hip; do not lean the trunk over it.",
        "How far the pelvis drops towards the lifted leg on each side.",
        faults=(FaultSpec("drop", "obliquity", 0, 5.0, "Lift the hip of the free leg"),),
        side_metric=SideMetric("pelvic drop", "obliquity", 0, True, 2.0), min_set_reps=1,
        side_angle="obliquity", side_sign=1,  # on the left leg the free (right) side sinks: left side up
        advice_ids=("after-kickstand-rdl",)),
    DrillSpec(
        "glute-bridge", "Glute bridge", "drill", "supine", "none", "3 sets of 10, 3-s hold at the top", 3, 10, 3.0,
        "tilt", -1, 20.0, 1.5,
        ("Lie on your back, knees bent, feet flat and hip-width apart, arms by your sides.",
         "Tuck the tailbone first (flatten the low back), then push through the heels and lift the hips until "
         "knees, hips and shoulders line up.",
         "Hold 3 seconds squeezing the glutes, lower slowly."),
        "The push comes from the glutes: if the hamstrings cramp, bring the feet closer to the hips.",
        "Per rep: how high the pelvis tips (posterior tilt), the hold at the top, and whether one hip sags.",
        faults=(FaultSpec("rock", "rotation", 0, 5.0, "Keep the hips level"),),
        advice_ids=("after-glute-bridge",)),
    DrillSpec(
        "single-leg-bridge", "Single-leg bridge", "drill", "supine", "per_set", "3 sets of 8 per side", 3, 8, 0.0,
        "tilt", -1, 18.0, 1.5,
        ("Lie on your back, knees bent; straighten one leg in line with the other thigh.",
         "Push through the heel of the bent leg and lift the hips, then lower slowly.", "Switch legs."),
        "The hip of the straight leg must not drop.",
        "Per rep: the lift (posterior tilt) and the drop of the free side.",
        faults=(FaultSpec("drop", "rotation", 0, 6.0, "Do not let the free hip drop"),),
        side_metric=SideMetric("free-side drop", "rotation", 0, True, 2.0),
        side_angle="rotation", side_sign=-1,  # on the left foot the free (right) hip sinks towards the floor
        advice_ids=("after-glute-bridge",)),
    DrillSpec(
        "bird-dog", "Bird dog", "drill", "quadruped", "alternating", "3 sets of 8 per side", 3, 8, 1.0,
        "norm", 1, 5.0, 1.5,
        ("On hands and knees, hands under shoulders, knees under hips, back flat.",
         "Slowly reach one arm forward and the opposite leg back until both are level with the trunk.",
         "Hold a breath's length, return, then the other side."),
        "Hips stay level and the back stays still: imagine a glass of water on your low back.",
        "Per rep: whether the low back arches and the hips rock towards the reaching leg; which side.",
        faults=(FaultSpec("arch", "tilt", 1, 5.0, ARCH), FaultSpec("rock", "rotation", 0, 5.0,
                                                                   "Keep the hips level")),
        side_metric=SideMetric("hip rock per reach", "rotation", 0, True, 2.0),
        side_angle="rotation", side_sign=1, min_set_reps=4,
        advice_ids=("after-bird-dog",)),
    DrillSpec(
        "kickstand-rdl", "Kickstand Romanian deadlift", "drill", "standing", "per_set", "3 sets of 6-8 per side",
        3, 8, 0.0, "tilt", 1, 45.0, 2.0,
        ("Stand with most of the weight on one leg, the other foot a half step back on its toes as a kickstand.",
         "Soften the standing knee and hinge at the hip, pushing the hips back with a flat back, until you feel "
         "the back of the thigh.",
         "Drive the hips forward to stand tall; add a dumbbell once 8 slow reps are easy."),
        "Keep the pelvis level: the hip of the kickstand side must not drop or twist open.",
        "Per rep: the hinge depth, and the drop and twist of the kickstand hip.",
        faults=(FaultSpec("drop", "obliquity", 0, 5.0, "Keep the kickstand hip up"),
                FaultSpec("twist", "rotation", 0, 8.0, "Keep the hips square")),
        side_metric=SideMetric("kickstand-hip drop", "obliquity", 0, True, 2.0),
        side_angle="obliquity", side_sign=1,  # standing on the left leg the kickstand (right) hip sinks
        advice_ids=("after-kickstand-rdl",)),
    DrillSpec(
        "banded-hip-twist", "Banded hip twist", "drill", "standing", "per_set", "40 per side", 1, 40, 0.0,
        "rotation", 1, 20.0, 1.0,
        ("Loop a band around the pelvis and anchor it at waist height to one side; step out until it pulls.",
         "Stand on one leg, hands on the hips, and turn the pelvis in and out against the band.",
         "Keep the hips level throughout; then turn round and stand on the other leg."),
        "The pelvis turns, the trunk stays quiet, and the hips stay level.",
        "Per rep: the rotation range in and out, and whether the hips stay level.",
        faults=(FaultSpec("drop", "obliquity", 0, 5.0, "Keep the hips level"),),
        side_metric=SideMetric("rotation range", "rotation", 1, False, 4.0), two_way=True,
        advice_ids=("after-rotation-stability",)),
    DrillSpec(
        "rotisserie-chicken", "Rotisserie chicken", "drill", "supine", "per_set", "2 sets of 8 per side", 2, 8, 0.0,
        "rotation", 1, 25.0, 1.5,
        ("Lie on your back with one heel in a suspension strap and lift the hips into a bridge.",
         "Keeping the bridge, rotate the pelvis out (the free hip towards the floor) and back in (towards the "
         "ceiling).", "Slow turns; then the other leg in the strap."),
        "The hips stay up: the rotation happens around the strapped leg, the bridge does not sag.",
        "Per rep: the rotation out and in (equal to both sides), and whether the bridge sags.",
        faults=(FaultSpec("drop", "tilt", 1, 6.0, "Keep the hips up"),),
        side_metric=SideMetric("rotation range", "rotation", 1, False, 4.0), two_way=True,
        advice_ids=("after-rotation-stability",)),
    DrillSpec(
        "twisted-warrior", "Twisted warrior", "drill", "standing", "per_set", "5 slow turns each side", 2, 5, 0.0,
        "norm", 1, 5.0, 2.0,
        ("Take a long lunge stance with the back heel up and the hips square.",
         "Reach the arm of the back-leg side up, then turn the chest slowly towards the front leg.",
         "Return to centre and repeat, keeping the pelvis facing forward while the chest turns."),
        "Move slowly through the whole range; the pelvis stays square while the trunk turns.",
        "Per turn: how far the pelvis follows the trunk (twist) and tips.",
        faults=(FaultSpec("twist", "rotation", 0, 8.0, "Keep the pelvis square"),),
        side_metric=SideMetric("pelvis twist per turn", "rotation", 0, True, 2.0),
        side_angle="rotation", side_sign=1,  # turning to the left the pelvis follows the trunk a little
        rep_angle="rotation",
        advice_ids=("after-hip-flexor-stretch", "after-rotation-stability")),
    DrillSpec(
        "hamstring-isometric", "Hamstring isometric holds", "drill", "supine", "none", "5 holds of 30-45 s", 5, 1,
        30.0, "tilt", -1, 4.0, 1.0,
        ("Lie on your back with one heel on a bench or a step, knee slightly bent.",
         "Press the heel down into the bench as if to pull it towards you, without moving.",
         "Hold at a strength that does not hurt (about half effort), rest 1 minute between holds."),
        "No pain during or after: lower the effort if it hurts.",
        "The hold time (the press tips the pelvis back a few degrees), and whether the hips rock.",
        faults=(FaultSpec("rock", "rotation", 0, 5.0, "Keep the hips level"),), min_set_reps=1,
        advice_ids=("after-sore-isometrics",)),
]

DRILLS: dict[str, DrillSpec] = {d.name: d for d in _D}


def get_drill(name: str, kind: str | None = None) -> DrillSpec:
    """The drill or test called `name`; a clear error listing the names otherwise."""
    spec = DRILLS.get(name)
    if spec is None or (kind is not None and spec.kind != kind):
        names = ", ".join(n for n, d in DRILLS.items() if kind is None or d.kind == kind)
        raise KeyError(f"unknown {kind or 'drill'} {name!r}; known: {names}")
    return spec
