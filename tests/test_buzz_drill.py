"""The pod's buzzer follows a guided drill (issue 20: "the pod's own buzzer can count reps for a user without
a screen").

End to end: `tiltguard drill glute-bridge --sim` runs a simulated person wearing a simulated pod (the
firmware's own app on the simulated sensor, through the live link, as a real pod); the pod prints every pulse
its firmware played. One 80-ms pulse per counted rep, the hold reached and the set's end each with their own
pattern; `--no-buzz` leaves the pod still. Then the event-to-pattern rules on the engine's own events for a
per-side drill with faults (no Qt, no pod).
"""
from __future__ import annotations

import contextlib
import io
import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt makes the QApplication

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from tiltguard.host.cli import main  # noqa: E402
from tiltguard.host.drills import DRILLS, DrillTracker  # noqa: E402
from tiltguard.host.link.buzz import buzz_args  # noqa: E402
from tiltguard.host.live.drill_buzz import (  # noqa: E402
    FAULT,
    HOLD_REACHED,
    PATTERNS,
    REP,
    SET_DONE,
    SWITCH_SIDES,
    DrillBuzz,
)
from tiltguard.host.simulator.drills import Person, simulate_drill  # noqa: E402
from tiltguard.host.store import SessionStore  # noqa: E402
from tiltguard.host.store.drills import drill_results  # noqa: E402

POD_LINE = re.compile(r"simulated pod: buzz (\d+) ms at ([\d.]+) s")
SPEED = "8"  # 8 x real time: a 2-min set in ~15 s; the pod's patterns scale with its clock


def run_command(argv: list[str]) -> tuple[int, str]:
    """`tiltguard ARGV` in this process; (exit code, what it printed, the pod's thread included)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(argv)
    return rc, out.getvalue()


def pod_pulses(text: str) -> list[tuple[float, int]]:
    return [(float(t), int(ms)) for ms, t in POD_LINE.findall(text)]


@pytest.fixture(scope="module")
def guided_set(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("buzz-drill")
    db = tmp / "sessions.db"
    rc, text = run_command(["drill", "glute-bridge", "--sim", "--sets", "1", "--seed", "3", "--speed", SPEED,
                            "--db", str(db)])
    with SessionStore(db) as store:
        (_, result), = drill_results(store, "glute-bridge")
    _, truth = simulate_drill("glute-bridge", seed=3, sets=1)
    return rc, text, result, truth


def test_the_pod_buzzes_once_per_counted_rep(guided_set):
    rc, text, result, truth = guided_set
    assert rc == 0
    pulses = pod_pulses(text)
    (one_set,) = result["sets"]
    counted = len(one_set["reps"])
    assert counted == len(truth.sets[0]["reps"]) == 10
    assert sum(ms == REP[0] for _, ms in pulses) == counted  # one short pulse per rep, no more, no less
    # each rep's pulse comes after the rep's top, in the same order as the reps
    rep_times = [t for t, ms in pulses if ms == REP[0]]
    assert np.all(np.diff(rep_times) > 2.0)  # a rep of a glute bridge with its 3-s hold takes longer


def test_the_hold_and_the_set_end_have_their_own_patterns(guided_set):
    _, text, result, _ = guided_set
    ons = [ms for _, ms in pod_pulses(text)]
    assert ons.count(SET_DONE[0]) == 1  # the one set's end
    holds = ons.count(HOLD_REACHED[0])
    reps = len(result["sets"][0]["reps"])
    assert holds % 2 == 0 and reps - 1 <= holds // 2 <= reps  # two pulses per hold reached, once per hold
    assert set(ons) <= {REP[0], HOLD_REACHED[0], FAULT[0], SET_DONE[0]}  # nothing the guidance did not ask for


def test_no_buzz_leaves_the_pod_still(tmp_path):
    rc, text = run_command(["drill", "hamstring-isometric", "--sim", "--sets", "1", "--seed", "1", "--speed", "10",
                            "--no-buzz", "--no-record"])
    assert rc == 0 and pod_pulses(text) == []


def test_sets_goes_with_sim_only(capsys):
    assert main(["drill", "glute-bridge", "--serial", "/dev/null", "--sets", "2"]) == 2
    assert "--sets N goes with --sim" in capsys.readouterr().err


class Collect:
    """What DrillBuzz asks a PodBuzzer for (the pod's side is tested above and in test_buzz_links.py)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[int, ...]]] = []

    def buzz(self, pattern, what=""):
        buzz_args(pattern)  # a pattern the pod takes
        self.asked.append((what, tuple(pattern)))
        return True


def test_each_event_has_its_pattern_on_a_per_side_drill_with_faults():
    spec = DRILLS["single-leg-bridge"]
    person = Person(control="poor", tempo=1.0, amplitude=1.0, partial_share=0.0, pause_share=0.0)
    rec, _ = simulate_drill(spec.name, seed=2, person=person, sets=2)
    tracker, pod = DrillTracker(spec, rec.rate_hz), Collect()
    follow = DrillBuzz(pod, spec)
    for a in range(0, len(rec), 25):  # the window's 50-ms... here 250 ms blocks
        follow(tracker.feed(rec.t[a : a + 25], rec.acc[a : a + 25], rec.gyr[a : a + 25]))
    kinds = [e.kind for e in tracker.events]
    asked = [p for _, p in pod.asked]
    assert asked.count(REP) == kinds.count("rep") >= 14
    assert asked.count(FAULT) == kinds.count("fault_start") > 0
    assert asked.count(SWITCH_SIDES) == kinds.count("set_end") == 2  # a set per side: each end says switch
    assert SET_DONE not in asked and HOLD_REACHED not in asked  # no hold in this drill
    # in the engine's order: the pattern follows its event
    want = [k for k in kinds if k in ("rep", "fault_start", "set_end")]
    got = {REP: "rep", FAULT: "fault_start", SWITCH_SIDES: "set_end"}
    assert [got[p] for p in asked] == want


def test_the_patterns_are_ones_the_pod_takes_and_cannot_be_mistaken_for_a_rep():
    for what, pattern in PATTERNS.items():
        buzz_args(pattern)
        if what != "rep":  # the rep is the only single short pulse
            assert len(pattern) > 1 or pattern[0] >= 5 * REP[0]
    assert len(set(PATTERNS.values())) == len(PATTERNS)


def test_the_hold_reached_is_buzzed_once_per_rep_and_only_for_that_reps_hold():
    spec = DRILLS["glute-bridge"]
    rec, _ = simulate_drill(spec.name, seed=5, sets=1)
    tracker, pod = DrillTracker(spec, rec.rate_hz), Collect()
    follow = DrillBuzz(pod, spec)
    for a in range(0, len(rec), 25):
        follow(tracker.feed(rec.t[a : a + 25], rec.acc[a : a + 25], rec.gyr[a : a + 25]))
    kinds = [e.kind for e in tracker.events]
    assert kinds.count("lower") <= kinds.count("rep")  # once per rep: "hold" is not said again after "lower"
    whats = [w for w, _ in pod.asked]
    between_reps = " | ".join(whats).split("rep ")
    assert all(chunk.count("hold reached") <= 1 for chunk in between_reps)  # at most once per rep
    assert not whats[0].startswith("rep")  # the first rep's hold was buzzed before it was counted
    # every rep but a rare one whose hold was cut short (this fast person lowers one early)
    assert kinds.count("rep") - 2 <= whats.count("hold reached") <= kinds.count("rep")
