"""How to do the drills the advice engine recommends (host/flags/advice.toml), in our own words.

The advice engine decides *which* drills apply and why; this table only says how each one is done, with
its dose (sets, reps, holds). Keyed by advice rule id; a rule without drills (e.g. "see a professional")
is simply not listed here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Drill:
    name: str
    dose: str  # sets, reps, holds
    steps: tuple[str, ...]  # how to do it, in order
    watch: str  # the one thing to get right


HIP_FLEXOR_TEST = Drill(
    "Kneeling doorway hip-flexor test", "once per side",
    ("Kneel on one knee in a doorway, the front foot one step through it, shin vertical.",
     "Stand tall, squeeze the glute of the kneeling side and tuck your tailbone under (flatten the low back).",
     "Without leaning forward, notice the front of the kneeling hip: a clear pull there means the hip "
     "flexors of that side are tight."),
    "Do not lean into the door frame; the tuck, not the lean, is the test.")
HIP_FLEXOR_STRETCH = Drill(
    "Kneeling hip-flexor stretch", "3 minutes per tight side (e.g. 3 × 60 s)",
    ("Start in the test position: one knee down, glute of that side squeezed, pelvis tucked.",
     "Shift forward only until the pull returns at the front of the hip, then hold and breathe slowly.",
     "Ease off if the pull turns into pain; switch sides only if the other side was tight too."),
    "The low back stays flat the whole time; an arched back moves the stretch away from the hip.")
TWISTED_WARRIOR = Drill(
    "Twisted warrior", "5 slow turns each side",
    ("Take a long lunge stance with the back heel up and the hips square.",
     "Reach the arm of the back-leg side up, then turn the chest slowly towards the front leg.",
     "Return to centre and repeat, keeping the pelvis facing forward while the chest turns."),
    "Move slowly through the whole range; this is mobility, not a hold.")
GLUTE_BRIDGE = Drill(
    "Glute bridge", "3 sets of 10, 3-s hold at the top",
    ("Lie on your back, knees bent, feet flat and hip-width apart, arms by your sides.",
     "Pull the ribs down, then push through the heels and lift the hips until knees, hips and shoulders line up.",
     "Hold 3 seconds squeezing the glutes, lower slowly."),
    "The push comes from the glutes: if the hamstrings cramp, bring the feet closer to the hips.")
BIRD_DOG = Drill(
    "Bird dog", "3 sets of 8 per side",
    ("On hands and knees, hands under shoulders, knees under hips, back flat.",
     "Slowly reach one arm forward and the opposite leg back until both are level with the trunk.",
     "Hold a breath's length, return without touching down, repeat; then the other side."),
    "Hips stay level and the back stays still: imagine a glass of water on your low back.")
KICKSTAND_RDL = Drill(
    "Kickstand Romanian deadlift", "3 sets of 6–8 per side",
    ("Stand with most of the weight on one leg, the other foot a half step back on its toes as a kickstand.",
     "Soften the standing knee and hinge at the hip, pushing the hips back with a flat back, until you feel "
     "the back of the thigh.",
     "Drive the hips forward to stand tall; add a dumbbell once 8 slow reps are easy."),
    "Keep the pelvis level: the hip of the kickstand side must not drop or twist open.")
BANDED_HIP_TWIST = Drill(
    "Banded hip twist", "40 per side",
    ("Loop a band around the pelvis and anchor it at waist height to one side; step out until it pulls.",
     "Stand on one leg, hands on the hips, and turn the pelvis in and out against the band.",
     "Keep the hips level throughout; then turn round and stand on the other leg."),
    "The pelvis turns, the trunk stays quiet, and the hips stay level (`tiltguard drill banded-hip-twist`).")
ROTISSERIE_CHICKEN = Drill(
    "Rotisserie chicken", "2 sets of 8 per side",
    ("Lie on your back with one heel in a suspension strap and lift the hips into a bridge.",
     "Keeping the bridge, rotate the pelvis out (the free hip towards the floor) and back in (towards the "
     "ceiling).",
     "Slow turns; then the other leg in the strap."),
    "The hips stay up: the rotation happens around the strapped leg, the bridge does not sag "
    "(`tiltguard drill rotisserie-chicken`).")
HAMSTRING_ISOMETRIC = Drill(
    "Hamstring isometric holds", "5 holds of 30–45 s",
    ("Lie on your back with one heel on a bench or a step, knee slightly bent.",
     "Press the heel down into the bench as if to pull it towards you, without moving.",
     "Hold at a strength that does not hurt (about half effort), rest 1 minute between holds."),
    "No pain during or after: lower the effort if it hurts.")
RIDE_POSITION_RESET = Drill(
    "Position reset on the bike", "a few strokes every 10–15 minutes",
    ("Shift to a slightly harder gear, stand on the pedals for 5–10 strokes.",
     "Sit back down at the rear of the saddle and let the pelvis settle upright before pedalling on."),
    "If the pelvis keeps rolling forward, have the saddle height and reach checked.")

DRILLS_BY_ADVICE: dict[str, tuple[Drill, ...]] = {
    "after-hip-flexor-test": (HIP_FLEXOR_TEST,),
    "after-hip-flexor-stretch": (HIP_FLEXOR_STRETCH, TWISTED_WARRIOR),
    "after-glute-bridge": (GLUTE_BRIDGE,),
    "after-bird-dog": (BIRD_DOG,),
    "after-kickstand-rdl": (KICKSTAND_RDL,),
    "after-rotation-stability": (TWISTED_WARRIOR, BANDED_HIP_TWIST, ROTISSERIE_CHICKEN),
    "after-sore-isometrics": (HAMSTRING_ISOMETRIC,),
    "ride-forward-roll": (RIDE_POSITION_RESET,),
    "ride-rock-growth": (RIDE_POSITION_RESET,),
}
