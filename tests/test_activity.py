"""Activity segmentation: still, walking, running, riding, other, with bouts and pauses.

Simulated sessions give per-sample truth; the Mobilise-D recordings give real walking bouts. Accuracy
targets live in bench/gait.py; these numbers sit well inside what the segmentation does.
"""
import numpy as np
import pytest
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.gait.activity import segment_activity
from tiltguard.host.gait.contacts import detect_initial_contacts
from tiltguard_eval.mobgap_recordings import SENSOR_TO_PELVIS, load_all


def _simulated(name, minutes, seed=1):
    sim = pytest.importorskip("tiltguard.host.simulator")
    from tiltguard_eval.simulated_gait import sensor_to_pelvis_matrix

    rec, truth = sim.simulate(name, minutes=minutes, rate_hz=100, seed=seed)
    return rec, truth, sensor_to_pelvis_matrix(truth)[0]


def test_still_sensor_is_still_and_has_no_bouts():
    fs = 100.0
    rng = np.random.default_rng(4)
    acc = np.tile([0.0, 0.0, 9.81], (3000, 1)) + rng.normal(0, 0.02, (3000, 3))
    gyr = rng.normal(0, 0.002, (3000, 3))
    seg = segment_activity(acc, gyr, fs)
    assert (seg.names == "still").all()
    assert seg.bouts == []


def test_bent_over_still_is_other_not_still():
    fs = 100.0
    bend = np.radians(60.0)  # hip hinge: the pelvis' forward axis tips 60° down
    acc = np.tile([-9.81 * np.sin(bend), 0.0, 9.81 * np.cos(bend)], (2000, 1))
    seg = segment_activity(acc, np.zeros_like(acc), fs)
    assert (seg.names == "other").all()


def test_walk_to_run_labels_and_bouts():
    rec, truth, mount = _simulated("walk-to-run", 2.0)
    seg = segment_activity(rec.acc, rec.gyr, rec.rate_hz, sensor_to_pelvis=mount)
    assert (seg.codes == truth.activity).mean() >= 0.95
    assert [b.activity for b in seg.bouts] == ["walking", "running", "walking"]
    run = seg.bouts[1]
    true_run = truth.t[truth.activity == ACTIVITIES.index("running")]
    assert run.start_s == pytest.approx(true_run[0], abs=2.0)
    assert run.end_s == pytest.approx(true_run[-1], abs=2.0)


def test_shoe_tying_stop_is_a_pause_inside_one_run():
    rec, truth, mount = _simulated("stand-tie-shoes", 3.0)
    seg = segment_activity(rec.acc, rec.gyr, rec.rate_hz, sensor_to_pelvis=mount)
    runs = seg.bouts_of("running")
    assert len(runs) == 1 and len(runs[0].pauses) == 1
    bend = next(s for s in truth.segments if s["kind"] == "bend")
    a, b = runs[0].pauses[0]
    assert a < bend["start_s"] and b > bend["end_s"]  # the pause holds the whole bend
    inside = (seg.t > bend["start_s"] + 2) & (seg.t < bend["end_s"] - 2)
    assert (seg.names[inside] == "other").all()  # bent over: not standing still, not running


def test_riding_is_riding_and_has_no_steps():
    rec, truth, mount = _simulated("ride-steady", 1.5)
    seg = segment_activity(rec.acc, rec.gyr, rec.rate_hz, sensor_to_pelvis=mount)
    riding = truth.activity == ACTIVITIES.index("riding")
    assert (seg.names[riding] == "riding").mean() >= 0.95
    assert [b.activity for b in seg.bouts] == ["riding"]
    ic = detect_initial_contacts(rec.acc, rec.gyr, rec.rate_hz, sensor_to_pelvis=mount, activity=seg)
    t_ride = truth.t[riding]
    inside = (ic.t > t_ride[0] + 2) & (ic.t < t_ride[-1] - 2)
    assert inside.sum() == 0


def test_real_walking_bouts_are_walking(mobgap_dir):
    walked = total = 0.0
    for lab in load_all(mobgap_dir):
        seg = segment_activity(lab.raw.acc, lab.raw.gyr, lab.raw.rate_hz, lab.raw.t[0], SENSOR_TO_PELVIS)
        for b in lab.bouts:
            k = (seg.t >= b.start_s) & (seg.t <= b.end_s)
            walked += (seg.names[k] == "walking").sum()
            total += k.sum()
        assert "riding" not in seg.names and "running" not in seg.names, lab.name
    assert walked / total >= 0.95
