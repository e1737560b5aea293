"""Session store on real SQLite files: schema migrations, frames as received, decoding each sample once,
CSV round trip, flash-log import, and what survives kill -9 of a recording process."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tiltguard.firmware import protocol as P
from tiltguard.firmware.flashlog import block_bytes
from tiltguard.host.rawcsv import RawFormatError, read_raw
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore, SessionWriter
from tiltguard.host.store.schema import MIGRATIONS, SCHEMA_VERSION, SchemaTooNew
from tiltguard_eval.synthetic_link import recording_frames

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_rec():
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=3)
    return rec


def _store_frames(store, frames, session_meta=None):
    dev = store.device("Tiltguard-synth", "sim:test")
    sid = store.begin_session(dev, "live", "sim", meta=session_meta)
    w = SessionWriter(store, sid).start()
    t = time.time()
    for k, (_, fr) in enumerate(frames):
        w.add(t + k * 0.05, fr)
    w.close()
    return sid


def test_migrations_from_every_older_version_reach_the_current_schema(tmp_path):
    # a file at version 1 (as an older Tiltguard left it) with a session in it
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    from tiltguard.host.store.schema import _statements

    for stmt in _statements(MIGRATIONS[0]):
        db.execute(stmt)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO sessions (source, state, started_at) VALUES ('live', 'closed', 1.0)")
    db.close()
    store = SessionStore(path)
    assert store.schema_found == 1
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
    assert [s.id for s in store.sessions()] == [1]  # data kept across the upgrade
    store.db.execute("SELECT origin FROM imports")  # the table added by migration 2 exists
    store.close()
    # a newer file than this code knows is refused, untouched
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(SchemaTooNew):
        SessionStore(path)


def test_frames_stored_as_received_decode_to_each_sample_once_in_order(tmp_path, run_rec):
    frames = list(recording_frames(run_rec))
    # arrival as over a bad link: some frames twice, a block out of order, one damaged copy
    arrived = list(frames)
    arrived[100:110] = frames[105:110] + frames[100:105]
    arrived += frames[200:220]  # resent duplicates
    bad = bytearray(frames[50][1])
    bad[20] ^= 0xFF
    arrived.insert(51, (50, bytes(bad)))
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = _store_frames(store, arrived)
    assert sum(1 for _ in store.frames(sid)) == len(arrived)  # every copy kept, as received
    rec = store.recording(sid)
    assert len(rec) == len(run_rec)
    assert np.all(np.diff(rec.t) > 0)
    # int16 quantisation at 8 g / 1000 dps: half an LSB at most
    assert np.max(np.abs(rec.acc - run_rec.acc)) <= 8 * 9.80665 / 32768 / 2 + 1e-9
    assert np.max(np.abs(rec.gyr - run_rec.gyr)) <= np.radians(1000) / 32768 / 2 + 1e-9
    link = store.analyses(sid)["link"]
    assert link["frames_damaged"] == 1 and link["frames_duplicated"] == 20
    assert link["missing_frames"] == 0 and link["samples_missing"] == 0
    assert store.flags(sid) == []


def test_missing_frames_become_data_gap_flags(tmp_path, run_rec):
    frames = list(recording_frames(run_rec))
    kept = frames[:300] + frames[320:]  # 20 frames = 200 samples = 1 s never arrived
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = _store_frames(store, kept)
    link = store.analyses(sid)["link"]
    assert link["missing_seq_ranges"] == [[300, 319]]
    assert link["samples_missing"] == 200
    (flag,) = store.flags(sid)
    assert flag[0] == "data_gap" and flag[2] - flag[1] == pytest.approx(1.005, abs=1e-3)


def test_csv_export_and_import_round_trip(tmp_path, run_rec):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = _store_frames(store, list(recording_frames(run_rec)))
    out = tmp_path / "session.csv"
    store.export_csv(sid, out)
    back = read_raw(out)
    stored = store.recording(sid)
    np.testing.assert_allclose(back.acc, stored.acc, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(back.t, stored.t, atol=1e-6)
    sid2 = store.import_csv(out, device_name="phone-export")
    again = store.recording(sid2)
    assert store.session(sid2).source == "csv" and len(again) == len(stored)
    np.testing.assert_allclose(again.gyr, stored.gyr, rtol=1e-6, atol=1e-6)
    # a bad file: one clear error, nothing half-stored
    bad = tmp_path / "bad.csv"
    bad.write_text("t,ax\n1,2\n")
    n = len(store.sessions())
    with pytest.raises(RawFormatError):
        store.import_csv(bad)
    assert len(store.sessions()) == n


def test_flash_log_import_keeps_complete_blocks_and_is_idempotent(tmp_path, run_rec):
    frames = [fr for _, fr in recording_frames(run_rec)]
    blocks, cur = [], bytearray()
    for fr in frames:
        if len(cur) + 2 + len(fr) > 4000:
            blocks.append(block_bytes(bytes(cur)))
            cur = bytearray()
        cur += len(fr).to_bytes(2, "little") + fr
    blocks.append(block_bytes(bytes(cur)))
    whole = b"".join(blocks)
    torn = whole[: len(whole) - len(blocks[-1]) // 2]  # power lost while writing the last block
    store = SessionStore(tmp_path / "s.sqlite3")
    sid, problem = store.import_flash_log(torn, "flash:dev:7", "dev", "ble:AA", crc32=1234)
    assert "cut short" in problem
    rec = store.recording(sid)
    n_last = sum(1 for _ in _frames_in(blocks[-1]))
    # every sample of every complete block (the hello frame carries none)
    assert len(rec) == sum(P.decode_frame(f).n for f in frames[: len(frames) - n_last] if f[1] == P.T_SAMPLES)
    assert store.session(sid).source == "flash"
    again, _ = store.import_flash_log(torn, "flash:dev:7", "dev", "ble:AA", crc32=1234)
    assert again == sid and len(store.sessions()) == 1


def _frames_in(block):
    from tiltguard.firmware.flashlog import parse_log

    return parse_log(block)[0]


def test_kill_9_mid_recording_loses_at_most_a_second_and_is_recovered(tmp_path):
    db = tmp_path / "kill.sqlite3"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tiltguard.host.cli", "record", "--sim", "easy-run-neutral", "--minutes", "1.5", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO, text=True)
    try:
        for line in proc.stdout:  # status lines, one a second
            if int(line.split()[0]) >= 4:
                break
        else:
            pytest.fail(f"recorder ended early: {proc.stderr.read()}")
        time.sleep(0.37)  # somewhere between two commits
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the file as the crash left it: the session is still marked open
    raw = sqlite3.connect(db)
    assert raw.execute("SELECT state FROM sessions").fetchall() == [("recording",)]
    raw.close()
    store = SessionStore(db)  # next start: recovery
    (sid,) = store.recovered
    info = store.session(sid)
    assert info.state == "recovered" and info.ended_at is not None
    last_rx = max(rx for rx, _ in store.frames(sid))
    assert killed_at - last_rx <= 1.0, f"lost {killed_at - last_rx:.2f} s"
    rec = store.recording(sid)
    link = store.analyses(sid)["link"]  # analysed on recovery
    assert link["samples"] == len(rec) >= 4 * 200
    assert link["samples_missing"] == 0 and link["missing_frames"] == 0  # a clean prefix, no holes
    assert rec.meta["first_sample_index"] == 0
    # opening again recovers nothing more
    store.close()
    assert SessionStore(db).recovered == []
