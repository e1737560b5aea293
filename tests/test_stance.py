"""The stance after each running contact (host.gait.stance): toe-off and ground contact time against the force
plates of both running sets, and the live readout agreeing with the post-session analysis."""
import numpy as np
import pytest
from tiltguard.host.analysis import analyse_recording, session_summary
from tiltguard.host.live_analysis import LivePipeline
from tiltguard.host.simulator import simulate
from tiltguard_eval.datasets import DatasetMissing
from tiltguard_eval.running_data import load_alcantara, running_dir


def _contact_errors(session):
    a = analyse_recording(session.rec)
    st, tr = a.gait.stance, session.truth
    errs = []
    for t, ct in zip(a.contacts.t, st.contact_s):
        j = int(np.argmin(np.abs(tr.ic_s - t)))
        if abs(tr.ic_s[j] - t) < 0.05 and np.isfinite(ct) and np.isfinite(tr.contact_time_s[j]):
            errs.append(ct - tr.contact_time_s[j])
    return np.array(errs)


def test_ground_contact_time_on_a_real_sacral_accelerometer_against_the_force_plate():
    try:
        folder = running_dir() / "alcantara"
    except DatasetMissing as exc:
        pytest.skip(str(exc))
    if not folder.is_dir():
        pytest.skip(f"running/alcantara not found at {folder}")
    trials = load_alcantara(folder)[::3]  # every third trial: all speeds and slopes
    errs = np.concatenate([_contact_errors(s) for s in trials])
    assert len(errs) > 100
    assert np.median(np.abs(errs)) < 0.018  # bench/running.py over all 31 trials: 14.5 ms


def test_walking_steps_get_no_stance_and_running_steps_do():
    rec, truth = simulate("walk-to-run", minutes=3, rate_hz=100, seed=2)
    a = analyse_recording(rec)
    codes = a.activity.codes[np.clip(np.round(a.contacts.index).astype(int), 0, len(rec.t) - 1)]
    from tiltguard.host.activities import ACTIVITIES

    walking, running = codes == ACTIVITIES.index("walking"), codes == ACTIVITIES.index("running")
    assert np.isnan(a.gait.stance.contact_s[walking]).all()
    ct = a.gait.stance.contact_s[running]
    assert np.isfinite(ct).mean() > 0.9 and 0.15 < np.nanmedian(ct) < 0.35
    steps = np.diff(a.contacts.t)[running[:-1]]
    assert np.nanmedian(ct) < np.median(steps)  # running: a flight after each stance


def test_the_live_contact_time_agrees_with_the_post_session_one():
    rec, _ = simulate("easy-run-neutral", minutes=3, rate_hz=100, seed=1)
    p = LivePipeline(rec.rate_hz)
    p.request_stand()
    for i in range(0, len(rec.t) - int(40 * rec.rate_hz), 10):  # stop while still running (the walk back out)
        p.feed(rec.t[i:i + 10], rec.acc[i:i + 10], rec.gyr[i:i + 10])
    post = session_summary(analyse_recording(rec))["running"]
    assert abs(p.contact_ms - post["contact_time_ms"]) < 10
    assert abs(p.contact_left_pct - post["contact_time_balance_pct"]) < 3
