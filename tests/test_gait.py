"""Gait events: scoring rules, cadence, and the contact detector on real (Mobilise-D) and simulated data.

Accuracy targets live in bench/gait.py; these tests pin behaviour with numbers well inside what the
detector does, so a regression shows without making the test a benchmark.
"""
import numpy as np
import pytest
from tiltguard.host.gait.cadence import cadence_spm, step_time_asymmetry, step_timing
from tiltguard.host.gait.contacts import detect_initial_contacts
from tiltguard.host.gait.rhythm import stride_period
from tiltguard.host.gait.sequence import select_steps
from tiltguard_eval.gait_scoring import ContactScore, contacts_in_window, match_contacts
from tiltguard_eval.mobgap_recordings import SENSOR_TO_PELVIS, load_all


# ------------------------------------------------------------------ scoring
def test_matching_is_one_to_one_mutual_nearest_within_tolerance():
    det = np.array([1.1, 2.3, 3.0, 5.0])
    ref = np.array([1.0, 2.0, 3.2, 4.0])
    d, r = match_contacts(det, ref, 0.2)
    assert sorted(zip(d.tolist(), r.tolist())) == [(0, 0), (2, 2)]
    # two detections near one reference contact: only the nearer one matches
    d, r = match_contacts([0.95, 1.05, 1.3], [1.0, 1.32], 0.1)
    assert sorted(zip(d.tolist(), r.tolist())) == [(0, 0), (2, 1)]


def test_contact_score_counts_errors_and_sides():
    sc = ContactScore()
    sc.add(np.array([1.02, 1.6, 2.5]), np.array([1.0, 1.5, 2.0]), 0.25,
           np.array([True, True, False]), np.array([True, False, True]))
    assert (sc.tp, sc.fp, sc.fn) == (2, 1, 1)
    assert sc.f1 == pytest.approx(4 / 6)
    assert sc.median_abs_error_s == pytest.approx(0.06)
    assert sc.laterality_accuracy == pytest.approx(0.5)
    assert contacts_in_window([0.5, 1.0, 2.0, 3.0], 1.0, 2.0).tolist() == [1, 2]


# ------------------------------------------------------------------ cadence
def test_cadence_is_mean_of_stride_rates_and_leaves_out_a_pause():
    steady = np.arange(20) * 0.5  # 120 steps/min
    assert cadence_spm(steady) == pytest.approx(120.0)
    paused = np.r_[steady, steady[-1] + 5.0 + np.arange(20) * 0.5]  # a 5 s stop at a crossing
    assert cadence_spm(paused) == pytest.approx(120.0)
    timing = step_timing(paused)
    assert not timing.regular[19]  # the stop is not a step
    assert timing.regular[:19].all() and timing.regular[20:].all()


def test_cadence_of_asymmetric_gait_keeps_short_and_long_steps():
    t = np.cumsum(np.tile([0.35, 0.7], 10))  # short left, long right: stride 1.05 s
    assert cadence_spm(t) == pytest.approx(120 / 1.05)
    left = np.arange(len(t)) % 2 == 1  # contacts at odd positions end the short steps
    assert step_time_asymmetry(t, left) == pytest.approx(0.35 / 0.525, rel=1e-6)


# ------------------------------------------------------------------ building blocks
def test_rhythm_finds_stride_not_step_nor_double_stride():
    fs, stride = 100.0, 1.1
    t = np.arange(0, 30, 1 / fs)
    vertical = np.cos(2 * np.pi * 2 * t / stride) + 0.3 * np.cos(2 * np.pi * 4 * t / stride)
    lateral = np.sin(2 * np.pi * t / stride)  # sways once per stride
    rh = stride_period(vertical, lateral, fs)
    inner = (rh.t > 3) & (rh.t < 27)
    assert np.nanmedian(rh.period_s[inner]) == pytest.approx(stride, abs=0.03)
    assert np.isnan(stride_period(np.zeros(3000), np.zeros(3000), fs).period_s).all()


def test_rhythm_finds_one_stride_when_consecutive_strides_differ():
    """A runner whose two strides differ while every second stride repeats (the virtual treadmill runners of
    ../shared/data/running loop two strides): the medio-lateral sway then correlates 0.67 at one stride and 1.0
    at two, the vertical 1.0 at both. One stride is the period, not two (the contacts' rhythm prior)."""
    fs, stride = 100.0, 0.62
    t = np.arange(0, 30, 1 / fs)
    vertical = np.cos(2 * np.pi * 2 * t / stride)
    lateral = np.sin(2 * np.pi * t / stride) + np.sqrt(0.2) * np.sin(2 * np.pi * t / (2 * stride))
    rh = stride_period(vertical, lateral, fs)
    inner = (rh.t > 3) & (rh.t < 27)
    assert np.nanmedian(rh.period_s[inner]) == pytest.approx(stride, abs=0.03)


def test_sequence_keeps_weak_step_on_rhythm_and_drops_strong_one_off_it():
    t = np.array([0.0, 0.5, 1.0, 1.25, 1.5, 2.0])
    sal = np.array([1.0, 1.0, 0.35, 0.6, 1.0, 1.0])  # 1.0: weak but on the beat; 1.25: off the beat
    chosen = select_steps(t, sal, np.full(len(t), 0.5), threshold=0.45, rhythm_weight=0.5)
    assert t[chosen].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    # with no rhythm known, salience alone decides
    chosen = select_steps(t, sal, np.full(len(t), np.nan), threshold=0.45, rhythm_weight=0.5)
    assert t[chosen].tolist() == [0.0, 0.5, 1.25, 1.5, 2.0]


# ------------------------------------------------------------------ real recordings
@pytest.fixture(scope="module")
def recordings(mobgap_dir):
    return load_all(mobgap_dir)


def test_loader_gives_si_sensor_frame_and_reference_bouts(recordings):
    assert len(recordings) == 6
    rec = next(r for r in recordings if r.participant == "HA/001" and r.test == "Test5")
    acc, _ = rec.pelvis_frame()
    standing = acc[:100].mean(axis=0)
    assert standing[2] == pytest.approx(9.8, abs=0.6)  # pelvis z is up, in m/s²
    assert rec.raw.t[0] == pytest.approx(1 / rec.raw.rate_hz)  # MATLAB-style: sample 0 at 1/rate
    assert all(np.isfinite(b.ic_s).all() for r in recordings for b in r.bouts)


def test_detector_on_mobgap_straight_walks(recordings):
    total = ContactScore()
    for rec in recordings:
        if rec.test != "Test5":
            continue
        ic = detect_initial_contacts(rec.raw.acc, rec.raw.gyr, rec.raw.rate_hz, rec.raw.t[0], SENSOR_TO_PELVIS)
        for b in rec.bouts:
            k = contacts_in_window(ic.t, b.start_s - 0.25, b.end_s + 0.25)
            total.add(ic.t[k], b.ic_s, 0.25, ic.left[k], b.ic_left)
            cad = cadence_spm(ic.t[k])
            assert abs(cad - b.cadence_spm) < 2.5, rec.name
    assert total.f1 >= 0.95
    assert total.median_abs_error_s <= 0.06
    assert total.laterality_accuracy >= 0.95


def test_detector_on_mobgap_daily_activities(recordings):
    total = ContactScore()
    for rec in recordings:
        if rec.test != "Test11":
            continue
        ic = detect_initial_contacts(rec.raw.acc, rec.raw.gyr, rec.raw.rate_hz, rec.raw.t[0], SENSOR_TO_PELVIS)
        for b in rec.bouts:
            k = contacts_in_window(ic.t, b.start_s - 0.25, b.end_s + 0.25)
            total.add(ic.t[k], b.ic_s, 0.25, ic.left[k], b.ic_left)
    assert total.f1 >= 0.85  # mobgap's peers reach ~0.8 here
    assert total.laterality_accuracy >= 0.92


def test_mirrored_recording_swaps_every_side(recordings):
    """The side comes from the body, not from chance: mirroring left/right flips the labels."""
    rec = next(r for r in recordings if r.participant == "HA/001" and r.test == "Test5")
    acc, gyr = rec.pelvis_frame()
    ic = detect_initial_contacts(acc, gyr, rec.raw.rate_hz)
    mirror = np.diag([1.0, -1.0, 1.0])
    # a mirror image: lateral acceleration flips, and so do roll and yaw rates (axial vectors)
    ic_m = detect_initial_contacts(acc @ mirror, gyr @ np.diag([-1.0, 1.0, -1.0]), rec.raw.rate_hz)
    d, m = match_contacts(ic.t, ic_m.t, 0.02)
    assert len(d) >= 0.9 * len(ic.t)
    assert (ic.left[d] != ic_m.left[m]).mean() >= 0.95


def test_still_sensor_gives_no_contacts():
    fs = 100.0
    rng = np.random.default_rng(3)
    acc = np.tile([0.0, 0.0, 9.81], (6000, 1)) + rng.normal(0, 0.02, (6000, 3))
    gyr = rng.normal(0, 0.002, (6000, 3))
    assert len(detect_initial_contacts(acc, gyr, fs)) == 0


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="must both be"):
        detect_initial_contacts(np.zeros((10, 3)), np.zeros((9, 3)), 100.0)


# ------------------------------------------------------------------ simulated running
def test_detector_times_simulated_running_contacts():
    sim = pytest.importorskip("tiltguard.host.simulator")
    from tiltguard_eval.simulated_gait import scored_bouts, sensor_to_pelvis_matrix

    rec, truth = sim.simulate("walk-to-run", minutes=1.5, rate_hz=200, seed=2)
    m = sensor_to_pelvis_matrix(truth)
    acc = np.einsum("nij,nj->ni", m, rec.acc)
    gyr = np.einsum("nij,nj->ni", m, rec.gyr)
    ic = detect_initial_contacts(acc, gyr, rec.rate_hz)
    t = ic.times_on(truth.t)
    score = ContactScore()
    score.add(t, truth.ic_times, 0.1)
    assert score.f1 >= 0.98
    assert score.median_abs_error_s <= 0.012
    for start, end, ic_ref, _, cad_ref in scored_bouts(truth):
        k = contacts_in_window(t, start, end)
        assert abs(cadence_spm(t[k]) - cad_ref) < 1.0


def test_cached_zero_phase_filter_equals_scipy():
    """host.gait.filters.filtfilt reuses each design's steady state; it must give sosfiltfilt's numbers."""
    from scipy.signal import decimate as scipy_decimate
    from scipy.signal import sosfiltfilt
    from tiltguard.host.signal.filters import butter_sos, decimate, filtfilt

    x = np.random.default_rng(3).normal(size=(400, 3))
    for sos in (butter_sos(2, 5.0, 100.0), butter_sos(4, (0.5, 3.0), 100.0, "band")):
        for padlen in (None, 0, 10, 120):
            np.testing.assert_array_equal(filtfilt(sos, x, padlen=padlen), sosfiltfilt(sos, x, axis=0, padlen=padlen))
        np.testing.assert_array_equal(filtfilt(sos, x.T, axis=1), sosfiltfilt(sos, x.T, axis=1))
    np.testing.assert_array_equal(decimate(x, 5), scipy_decimate(x, 5, axis=0, zero_phase=True))
    with pytest.raises(ValueError, match="longer than padlen"):
        filtfilt(butter_sos(2, 5.0, 100.0), x[:5])
