"""Issue 23 (items 1, 2, 4, 5): nothing recorded is lost when the store cannot be written, the disk fills,
the pod restarts, the database is damaged or the input lies; the user is told in one line.

The end-to-end cases are the fault bench's own (bench/tiltguard_eval/faults/host_cases.py: the real CLI,
SQLite files on disk, an immutable file, small tmpfs mounts where root may mount, the firmware's device app
behind the in-process link); each is run here and its row checked with its numbers. The smaller tests below
pin the parts: the spool, the segments, the bounded sequence tracker, the doctor, the input checks.
"""
from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest
from tiltguard.firmware import protocol as P
from tiltguard.host.clock import MAX_HOLE, SeqTracker
from tiltguard.host.link.decode import decode_frames, sample_table, to_recording
from tiltguard.host.rawcsv import RawFormatError, read_raw, write_raw
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore, SessionWriter, StoreDamaged
from tiltguard.host.store.spool import Spool, pending_spools, read_spool
from tiltguard.host.text import printable
from tiltguard_eval.faults import host_cases as H
from tiltguard_eval.faults import check_row, passed
from tiltguard_eval.synthetic_link import recording_frames


@pytest.fixture(scope="module")
def short_run():
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=3)
    return H._first_seconds(rec, 20.0)


def _case(fn, tmp_path):
    row = fn(tmp_path)
    assert check_row(row) == [], row
    assert "Traceback" not in row["detail"], row
    return row


# ---------------------------------------------------------------------- the store cannot be written
def test_read_only_store_spools_the_recording_and_the_next_start_stores_all_of_it(tmp_path):
    row = _case(H.store_read_only, tmp_path)
    assert row["samples_produced"] > 2000  # 4 s at 200 Hz, the device clock at 4x
    assert row["samples_lost"] == 0 and row["samples_stored"] == row["samples_produced"]
    assert row["told_user"] and passed(row), row
    assert not pending_spools(tmp_path / "s.sqlite3")  # moved into the database, then removed


def test_full_disk_warns_at_ten_minutes_left_then_spools_and_loses_nothing(tmp_path):
    row = _case(H.store_disk_full, tmp_path)
    assert row["samples_produced"] > 4000
    assert row["samples_lost"] == 0 and row["told_user"], row


def test_full_disk_stand_in_for_machines_without_mount_loses_nothing(tmp_path):
    """The bench's fallback where no tmpfs may be mounted: a subprocess whose files may not grow past 400 KiB
    (its writes fail with EFBIG, as a full disk's with ENOSPC). Run here too, so the fallback is tested."""
    row = H._disk_full_stand_in(tmp_path)
    assert check_row(row) == [] and row["samples_produced"] > 4000
    assert row["samples_lost"] == 0 and row["told_user"], row


def test_low_disk_is_told_before_the_recording_starts(tmp_path):
    row = _case(H.store_disk_low_warning, tmp_path)
    if row["detail"].startswith("skipped"):
        pytest.skip("no tmpfs mount allowed here (root needed): " + row["detail"])
    assert row["told_user"] and row["samples_lost"] == 0 and row["samples_produced"] > 1500


def test_a_store_write_error_is_told_once_at_once_and_the_frames_go_on_into_the_spool(tmp_path, short_run):
    """The writer on its own: the database file turns read-only mid-session (chattr +i)."""
    db = tmp_path / "s.sqlite3"
    store = SessionStore(db, analyse=None)
    frames = [fr for _, fr in recording_frames(short_run)]
    sid = store.begin_session(store.device("Tiltguard-synth", "sim:w"), "live", "sim")
    told = []
    w = SessionWriter(store, sid, spool_header={"device": {"name": "Tiltguard-synth", "address": "sim:w"},
                                                "session": {"source": "live", "transport": "sim"},
                                                "started_at": time.time()},
                      on_problem=lambda kind, msg: told.append((kind, msg, time.monotonic())))
    t = time.time()
    for i, fr in enumerate(frames[:200]):
        w.add(t + i * 0.05, fr)
    w.flush()
    store.db.close()  # from here the store's connection is a read-only one: every commit fails as on a read-only file
    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    store.db = ro
    for i, fr in enumerate(frames[200:], start=200):
        w.add(t + i * 0.05, fr)
    t_fail = time.monotonic()
    w.flush()
    w.flush()
    kinds = [k for k, _, _ in told]
    assert kinds == ["spooling"], told  # one line, not one per beat
    assert told[0][2] - t_fail < 0.5 and "read-only" in told[0][1] and str(w.spool.path) in told[0][1]
    w.close()  # the database still refuses: the spool stays for the next start
    ro.close()
    assert w.spool.path.exists()
    with SessionStore(db, analyse=None) as again:
        assert again.recovered == [sid]
        assert again.analyses(sid)["link"]["samples"] == len(short_run)
        assert again.analyses(sid)["link"]["missing_frames"] == 0
    assert not w.spool.path.exists()


def test_a_torn_spool_keeps_every_complete_batch(tmp_path, short_run):
    frames = [(time.time() + i * 0.05, fr) for i, (_, fr) in enumerate(recording_frames(short_run))]
    sp = Spool.create(tmp_path / "s.sqlite3", {"device": {"name": "x", "address": "y"}, "session": {}})
    for k in range(0, 300, 5):
        sp.append(frames[k : k + 5])
    sp.close()
    size = sp.path.stat().st_size
    with open(sp.path, "r+b") as f:
        f.truncate(size - 100)  # a power cut in the middle of the last batch
    header, batches, problem = read_spool(sp.path)
    assert header["device"]["name"] == "x" and len(batches) == 59 and "torn" in problem
    with SessionStore(tmp_path / "s.sqlite3", analyse=None) as store:
        (sid,) = store.recovered
        assert store.analyses(sid)["link"]["samples"] == (59 * 5 - 1) * 10  # frame 0 is the hello
        assert store.session(sid).meta["spool_problem"].startswith("torn")


# ---------------------------------------------------------------------- the pod restarts
def test_pod_reboot_is_a_new_segment_of_the_same_session_with_the_gap_shown(tmp_path):
    row = _case(H.pod_reboot, tmp_path)
    assert row["told_user"], row  # `sessions` shows "2 segments (pod restarted; x s without data)"
    assert row["samples_lost"] <= row["samples_lost_bound"] <= 10  # the samples not yet framed at the brown-out
    assert row["samples_produced"] > 1000
    gap = float(row["detail"].split("gap ")[1].split(" s")[0])
    assert 1.5 <= gap < 3.0  # down 1.5 s, plus its boot and the host's reconnect


def test_restart_without_boot_id_is_never_deduplicated_against_the_first_boot(short_run):
    """Two boots of a device too old to send a boot id: sequence numbers 0.. twice. Each sample kept once."""
    a = list(recording_frames(short_run, session=1))
    b = list(recording_frames(short_run, session=2))[:150]
    t = 1000.0
    arrived = [(t + i * 0.05, fr) for i, (_, fr) in enumerate(a)]
    arrived += [(t + 60 + i * 0.05, fr) for i, (_, fr) in enumerate(b)]  # 60 s later on the host clock
    dec = decode_frames(arrived)
    assert len(dec.segments) == 2 and dec.duplicates == 0
    assert dec.n_samples == len(short_run) + 149 * 10
    assert dec.segments[1].gap_before_s == pytest.approx(60 - 20 + 0.05 - 0.05, abs=0.2)
    tab = sample_table(dec)
    assert np.all(np.diff(tab.t_us) > 0)  # the second boot placed after the first, the gap between
    rec = to_recording(dec)
    assert rec.meta["segments"][1]["gap_before_s"] == pytest.approx(40.0, abs=0.2)
    # a resend of the first boot's frames within that boot stays a duplicate, as before
    assert decode_frames(arrived[:100] + arrived[50:60]).duplicates == 10


def test_boot_id_is_in_every_hello_and_differs_per_power_up():
    from tiltguard.firmware.core import _new_boot_id

    info = {"session": 1, "rate_hz": 200, "acc_range_g": 8, "gyr_range_dps": 1000, "acc_scale": 0.002,
            "gyr_scale": 0.001, "max_frame": 244, "samples_per_frame": 10, "history_s": 60, "firmware": "t",
            "sensor": "s", "name": "n"}
    ids = {_new_boot_id() for _ in range(20)}
    assert len(ids) == 20
    f = P.decode_frame(P.encode_hello(0, 0, dict(info, boot_id=0xDEADBEEF)))
    assert f.boot_id == 0xDEADBEEF and f.name == "n"
    assert P.decode_frame(P.encode_hello(0, 0, info)).boot_id is None  # an older device: no extension


def test_the_device_draws_a_boot_id_per_power_up_on_the_unix_port():
    """The firmware's own code on MicroPython: two power-ups, two boot ids, in a hello CPython decodes."""
    from mpy_helpers import run_micropython_code  # tests/ is on the path (its `tests.` name may be shadowed)

    code = ("from tiltguard.firmware.core import _new_boot_id\n"
            "from tiltguard.firmware import protocol as P\n"
            "import binascii\n"
            "info = {'session': 3, 'rate_hz': 200, 'acc_range_g': 8, 'gyr_range_dps': 1000, 'acc_scale': 0.002,"
            " 'gyr_scale': 0.001, 'max_frame': 244, 'samples_per_frame': 10, 'history_s': 60, 'firmware': 't',"
            " 'sensor': 's', 'name': 'n', 'boot_id': _new_boot_id()}\n"
            "print(binascii.hexlify(P.encode_hello(0, 0, info)).decode())\n")
    hellos = [P.decode_frame(bytes.fromhex(run_micropython_code(code).strip())) for _ in range(2)]
    assert all(h.boot_id is not None and h.session == 3 for h in hellos)
    assert hellos[0].boot_id != hellos[1].boot_id


# ---------------------------------------------------------------------- sequence numbers
def test_a_frame_skipping_1e8_sequence_numbers_allocates_nothing_and_loses_nothing(tmp_path):
    row = _case(H.seq_jump, tmp_path)
    assert row["samples_lost"] == 0 and row["samples_stored"] == row["samples_produced"] == 6000
    peak_mib = float(row["detail"].split("peak ")[1].split(" MiB")[0])
    assert peak_mib < 64


def test_seq_tracker_memory_is_bounded_whatever_the_numbers_do():
    tr = SeqTracker()
    tr.add(0)
    tr.add(10**8)  # a stray: counted, nothing listed, nothing moved
    assert tr.jumps == 1 and not tr.missing and tr.highest == 0
    assert tr.add(1) == "new"  # the stream goes on where it was
    tr.add(MAX_HOLE)  # a real hole of MAX_HOLE - 2 frames is still listed
    assert len(tr.missing) == MAX_HOLE - 2
    for k in range(5):  # many long holes: at most MAX_MISSING kept, the oldest given up
        tr.add(tr.highest + MAX_HOLE)
    assert len(tr.missing) <= 1 << 16 and tr.given_up > 0


# ---------------------------------------------------------------------- a damaged database
def test_junk_page_every_command_one_line_and_doctor_recovers_the_rest(tmp_path):
    row = _case(H.db_junk_page, tmp_path)
    assert row["told_user"] and row["samples_lost"] <= row["samples_lost_bound"] <= 500, row
    assert row["samples_stored"] >= row["samples_produced"] - 500


def test_truncated_file_every_command_one_line_and_doctor_keeps_what_is_before_the_cut(tmp_path):
    row = _case(H.db_truncated, tmp_path)
    assert row["told_user"] and row["samples_lost"] <= row["samples_lost_bound"], row
    assert row["samples_stored"] > 0.4 * row["samples_produced"]


def test_one_bad_chunk_costs_that_chunk_not_the_session(tmp_path):
    row = _case(H.db_bad_chunk, tmp_path)
    assert 0 < row["samples_lost"] <= 50 and row["samples_stored"] >= 3950, row


def test_doctor_on_a_sound_file_says_ok_and_writes_nothing(tmp_path):
    db, _ = H._recorded_db(tmp_path, sessions=1)
    rc, out = H.run_cli(["doctor", "--db", str(db)])
    assert rc == 0 and "integrity_check ok, 1 sessions" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sqlite3"]


def test_writers_refuse_a_damaged_file_in_one_line(tmp_path):
    db, _ = H._recorded_db(tmp_path, sessions=1)
    with open(db, "r+b") as f:
        f.seek(8 * 4096)
        f.write(b"\xff" * 4096)
    with pytest.raises(StoreDamaged, match="tiltguard doctor"):
        SessionStore(db, check=True)


# ---------------------------------------------------------------------- input that lies
@pytest.mark.parametrize("case", [H.csv_time_in_ms, H.csv_rate_header_wrong, H.csv_rate_1e9, H.csv_meta_not_object])
def test_lying_csv_is_refused_in_one_line(tmp_path, case):
    row = _case(case, tmp_path)
    assert row["refused"] is True and row["told_user"], row


def test_rate_check_accepts_a_true_header_and_names_the_unit_slip(tmp_path, short_run):
    path = tmp_path / "ok.csv"
    write_raw(path, short_run)
    assert read_raw(path).rate_hz == 200
    text = path.read_text().replace("# rate_hz: 200", "# rate_hz: 205")  # 2.5 % off: within 5 %
    path.write_text(text)
    assert read_raw(path).rate_hz == 205
    path.write_text(text.replace("# rate_hz: 205", "# rate_hz: 220"))  # 10 % off
    with pytest.raises(RawFormatError, match="does not match the timestamps"):
        read_raw(path)
    path.write_text(text.replace("# rate_hz: 205", "# rate_hz: 5"))
    with pytest.raises(RawFormatError, match="outside 10-2000 Hz"):
        read_raw(path)


def test_device_text_is_sanitised_before_the_terminal(tmp_path):
    row = _case(H.device_name_control_codes, tmp_path)
    assert row["told_user"] and row["refused"], row
    assert printable("a\x1b[2Jb\u202ec") == "a\\x1b[2Jb\\u202ec"
    assert printable("x" * 100, 10) == "x" * 9 + "…"


def test_imports_match_content_not_path(tmp_path):
    row = _case(H.import_same_path_new_content, tmp_path)
    assert row["told_user"] and row["samples_lost"] == 0, row


def test_report_says_the_pod_restarted_and_when(tmp_path):
    """Long enough for the report's analysis (a stand, then a run, in each boot; the pod's clock at 6x)."""
    row = H.pod_reboot(tmp_path, speed=6.0, before_s=10.0, after_s=10.0)
    assert row["samples_lost"] <= row["samples_lost_bound"] and row["told_user"], row
    rc, out = H.run_cli(["report", "1", "-o", str(tmp_path / "rep"), "--db", str(tmp_path / "s.sqlite3")])
    assert rc == 0, out
    import json

    note = json.loads((tmp_path / "rep" / "report.json").read_text())["session"]["restarts"]
    assert note.startswith("1 restart(s) of the pod: at ") and "s without data" in note
    assert "The pod restarted during this session." in (tmp_path / "rep" / "report.html").read_text()
