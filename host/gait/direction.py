"""Which way along the pelvis' fore-aft axis is forward, from the steps (no speed gained: a treadmill).

A stage after side-free contact detection (host.gait.contacts, whose timing does not depend on which way
the trial axis points). Walking and running brake over very different parts of the step, so each gait has its own cues:

- walking, early-stance braking: the mean fore-aft acceleration over the first half of each step points
  back (loading response to mid-stance).
- running, loading brakes: at the steepest rise of the vertical acceleration after each contact (the loading
  rise) the ground pushes the body backwards. A fixed half-step window reads propulsion in running (real
  treadmill running: braking over the first 20 % of the step in 31/31 trials and 16/16 virtual sessions, net
  forward over the first 50 % in 30/31 and 16/16; bench/running.py).
- running, loading-braking coupling: within each step the fore-aft acceleration falls while the vertical one
  rises and rises while it falls: their correlation along the true forward axis is negative (pinned on the
  real running sets by tests/test_running_data.py). Real lower-back walking does not follow it (mobgap: weak,
  and the other way in some bouts), so walking does not use it.

Where the steps have flights (running) the cues are read at the pelvis' centre, found from the flights
(host.gait.lever_arm): worn higher or off the spine, the pod's own fore-aft reading carries the pelvis' pitch
acceleration times its height, as large as the braking.

Each cue gives a per-step statistic and a t value over the steps. The decision needs one strong cue and no
cue that points the other way (docs/orientation.md); otherwise no guess. The pipeline hands
`direction_from_steps` to the alignment (calibration.alignment, `step_sign=`).
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt
from tiltguard.calibration.axes import pelvis_frame
from tiltguard.calibration.forward_sign import (
    BRAKING_MIN_STEPS,
    BRAKING_WINDOW_S,
    STRONG_T,
    DirectionCue,
    DirectionDecision,
    decide,
)

from .body_frame import level_signals
from .contacts import detect_in_level_signals
from .lever_arm import centre_and_its_signals

# Walking brakes until mid-stance: the mean over the first half of the step (real lower-back walking, mobgap:
# t = 2.8-9.6 along the true forward axis). Running brakes only over the loading rise, ~15-25 % of the step;
# over the first half it is net forward (bench/running.py), so running has its own cues.
WALKING_BRAKING_SHARE = 0.5
WALKING_STRONG_T = 3.0
RUNNING_STEP_S = 0.42  # a median step shorter than this (> ~143 steps/min) is running: flight, short stance
LOADING_SEARCH_SHARE = 0.4  # the steepest loading rise lies within this share of the step after the contact ...
LOADING_LEAD_S = 0.05  # ... or just before it (a detected contact can lag the true one: no impact spike)
LOADING_HALF_S = 0.015  # the fore-aft acceleration is read over +-15 ms around the steepest rise
FORE_AFT_BAND_HZ = (0.5, 15.0)
# The coupling cue and the braking cue need enough steps for a t value to mean something; fewer steps than
# BRAKING_MIN_STEPS are accepted when the cues are very consistent (a short treadmill trial).
MIN_STEPS = 8


def _t(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return 0.0
    return float(values.mean() / (values.std(ddof=1) / np.sqrt(len(values)) + 1e-12))


def step_cues(fore_aft: np.ndarray, vertical: np.ndarray, contacts: np.ndarray, rate_hz: float,
              running: bool) -> list[DirectionCue]:
    """The step cues for the axis `fore_aft` is taken along (level frame, m/s², gravity removed from
    `vertical`), from side-free contact sample indices. Walking and running brake differently, so each gait
    has its own (module docstring)."""
    sos = butter(2, FORE_AFT_BAND_HZ, btype="band", fs=rate_hz, output="sos")
    fa = sosfiltfilt(sos, fore_aft)
    vert = sosfiltfilt(sos, vertical)
    jerk = np.gradient(vert) * rate_hz
    contacts = np.sort(contacts[(contacts >= 0) & (contacts < len(fa))])
    early, rise, coupling = [], [], []
    half = max(1, int(LOADING_HALF_S * rate_hz))
    for a, b in zip(contacts[:-1], contacts[1:]):
        if b - a < 4 or (b - a) / rate_hz > 1.5:  # a pause between steps is not a step
            continue
        if not running:
            early.append(fa[a: a + max(2, int(WALKING_BRAKING_SHARE * (b - a)))].mean())
            continue
        lo = max(0, a - int(LOADING_LEAD_S * rate_hz))
        steepest = lo + int(np.argmax(jerk[lo: a + max(2, int(LOADING_SEARCH_SHARE * (b - a)))]))
        rise.append(fa[max(0, steepest - half): steepest + half + 1].mean())
        coupling.append(np.corrcoef(fa[a:b], jerk[a:b])[0, 1])
    n = len(rise) if running else len(early)

    def cue(name, values, what, decisive=STRONG_T):
        t = -_t(np.asarray(values))  # > 0: braking along the axis, so it points forward
        mean = float(np.nanmean(values)) if n else 0.0
        return DirectionCue(name, int(np.sign(t)), abs(t), f"{n} steps, {what} {mean:+.2f}", decisive=decisive)

    if not running:
        return [cue("early-stance braking", early, "mean fore-aft (m/s²) over the first half of the step",
                    WALKING_STRONG_T)]
    return [cue("loading brakes", rise, "mean fore-aft (m/s²) at the steepest loading rise"),
            cue("loading-braking coupling", coupling, "mean r between fore-aft and the vertical's rate of change")]


def direction_from_steps(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, up_sensor: np.ndarray,
                         axis_sensor: np.ndarray, bout: tuple[int, int]) -> DirectionDecision:
    """Decision on `axis_sensor` (sensor axes, either sign) from the steps of the bout (its first 120 s)."""
    a, b = bout
    b = min(b, a + int(BRAKING_WINDOW_S * rate_hz))
    acc, gyr = np.asarray(acc, float)[a:b], np.asarray(gyr, float)[a:b]
    trial = pelvis_frame(up_sensor, axis_sensor)
    sig = level_signals(acc, gyr, rate_hz, trial)
    # braking is the body's: where the steps have flights, read it at the pelvis' centre, not at the pod
    centre, at_centre = centre_and_its_signals(acc, gyr, sig, trial)
    where = ""
    if at_centre is not None:
        sig = at_centre
        where = f", at the pelvis' centre ({100 * np.linalg.norm(centre.r):.0f} cm from the pod)"
    contacts = detect_in_level_signals(sig).samples(len(sig.acc))
    if len(contacts) < MIN_STEPS + 1:
        return DirectionDecision(0, [], f"{len(contacts)} steps: at least {MIN_STEPS + 1} are needed")
    running = float(np.median(np.diff(contacts))) / rate_hz < RUNNING_STEP_S
    if not running and len(contacts) < BRAKING_MIN_STEPS + 1:  # walking has one cue: it needs the steps
        return DirectionDecision(0, [], f"{len(contacts)} walking steps: at least {BRAKING_MIN_STEPS + 1} are needed")
    cues = step_cues(sig.acc[:, 0], sig.vertical, contacts, rate_hz, running)
    for c in cues:
        c.detail += where
    if len(contacts) < BRAKING_MIN_STEPS + 1 and len({c.sign for c in cues}) > 1:
        for c in cues:  # few steps: they decide only if every step cue points the same way
            c.decisive = float("inf")
    return decide(cues)
