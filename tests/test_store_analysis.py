"""A closed session is analysed in the store: its summary and flags are kept, and a session that cannot
be analysed keeps the reason while its raw data stays."""
import json

import pytest
from tiltguard.host.rawcsv import write_raw
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore


def test_imported_session_gets_its_pelvic_summary_and_flags(tmp_path):
    rec, truth = simulate("run-sustained-anterior", minutes=9, rate_hz=200, seed=3)
    write_raw(tmp_path / "run.csv", rec)
    with SessionStore(tmp_path / "tg.sqlite") as store:
        sid = store.import_csv(tmp_path / "run.csv")
        summary = store.analyses(sid)["pelvis"]
        flags = [f for f in store.flags(sid) if f[0] == "sustained_anterior_tilt"]
    (a, b), = truth.sustained_tilt_intervals()
    assert summary["running"]["cadence_spm"] == pytest.approx(168, abs=1)
    assert summary["anterior_tilt_min"] == pytest.approx((b - a) / 60, abs=0.5)
    assert summary["flags"] == ["sustained_anterior_tilt"]
    (kind, start, end, peak, message), = flags
    assert abs(start - a) < 15 and 8 < peak < 11
    assert json.loads(message)["evidence"]["threshold"] == 5.0
    # which way is forward is kept with the session: decided, and by which cues (a road start from a stand)
    direction = summary["direction"]
    assert direction["sign"] == 1 and "speed gained" in direction["reason"]
    assert {c["cue"] for c in direction["cues"]} >= {"speed gained", "loading brakes", "loading-braking coupling"}


def test_a_session_that_cannot_be_analysed_keeps_the_reason_and_its_samples(tmp_path):
    rec, _ = simulate("ride-steady", minutes=2, rate_hz=200, seed=1)  # a ride already under way: no stand
    rec.acc, rec.gyr, rec.t, rec.temp_c = rec.acc[8000:], rec.gyr[8000:], rec.t[8000:], rec.temp_c[8000:]
    write_raw(tmp_path / "mid.csv", rec)
    with SessionStore(tmp_path / "tg.sqlite") as store:
        sid = store.import_csv(tmp_path / "mid.csv")
        assert "without a 5-s still stand" in store.analyses(sid)["pelvis"]["error"]
        assert len(store.recording(sid)) == len(rec)
