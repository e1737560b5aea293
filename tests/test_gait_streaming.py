"""Streaming step detector: contacts reported once, within the latency bound, whatever the frame size."""
import numpy as np
import pytest
from tiltguard.host.gait.streaming import (
    MAX_LATENCY_S,
    StreamingStepDetector,
    stream_contacts,
)
from tiltguard_eval.gait_scoring import ContactScore


def test_simulated_walk_and_run_streamed_with_bounded_latency():
    sim = pytest.importorskip("tiltguard.host.simulator")
    from tiltguard_eval.simulated_gait import sensor_to_pelvis_matrix

    rec, truth = sim.simulate("walk-to-run", minutes=1.5, rate_hz=100, seed=5)
    mount = sensor_to_pelvis_matrix(truth)[0]
    live = stream_contacts(rec.acc, rec.gyr, rec.rate_hz, mount, chunk=7)
    assert max(c.latency_s for c in live) <= MAX_LATENCY_S
    t = np.interp([c.t * rec.rate_hz for c in live], np.arange(len(truth.t)), truth.t)
    score = ContactScore()
    score.add(t, truth.ic_times, 0.1, np.array([c.left for c in live]), truth.ic_sides == "L")
    assert score.f1 >= 0.95
    assert score.median_abs_error_s <= 0.015
    assert score.laterality_accuracy >= 0.98
    # BLE frames of another size give the very same contacts: the detector runs at fixed instants
    other = stream_contacts(rec.acc, rec.gyr, rec.rate_hz, mount, chunk=25)
    assert [(c.t, c.left) for c in other] == [(c.t, c.left) for c in live]


def test_still_stream_reports_nothing_and_bad_frames_are_refused():
    rng = np.random.default_rng(1)
    det = StreamingStepDetector(100.0)
    acc = np.tile([0.0, 0.0, 9.81], (1000, 1)) + rng.normal(0, 0.02, (1000, 3))
    assert det.update(acc, rng.normal(0, 0.002, (1000, 3))) == []
    with pytest.raises(ValueError, match="must both be"):
        det.update(np.zeros((5, 3)), np.zeros((4, 3)))


def test_the_window_majority_corrects_a_lone_wrong_side_and_restarts_after_a_pause():
    from tiltguard.host.gait.streaming import window_majority_sides

    t = np.r_[np.arange(8) * 0.33, 5.0 + np.arange(6) * 0.33]  # a run of 8 steps, a pause, then 6 more
    truth = np.r_[np.arange(8) % 2 == 0, np.arange(6) % 2 == 1]  # the second run starts on the right foot
    called = truth.copy()
    called[7] = not called[7]  # the newest contact of the first run, called wrong
    called[10] = not called[10]
    assert np.array_equal(window_majority_sides(t, called), truth)
    tie = np.array([True, False, False, True])  # two votes each way: the calls stand
    assert np.array_equal(window_majority_sides(np.arange(4) * 0.33, tie), tie)
