"""Guided tests and drills (issue 20): the engine on simulated people (no Qt), the frame from gravity, the
offline command and its JSON, the store, the drill page in headless Chromium, the advice's link to its test."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from tiltguard.host.drills import (
    DRILLS,
    DrillTracker,
    analyse_recording,
    compare_sides,
    get_drill,
)
from tiltguard.host.drills.frame import body_from_sensor, euler_zxy
from tiltguard.host.drills.results import RepResult
from tiltguard.host.rawcsv import write_raw
from tiltguard.host.report.build import drill_entries
from tiltguard.host.report.chromium import find_chromium, run_headless
from tiltguard.host.report.drill_page import (
    check_for_advice,
    drill_progress_table,
    history_rows,
    write_drill_page,
)
from tiltguard.host.simulator.drills import PLANS, Person, simulate_drill
from tiltguard.host.store import SessionStore
from tiltguard.host.store.drills import drill_results, save_drill_result
from tiltguard_eval.drill_scoring import score_result, truth_reps


def test_the_simulator_and_the_catalogue_know_the_same_drills():
    assert set(PLANS) == set(DRILLS)
    for name, plan in PLANS.items():
        spec = DRILLS[name]
        assert (plan.position, plan.sides, plan.two_way) == (spec.position, spec.sides, spec.two_way), name


@pytest.mark.parametrize("position,turned_forward,pitch", [("prone", True, 90.0), ("supine", False, -90.0),
                                                           ("bow", True, 30.0)])
def test_body_frame_from_two_gravity_directions_for_any_mounting(position, turned_forward, pitch):
    rng = np.random.default_rng(4)
    for _ in range(20):
        mount = Rotation.random(random_state=rng)  # R_body<-sensor
        heading = Rotation.from_euler("z", rng.uniform(-np.pi, np.pi))
        up_stand = (heading * mount).inv().apply([0, 0, 1])
        other = heading * Rotation.from_euler("Y", pitch, degrees=True)
        up_other = (other * mount).inv().apply([0, 0, 1])
        est = body_from_sensor(up_stand, up_other, turned_forward)
        assert np.degrees(Rotation.from_matrix(est @ mount.as_matrix().T).magnitude()) < 1e-6


def test_euler_matches_the_project_convention():
    r = Rotation.from_euler("ZXY", [0.3, -0.2, 0.1])  # rotation, obliquity, tilt (host.frames)
    assert np.allclose(euler_zxy(r.as_matrix()), (0.3, -0.2, 0.1))


def test_bridge_reps_holds_and_angles_against_truth():
    """A whole glute-bridge session (3 x 10, 3-s holds) of one simulated person, pod clipped on any way round."""
    rec, truth = simulate_drill("glute-bridge", seed=5)
    spec = DRILLS["glute-bridge"]
    res = analyse_recording(rec, spec)
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth.sets] == [10, 10, 10]
    sc = score_result(res, truth, spec)
    assert sc.false_reps == 0
    m = sc.metrics()
    assert m["hold_error_s"] < 0.5
    assert m["tilt_excursion_rmse_deg"] < 1.0 and m["rotation_excursion_rmse_deg"] < 1.5
    tops = [r.tilt_deg for r in res.reps]
    assert -30 < np.median(tops) < -8  # a bridge tips the pelvis backwards


def test_a_pod_whose_gyro_is_several_degrees_per_second_off_counts_and_measures_the_same():
    """A MEMS gyro can be 5-10 deg/s off; VQF learns at most 2 deg/s per axis, so the pelvis never looked still
    and the session never left "Stand tall and still" (0 of 48 kickstand reps). The stand's steady rate is
    taken as the offset: the same reps, the same angles."""
    from dataclasses import replace

    rec, truth = simulate_drill("kickstand-rdl", seed=3)
    plain = analyse_recording(rec, "kickstand-rdl")
    off = analyse_recording(replace(rec, gyr=rec.gyr + np.radians([5.0, -4.0, 3.0])), "kickstand-rdl")
    assert len(off.reps) == len(plain.reps) == len(truth.reps)
    tilt = np.array([[a.tilt_deg, b.tilt_deg] for a, b in zip(plain.reps, off.reps)])
    assert np.abs(tilt[:, 0] - tilt[:, 1]).max() < 0.5


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_lone_rep_and_the_fidgets_around_it_are_not_a_set(seed):
    """Stand, lie down, one bridge, then rest full of fidgets (1-8 deg about any axis): a single lift is below
    the drill's minimum set, and the fidgets are no reps."""
    rec, truth = simulate_drill("glute-bridge", seed=seed, sets=1, reps=1)
    res = analyse_recording(rec, "glute-bridge")
    assert truth.rest_s > 10 and len(res.reps) == 0


def test_alternating_sides_are_told_apart():
    person = Person(control="good", tempo=1.0, amplitude=1.0, partial_share=0.0, pause_share=0.0)
    rec, truth = simulate_drill("bird-dog", seed=2, person=person, sets=1)
    res = analyse_recording(rec, "bird-dog")
    true = truth_reps(truth, DRILLS["bird-dog"])[0]
    got = res.sets[0].reps
    assert len(got) == len(true) == 16
    assert [r.side for r in got] == [t["side"] for t in true]


def test_fault_cue_within_250_ms_of_the_fault_starting():
    person = Person(control="poor", tempo=1.0, amplitude=1.0, partial_share=0.0, pause_share=0.0)
    rec, truth = simulate_drill("glute-bridge", seed=7, person=person, sets=1)
    spec = DRILLS["glute-bridge"]
    tracker = DrillTracker(spec, rec.rate_hz)
    n = int(0.05 * rec.rate_hz)  # the live view's blocks
    for a in range(0, len(rec), n):
        tracker.feed(rec.t[a:a + n], rec.acc[a:a + n], rec.gyr[a:a + n])
    cues = [e.t for e in tracker.events if e.kind == "fault_start"]
    st = truth.sets[0]
    tol = spec.faults[0].tolerance_deg
    onsets = []
    for r in truth_reps(truth, spec)[0]:
        if "rock" in r["faults"]:
            sel = (st["t"] >= r["start_s"]) & (st["t"] <= r["end_s"])
            onsets.append(st["t"][sel][np.abs(st["angles_deg"][sel, 2]) > tol][0])
    assert onsets, "this poor-control person must rock on some reps"
    delays = [min((c - o for c in cues if c >= o - 0.3), default=np.inf) for o in onsets]
    assert max(delays) <= 0.25, delays


def test_a_one_degree_difference_is_not_an_asymmetry_but_six_is():
    spec = DRILLS["hip-flexor-test"]

    def rep(side, tilt):
        return RepResult(0, 1, 2, side, 10.0, tilt, 0.0, 0.0, -tilt)

    same = compare_sides(spec, [rep("left", -11.0), rep("right", -12.0), rep("left", -11.5), rep("right", -12.2)])
    assert same.verdict == "no clear difference"
    tight = compare_sides(spec, [rep("left", -6.0), rep("right", -12.0), rep("left", -6.5), rep("right", -12.4)])
    assert tight.verdict == "left worse" and "6" in tight.text


def test_user_tolerances_change_the_faults():
    rec, truth = simulate_drill("glute-bridge", seed=5, sets=1)
    strict = analyse_recording(rec, "glute-bridge", {"rock": 1.0})
    loose = analyse_recording(rec, "glute-bridge", {"rock": 30.0})
    assert sum(bool(r.faults) for r in strict.reps) > sum(bool(r.faults) for r in loose.reps) == 0
    with pytest.raises(ValueError, match="no fault arch"):
        get_drill("glute-bridge").with_tolerances({"arch": 5})


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tiltguard", *args], capture_output=True, text=True, cwd=cwd)


def test_offline_command_json_store_and_drill_page_in_chromium(tmp_path):
    rec, truth = simulate_drill("hip-flexor-test", seed=3)
    raw = tmp_path / "raw.csv"
    write_raw(raw, rec)
    out, db, rep = tmp_path / "out.json", tmp_path / "s.db", tmp_path / "rep"
    r = _cli("test", "hip-flexor-test", "--file", str(raw), "--json", str(out), "--db", str(db), "--report", str(rep))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["schema"] == "tiltguard-drill/1" and data["drill"] == "hip-flexor-test"
    assert [len(s["reps"]) for s in data["sets"]] == [1, 1, 1, 1]
    assert [s["side"] for s in data["sets"]] == ["left", "right", "left", "right"]
    true = [r for reps in truth_reps(truth, DRILLS["hip-flexor-test"]) for r in reps]
    for got, want in zip([r for s in data["sets"] for r in s["reps"]], true):
        assert abs(got["top_s"] - want["top_s"]) < 1.0
        assert abs(got["hold_s"] - want["hold_s"]) < 0.5
        assert abs(got["tilt_deg"] - want["tilt_deg"]) < 1.0
    with SessionStore(db) as store:
        stored = drill_results(store, "hip-flexor-test")
        assert len(stored) == 1 and stored[0][1]["sets"] == data["sets"]
        assert history_rows(store, "hip-flexor-test")[0]["reps"] == 4
        check = check_for_advice("after-hip-flexor-test", store)
        progress = drill_progress_table(store)
    assert "Kneeling hip-flexor test (test)" in progress and "4 reps" in progress
    assert check["command"] == "tiltguard test hip-flexor-test" and "hip-flexor test" in check["last"]

    listed = _cli("drill", "--list")
    assert listed.returncode == 0 and all(name in listed.stdout for name in DRILLS)
    bad = _cli("drill", "no-such-drill", "--file", str(raw))
    assert bad.returncode == 2 and "unknown drill" in bad.stderr and "Traceback" not in bad.stderr

    exe = find_chromium()
    if exe is None:
        pytest.skip("Chromium not found (apt-get install chromium, or TILTGUARD_CHROMIUM)")
    html = rep / "drill.html"
    dom = run_headless(["--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom", html.as_uri()]).stdout
    assert "Kneeling hip-flexor test" in dom and 'id="sides"' in dom
    imgs = re.findall(r'<img src="data:image/svg\+xml;base64,[^"]+"', dom)
    assert len(imgs) == 2  # the reps and the form figures
    shot = tmp_path / "page.png"
    run_headless(["--window-size=1280,1400", "--virtual-time-budget=5000", f"--screenshot={shot}", html.as_uri()])
    assert shot.stat().st_size > 20_000  # a page with drawn figures, not a blank one


def test_drill_page_writes_without_a_store(tmp_path):
    rec, _ = simulate_drill("bird-dog", seed=0, sets=1)
    data = analyse_recording(rec, "bird-dog").to_json()
    path = write_drill_page(data, tmp_path)
    assert "Bird dog" in path.read_text()


def test_store_keeps_one_result_per_drill_and_session(tmp_path):
    with SessionStore(tmp_path / "s.db") as store:
        dev = store.device("pod", "sim")
        sid = store.begin_session(dev, "live")
        save_drill_result(store, sid, {"drill": "glute-bridge", "sets": []})
        save_drill_result(store, sid, {"drill": "glute-bridge", "sets": [{"reps": []}]})
        got = drill_results(store)
    assert len(got) == 1 and got[0][1]["sets"] == [{"reps": []}]


def test_run_report_advice_links_to_the_test_that_checks_it():
    class Advice:
        id, reason = "after-hip-flexor-test", "tilt"

    entries = drill_entries([Advice()])
    assert entries[0]["check"]["command"] == "tiltguard test hip-flexor-test"
