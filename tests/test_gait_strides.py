"""Per-stride pelvic metrics, vertical oscillation by drift-free double integration, normalised curves."""
import numpy as np
import pytest
from tiltguard.host.gait.activity import Bout
from tiltguard.host.gait.stride_stream import RecentCadence
from tiltguard.host.gait.strides import (
    normalised_curves,
    stride_metrics,
    summarise_bouts,
    vertical_oscillation,
)

FS = 200.0


def _periodic_gait(stride_s=0.7, seconds=20.0):
    t = np.arange(0, seconds, 1 / FS)
    phase = 2 * np.pi * t / stride_s  # left contact at phase 0, right at π
    tilt = np.radians(3.0) + np.radians(2.0) * np.cos(2 * phase)  # range 4°, twice per stride
    obliquity = np.radians(5.0) * np.sin(phase) * np.where(np.sin(phase) > 0, 1.0, 0.6)  # right drops 5, left 3
    rotation = np.radians(6.0) * -np.cos(phase)
    ic = np.arange(0.0, seconds, stride_s / 2)
    left = np.arange(len(ic)) % 2 == 0
    return t, tilt, obliquity, rotation, ic, left


def test_stride_angles_sides_and_step_times():
    t, tilt, obl, rot, ic, left = _periodic_gait()
    s = stride_metrics(t, tilt, obl, rot, ic, left)
    assert len(s) == len(ic) // 2 - 1  # every full left-to-left stride
    d = np.degrees
    assert d(s.angles["tilt"]["range"]) == pytest.approx(4.0, abs=0.01)
    assert d(s.angles["tilt"]["mean"]) == pytest.approx(3.0, abs=0.01)
    assert d(s.angles["rotation"]["min"]) == pytest.approx(-6.0, abs=0.01)
    assert d(s.angles["rotation"]["max"]) == pytest.approx(6.0, abs=0.01)
    assert d(s.drop_right) == pytest.approx(5.0, abs=0.01)  # left stance: the right side drops
    assert d(s.drop_left) == pytest.approx(3.0, abs=0.01)
    assert s.step_left_s == pytest.approx(0.35) and s.stride_s == pytest.approx(0.7)


def test_a_pause_or_a_missing_contact_is_no_stride():
    t, tilt, obl, rot, ic, left = _periodic_gait()
    keep = np.ones(len(ic), bool)
    keep[10] = False  # a missed contact: two lefts in a row
    s = stride_metrics(t, tilt, obl, rot, ic[keep], left[keep])
    assert not ((s.t_start < ic[10]) & (s.t_end > ic[10])).any()
    ic2 = np.where(np.arange(len(ic)) >= 20, ic + 5.0, ic)  # a 5-s stop at a crossing
    t2 = np.arange(0, 30, 1 / FS)
    s2 = stride_metrics(t2, np.interp(t2, t, tilt), np.interp(t2, t, obl), np.interp(t2, t, rot), ic2, left)
    assert (s2.stride_s < 1.0).all()


def test_vertical_oscillation_ignores_sensor_bias_and_drift():
    t = np.arange(0, 10, 1 / FS)
    step = 0.36
    height = 0.07  # 7 cm peak to peak, lowest at mid-step
    acc = height / 2 * (2 * np.pi / step) ** 2 * np.cos(2 * np.pi * t / step)  # z = −h/2 cos(...)
    acc_biased = acc + 0.3 + 0.02 * t  # 0.3 m/s² offset and a slow drift
    starts = np.round(np.arange(0, 9.5, step) * FS).astype(int)
    a, b = starts[:-1], starts[1:]
    assert vertical_oscillation(acc_biased, FS, a, b) == pytest.approx(np.full(len(a), height), abs=0.002)


def test_normalised_curve_and_bout_summary():
    t, tilt, obl, rot, ic, left = _periodic_gait()
    s = stride_metrics(t, tilt, obl, rot, ic, left, vertical_acc=np.zeros(len(t)))
    curves = normalised_curves(tilt, s)
    expected = np.radians(3.0) + np.radians(2.0) * np.cos(2 * 2 * np.pi * np.linspace(0, 1, 101))
    assert curves.shape == (len(s), 101)
    assert np.abs(curves - expected).max() < 1e-3
    (bout,) = summarise_bouts(s, [Bout("running", 0.0, 20.0)], {"tilt": tilt, "obliquity": obl, "rotation": rot})
    assert bout.strides == len(s) and bout.cadence_spm == pytest.approx(120 / 0.7)
    assert bout.stride_time_cv == pytest.approx(0.0, abs=1e-9)
    assert np.degrees(bout.curve_sd["tilt"]).max() < 0.01
    assert np.degrees(bout.drop_right - bout.drop_left) == pytest.approx(2.0, abs=0.01)


def test_simulated_running_stride_ranges_match_truth():
    sim = pytest.importorskip("tiltguard.host.simulator")
    from tiltguard.calibration.alignment import calibrate_from_session
    from tiltguard.host.gait.contacts import detect_initial_contacts
    from tiltguard.host.pelvis import analyse_session
    from tiltguard_eval.gait_scoring import match_contacts

    rec, truth = sim.simulate("run-asymmetric-drop", minutes=2.5, rate_hz=100, seed=2)
    align = calibrate_from_session(rec.acc, rec.gyr, rec.rate_hz, (100, 600))
    angles = analyse_session(rec.acc, rec.gyr, rec.rate_hz, align.R_pelvis_sensor)
    ic = detect_initial_contacts(rec.acc, rec.gyr, rec.rate_hz, sensor_to_pelvis=align.R_pelvis_sensor)
    ours = stride_metrics(truth.t, angles.tilt, angles.obliquity, angles.rotation, ic.times_on(truth.t), ic.left,
                          activity=truth.activity)
    ref = stride_metrics(truth.t, truth.tilt_rel, truth.obliquity, truth.rotation, truth.ic_times,
                         truth.ic_sides == "L", activity=truth.activity)
    d, r = match_contacts(ours.t_start, ref.t_start, 0.05)
    running = ref.activity[r] == "running"
    assert running.sum() >= 60
    for name in ("tilt", "obliquity", "rotation"):
        err = np.degrees(ours.angles[name]["range"][d] - ref.angles[name]["range"][r])[running]
        assert np.abs(err).mean() < 1.0, name
    assert np.degrees(ours.drop_right[d] - ref.drop_right[r])[running].mean() == pytest.approx(0.0, abs=1.0)


def _readouts(times):
    rule = RecentCadence()
    return [rule.add(float(t)) for t in times]


def test_live_cadence_is_read_over_strides_so_one_early_contact_or_a_late_foot_barely_moves_it():
    # 170 steps/min with a 0.34/0.366-s left/right step asymmetry (a stride of 0.706 s)
    steps = np.tile([0.34, 0.366], 20)
    ic = np.concatenate([[0.0], np.cumsum(steps)])
    true = 120.0 / 0.706
    late_foot = ic + np.where(np.arange(len(ic)) % 2 == 1, 0.012, 0.0)  # one foot's contacts all read 12 ms late
    early = ic.copy()
    early[20] -= 0.02  # one contact read 20 ms early
    for times in (ic, late_foot, early):
        got = np.array([r.spm for r in _readouts(times)[4:]])
        # the median of the last steps read up to 6.5 spm off here: the asymmetry alone, over the first steps
        assert np.abs(got - true).max() < 1.0, np.abs(got - true).max()


def test_live_cadence_leaves_out_a_missed_contact_and_starts_afresh_after_a_pause():
    ic = np.arange(0.0, 12.0, 0.35)  # 171.4 steps/min
    missed = np.delete(ic, 15)
    got = [r for r in _readouts(missed)[4:] if r is not None]
    assert len(got) == len(missed) - 4  # a readout after every contact from the fifth, none left blank by the gap
    assert max(abs(r.spm - 120 / 0.7) for r in got) < 0.01  # the strides over the gap are not averaged in
    paused = np.where(ic > 6.0, ic + 3.0, ic)  # a 3-s stop at a crossing, then the same rhythm
    out = _readouts(paused)
    first_after = int(np.searchsorted(paused, 9.0))
    assert all(r is None for r in out[first_after:first_after + 4])  # nothing until two strides since the stop
    assert out[first_after + 4].since_t == pytest.approx(paused[first_after])
