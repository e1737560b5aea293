"""On a treadmill or an indoor trainer nobody travels, so the speed gained when setting off cannot tell
forward from backward. On the treadmill the foot strikes do (every stance starts by braking), on the
trainer the saddle posture (the pelvis sits tipped forward of standing). Post-session and live on the
simulator, and the braking rule itself on real lower-back walking."""
import numpy as np
import pytest
from tiltguard.calibration.alignment import calibrate_from_session
from tiltguard.calibration.errors import DirectionUnclear
from tiltguard.calibration.stand import find_neutral_stand
from tiltguard.host.analysis import analyse_recording, session_summary
from tiltguard.host.gait.direction import direction_from_steps
from tiltguard.host.live_analysis import LivePipeline
from tiltguard.host.orientation import quaternion as Q
from tiltguard.host.simulator import ACTIVITIES, simulate


@pytest.fixture(scope="module")
def treadmill():
    return simulate("treadmill-run", minutes=4, seed=4)


def forward_error_deg(alignment, truth) -> float:
    """Angle between the calibrated forward axis and the pelvis' true forward, both level at the stand
    (neutral is the wearer's own tilt, so the true x axis is not level then)."""
    fwd = Q.rotate(Q.conjugate(truth.quat_mount[0]), [1.0, 0.0, 0.0])  # pelvis forward in sensor axes
    up = alignment.up_sensor
    level = fwd - (fwd @ up) * up
    level /= np.linalg.norm(level)
    return float(np.degrees(np.arccos(np.clip(alignment.forward_sensor @ level, -1, 1))))


def test_a_treadmill_run_is_aligned_from_its_foot_strikes_and_reads_its_tilt(treadmill):
    rec, truth = treadmill
    assert np.abs(truth.vel_earth[:, :2]).max() < 0.5  # no travel: only the stride's own sway
    a = analyse_recording(rec)
    assert forward_error_deg(a.alignment, truth) < 3.0
    running = truth.activity == ACTIVITIES.index("running")
    tilt_err = np.degrees(a.angles.tilt - truth.tilt_rel)[running]
    assert np.sqrt(np.nanmean(tilt_err**2)) < 0.5
    assert 160 < a.cadence_spm("running") < 176


def test_too_few_steps_on_a_treadmill_are_refused_with_what_to_do(treadmill):
    rec, _ = treadmill
    cut = int(16 * rec.rate_hz)  # the stand, then 6 s of walking on the belt
    stand = find_neutral_stand(rec.acc[:cut], rec.gyr[:cut], rec.rate_hz)
    with pytest.raises(DirectionUnclear, match="on a treadmill, keep going"):
        calibrate_from_session(rec.acc[:cut], rec.gyr[:cut], rec.rate_hz, stand, step_sign=direction_from_steps)


def test_live_calibration_waits_for_enough_foot_strikes_then_reads_the_tilt(treadmill):
    rec, truth = treadmill
    p = LivePipeline(rec.rate_hz)
    p.request_stand()
    events, tilt, t = [], [], []
    for i in range(0, int(150 * rec.rate_hz), 10):
        u = p.feed(rec.t[i:i + 10], rec.acc[i:i + 10], rec.gyr[i:i + 10])
        events += u.calibration
        tilt.append(u.tilt)
        t.append(u.t)
    assert [e.kind for e in events] == ["stand_ok", "forward_ok"], [e.message for e in events]
    assert events[1].t > 16.0  # not from the first 6 s of steps: it waited for enough of them
    assert forward_error_deg(events[1].alignment, truth) < 3.0
    tilt, t = np.concatenate(tilt), np.concatenate(t)
    late = (t > 100) & np.isfinite(tilt)
    true = np.interp(t[late], truth.t, truth.tilt_rel)
    assert np.sqrt(np.mean(np.degrees(tilt[late] - true) ** 2)) < 1.0


def test_braking_never_points_the_wrong_way_on_real_lower_back_walking(mobgap_dir):
    from tiltguard_eval.mobgap_recordings import SENSOR_TO_PELVIS, load_all

    decided = 0
    for r in load_all(mobgap_dir):
        raw, fs = r.raw, r.raw.rate_hz
        start = max(0, int((r.bouts[0].start_s - 1.0) * fs))
        for sign in (1, -1):
            got = direction_from_steps(raw.acc, raw.gyr, fs, SENSOR_TO_PELVIS[2], sign * SENSOR_TO_PELVIS[0],
                                          (start, len(raw.acc))).sign
            assert got in (0, sign), r.name  # unclear is allowed, wrong is not
            decided += got != 0
    assert decided >= 2  # and a long enough walk does decide (HA/001's free-living test)


@pytest.fixture(scope="module")
def trainer():
    return simulate("trainer-ride", minutes=3, seed=4)


def test_a_ride_on_an_indoor_trainer_is_aligned_from_the_saddle_posture(trainer):
    rec, truth = trainer
    a = analyse_recording(rec)
    assert a.alignment.forward_source == "pedalling" and forward_error_deg(a.alignment, truth) < 3.0
    riding = truth.activity == ACTIVITIES.index("riding")
    assert np.sqrt(np.nanmean(np.degrees(a.angles.tilt - truth.tilt_rel)[riding] ** 2)) < 0.5
    assert np.degrees(np.nanmean(a.angles.tilt[riding])) == pytest.approx(18.0, abs=1.0)  # forward on the saddle


def test_live_on_a_trainer_calibrates_from_the_pedalling(trainer):
    rec, truth = trainer
    p = LivePipeline(rec.rate_hz)
    p.request_stand()
    events = []
    for i in range(0, int(60 * rec.rate_hz), 10):
        events += p.feed(rec.t[i:i + 10], rec.acc[i:i + 10], rec.gyr[i:i + 10]).calibration
    assert [e.kind for e in events] == ["stand_ok", "forward_ok"], [e.message for e in events]
    assert forward_error_deg(events[1].alignment, truth) < 3.0


def test_an_upright_trainer_posture_cannot_sign_the_axis_and_says_what_to_do():
    from dataclasses import replace

    from tiltguard.host.simulator import Segment, get_scenario

    upright = replace(get_scenario("trainer-ride"), segments=(
        Segment("stand", 10.0), Segment("ride", 120.0, tilt_offset_deg=3.0), Segment("stand", 8.0)))
    rec, _ = simulate(upright, seed=1)
    stand = find_neutral_stand(rec.acc, rec.gyr, rec.rate_hz)
    with pytest.raises(DirectionUnclear, match="on a trainer, ride with your hands on the bars"):
        calibrate_from_session(rec.acc, rec.gyr, rec.rate_hz, stand)


def test_a_session_whose_direction_is_unknown_keeps_everything_side_free_and_says_why(treadmill):
    rec, truth = treadmill
    cut = int(16 * rec.rate_hz)  # the stand, then 6 s on the belt: too few steps to tell forward from back
    short = type(rec)(rec.t[:cut], rec.acc[:cut], rec.gyr[:cut], rec.rate_hz, meta=rec.meta)
    a = analyse_recording(short)
    assert not a.alignment.direction_known
    assert "keep going" in a.alignment.withheld
    assert a.alignment.direction.sign == 0 and a.alignment.direction.cues  # the cues are kept, undecided
    assert all(f.type in ("rotation_variability", "ride_rock_growth") for f in a.flags)
    s = session_summary(a)
    assert s["direction_unknown"] == a.alignment.withheld
    assert any(v.startswith("direction unknown") for v in s["not_assessed"].values())
    assert "anterior_tilt_min" not in s
    # side-free: the contacts and the cadence are still measured
    ic = np.asarray(truth.ic_times)
    true_cadence = 60 / np.median(np.diff(ic[(ic > 11) & (ic < 16)]))
    assert len(a.contacts.t) >= 6
    assert abs(a.cadence_spm("walking") - true_cadence) < 3
