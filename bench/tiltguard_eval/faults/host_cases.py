"""Host-side fault cases: the store that cannot be written, a full disk, a pod that restarts, a sequence
number that jumps, a damaged database, input that lies, device text with control codes.

Real parts throughout: SQLite files on disk, the real CLI (`tiltguard.host.cli.main`, output captured), the
firmware's device app on CPython behind the in-process link (`record --sim`, host.link.simdevice), an
immutable file (chattr +i) and small tmpfs mounts where this machine allows them (root), else a file-size
limit (RLIMIT_FSIZE) on a subprocess as the stand-in for a full disk: its writes fail with EFBIG the way a
full disk's fail with ENOSPC.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from tiltguard.firmware import protocol as P
from tiltguard.host.cli import main as cli_main
from tiltguard.host.rawcsv import write_raw
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore, SessionWriter
from tiltguard.host.store.spool import pending_spools
from tiltguard_eval.synthetic_link import recording_frames

REPO = Path(__file__).resolve().parents[3]
SIM = ["--sim", "easy-run-neutral", "--speed", "4"]


# ---------------------------------------------------------------------- helpers
def run_cli(args: list[str]) -> tuple[int, str]:
    """The real CLI in this process: (exit code, stdout + stderr). An escaping exception is printed as a
    traceback into the output (so `told_user` sees it) instead of stopping the bench."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            rc = cli_main(args)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - shown as what the user would have seen
            import traceback

            traceback.print_exc(file=buf)
            rc = 99
    return rc, buf.getvalue()


def told(text: str, *needles: str) -> bool:
    """The user got the clear line: every needle is in the output and there is no traceback."""
    return "Traceback" not in text and all(n in text for n in needles)


def recorded_samples(text: str) -> int:
    """Samples the host received, from `record`'s summary line."""
    m = re.search(r"^(?:stored session\(s\)[^:]*|recorded \(spooled\)): (\d+) samples", text, re.M)
    return int(m.group(1)) if m else 0


def stored_samples(db: Path) -> tuple[int, list[int]]:
    """Samples in every session of the store, after the start-up recovery: (samples, recovered ids)."""
    with SessionStore(db, analyse=None) as store:
        n = sum(int(store.analyses(s.id).get("link", {}).get("samples", 0)) for s in store.sessions())
        return n, store.recovered


def row(name, produced, stored, bound, told_user, refused=None, detail="", lost=None) -> dict:
    lost = max(0, produced - stored) if lost is None else lost
    return {"name": name, "samples_produced": int(produced), "samples_stored": int(stored), "samples_lost": int(lost),
            "samples_lost_bound": int(bound), "told_user": bool(told_user), "refused": refused, "detail": detail}


def _chattr(path: Path, flag: str) -> bool:
    try:
        return subprocess.run(["chattr", flag, str(path)], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@contextlib.contextmanager
def tmpfs(where: Path, size: str):
    """A small tmpfs mounted at `where` (root only); yields False where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    ok = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                                              capture_output=True).returncode == 0
    try:
        yield ok
    finally:
        if ok:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _cleanup_spools(db: Path) -> None:
    for p in pending_spools(db):
        p.unlink(missing_ok=True)


# ---------------------------------------------------------------------- the store cannot be written
def store_read_only(tmp: Path) -> dict:
    """The database file is immutable (chattr +i; read-only for a non-root user): `record` tells at once,
    spools, and the next start stores the spool. 0 samples may be lost."""
    db = tmp / "s.sqlite3"
    SessionStore(db, analyse=None).close()
    how = "immutable (chattr +i)" if _chattr(db, "+i") else None
    if how is None:
        db.chmod(0o444)
        how = "chmod 444" + (" (root ignores it)" if os.geteuid() == 0 else "")
    try:
        rc, out = run_cli(["record", *SIM, "--duration", "4", "--db", str(db)])
    finally:
        if how.startswith("immutable"):
            _chattr(db, "-i")
        db.chmod(0o644)
    produced = recorded_samples(out)
    stored, recovered = stored_samples(db)
    first = next((ln for ln in out.splitlines() if "spool" in ln), "")
    return row("store_read_only", produced, stored, 0, told(out, "read-only", "spool") and rc == 0,
               detail=f"{how}; told: {first[:90]}...; recovered sessions {recovered} at the next start")


def store_disk_full(tmp: Path) -> dict:
    """The disk under the database fills during `record`: the low-space warning comes first, then one line
    when the writes fail; the rest goes to a spool elsewhere; after space is freed the next start stores it."""
    mnt = tmp / "disk"
    db = mnt / "s.sqlite3"
    with tmpfs(mnt, "600k") as mounted:
        if mounted:
            SessionStore(db, analyse=None).close()
            rc, out = run_cli(["record", *SIM, "--duration", "8", "--db", str(db)])
            subprocess.run(["mount", "-o", "remount,size=8m", str(mnt)], capture_output=True)  # space freed
            produced = recorded_samples(out)
            stored, recovered = stored_samples(db)
            how = "600 KiB tmpfs"
        else:
            return _disk_full_stand_in(tmp)
    ok = told(out, "disk almost full", "disk is full", "spool") and rc == 0
    return row("store_disk_full", produced, stored, 0, ok,
               detail=f"{how}: warned at 10 min left, told on ENOSPC, spooled; recovered {recovered} next start")


def _disk_full_stand_in(tmp: Path) -> dict:
    """No mount here: the recorder runs in a subprocess whose files may not grow past 400 KiB
    (RLIMIT_FSIZE; SIGXFSZ ignored, so writes fail with EFBIG as a full disk's fail with ENOSPC)."""
    db = tmp / "s.sqlite3"
    SessionStore(db, analyse=None).close()
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            "resource.setrlimit(resource.RLIMIT_FSIZE, (400 << 10, 400 << 10)); "
            "from tiltguard.host.cli import main; sys.exit(main(sys.argv[1:]))")
    p = subprocess.run([sys.executable, "-c", code, "record", *SIM, "--duration", "8", "--db", str(db)],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO.parent)), timeout=120)
    out = p.stdout + p.stderr
    produced = recorded_samples(out)
    stored, recovered = stored_samples(db)
    return row("store_disk_full", produced, stored, 0, told(out, "spool") and p.returncode == 0,
               detail=f"stand-in: RLIMIT_FSIZE 400 KiB (no mount allowed); recovered {recovered} next start")


def store_disk_low_warning(tmp: Path) -> dict:
    """Less than 10 minutes of recording fit: `record` says so before it starts; nothing is lost."""
    mnt = tmp / "disk"
    with tmpfs(mnt, "3m") as mounted:
        db = (mnt if mounted else tmp) / "s.sqlite3"
        if not mounted:  # the warning from the real free space: only where it is low, so state it plainly
            return row("store_disk_low_warning", 0, 0, 0, True, detail="skipped: no tmpfs mount allowed here")
        rc, out = run_cli(["record", *SIM, "--duration", "3", "--db", str(db)])
        produced = recorded_samples(out)
        stored, _ = stored_samples(db)
    line = next((ln for ln in out.splitlines() if "disk almost full" in ln), "")
    return row("store_disk_low_warning", produced, stored, 0, told(out, "disk almost full") and rc == 0,
               detail=f"3 MiB tmpfs: {line.split(': ', 1)[-1][:70]}")


# ---------------------------------------------------------------------- the pod restarts mid-recording
def port_transport():
    """A loopback transport standing for a USB port that is not there while the pod is down."""
    from tiltguard.host.link.loopback import LoopbackTransport

    class Port(LoopbackTransport):
        down = False

        async def connect(self) -> None:
            if self.down:
                raise ConnectionError("port gone")
            await super().connect()

    return Port


async def brown_out(dev, task, port, link) -> None:
    """The pod's app dies where it stands: no stop event, no last frame, nothing more on the link; the port
    goes away with it (the host sees the link drop)."""
    dev.device.links, dev.device.link = [], None
    dev.device.exit = True  # its tasks end at their next beat (run() is cancelled: stop() never runs)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    port.down = True
    link.connected = False
    port._link(False)


def pod_reboot(tmp: Path, speed: float = 1.0, before_s: float = 3.0, after_s: float = 3.0) -> dict:
    """The pod browns out mid-recording (its app killed mid-frame, the USB port gone) and boots again
    1.5 s later: one session, two segments, the gap measured; nothing of the second boot is taken for a
    duplicate of the first. Bound: the samples the pod had read but not yet framed when it died."""
    from tiltguard.host.link.simdevice import LoopbackLink, SimulatedDevice
    from tiltguard.host.store.recorder import Recorder

    Port = port_transport()
    sim, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=5)
    db = tmp / "s.sqlite3"
    problems: list[str] = []

    async def scenario():
        link = LoopbackLink()
        port = Port(link, address="sim:reboot")
        dev1 = SimulatedDevice(sim, [link], folder=tmp / "pod", speed=speed)
        t1 = asyncio.ensure_future(dev1.run())
        store = SessionStore(db, analyse=None)
        rec = Recorder(port, store, on_problem=lambda k, m: problems.append(m))
        stop = asyncio.Event()
        run = asyncio.ensure_future(rec.run(stop=stop))
        await asyncio.sleep(before_s)
        await brown_out(dev1, t1, port, link)
        framed1 = dev1.device.stats["samples"]
        unframed1 = dev1.device.sampler.fcount  # read from the FIFO, not yet in a frame: gone with the RAM
        await asyncio.sleep(1.5)
        dev2 = SimulatedDevice(sim, [link], folder=tmp / "pod", speed=speed)
        t2 = asyncio.ensure_future(dev2.run())
        port.down = False
        await asyncio.sleep(after_s)
        stop.set()
        sids = await run
        dev2.stop()
        await asyncio.gather(t2, return_exceptions=True)
        store.close()
        return sids, framed1, unframed1, dev2.device.stats["samples"], dev1.device.boot_id != dev2.device.boot_id

    sids, made1, unframed1, made2, new_boot = asyncio.run(scenario())
    produced = made1 + made2
    with SessionStore(db, analyse=None) as store:
        link = store.analyses(sids[0])["link"] if sids else {}
    stored = int(link.get("samples", 0))
    rc, out = run_cli(["sessions", "--db", str(db)])
    shown = told(out, "2 segments", "pod restarted")
    ok = shown and len(sids) == 1 and any("restarted" in m for m in problems)
    return row("pod_reboot", produced, stored, unframed1, ok,
               detail=f"sessions {sids}, segments {len(link.get('segments', []))}, gap {link.get('restart_gap_s')} s "
                      f"(pod down 1.5 s), new boot id {new_boot}, {unframed1} samples unframed at the brown-out")


# ---------------------------------------------------------------------- sequence numbers that jump
def seq_jump(tmp: Path) -> dict:
    """One CRC-valid frame skips 10^8 sequence numbers in the middle of a recording: the recorder's memory
    stays bounded (tracemalloc peak), and every sample, the stray frame's included, is stored."""
    from tiltguard.host.link.transport import Transport
    from tiltguard.host.store.recorder import Recorder

    sim, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=6)
    sim = _first_seconds(sim, 30.0)
    frames = [fr for _, fr in recording_frames(sim)]
    k = len(frames) // 2
    f = P.decode_frame(frames[k])
    stray = bytes(P.encode_samples(f.seq + 100_000_000, f.t_us, f.first_index, f.period_ns, 2400, f.raw, f.n))
    produced = sum(P.decode_frame(x).n for x in frames[1:])
    arrivals = frames[:k] + [stray] + frames[k + 1:]  # the stray replaces frame k's copy

    class Null(Transport):
        name = "test"

    db = tmp / "s.sqlite3"
    store = SessionStore(db, analyse=None)
    rec = Recorder(Null(), store)
    tracemalloc.start()
    t = time.time()
    for i, raw in enumerate(arrivals):
        rec._on_frame(raw, t + i * 0.05)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    for w in rec._writers:
        w.close()
    (sid,) = rec.session_ids
    stored = int(store.analyses(sid)["link"]["samples"])
    store.close()
    ok = peak < 64 << 20 and rec.tracker.jumps >= 1
    return row("seq_jump_1e8", produced, stored, 0, ok,
               detail=f"peak {peak / 2**20:.1f} MiB while decoding {len(arrivals)} frames; jumps counted "
                      f"{rec.tracker.jumps}; holes held {len(rec.tracker.missing)}")


def _first_seconds(rec, seconds):
    from tiltguard.host.samples import RawRecording

    n = int(seconds * rec.rate_hz)
    return RawRecording(rec.t[:n], rec.acc[:n], rec.gyr[:n], rec.rate_hz, rec.sensor_model)


# ---------------------------------------------------------------------- a damaged database
def _recorded_db(tmp: Path, sessions: int = 2) -> tuple[Path, int]:
    """A database with `sessions` sessions of synthetic frames, and its sample count."""
    db = tmp / "s.sqlite3"
    sim, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=7)
    sim = _first_seconds(sim, 20.0)
    with SessionStore(db, analyse=None) as store:
        for s in range(sessions):
            dev = store.device("Tiltguard-synth", "sim:faults")
            sid = store.begin_session(dev, "live", "sim")
            w = SessionWriter(store, sid).start()
            t = time.time()
            for i, (_, fr) in enumerate(recording_frames(sim, session=s + 1)):
                w.add(t + i * 0.05, fr)
                if i % 5 == 4:
                    w.flush()  # a chunk every 5 frames, as the 0.25 s beat makes at 200 Hz
            w.close()
    return db, sessions * len(sim)


def _commands_on(db: Path, tmp: Path) -> tuple[bool, list[str]]:
    """Every command that opens the store, on a damaged file: one line each, no traceback."""
    csv = tmp / "in.csv"
    sim, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=8)
    write_raw(csv, _first_seconds(sim, 5.0))
    lines, ok = [], True
    for args in (["sessions"], ["export", "1", "-o", str(tmp / "x.csv")], ["import", str(csv)],
                 ["report", "1", "-o", str(tmp / "r.html")], ["record", *SIM, "--duration", "1"]):
        rc, out = run_cli([*args, "--db", str(db)])
        err = [ln for ln in out.splitlines() if "error" in ln or "damaged" in ln or "malformed" in ln]
        ok &= "Traceback" not in out and bool(err)
        lines.append(f"{args[0]}: {err[0][:60] if err else out.strip()[-60:]}")
    return ok, lines


def _doctor(db: Path, tmp: Path) -> tuple[bool, int, str]:
    """`tiltguard doctor` on the damaged file: (the old file untouched, samples in the recovered file, line)."""
    _cleanup_spools(db)  # what `record` spooled while the file was damaged is not part of this count
    before = db.read_bytes()
    new = tmp / "recovered.sqlite3"
    rc, out = run_cli(["doctor", "--db", str(db), "-o", str(new)])
    untouched = db.read_bytes() == before
    samples = stored_samples(new)[0] if new.exists() else 0
    return untouched and "Traceback" not in out, samples, out.strip().splitlines()[-1][:110]


def _chunk_rows_on(db: Path, hit) -> int:
    """Chunk rows with a byte on a page for which hit(pageno) is true (their leaf cell or an overflow page),
    from SQLite's dbstat of the intact file: what a damage to those pages can cost, at most."""
    with sqlite3.connect(db) as c:
        pages = c.execute("SELECT path, pageno, pagetype, ncell FROM dbstat WHERE name='chunks'").fetchall()
    lost = set()
    for path, pageno, kind, ncell in pages:
        if not hit(pageno):
            continue
        if kind == "leaf":
            lost.update((path, k) for k in range(ncell))
        elif kind == "overflow":  # path '/00a/003+000001': overflow page of cell 3 of the leaf at '/00a/'
            leaf, _, cell = path.rpartition("/")
            lost.add((leaf + "/", int(cell.split("+")[0], 16)))
        else:  # an interior page: every row under it may be unreachable
            return 1 << 30
    return len(lost)


def db_junk_page(tmp: Path) -> dict:
    """4 KiB of junk over one leaf page of the chunks table: every command gives one line; doctor recovers
    every other page into a new file. Bound: the samples of the chunk rows on that page (dbstat)."""
    db, produced = _recorded_db(tmp)
    with sqlite3.connect(db) as c:
        page = c.execute("SELECT pageno FROM dbstat WHERE name='chunks' AND pagetype='leaf' "
                         "ORDER BY pageno LIMIT 1 OFFSET 10").fetchone()[0]
        psize = c.execute("PRAGMA page_size").fetchone()[0]
    bound = _chunk_rows_on(db, lambda p: p == page) * 50
    with open(db, "r+b") as f:
        f.seek((page - 1) * psize)
        f.write(np.random.default_rng(0).bytes(4096))
    ok, lines = _commands_on(db, tmp)
    untouched, stored, line = _doctor(db, tmp)
    return row("db_junk_page", produced, stored, bound, ok and untouched,
               detail=f"page {page} (a chunks leaf) overwritten; {lines[0]}; doctor: {line}")


def db_truncated(tmp: Path) -> dict:
    """The database file cut to 60 %: one line from every command; doctor recovers everything before the
    cut into a new file. Bound: the samples of the chunk rows with a byte on the cut-off pages (dbstat)."""
    db, produced = _recorded_db(tmp)
    size = db.stat().st_size
    psize = 4096
    keep = (int(size * 0.6) // psize) * psize
    bound = _chunk_rows_on(db, lambda p: p > keep // psize) * 50
    os.truncate(db, keep)
    ok, lines = _commands_on(db, tmp)
    untouched, stored, line = _doctor(db, tmp)
    return row("db_truncated", produced, stored, bound, ok and untouched,
               detail=f"{size} -> {keep} bytes; {lines[0]}; doctor: {line}")


def db_bad_chunk(tmp: Path) -> dict:
    """One stored chunk cut short inside (the session's other chunks intact): the session still reads; it
    costs that chunk's frames after the cut, never the session. Bound: one chunk (5 frames, 50 samples)."""
    db, produced = _recorded_db(tmp, sessions=1)
    with sqlite3.connect(db) as c:
        blob = c.execute("SELECT data FROM chunks WHERE chunk_no=7").fetchone()[0]
        c.execute("UPDATE chunks SET data=? WHERE chunk_no=7", (blob[: len(blob) // 2],))
    with SessionStore(db, analyse=None) as store:
        store.analyse(1)
        stored = int(store.analyses(1)["link"]["samples"])
        bad = store.damaged_chunks.get(1, 0)
    rc, out = run_cli(["doctor", "--db", str(db)])
    return row("db_bad_chunk", produced, stored, 50, told(out, "1 of") and bad == 1,
               detail=f"chunk 7 cut at half: {bad} chunk damaged; doctor: {out.strip().splitlines()[0][-70:]}")


# ---------------------------------------------------------------------- input that lies
def _lying_csv(tmp: Path, name: str, edit) -> dict:
    sim, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=9)
    path = tmp / f"{name}.csv"
    write_raw(path, _first_seconds(sim, 10.0))
    lines = path.read_text().split("\n")
    path.write_text("\n".join(edit(lines)))
    db = tmp / "s.sqlite3"
    tracemalloc.start()
    rc, out = run_cli(["import", str(path), "--db", str(db)])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    refused = rc != 0 and "stored as session" not in out
    one_line = len([ln for ln in out.splitlines() if ln.strip()]) == 1
    return row(name, 0, 0, 0, told(out, "error") and one_line, refused=refused,
               detail=f"{out.strip().rpartition('.csv: ')[2][:110]} (peak {peak / 2**20:.0f} MiB)")


def _col0(lines, fn):
    out = []
    for ln in lines:
        if ln and ln[0].isdigit():
            a, _, b = ln.partition(",")
            ln = f"{fn(float(a)):.3f},{b}"
        out.append(ln)
    return out


def csv_time_in_ms(tmp: Path) -> dict:
    return _lying_csv(tmp, "csv_time_in_ms", lambda ls: _col0(ls, lambda t: t * 1000.0))


def csv_rate_header_wrong(tmp: Path) -> dict:
    return _lying_csv(tmp, "csv_rate_50_on_200hz", lambda ls: [("# rate_hz: 50" if x.startswith("# rate_hz") else x)
                                                               for x in ls])


def csv_rate_1e9(tmp: Path) -> dict:
    return _lying_csv(tmp, "csv_rate_1e9", lambda ls: [("# rate_hz: 1e9" if x.startswith("# rate_hz") else x)
                                                       for x in ls])


def csv_meta_not_object(tmp: Path) -> dict:
    return _lying_csv(tmp, "csv_meta_json_list", lambda ls: [('# meta: [1, 2, 3]' if x.startswith("# meta") else x)
                                                             for x in ls])


def device_name_control_codes(tmp: Path) -> dict:
    """A device announcing a name with terminal control codes: `sessions` prints them escaped."""
    db = tmp / "s.sqlite3"
    evil = "Pod\x1b]0;owned\x07\x1b[2J\x1b[31mred\r"
    with SessionStore(db, analyse=None) as store:
        dev = store.device(evil, "sim:evil")
        sid = store.begin_session(dev, "live", "sim", recording=False)
        store.close_session(sid, analyse=False)
    rc, out = run_cli(["sessions", "--db", str(db)])
    clean = not any(ord(c) < 32 and c != "\n" or 0x7F <= ord(c) < 0xA0 for c in out)
    return row("device_name_control_codes", 0, 0, 0, clean and "\\x1b" in out, refused=clean,
               detail=f"shown as {out.strip().split()[-3] if out.strip() else ''!r}")


def import_same_path_new_content(tmp: Path) -> dict:
    """A different recording at a path imported before is a new session (imports match content)."""
    sim, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=10)
    path, db = tmp / "run.csv", tmp / "s.sqlite3"
    write_raw(path, _first_seconds(sim, 5.0))
    _, out1 = run_cli(["import", str(path), "--db", str(db)])
    write_raw(path, _first_seconds(sim, 8.0))
    _, out2 = run_cli(["import", str(path), "--db", str(db)])
    _, out3 = run_cli(["import", str(path), "--db", str(db)])
    ids = [re.findall(r"session (\d+)", o)[-1:] for o in (out1, out2, out3)]
    produced = 13 * 200
    stored, _ = stored_samples(db)
    ok = ids[0] != ids[1] and ids[1] == ids[2]
    return row("import_same_path_new_content", produced, stored, 0, ok and told(out2, "stored as session"),
               detail=f"sessions {ids}: new content -> new session, same content again -> the same one")


CASES = [store_read_only, store_disk_full, store_disk_low_warning, pod_reboot, seq_jump, db_junk_page, db_truncated,
         db_bad_chunk, csv_time_in_ms, csv_rate_header_wrong, csv_rate_1e9, csv_meta_not_object,
         device_name_control_codes, import_same_path_new_content]
