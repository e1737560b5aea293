"""What each number in the report means: label, unit, definition, decimals shown, and the typical range the
literature gives (with its reference), if it gives one. Data, not logic: the report builder looks metrics
up here by key.

The literature ranges are the ones this project already cites for its simulator and flags (docs/simulator.md,
docs/flags.md); where no source gives a range, the report says so instead of inventing one.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Literature:
    text: str  # how the range reads in the table
    refs: tuple[str, ...]
    low: float | None = None  # numeric bounds when the source gives a range (same unit as the metric)
    high: float | None = None


@dataclass(frozen=True)
class MetricDef:
    key: str
    label: str
    unit: str
    decimals: int
    definition: str
    literature: dict[str, Literature]  # activity -> range ('running', 'walking', 'riding')
    history: bool = True  # compared with the wearer's earlier sessions


_RUN_TILT_RANGE = Literature("5–10° per stride (twice per stride)", ("Schache 2000", "Novacheck 1998"), 5.0, 10.0)
_DROP = Literature("healthy runners ~5–6°, injured ~7–8°", ("Bramah 2018",), 5.0, 6.0)

METRICS: dict[str, MetricDef] = {m.key: m for m in [
    MetricDef("moving_min", "Moving time", "min", 1,
              "Time spent in the session's main activity (pauses and stands left out).", {}, history=False),
    MetricDef("cadence_spm", "Cadence", "steps/min", 1,
              "Median over the strides of 120 / stride time (two steps per stride).", {}),
    MetricDef("mean_tilt_deg", "Mean pelvic tilt", "°", 1,
              "Mean tilt over the samples of the main activity, relative to your standing neutral; > 0 is "
              "anterior (forward).",
              {"running": Literature("a few degrees anterior of standing", ("Schache 2000",))}),
    MetricDef("anterior_tilt_min", "Time in anterior tilt", "min", 1,
              "Time covered by 'sustained anterior tilt' flags: the 10-s mean stride tilt stayed more than the "
              "threshold above neutral for at least the flag's minimum time.", {}),
    MetricDef("anterior_tilt_pct", "Share in anterior tilt", "%", 1,
              "Time in anterior tilt as a share of the moving time.", {}),
    MetricDef("above_threshold_pct", "Strides above threshold", "%", 1,
              "Share of the moving time in strides whose own mean tilt was above the threshold, sustained or not.",
              {}),
    MetricDef("tilt_creep_deg", "Tilt creep", "°", 1,
              "Rise of the fitted stride-averaged tilt from its early level to the end (hinge fit: flat, then a "
              "straight rise from the onset).", {}),
    MetricDef("tilt_range_deg", "Tilt range per stride", "°", 1,
              "Mean over strides of the peak-to-peak tilt within the stride.",
              {"running": _RUN_TILT_RANGE,
               "walking": Literature("about 3°", ("Perry & Burnfield 2010",))}),
    MetricDef("obliquity_range_deg", "Obliquity range per stride", "°", 1,
              "Mean over strides of the peak-to-peak obliquity (frontal-plane rise and drop).",
              {"running": Literature("10–16° (±5–8°)", ("Schache 2000", "Novacheck 1998"), 10.0, 16.0),
               "walking": Literature("about 8° (±4°)", ("Perry & Burnfield 2010",))}),
    MetricDef("drop_left_deg", "Pelvic drop, left side", "°", 1,
              "Median over strides of the peak drop of the left side while it swings (right-leg stance), "
              "from standing level; in bends against the body's lean into the turn.",
              {"running": _DROP}),
    MetricDef("drop_right_deg", "Pelvic drop, right side", "°", 1,
              "Median over strides of the peak drop of the right side while it swings (left-leg stance), "
              "from standing level; in bends against the body's lean into the turn.",
              {"running": _DROP}),
    MetricDef("drop_asymmetry_deg", "Drop asymmetry", "°", 1,
              "Right drop minus left drop; > 0 means the right side drops more.", {}),
    MetricDef("rotation_range_deg", "Rotation range per stride", "°", 1,
              "Median over strides of the peak-to-peak transverse rotation of the pelvis.",
              {"running": Literature("10–20° (±5–10°)", ("Schache 2000", "Novacheck 1998"), 10.0, 20.0),
               "walking": Literature("about 10° (±5°)", ("Perry & Burnfield 2010",))}),
    MetricDef("rotation_range_cv_pct", "Rotation variability", "%", 1,
              "Stride-to-stride coefficient of variation of the rotation range (SD / mean).", {}),
    MetricDef("stride_time_cv_pct", "Stride time variability", "%", 1,
              "Stride-to-stride coefficient of variation of the stride time.", {}),
    MetricDef("step_time_asymmetry_pct", "Step time asymmetry", "%", 1,
              "(left step − right step) / mean step time; a left step runs from left to right contact.", {}),
    MetricDef("vertical_oscillation_cm", "Vertical oscillation", "cm", 1,
              "Mean peak-to-peak rise and fall of the sacrum per step, from the vertical acceleration "
              "integrated twice within each step (Zijlstra & Hof 2003).",
              {"running": Literature("6–10 cm, less at higher cadence", ("Heiderscheit 2011",), 6.0, 10.0)}),
    MetricDef("contact_time_ms", "Ground contact time", "ms", 0,
              "Median time a foot is on the ground per running step, from the sacrum's vertical force pulse "
              "(host.gait.stance; docs/gait.md gives its accuracy against force plates).", {}),
    MetricDef("flight_time_ms", "Flight time", "ms", 0,
              "Median time with both feet off the ground between running steps.", {}),
    MetricDef("contact_time_balance_pct", "Contact time balance", "% left", 1,
              "The left foot's share of the ground contact time; 50 % is even. Against force plates the sacral "
              "sensor reads it within 1 point in most sessions and within 3 in every one measured (docs/gait.md): "
              "a difference under 3 points is within what it can tell. The pod clipped off the spine's line reads "
              "the foot on its side longer, by about half a point per centimetre.", {}),
    MetricDef("braking_mps2", "Braking", "m/s²", 1,
              "Median peak fore-aft deceleration of the sacrum between a foot's contact and mid-stance.", {}),
    MetricDef("pedal_cadence_rpm", "Pedal cadence", "rpm", 1,
              "Crank revolutions per minute, from the phase of the pelvic rock (one rock per revolution).", {}),
    MetricDef("saddle_tilt_deg", "Saddle tilt", "°", 1,
              "Mean tilt over the riding samples relative to your standing neutral; > 0 is rolled forward.", {}),
    MetricDef("ride_tilt_drift_deg_per_h", "Tilt drift", "°/h", 1,
              "Least-squares slope of the 10-s window tilts over the ride.", {}),
    MetricDef("ride_tilt_change_deg", "Tilt change first → last 5 min", "°", 1,
              "Mean tilt of the last 5 minutes of riding minus that of the first 5.", {}),
    MetricDef("rock_range_deg", "Pelvic rock", "°", 1,
              "Mean peak-to-peak obliquity per crank revolution.", {}),
    MetricDef("rock_growth_pct", "Rock growth", "%", 1,
              "Change of the rock from the first to the last 5 minutes of riding.", {}),
    MetricDef("ride_rotation_range_deg", "Rotation per revolution", "°", 1,
              "Mean peak-to-peak rotation per crank revolution.", {}),
]}

# Which metrics a report shows for a session whose main activity is this (in this order).
GAIT_METRICS = ("moving_min", "cadence_spm", "mean_tilt_deg", "anterior_tilt_min", "anterior_tilt_pct",
                "above_threshold_pct", "tilt_creep_deg", "tilt_range_deg", "obliquity_range_deg", "drop_left_deg",
                "drop_right_deg", "drop_asymmetry_deg", "rotation_range_deg", "rotation_range_cv_pct",
                "stride_time_cv_pct", "step_time_asymmetry_pct", "vertical_oscillation_cm", "contact_time_ms",
                "flight_time_ms", "contact_time_balance_pct", "braking_mps2")
# No "time in anterior tilt" for rides: on a saddle the pelvis always sits far forward of standing.
RIDE_METRICS = ("moving_min", "pedal_cadence_rpm", "saddle_tilt_deg", "ride_tilt_drift_deg_per_h", "ride_tilt_change_deg", "rock_range_deg", "rock_growth_pct",
                "ride_rotation_range_deg")

# The history page's columns (per session, across weeks).
HISTORY_METRICS = ("mean_tilt_deg", "anterior_tilt_min", "anterior_tilt_pct", "cadence_spm", "pedal_cadence_rpm",
                   "drop_asymmetry_deg")

REFERENCES = {
    "Baker 2001": "Baker R (2001). Pelvic angles: a mathematically rigorous definition which is consistent with a "
                  "conventional clinical understanding of the terms. Gait & Posture 13:1–6.",
    "Bramah 2018": "Bramah C, Preece SJ, Gill N, Herrington L (2018). Is there a pathological gait associated with "
                   "common soft tissue running injuries? Am J Sports Med 46:3023–3031.",
    "Heiderscheit 2011": "Heiderscheit BC, Chumanov ES, Michalski MP, Wille CM, Ryan MB (2011). Effects of step rate "
                         "manipulation on joint mechanics during running. Med Sci Sports Exerc 43:296–302.",
    "Levine & Whittle 1996": "Levine D, Whittle MW (1996). The effects of pelvic movement on lumbar lordosis in the "
                             "standing position. J Orthop Sports Phys Ther 24:130–135.",
    "Novacheck 1998": "Novacheck TF (1998). The biomechanics of running. Gait & Posture 7:77–95.",
    "Perry & Burnfield 2010": "Perry J, Burnfield JM (2010). Gait Analysis: Normal and Pathological Function, 2nd ed.",
    "Schache 2000": "Schache AG, Blanch PD, Murphy AT (2000). Relation of anterior pelvic tilt during running to "
                    "clinical and kinematic measures of hip extension. Br J Sports Med 34:279–283.",
    "Zijlstra & Hof 2003": "Zijlstra W, Hof AL (2003). Assessment of spatio-temporal gait parameters from trunk "
                           "accelerations during human walking. Gait & Posture 18:1–10.",
}
