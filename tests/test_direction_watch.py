"""The live checks after the calibration (calibration.live, issue 19): the steps keep being asked which way is
forward, and a forward axis taken the wrong way round is turned with the angles; a pod clipped back on
differently at a stop is re-calibrated from that stop's stand; a session worn the same way, or a bend to tie a
shoe, is never touched."""
import numpy as np
from tiltguard.calibration.alignment import alignment_from_axes
from tiltguard.calibration.live import WATCH_AGREEING_WINDOWS, WATCH_S
from tiltguard.host.live_analysis import LivePipeline
from tiltguard.host.simulator import Mount, Scenario, Segment, simulate

RATE = 100.0
FIRST = Mount(pitch_deg=-12.0)


def live(rec):
    p = LivePipeline(rec.rate_hz)
    p.request_stand()
    events, tilt = [], []
    for i in range(0, len(rec.t), 10):
        u = p.feed(rec.t[i:i + 10], rec.acc[i:i + 10], rec.gyr[i:i + 10])
        events += u.calibration
        tilt.append(u.tilt)
    p.finish()
    return events, np.concatenate(tilt)


def correlation(est, truth, a_s, b_s):
    k = slice(int(a_s * RATE), int(b_s * RATE))
    ok = np.isfinite(est[k])
    return float(np.corrcoef(est[k][ok], truth[k][ok])[0, 1])


def test_a_forward_axis_taken_the_wrong_way_round_is_turned_by_the_steps():
    sc = Scenario("long-run", "stand, then a long run", (Segment("stand", 10.0), Segment("run", 150.0)), mount=FIRST)
    rec, truth = simulate(sc, rate_hz=RATE, seed=3)
    p = LivePipeline(rec.rate_hz)
    p.request_stand()
    events, tilt, wrong_at = [], [], None
    for i in range(0, len(rec.t), 10):
        u = p.feed(rec.t[i:i + 10], rec.acc[i:i + 10], rec.gyr[i:i + 10])
        events += u.calibration
        tilt.append(u.tilt)
        if wrong_at is None and p.calibration.state == "done":
            # what a wrong decision would have left (a treadmill belt, then the road): forward backwards
            al = p.calibration.alignment
            wrong = alignment_from_axes(al.up_sensor, -al.forward_sensor, al.forward_source)
            p.calibration.alignment = wrong
            p._start_angles(wrong, float(rec.t[i + 10]))
            wrong_at = float(rec.t[i + 10])
    p.finish()
    tilt = np.concatenate(tilt)
    turned = [e for e in events if e.kind == "forward_refined"]
    assert len(turned) == 1 and "other way round" in turned[0].message
    assert wrong_at < turned[0].t <= wrong_at + (WATCH_AGREEING_WINDOWS + 1) * WATCH_S + 5
    assert correlation(tilt, truth.tilt_rel, wrong_at + 2, turned[0].t - 1) < -0.5  # the wrong way meanwhile
    assert correlation(tilt, truth.tilt_rel, turned[0].t + 10, 158) > 0.5
    assert turned[0].alignment.direction.sign == 1 and turned[0].alignment.direction.cues


def test_a_session_worn_the_same_way_is_never_turned():
    sc = Scenario("long-run", "stand, then a long run", (Segment("stand", 10.0), Segment("run", 180.0)), mount=FIRST)
    rec, truth = simulate(sc, rate_hz=RATE, seed=5)
    events, tilt = live(rec)
    assert not [e for e in events if e.kind == "forward_refined"]
    assert correlation(tilt, truth.tilt_rel, 30, 185) > 0.5


def test_a_pod_clipped_back_on_differently_at_a_stop_is_re_calibrated_from_that_stand():
    rec, truth = simulate("run-sensor-reclipped", minutes=4, rate_hz=RATE, seed=1)
    events, tilt = live(rec)
    moved = [e for e in events if e.kind == "forward_refined" and "moved on the waistband" in e.message]
    second_run = [s for s in truth.segments if s["kind"] == "run"][1]
    assert len(moved) == 1 and second_run["start_s"] < moved[0].t < second_run["start_s"] + 10
    k = (truth.t > moved[0].t + 2) & (truth.t < second_run["end_s"])
    err = np.degrees(tilt[k] - truth.tilt_rel[k])
    assert np.sqrt(np.nanmean(err**2)) < 1.0  # before the re-clip was noticed the tilt read ~10 deg off


def test_a_bend_to_tie_a_shoe_is_not_taken_for_a_re_clip():
    rec, truth = simulate("stand-tie-shoes", minutes=4, rate_hz=RATE, seed=1)
    events, tilt = live(rec)
    assert not [e for e in events if e.kind in ("forward_refined", "forward_rejected")]
