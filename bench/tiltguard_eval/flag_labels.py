"""The labelled scenario set: which flags each simulated scenario is built to raise (empty = a hard
negative). Shared by bench/flags.py and the flag tests."""

LABELLED_SCENARIOS: dict[str, set[str]] = {
    "run-sustained-anterior": {"sustained_anterior_tilt"},
    "run-fatigue-creep": {"sustained_anterior_tilt", "tilt_creep"},
    "run-asymmetric-drop": {"excess_pelvic_drop"},
    "run-unstable-rotation": {"rotation_variability"},
    "ride-fatigue": {"ride_forward_roll", "ride_rock_growth"},
    # hard negatives
    "easy-run-neutral": set(),
    "run-hill-repeats": set(),
    "run-hill-sprints": set(),
    "stand-tie-shoes": set(),
    "ride-drops": set(),
    "run-sensor-reclipped": set(),
    "walk-to-run": set(),
    "run-turns-stops": set(),
    "run-street-corners": set(),
    "track-intervals": set(),
    "sensor-upside-down": set(),
    "walk-easy": set(),
    "treadmill-run": set(),
    "trainer-ride": set(),
    "ride-steady": set(),
}
