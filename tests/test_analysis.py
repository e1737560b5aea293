"""The whole pipeline from the sensor alone: simulated sessions in, pelvic angles and flags out."""
import numpy as np
import pytest
from tiltguard.calibration.reclip import mounting_periods
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.analysis import analyse_recording
from tiltguard.host.flags import LiveFlagEngine
from tiltguard.host.signal.stillness import still_mask
from tiltguard.host.simulator import simulate


def test_sustained_tilt_is_flagged_from_the_sensor_alone_and_live_agrees():
    rec, truth = simulate("run-sustained-anterior", minutes=9, rate_hz=200, seed=8)
    post = analyse_recording(rec)
    (a, b), = truth.sustained_tilt_intervals()
    assert [f.type for f in post.flags] == ["sustained_anterior_tilt"]
    assert abs(post.flags[0].start - a) < 15 and abs(post.flags[0].end - b) < 15
    running = truth.activity == ACTIVITIES.index("running")
    err = np.degrees(post.angles.tilt - truth.tilt_rel)[running]
    assert np.sqrt(np.mean(err**2)) < 1.0
    assert post.cadence_spm() == pytest.approx(168, abs=1.0)
    live = LiveFlagEngine()
    for cycle in post.cycles.cycles():
        live.feed(cycle)
    live.finish()
    assert [(f.type, f.start, f.end) for f in live.flags] == [(f.type, f.start, f.end) for f in post.flags]


def test_city_corners_stay_out_of_the_rotation():
    """Street corners in 3 s and a 6-s U-turn: rotation (relative to the direction of travel) from the sensor
    alone stays within about a degree of the truth through the turns."""
    rec, truth = simulate("run-street-corners", minutes=7, rate_hz=200, seed=5)
    post = analyse_recording(rec)
    running = truth.activity == ACTIVITIES.index("running")
    turn_rate = np.abs(np.gradient(np.unwrap(truth.heading), truth.t))
    turning = running & (turn_rate > np.radians(5))
    assert np.degrees(turn_rate.max()) > 25 and turning.sum() > 3 * rec.rate_hz
    err = np.degrees(post.angles.rotation - truth.rotation)
    err -= np.median(err[running])  # 6D: the heading's origin is arbitrary, and so is the swing's centre
    assert np.sqrt(np.mean(err[turning] ** 2)) < 0.6
    assert np.abs(err[running]).max() < 1.5


def test_a_reclipped_pod_is_recalibrated_at_the_next_stand():
    rec, truth = simulate("run-sensor-reclipped", minutes=7, rate_hz=200, seed=2)
    result = analyse_recording(rec)
    periods = mounting_periods(rec.acc, still_mask(rec.acc, rec.gyr, rec.rate_hz), rec.rate_hz)
    assert len(periods) == 2
    change = truth.segments[4]["start_s"]  # the stand during which the pod was re-clipped
    assert abs(periods[1][0] / rec.rate_hz - change) < 12
    running = truth.activity == ACTIVITIES.index("running")
    err = np.degrees(result.angles.tilt - truth.tilt_rel)
    after = running & (truth.t > change)
    assert np.sqrt(np.mean(err[after] ** 2)) < 1.0  # without re-calibration: ~17 deg
    assert result.flags == []


def test_a_ride_without_a_neutral_stand_is_refused_with_the_reason():
    # a run without a stand is analysed against its early posture (tests/test_no_stand.py); a ride cannot be:
    # without the stand neither the speed gained nor the saddle posture tells forward from backward
    rec, _ = simulate("ride-steady", minutes=2, rate_hz=200, seed=1)
    rec.acc, rec.gyr, rec.t, rec.temp_c = rec.acc[8000:], rec.gyr[8000:], rec.t[8000:], None
    with pytest.raises(ValueError, match="a ride without a 5-s still stand first"):
        analyse_recording(rec)
