"""Flags: the shared state machine, the rules on simulated sessions, and live/post agreement."""
from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from tiltguard.host.analysis import analyse_recording
from tiltguard.host.flags import (
    FLAG_TYPES,
    FlagSettings,
    LiveFlagEngine,
    UserProfile,
    detect_flags,
)
from tiltguard.host.flags.sustain import Sustain
from tiltguard.host.gait.cycles import CycleTable, ride_cycles, stride_cycles
from tiltguard.host.live_analysis import LivePipeline
from tiltguard.host.simulator import simulate
from tiltguard_eval.flag_labels import LABELLED_SCENARIOS


@lru_cache(maxsize=None)
def truth_cycles(name: str, seed: int = 5):
    """Per-stride / per-ride-window records from the simulator's true angles and contacts."""
    _, tr = simulate(name, rate_hz=100, seed=seed)
    table = CycleTable.concat([
        stride_cycles(tr.t, tr.tilt_rel, tr.obliquity, tr.rotation, tr.activity, tr.ic_times, tr.ic_sides == "L"),
        ride_cycles(tr.t, tr.tilt_rel, tr.obliquity, tr.activity),
    ])
    return table, tr


# --- the state machine -------------------------------------------------------------------------------

def feed(sustain, values, dt=1.0):
    events = []
    for i, v in enumerate(values):
        kind, ep = sustain.update(i * dt, v)
        if kind:
            events.append((kind, i * dt, ep.start, ep.end))
    return events


def test_sustain_needs_min_duration_and_ends_after_hold():
    s = Sustain(on_level=5, off_level=4, min_s=30, hold_s=10, max_pause_s=60)
    values = [3] * 10 + [6] * 40 + [4.5] * 20 + [3] * 30
    events = feed(s, values)
    assert events[0][:3] == ("start", 40.0, 10.0)  # began at 10 s, decided 30 s later
    # 4.5 is above the off level: still holding; ends 10 s after dropping below 4, dated when it dropped.
    assert events[1][0] == "end" and events[1][3] == 70.0 and events[1][1] == 80.0


def test_sustain_ignores_short_bursts_and_tolerates_short_dips():
    s = Sustain(5, 4, min_s=30, hold_s=10, max_pause_s=60)
    assert feed(s, [6] * 20 + [3] * 20) == []  # 20 s above: not sustained
    s = Sustain(5, 4, min_s=30, hold_s=10, max_pause_s=60)
    wobble = [6] * 15 + [4.8] * 5 + [6] * 15  # a 5-s dip while building up
    assert feed(s, wobble)[0][:3] == ("start", 30.0, 0.0)
    s = Sustain(5, 4, min_s=30, hold_s=10, max_pause_s=60)
    assert feed(s, [6] * 15 + [4.8] * 12 + [6] * 25) == []  # a 12-s dip restarts the clock


def test_sustain_long_pause_ends_the_flag():
    s = Sustain(5, 4, min_s=10, hold_s=10, max_pause_s=60)
    for t in range(20):
        s.update(float(t), 6.0)
    kind, ep = s.update(200.0, 6.0)  # 3 minutes without a stride
    assert kind == "end" and ep.end == 19.0


# --- rules on simulated sessions ---------------------------------------------------------------------

EXPECTED = LABELLED_SCENARIOS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_flags_on_true_inputs(name):
    table, _ = truth_cycles(name)
    assert {f.type for f in detect_flags(table)} == EXPECTED[name]


def test_sustained_flag_matches_the_truth_interval_and_carries_its_evidence():
    table, tr = truth_cycles("run-sustained-anterior")
    (flag,) = detect_flags(table)
    (a, b), = tr.sustained_tilt_intervals()
    assert abs(flag.start - a) < 15 and abs(flag.end - b) < 15
    assert flag.activity == "running"
    assert 8.0 < flag.peak < 11.0 and 7.5 < flag.mean < 10.0  # commanded +9 deg
    ev = flag.evidence
    assert ev["threshold"] == 5.0 and ev["sustained_for_s"] >= 30 and ev["unit"] == "deg"


def test_drop_flag_names_the_side_that_drops():
    table, _ = truth_cycles("run-asymmetric-drop")
    (flag,) = detect_flags(table)
    assert flag.evidence["side_that_drops"] == "right"  # the scenario drops the right side more
    assert flag.evidence["drop_right_deg"] > flag.evidence["drop_left_deg"] + 3


def test_the_drop_flag_stays_silent_where_the_feet_are_a_guess():
    # host.gait.sides: where the side cue did not agree with the labels, the side that drops is unknown
    table, _ = truth_cycles("run-asymmetric-drop")
    assert detect_flags(table, unsided=("running",)) == []
    assert [f.type for f in detect_flags(table, unsided=("walking",))] == ["excess_pelvic_drop"]
    live = LiveFlagEngine()
    assert not [e for c in table.cycles() for e in live.feed(c, sided=False)]


def test_live_engine_decides_promptly_and_agrees_with_post():
    table, tr = truth_cycles("run-fatigue-creep")
    live = LiveFlagEngine()
    events = []
    for cycle in table.cycles():
        events += [(e.kind, e.flag.type, e.t) for e in live.feed(cycle)]
    events += [(e.kind, e.flag.type, e.t) for e in live.finish()]
    post = detect_flags(table)
    assert [(f.type, f.start, f.end) for f in sorted(live.flags, key=lambda f: (f.start, f.type))] == \
        [(f.type, f.start, f.end) for f in post]
    kinds = [k for k, typ, _ in events if typ == "sustained_anterior_tilt"]
    assert kinds[0] == "start" and kinds[-1] == "end" and "ongoing" in kinds


def test_live_engine_decides_within_10_s_of_the_pattern_becoming_sustained():
    table, tr = truth_cycles("run-sustained-anterior")
    live = LiveFlagEngine()
    starts = [e.t for c in table.cycles() for e in live.feed(c) if e.kind == "start"]
    (a, _), = tr.sustained_tilt_intervals()
    assert len(starts) == 1
    assert 0 <= starts[0] - (a + FlagSettings().tilt_min_s) <= 10


def test_per_user_thresholds_change_the_outcome(tmp_path):
    table, _ = truth_cycles("run-sustained-anterior")
    strict = FlagSettings(tilt_threshold_deg=10.0)
    assert detect_flags(table, strict) == []
    path = tmp_path / "me.json"
    UserProfile(name="Ana", sore_side="right", flag_overrides={"tilt_threshold_deg": 10.0}).save(path)
    assert UserProfile.load(path).settings() == strict
    path.write_text('{"flag_overrides": {"tilt_treshold": 6}}')
    with pytest.raises(ValueError, match="unknown flag setting"):
        UserProfile.load(path)


def test_every_flag_type_has_a_positive_scenario():
    assert set().union(*EXPECTED.values()) == set(FLAG_TYPES)


def test_the_flag_defaults_are_the_truths_definition_of_sustained_tilt():
    from tiltguard.host.flags.settings import FlagSettings
    from tiltguard.host.simulator import truth

    d = FlagSettings()
    assert (d.tilt_threshold_deg, d.tilt_min_s) == (truth.SUSTAINED_TILT_THRESHOLD_DEG, truth.SUSTAINED_TILT_MIN_S)


def _side_flagged(rec) -> tuple[list, list]:
    """The sides the excess-drop flag names on `rec`, post-session and live (with a stand)."""
    post = [f.evidence["side_that_drops"] for f in analyse_recording(rec).flags if f.type == "excess_pelvic_drop"]
    p, live = LivePipeline(rec.rate_hz), []
    p.request_stand()
    for i in range(0, len(rec.t), 10):
        live += [n.flag.evidence["side_that_drops"] for n in p.feed(rec.t[i:i + 10], rec.acc[i:i + 10],
                                                                   rec.gyr[i:i + 10]).flags
                 if n.kind == "start" and n.flag.type == "excess_pelvic_drop"]
    return post, live


def test_the_side_a_drop_flag_names_comes_from_the_body():
    # The mirror image of a runner whose right side drops (left for right, read on the same pod) has its left
    # side drop: the flag must name the other side, post and live, not the same one by some fixed convention.
    rec, truth = simulate("run-asymmetric-drop", minutes=3, rate_hz=100, seed=1)
    w, x, y, z = truth.quat_mount[0]
    left = Rotation.from_quat([x, y, z, w]).as_matrix().T @ np.array([0.0, 1.0, 0.0])  # pelvis' left, pod axes
    m = np.eye(3) - 2 * np.outer(left, left)
    mirror = replace(rec, acc=rec.acc @ m.T, gyr=-(rec.gyr @ m.T))  # the angular rate is an axial vector
    assert _side_flagged(rec) == (["right"], ["right"])
    assert _side_flagged(mirror) == (["left"], ["left"])
