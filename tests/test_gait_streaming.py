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
