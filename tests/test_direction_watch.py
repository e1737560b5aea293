"""The live direction check after the calibration (calibration.live, issue 19): the steps keep being asked which
way is forward; a pod clipped back on turned round is caught and the angles turned with it, while a session
worn the same way all through is never turned."""
import numpy as np
import pytest
from tiltguard.calibration.live import WATCH_AGREEING_WINDOWS, WATCH_S
from tiltguard.host.live_analysis import LivePipeline
from tiltguard.host.simulator import Mount, Scenario, Segment, simulate

RATE = 100.0
FIRST = Mount(pitch_deg=-12.0)
TURNED = Mount(pitch_deg=-12.0, yaw_deg=180.0)  # clipped back on the other way round: up stays up


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


@pytest.fixture(scope="module")
def reclipped():
    sc = Scenario("reclip-turned", "run, stop, clip the pod back on turned round, run on",
                  (Segment("stand", 10.0), Segment("run", 90.0), Segment("stand", 8.0),
                   Segment("stand", 12.0, mount=TURNED), Segment("run", 150.0, mount=TURNED)), mount=FIRST)
    return simulate(sc, rate_hz=RATE, seed=3)


def test_a_pod_clipped_back_on_turned_round_is_caught_by_the_steps(reclipped):
    rec, truth = reclipped
    events, tilt = live(rec)
    turned = [e for e in events if e.kind == "forward_refined"]
    assert len(turned) == 1 and "other way round" in turned[0].message
    second_run = 120.0  # s: the second run starts here
    assert second_run < turned[0].t <= second_run + (WATCH_AGREEING_WINDOWS + 1) * WATCH_S + 5
    # before the re-clip the tilt follows the truth; after it is turned round, it follows it again
    assert correlation(tilt, truth.tilt_rel, 30, 95) > 0.5
    assert correlation(tilt, truth.tilt_rel, turned[0].t + 10, 265) > 0.5
    assert turned[0].alignment.direction.sign == 1 and turned[0].alignment.direction.cues


def test_a_session_worn_the_same_way_is_never_turned():
    sc = Scenario("long-run", "stand, then a long run", (Segment("stand", 10.0), Segment("run", 180.0)), mount=FIRST)
    rec, truth = simulate(sc, rate_hz=RATE, seed=5)
    events, tilt = live(rec)
    assert not [e for e in events if e.kind == "forward_refined"]
    assert correlation(tilt, truth.tilt_rel, 30, 185) > 0.5
