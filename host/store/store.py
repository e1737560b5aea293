"""SessionStore: the SQLite file behind recording, sync, export and the reports.

Crash safety: WAL journal, every chunk of frames is its own committed transaction (the writer commits at
least once a second), so a host killed mid-run loses at most what it had not committed yet. A session
still marked 'recording' whose writer process is gone (or silent for `stale_after_s`) is closed as
'recovered' and analysed the next time the store is opened.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tiltguard.firmware import protocol as P
from tiltguard.firmware.flashlog import parse_log
from tiltguard.host.jsonable import numpy_default
from tiltguard.host.link.decode import DecodedFrames, decode_frames, to_recording
from tiltguard.host.rawcsv import read_raw, write_raw
from tiltguard.host.samples import RawRecording
from tiltguard.host.store import chunks
from tiltguard.host.store.analysis import analyse_link
from tiltguard.host.store.paths import default_db_path
from tiltguard.host.store.schema import migrate
from tiltguard.host.store.spool import pending_spools, read_spool

STALE_AFTER_S = 30.0  # a 'recording' session whose writer has not committed for this long is orphaned


@dataclass
class SessionInfo:
    id: int
    device_name: str | None
    device_address: str | None
    source: str
    transport: str | None
    device_session: int | None
    state: str
    started_at: float
    ended_at: float | None
    rate_hz: float | None
    sensor: str | None
    meta: dict
    n_frames: int
    heartbeat: float | None = None
    writer_pid: int | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


def pelvis_analysis(store: "SessionStore", session_id: int) -> None:
    """Default analyser: pelvic angles, strides and flags (host.analysis)."""
    # the analysis stack (SciPy, VQF) loads when a session is analysed, not for `tiltguard sessions`
    from tiltguard.host.analysis import analyse_stored_session

    analyse_stored_session(store, session_id)


class StoreError(OSError):
    """The session database cannot be used; the message says why and what to do, in one line."""


class StoreDamaged(StoreError):
    pass


class StoreUnwritable(StoreError):
    pass


def store_error(path, exc: BaseException) -> StoreError:
    """A SQLite error on opening or using the file -> one line naming the file and the way out."""
    msg = str(exc) or type(exc).__name__
    if any(w in msg for w in ("not a database", "malformed", "corrupt", "integrity")):
        return StoreDamaged(f"session database {path} is damaged ({msg}): `tiltguard doctor --db {path}` "
                            "checks it and recovers what is readable into a new file")
    if any(w in msg for w in ("readonly", "read-only", "full", "unable to open", "disk I/O")):
        return StoreUnwritable(f"session database {path} cannot be written ({msg})")
    return StoreError(f"session database {path}: {msg}")


class UnavailableStore:
    """Stands in for a database that would not open (damaged, unwritable) while `record` goes on into a
    spool: every write raises, so the writer spools from the first frame."""

    def __init__(self, path, error: StoreError) -> None:
        self.path = Path(path) if path else default_db_path()
        self.error = error
        self.recovered: list[int] = []

    def _refuse(self, *args, **kw):
        raise self.error

    device = begin_session = append_frames = close_session = recover_spools = _refuse

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SessionStore:
    def __init__(self, path: str | os.PathLike | None = None, recover: bool = True,
                 stale_after_s: float = STALE_AFTER_S, analyse=pelvis_analysis, check: bool = False) -> None:
        """`check`: run SQLite's quick_check first (commands that write, so that nothing is added to a damaged
        file). Raises StoreDamaged / StoreUnwritable (one line) instead of SQLite's errors."""
        self.path = Path(path) if path else default_db_path()
        self._lock = threading.RLock()
        self._analyse = analyse
        self.damaged_chunks: dict[int, int] = {}  # session id -> chunks that could not be read (last read)
        self.spool_problems: list[str] = []
        self.db = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit (BEGIN ... COMMIT), nothing is held open
            self.db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            if check:
                bad = [r[0] for r in self.db.execute("PRAGMA quick_check(3)").fetchall()]
                if bad != ["ok"]:
                    raise sqlite3.DatabaseError("integrity check failed: " + "; ".join(bad)[:200])
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed transaction survives the process being killed; only a power
            # cut can take back the last commits (FULL would fsync every commit, ~5 ms each on a laptop SSD)
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.schema_found = migrate(self.db)
        except (sqlite3.Error, OSError) as exc:
            if self.db is not None:
                self.db.close()
            if isinstance(exc, StoreError):
                raise
            raise store_error(self.path, exc) from None
        self.recovered: list[int] = []
        if recover:
            try:  # a read-only database still reads: what cannot be recovered now is recovered next time
                self.recovered = self.recover_spools() + self.recover_orphans(stale_after_s)
            except sqlite3.Error as exc:
                self.spool_problems.append(f"recovery postponed: {store_error(self.path, exc)}")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ transactions
    def _tx(self):
        return _Transaction(self.db, self._lock)

    # ------------------------------------------------------------------ devices
    def device(self, name: str, address: str, sensor: str | None = None, firmware: str | None = None) -> int:
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT id FROM devices WHERE name=? AND address=?", (name, address)).fetchone()
            if row:
                db.execute("UPDATE devices SET last_seen=?, sensor=COALESCE(?, sensor), "
                           "firmware=COALESCE(?, firmware) WHERE id=?", (now, sensor, firmware, row[0]))
                return row[0]
            cur = db.execute("INSERT INTO devices (name, address, sensor, firmware, first_seen, last_seen) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (name, address, sensor, firmware, now, now))
            return cur.lastrowid

    # ------------------------------------------------------------------ sessions
    def begin_session(self, device_id: int | None, source: str, transport: str | None = None, *,
                      device_session: int | None = None, rate_hz: float | None = None, sensor: str | None = None,
                      acc_scale: float | None = None, gyr_scale: float | None = None, meta: dict | None = None,
                      started_at: float | None = None, recording: bool = True) -> int:
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO sessions (device_id, source, transport, device_session, state, started_at, heartbeat,"
                " writer_pid, rate_hz, sensor, acc_scale, gyr_scale, meta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (device_id, source, transport, device_session, "recording" if recording else "closed",
                 started_at or now, now, os.getpid() if recording else None, rate_hz, sensor, acc_scale, gyr_scale,
                 json.dumps(meta or {})))
            return cur.lastrowid

    def append_frames(self, session_id: int, frames: list[tuple[float, bytes]]) -> None:
        """One committed chunk of frames (host arrival time, frame bytes); also the writer's heartbeat."""
        now = time.time()
        with self._tx() as db:
            if frames:
                (n,) = db.execute("SELECT COALESCE(MAX(chunk_no) + 1, 0) FROM chunks WHERE session_id=?",
                                  (session_id,)).fetchone()
                db.execute("INSERT INTO chunks VALUES (?,?,?,?,?,?)",
                           (session_id, n, frames[0][0], frames[-1][0], len(frames), chunks.pack(frames)))
            db.execute("UPDATE sessions SET heartbeat=? WHERE id=?", (now, session_id))

    def close_session(self, session_id: int, state: str = "closed", ended_at: float | None = None,
                      analyse: bool = True) -> None:
        with self._tx() as db:
            if ended_at is None:
                (ended_at,) = db.execute("SELECT MAX(last_rx) FROM chunks WHERE session_id=?", (session_id,)).fetchone()
            db.execute("UPDATE sessions SET state=?, ended_at=COALESCE(?, heartbeat, started_at), writer_pid=NULL "
                       "WHERE id=?", (state, ended_at, session_id))
        if analyse:
            self.analyse(session_id)

    def update_meta(self, session_id: int, **items) -> None:
        with self._tx() as db:
            (m,) = db.execute("SELECT meta FROM sessions WHERE id=?", (session_id,)).fetchone()
            meta = json.loads(m)
            meta.update(items)
            db.execute("UPDATE sessions SET meta=? WHERE id=?", (json.dumps(meta, default=numpy_default), session_id))

    def recover_orphans(self, stale_after_s: float = STALE_AFTER_S) -> list[int]:
        """Close (as 'recovered') and analyse every session left 'recording' by a writer that is gone."""
        now = time.time()
        with self._lock:
            rows = self.db.execute("SELECT id, writer_pid, heartbeat FROM sessions WHERE state='recording'").fetchall()
        done = []
        for sid, pid, beat in rows:
            alive = pid is not None and pid != os.getpid() and _pid_alive(pid)
            if alive and beat is not None and now - beat < stale_after_s:
                continue  # another process is recording it right now
            if pid == os.getpid():
                continue  # ours, still open
            self.close_session(sid, state="recovered")
            done.append(sid)
        return done

    def recover_spools(self, only: list[Path] | None = None, state: str = "recovered") -> list[int]:
        """Move every spool file of this database (host/store/spool.py) into it: the frames a recording
        could not store go into their session (begun now if it never was), which is then closed and
        analysed; the spool file is removed once committed. Returns the session ids."""
        done = []
        for path in only if only is not None else pending_spools(self.path):
            header, batches, problem = read_spool(path)
            if header is None:
                self.spool_problems.append(f"{path}: {problem}; left in place")
                continue
            if only is None and header.get("pid") not in (None, os.getpid()) and _pid_alive(header["pid"]) \
                    and time.time() - Path(path).stat().st_mtime < STALE_AFTER_S:
                continue  # another process is still writing it
            sid = self._spooled_session(header)
            with self._tx() as db:
                meta = json.loads(db.execute("SELECT meta FROM sessions WHERE id=?", (sid,)).fetchone()[0])
                if header["spool_id"] not in meta.get("spools", []):  # a recovery cut short ran before
                    (n,) = db.execute("SELECT COALESCE(MAX(chunk_no) + 1, 0) FROM chunks WHERE session_id=?",
                                      (sid,)).fetchone()
                    for k, frames in enumerate(b for b in batches if b):
                        db.execute("INSERT INTO chunks VALUES (?,?,?,?,?,?)", (sid, n + k, frames[0][0], frames[-1][0],
                                                                            len(frames), chunks.pack(frames)))
                    meta.setdefault("spools", []).append(header["spool_id"])
                    meta["spooled_frames"] = meta.get("spooled_frames", 0) + sum(len(b) for b in batches)
                    if problem:
                        meta["spool_problem"] = problem
                    db.execute("UPDATE sessions SET meta=? WHERE id=?", (json.dumps(meta), sid))
            self.close_session(sid, state=state)
            Path(path).unlink(missing_ok=True)
            done.append(sid)
        return done

    def _spooled_session(self, header: dict) -> int:
        sid = header.get("session_id")
        if sid is not None:
            with self._lock:
                row = self.db.execute("SELECT started_at FROM sessions WHERE id=?", (sid,)).fetchone()
            if row is not None and abs(row[0] - header.get("started_at", row[0])) < 1.0:
                return sid  # begun in this database before the writes failed
        d = header.get("device") or {}
        dev = self.device(d.get("name") or "Tiltguard", d.get("address") or "?", d.get("sensor"), d.get("firmware"))
        k = dict(header.get("session") or {})
        meta = dict(k.pop("meta", None) or {}, spooled_from=header.get("db"))
        return self.begin_session(dev, k.pop("source", "live"), k.pop("transport", None), meta=meta,
                                  started_at=header.get("started_at"),
                                  **{f: k.get(f) for f in ("device_session", "rate_hz", "sensor", "acc_scale",
                                                           "gyr_scale")})

    def sessions(self) -> list[SessionInfo]:
        with self._lock:
            rows = self.db.execute(_SESSION_SELECT + " GROUP BY s.id ORDER BY s.id").fetchall()
        return [_info(r) for r in rows]

    def session(self, session_id: int) -> SessionInfo:
        with self._lock:
            row = self.db.execute(_SESSION_SELECT + " WHERE s.id=? GROUP BY s.id", (session_id,)).fetchone()
        if row is None:
            raise KeyError(f"no session {session_id} in {self.path}")
        return _info(row)

    def delete_session(self, session_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE id=?", (session_id,))

    # ------------------------------------------------------------------ reading
    def frames(self, session_id: int) -> Iterator[tuple[float, bytes]]:
        """Every stored frame copy, in arrival order. A damaged chunk (unreadable page, cut-short BLOB) costs
        that chunk's frames after the damage, never the session: counted in `damaged_chunks[session_id]`."""
        self.damaged_chunks[session_id] = 0
        with self._lock:
            try:  # all at once; one by one only if a page is unreadable
                rows = self.db.execute("SELECT data FROM chunks WHERE session_id=? ORDER BY chunk_no",
                                       (session_id,)).fetchall()
            except sqlite3.DatabaseError:
                rows = None
            if rows is None:
                try:
                    nos = [r[0] for r in self.db.execute("SELECT chunk_no FROM chunks WHERE session_id=? "
                                                         "ORDER BY chunk_no", (session_id,)).fetchall()]
                except sqlite3.DatabaseError as exc:
                    raise store_error(self.path, exc) from None
        for row in rows if rows is not None else (self._chunk(session_id, no) for no in nos):
            if row is None or not isinstance(row[0], bytes):
                self.damaged_chunks[session_id] += 1
                continue
            try:
                yield from chunks.unpack(row[0])
            except ValueError:  # cut short: the frames before the cut were yielded
                self.damaged_chunks[session_id] += 1

    def _chunk(self, session_id: int, chunk_no: int):
        with self._lock:
            try:
                return self.db.execute("SELECT data FROM chunks WHERE session_id=? AND chunk_no=?",
                                       (session_id, chunk_no)).fetchone()
            except sqlite3.DatabaseError:
                return None

    def decoded(self, session_id: int) -> DecodedFrames:
        return decode_frames(self.frames(session_id))

    def recording(self, session_id: int) -> RawRecording:
        """The session's samples in SI units (each sample once, in device order)."""
        info = self.session(session_id)
        with self._lock:
            row = self.db.execute("SELECT data FROM imported_samples WHERE session_id=?", (session_id,)).fetchone()
        if row:
            return _recording_from_npz(row[0], info)
        return to_recording(self.decoded(session_id), {"session_id": session_id, "source": info.source})

    # ------------------------------------------------------------------ CSV and flash logs
    def export_csv(self, session_id: int, path: str | os.PathLike) -> RawRecording:
        rec = self.recording(session_id)
        write_raw(path, rec)
        return rec

    def imported(self, origin: str, crc32: int | None = None) -> int | None:
        """The session an import of this origin (and CRC) became, if it was imported before."""
        with self._lock:
            row = self.db.execute("SELECT session_id FROM imports WHERE origin=? AND crc32 IS ?",
                                  (origin, crc32)).fetchone()
        return row[0] if row else None

    def import_csv(self, path: str | os.PathLike, device_name: str = "file", address: str = "file") -> int:
        """A raw CSV -> a closed session; the same content imported again (from any path) returns the first."""
        origin = content_origin(Path(path).read_bytes()) if Path(path).is_file() else None
        if origin and (sid := self.imported(origin)) is not None:
            return sid
        rec = read_raw(path)  # RawFormatError (one line) before anything is written
        dev = self.device(device_name, address, sensor=rec.sensor_model)
        buf = io.BytesIO()
        arrays = {"t": rec.t, "acc": rec.acc, "gyr": rec.gyr}
        if rec.temp_c is not None:
            arrays["temp_c"] = rec.temp_c
        np.savez(buf, **arrays)
        meta = dict(rec.meta, imported_from=str(path))
        sid = self.begin_session(dev, "csv", "file", rate_hz=rec.rate_hz, sensor=rec.sensor_model, meta=meta,
                                 recording=False)
        with self._tx() as db:
            db.execute("INSERT INTO imported_samples VALUES (?, ?)", (sid, buf.getvalue()))
            db.execute("UPDATE sessions SET ended_at=started_at+? WHERE id=?", (rec.duration_s, sid))
            if origin:
                db.execute("INSERT OR REPLACE INTO imports (session_id, origin, crc32, size, imported_at) "
                           "VALUES (?,?,?,?,?)", (sid, origin, None, len(rec), time.time()))
        self.analyse(sid)
        return sid

    def import_flash_log(self, data: bytes, origin: str, device_name: str, address: str,
                         crc32: int | None = None) -> tuple[int, str | None]:
        """A device log file's bytes -> a closed session. Returns (session id, problem or None): a log cut
        off by a power loss keeps every complete block. Importing the same log twice returns the first."""
        with self._lock:
            row = self.db.execute("SELECT session_id FROM imports WHERE origin=? AND crc32 IS ?",
                                  (origin, crc32)).fetchone()
        if row and row[0] is not None:
            return row[0], None
        frames, good, problem = parse_log(data)
        hellos = []
        for fr in frames:
            try:
                f = P.decode_frame(fr)
            except P.FrameError:
                continue
            if f.type == P.T_HELLO:
                hellos.append(f)
        h = hellos[0] if hellos else None
        dev = self.device(device_name, address, sensor=h.sensor if h else None, firmware=h.firmware if h else None)
        now = time.time()
        meta = {"origin": origin, "bytes": len(data), "good_bytes": good}
        if problem:
            meta["problem"] = problem
        sid = self.begin_session(dev, "flash", "flash", device_session=h.session if h else None,
                                 rate_hz=h.rate_hz if h else None, sensor=h.sensor if h else None,
                                 acc_scale=h.acc_scale if h else None, gyr_scale=h.gyr_scale if h else None,
                                 meta=meta, started_at=now, recording=False)
        self.append_frames(sid, [(now, fr) for fr in frames])
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO imports (session_id, origin, crc32, size, imported_at) VALUES (?,?,?,?,?)",
                       (sid, origin, crc32, len(data), now))
            dec = self.decoded(sid) if frames else None
            dur = 0.0
            if dec and dec.sample_frames:
                f0, f1 = dec.sample_frames[0][0], dec.sample_frames[-1][0]
                dur = ((f1.t_us - f0.t_us) % (1 << 32)) * 1e-6 + f1.n * f1.period_ns * 1e-9
            db.execute("UPDATE sessions SET ended_at=started_at+? WHERE id=?", (dur, sid))
        self.analyse(sid)
        return sid, problem

    # ------------------------------------------------------------------ analyses, flags, calibrations
    def analyse(self, session_id: int) -> None:
        """Run the analysers on a closed session: link integrity always, then `analyse=` (by default the
        pelvic analysis; None for none)."""
        try:
            analyse_link(self, session_id)
            if self._analyse is not None:
                self._analyse(self, session_id)
        except ValueError as exc:  # e.g. a session that never got a hello: keep it, note why
            self.save_analysis(session_id, "error", {"message": str(exc)})

    def save_analysis(self, session_id: int, kind: str, result: dict, version: int = 1) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO analyses (session_id, kind, version, created_at, result) "
                       "VALUES (?,?,?,?,?)", (session_id, kind, version, time.time(),
                                              json.dumps(result, default=numpy_default)))

    def analyses(self, session_id: int) -> dict[str, dict]:
        with self._lock:
            rows = self.db.execute("SELECT kind, result FROM analyses WHERE session_id=?", (session_id,)).fetchall()
        return {k: json.loads(r) for k, r in rows}

    def add_flags(self, session_id: int, flags: list[tuple[str, float, float, float | None, str]],
                  replace_kind: str | None = None) -> None:
        with self._tx() as db:
            if replace_kind:
                db.execute("DELETE FROM flags WHERE session_id=? AND kind=?", (session_id, replace_kind))
            db.executemany("INSERT INTO flags (session_id, kind, t_start, t_end, severity, message) "
                           "VALUES (?,?,?,?,?,?)", [(session_id, *f) for f in flags])

    def flags(self, session_id: int) -> list[tuple[str, float, float, float | None, str]]:
        with self._lock:
            return self.db.execute("SELECT kind, t_start, t_end, severity, message FROM flags WHERE session_id=? "
                                   "ORDER BY t_start", (session_id,)).fetchall()

    def save_calibration(self, device_id: int | None, kind: str, data: dict, session_id: int | None = None,
                         created_at: float | None = None) -> int:
        """Keep a calibration of a device, stamped with when it was made (default: now)."""
        with self._tx() as db:
            cur = db.execute("INSERT INTO calibrations (device_id, session_id, kind, created_at, data) "
                             "VALUES (?,?,?,?,?)", (device_id, session_id, kind, created_at or time.time(),
                                                    json.dumps(data, default=numpy_default)))
            return cur.lastrowid

    def calibration_for_session(self, session_id: int, kind: str) -> CalibrationInfo | None:
        """The calibration of this kind that applies to a session: its device's newest one made before the
        session started (a calibration made later never changes how an older session reads)."""
        with self._lock:
            row = self.db.execute(
                _CALIBRATION_SELECT + " JOIN sessions s ON s.device_id = c.device_id WHERE s.id=? AND c.kind=? "
                "AND c.created_at <= s.started_at ORDER BY c.created_at DESC, c.id DESC LIMIT 1",
                (session_id, kind)).fetchone()
        return _calibration_info(row) if row else None

    def device_calibration(self, name: str, address: str, kind: str) -> CalibrationInfo | None:
        """The newest calibration of this kind of the device with this name and address (None if unknown)."""
        with self._lock:
            row = self.db.execute(_CALIBRATION_SELECT + " WHERE d.name=? AND d.address=? AND c.kind=? "
                                  "ORDER BY c.created_at DESC, c.id DESC LIMIT 1", (name, address, kind)).fetchone()
        return _calibration_info(row) if row else None

    def calibrations(self, kind: str | None = None) -> list[CalibrationInfo]:
        """Every stored calibration (of one kind, if given), oldest first."""
        where, args = ("WHERE c.kind=?", (kind,)) if kind else ("", ())
        with self._lock:
            rows = self.db.execute(_CALIBRATION_SELECT + f" {where} ORDER BY c.created_at, c.id", args).fetchall()
        return [_calibration_info(r) for r in rows]

    # ------------------------------------------------------------------ a watch's activity merged with a session
    def save_watch(self, session_id: int, origin: str, data: bytes, alignment: dict) -> None:
        """Keep a watch's records (host.watch.stream bytes) with the session; replaces an earlier one."""
        self.session(session_id)  # KeyError (one line) for an unknown session, before anything is written
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO watch_streams VALUES (?,?,?,?,?,?,?)",
                       (session_id, origin, float(alignment["offset_s"]), float(alignment["sd_s"]),
                        json.dumps(alignment, default=numpy_default), data, time.time()))

    def watch(self, session_id: int) -> tuple[bytes, dict] | None:
        """(records bytes, alignment with 'origin') of the session's merged watch file, or None."""
        with self._lock:
            row = self.db.execute("SELECT data, alignment, origin FROM watch_streams WHERE session_id=?",
                                  (session_id,)).fetchone()
        return None if row is None else (row[0], dict(json.loads(row[1]), origin=row[2]))


@dataclass
class CalibrationInfo:
    id: int
    device_name: str | None
    device_address: str | None
    kind: str
    created_at: float  # unix time, s
    session_id: int | None
    data: dict


_CALIBRATION_SELECT = ("SELECT c.id, d.name, d.address, c.kind, c.created_at, c.session_id, c.data FROM calibrations c"
                       " LEFT JOIN devices d ON d.id = c.device_id")


def _calibration_info(row) -> CalibrationInfo:
    return CalibrationInfo(*row[:6], json.loads(row[6]))


_SESSION_SELECT = (
    "SELECT s.id, d.name, d.address, s.source, s.transport, s.device_session, s.state, s.started_at, s.ended_at,"
    " s.rate_hz, s.sensor, s.meta, COALESCE(SUM(c.n_frames), 0), s.heartbeat, s.writer_pid"
    " FROM sessions s LEFT JOIN devices d ON d.id = s.device_id LEFT JOIN chunks c ON c.session_id = s.id"
)


def _info(r) -> SessionInfo:
    return SessionInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], json.loads(r[11]), r[12],
                       r[13], r[14])


class _Transaction:
    def __init__(self, db: sqlite3.Connection, lock) -> None:
        self.db = db
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()


def content_origin(data: bytes) -> str:
    """An import's identity by content (SHA-256), whatever path it came from."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (killed, not yet reaped by its parent) is not recording any more
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _recording_from_npz(blob: bytes, info: SessionInfo) -> RawRecording:
    z = np.load(io.BytesIO(blob))
    temp = z["temp_c"] if "temp_c" in z.files else None
    return RawRecording(z["t"], z["acc"], z["gyr"], info.rate_hz or 0.0, info.sensor or "unknown", temp_c=temp,
                        meta=dict(info.meta, session_id=info.id, source=info.source))

