"""Which foot is which is decided, not guessed (issue 19; host.gait.sides): the contact detector's labels alternate
whatever its side cue says, so the cue is asked whether it agrees with them. Where it cannot tell the feet apart,
what names a foot is withheld with the reason, post-session, in the report and live; the rest is kept."""
import csv
import json

import numpy as np
import pytest
from tiltguard.host.analysis import WITHHELD_WITHOUT_SIDES, analyse_recording, session_summary
from tiltguard.host.gait import sides as side_cues
from tiltguard.host.gait.events import detect_gait_events
from tiltguard.host.gait.sides import SIDE_STRONG_T, decide_sides
from tiltguard.host.gait.streaming import stream_contacts
from tiltguard.host.report.write import write_report_for_recording
from tiltguard.host.simulator import simulate
from tiltguard.host.watch.merge import stride_table
from tiltguard.host.watch.stream import WatchStream
from tiltguard_eval.running_data import load_alcantara, load_virtual


@pytest.fixture(scope="module")
def runner(virtual_dir):
    """A real runner's kinematics (virtual sacral IMU, subject02 at 3 m/s) on the product's own alignment."""
    s = next(x for x in load_virtual(virtual_dir) if x.name.endswith("subject02_run3"))
    return s, analyse_recording(s.rec).alignment.R_pelvis_sensor


@pytest.fixture
def cue_of_noise(monkeypatch):
    """The running side cue replaced by noise: the pelvis' roll then says nothing about the feet."""
    rng = np.random.default_rng(3)
    monkeypatch.setattr(side_cues, "roll_side_score", lambda sig, idx, step_s: rng.normal(0.0, 0.05, len(idx)))


def _twenty_s_of_running(s):
    a = int((s.truth.running_s[0] - s.rec.t[0]) * s.rec.rate_hz)
    sl = slice(a, a + int(20 * s.rec.rate_hz))
    return s.rec.acc[sl], s.rec.gyr[sl]


def _truth_sides(s, t):
    j = np.abs(s.truth.ic_s[None, :] - t[:, None]).argmin(axis=1)
    return s.truth.ic_left[j]


def test_a_real_runner_s_pelvis_roll_tells_the_feet_apart(runner):
    s, to_pelvis = runner
    ev = detect_gait_events(s.rec.acc, s.rec.gyr, s.rec.rate_hz, float(s.rec.t[0]), to_pelvis)
    cue = ev.contacts.sides.cues[0]
    assert ev.contacts.sides.known and cue.gait == "running" and cue.steps > 150
    assert cue.agreement > 0.98 and cue.strength > 10 * SIDE_STRONG_T
    a, b = s.truth.running_s
    running = (ev.contacts.t > a) & (ev.contacts.t < b)
    assert np.mean(ev.contacts.left[running] == _truth_sides(s, ev.contacts.t[running])) > 0.99
    live = stream_contacts(*_twenty_s_of_running(s), s.rec.rate_hz, to_pelvis)
    assert len(live) > 40 and all(c.side_known for c in live)


def test_labels_alternate_even_from_a_cue_of_noise_and_the_decision_catches_it(runner, cue_of_noise):
    s, to_pelvis = runner
    ev = detect_gait_events(s.rec.acc, s.rec.gyr, s.rec.rate_hz, float(s.rec.t[0]), to_pelvis)
    left = ev.contacts.left
    assert np.mean(left[1:] != left[:-1]) > 0.95  # the labels look as sure as ever: one foot, then the other
    decision = ev.contacts.sides
    assert not decision.known and not decision.known_for("running")
    cue = decision.cues[0]
    assert abs(cue.strength) < SIDE_STRONG_T and 0.35 < cue.agreement < 0.65
    assert "too weak to tell the feet apart" in decision.why_unknown("running")


def test_a_real_accelerometer_without_gyro_or_side_axis_has_no_sides(alcantara_dir):
    # A real sacral accelerometer (vertical and fore-aft only): the contacts and their times are found, but
    # nothing on it can tell a left foot from a right one, and the product says so instead of labelling them
    s = load_alcantara(alcantara_dir)[0]
    a = analyse_recording(s.rec)
    assert len(a.contacts.t) > 10 and a.alignment.direction_known and not a.sides_known()
    assert a.contacts.sides.why_unknown() == ("running: the pelvis roll at mid-stance reads nothing "
                                              "(no gyro or no medio-lateral axis)")


def test_a_cue_against_the_labels_or_too_few_steps_decides_nothing():
    rng = np.random.default_rng(0)
    left = np.arange(40) % 2 == 0
    signal = np.where(left, 1.0, -1.0) * 0.05 + rng.normal(0, 0.03, 40)
    running = np.ones(40, bool)
    assert decide_sides(signal, left, running).known
    assert not decide_sides(-signal, left, running).known  # the cue says the labels are the wrong way round
    assert decide_sides(signal[:5], left[:5], running[:5]).cues == []  # five steps are not judged
    walking = decide_sides(signal, left, ~running)
    assert [c.gait for c in walking.cues] == ["walking"] and walking.known_for("running")


def test_a_session_without_sides_keeps_everything_that_names_no_foot(runner, cue_of_noise):
    s, _ = runner
    a = analyse_recording(s.rec)
    assert a.alignment.direction_known and not a.sides_known("running")
    summary = session_summary(a)
    assert "too weak" in summary["sides_unknown"] and summary["sides"]["known"] is False
    assert summary["not_assessed"][WITHHELD_WITHOUT_SIDES].startswith("sides unknown: running:")
    run = summary["running"]
    for kept in ("cadence_spm", "contact_time_ms", "flight_time_ms", "braking_mps2", "drop_deg", "tilt_mean_deg"):
        assert kept in run
    assert abs(run["cadence_spm"] - s.truth.cadence_spm) < 1.0
    for withheld in ("drop_left_deg", "drop_right_deg", "contact_time_balance_pct"):
        assert withheld not in run
    assert "excess_pelvic_drop" not in [f.type for f in a.flags]
    exported = stride_table(a, WatchStream("running", np.zeros(0)), 0.0, 0.0)  # `tiltguard export` reads this
    running_rows = exported.activity == "running"
    assert np.isnan(exported.drop_left_deg[running_rows]).all() and np.isfinite(exported.tilt_deg[running_rows]).all()


def test_the_report_says_which_foot_is_which_and_how_sure(tmp_path, monkeypatch):
    rec, _ = simulate("run-asymmetric-drop", minutes=3, seed=2)
    known = json.loads(write_report_for_recording(rec, tmp_path / "known", label="run.csv").json.read_text())
    cue = known["summary"]["sides"]["cues"][0]
    assert known["summary"]["sides_unknown"] is None and cue["strength"] >= SIDE_STRONG_T
    assert {"drop_left_deg", "drop_right_deg", "drop_asymmetry_deg"} <= set(known["metrics"])

    rng = np.random.default_rng(5)
    monkeypatch.setattr(side_cues, "roll_side_score", lambda sig, idx, step_s: rng.normal(0.0, 0.05, len(idx)))
    paths = write_report_for_recording(rec, tmp_path / "unknown", label="run.csv")
    report = json.loads(paths.json.read_text())
    assert "running: the pelvis roll at mid-stance is too weak" in report["summary"]["sides_unknown"]
    for key in ("drop_left_deg", "drop_right_deg", "drop_asymmetry_deg", "step_time_asymmetry_pct",
                "contact_time_balance_pct"):
        assert key not in report["metrics"]
    assert {"mean_tilt_deg", "cadence_spm", "contact_time_ms"} <= set(report["metrics"])
    assert "excess_pelvic_drop" not in [f["type"] for f in report["flags"]]
    html = paths.html.read_text()
    assert 'id="sides-unknown"' in html and "Left and right unknown." in html
    assert 'id="sides"' in html and "pelvis roll at mid-stance" in html
    with open(paths.strides_csv) as fh:  # the per-stride table leaves the feet empty rather than guessed
        running = [r for r in csv.DictReader(fh) if r["activity"] == "running"]
    assert len(running) > 100
    assert all(r["drop_left_deg"] == r["contact_right_ms"] == "" for r in running)
    assert all(r["tilt_mean_deg"] and r["obliquity_range_deg"] and r["cadence_spm"] for r in running)


def test_live_contacts_say_when_their_side_is_a_guess(runner, cue_of_noise):
    s, to_pelvis = runner
    live = stream_contacts(*_twenty_s_of_running(s), s.rec.rate_hz, to_pelvis)
    assert len(live) > 40
    assert np.mean([not c.side_known for c in live]) > 0.9


def test_the_live_view_shows_no_left_share_while_the_feet_are_a_guess(runner, cue_of_noise, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    from tiltguard.host.live.window import _contact_line
    from tiltguard.host.live_analysis import LivePipeline

    s, _ = runner
    p = LivePipeline(s.rec.rate_hz)
    p.request_stand()
    end = int((s.truth.running_s[0] + 30 - s.rec.t[0]) * s.rec.rate_hz)
    for i in range(0, end, 10):
        p.feed(s.rec.t[i:i + 10], s.rec.acc[i:i + 10], s.rec.gyr[i:i + 10])
    assert p.contact_ms is not None and 250 < p.contact_ms < 300  # the plate's ~300 ms, less the missing impact
    assert not p.sides_known and p.contact_left_pct is None
    assert _contact_line(p).endswith("ms (L/R unknown)")
