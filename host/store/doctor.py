"""Check a session database and recover what is readable into a new file, never touching the old one.

Both work on a copy of the file (and its WAL) in a temporary directory, so not even SQLite's own recovery
of the journal writes to the original. The check is SQLite's `PRAGMA integrity_check` plus a look at every
stored chunk of frames (a chunk cut short costs its own frames only, host/store/store.py). Recovery builds
a fresh database with the current schema and copies every row that can still be read, table by table;
where a table cannot be read in one go (a lost or damaged page) it goes row by row and counts what it
could not read. Spool files waiting for the old database are moved into the new one.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tiltguard.host.store import chunks
from tiltguard.host.store.spool import pending_spools
from tiltguard.host.store.store import SessionStore, StoreError

MAX_MISSES = 10000  # rowids probed past the last readable row when the table's end cannot be read


@dataclass
class Check:
    path: Path
    ok: bool
    problems: list = field(default_factory=list)  # integrity_check lines, or the error that stopped it
    chunks: int = 0
    chunks_damaged: int = 0
    sessions: int | None = None
    spools: int = 0


@dataclass
class Recovery:
    path: Path
    rows: dict = field(default_factory=dict)  # table -> rows copied
    unreadable: dict = field(default_factory=dict)  # table -> rows that could not be read (-1: unknown)
    spooled_sessions: list = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return any(self.rows.values()) or bool(self.spooled_sessions)


def _copy(path: Path, folder: Path) -> Path:
    if not path.is_file():
        raise StoreError(f"{path}: no such file")
    dst = folder / path.name
    shutil.copyfile(path, dst)
    wal = path.with_name(path.name + "-wal")
    if wal.is_file():
        shutil.copyfile(wal, dst.with_name(dst.name + "-wal"))
    _fit_header_to_size(dst)
    return dst


def _fit_header_to_size(copy: Path) -> None:
    """A truncated file still claims its old page count in its header, and SQLite then refuses every page:
    the copy's header is set to the pages really there, so everything before the cut reads."""
    with open(copy, "r+b") as f:
        head = f.read(100)
        if len(head) < 100 or not head.startswith(b"SQLite format 3\0"):
            return
        page = int.from_bytes(head[16:18], "big")
        page = 65536 if page == 1 else page
        size = f.seek(0, 2)
        pages = size // page if page >= 512 else 0
        if 0 < pages < int.from_bytes(head[28:32], "big"):
            f.truncate(pages * page)
            f.seek(28)
            f.write(pages.to_bytes(4, "big"))


def check_database(path: str | Path) -> Check:
    path = Path(path)
    out = Check(path, ok=False, spools=len(pending_spools(path)))
    with tempfile.TemporaryDirectory(prefix="tiltguard-doctor-") as tmp:
        db = sqlite3.connect(_copy(path, Path(tmp)))
        try:
            try:
                out.problems = [line for r in db.execute("PRAGMA integrity_check(20)").fetchall()
                                for line in str(r[0]).splitlines() if not line.startswith("***")]
            except sqlite3.DatabaseError as exc:
                out.problems = [str(exc)]
                return out
            out.ok = out.problems == ["ok"]
            if out.ok:
                out.problems = []
            try:
                out.sessions = db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
                for (blob,) in db.execute("SELECT data FROM chunks"):
                    out.chunks += 1
                    try:
                        for _ in chunks.unpack(blob):
                            pass
                    except (ValueError, TypeError):
                        out.chunks_damaged += 1
            except sqlite3.DatabaseError as exc:
                out.ok = False
                out.problems.append(str(exc))
        finally:
            db.close()
    return out


def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}.recovered-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")


def recover_database(path: str | Path, output: str | Path | None = None) -> Recovery:
    """Every readable row of `path` into a new database at `output` (which must not exist)."""
    path = Path(path)
    output = Path(output) if output else default_output(path)
    if output.exists():
        raise StoreError(f"{output} exists already: recovery writes a new file only")
    rec = Recovery(output)
    with tempfile.TemporaryDirectory(prefix="tiltguard-doctor-") as tmp:
        src = sqlite3.connect(_copy(path, Path(tmp)))
        dst = SessionStore(output, recover=False, analyse=None)
        try:
            dst.db.execute("PRAGMA foreign_keys=OFF")  # a session whose device row was lost is still kept
            tables = [r[0] for r in dst.db.execute("SELECT name FROM sqlite_master WHERE type='table' AND "
                                                   "name NOT LIKE 'sqlite_%' ORDER BY rootpage").fetchall()]
            for table in tables:  # every table of the current schema, whatever migrations added
                cols = [r[1] for r in dst.db.execute(f"PRAGMA table_info({table})").fetchall()]
                rows, bad = _readable_rows(src, table, cols)
                if rows:
                    dst.db.execute("BEGIN")
                    dst.db.executemany(f"INSERT OR IGNORE INTO {table} (rowid, {', '.join(cols)}) VALUES "
                                       f"({', '.join('?' * (len(cols) + 1))})", rows)
                    dst.db.execute("COMMIT")
                rec.rows[table], rec.unreadable[table] = len(rows), bad
            dst.db.execute("PRAGMA foreign_keys=ON")
            if any(rec.unreadable.values()) or rec.rows.get("chunks", 0) < _count(src, "chunks"):
                for (sid,) in dst.db.execute("SELECT id FROM sessions").fetchall():
                    dst.analyse(sid)  # the link analysis again: what the recovered chunks really hold
            spools = pending_spools(path)
            if spools:
                rec.spooled_sessions = dst.recover_spools(only=spools)
        finally:
            src.close()
            dst.close()
    if not rec.anything:
        for p in (output, output.with_name(output.name + "-wal"), output.with_name(output.name + "-shm")):
            p.unlink(missing_ok=True)
    return rec


def _count(src: sqlite3.Connection, table: str) -> int:
    try:
        return src.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.DatabaseError:
        return 1 << 62  # unknown: assume rows were lost


def _readable_rows(src: sqlite3.Connection, table: str, cols: list[str]) -> tuple[list, int]:
    """(rows as (rowid, *cols), rows that could not be read). Whole table first; row by row if that fails."""
    try:
        have = {r[1] for r in src.execute(f"PRAGMA table_info({table})").fetchall()}
    except sqlite3.DatabaseError:
        return [], 0
    if not have:
        return [], 0  # the table is not there (an older schema, or the catalogue is gone)
    sel = ", ".join(c if c in have else "NULL" for c in cols)
    try:
        return src.execute(f"SELECT rowid, {sel} FROM {table} ORDER BY rowid").fetchall(), 0
    except sqlite3.DatabaseError:
        pass
    try:
        (hi,) = src.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()
    except sqlite3.DatabaseError:
        hi = None
    rows, bad, pending, misses, rid = [], 0, 0, 0, 0
    while (hi is None and misses < MAX_MISSES) or (hi is not None and rid < hi):
        rid += 1
        try:
            r = src.execute(f"SELECT rowid, {sel} FROM {table} WHERE rowid=?", (rid,)).fetchone()
        except sqlite3.DatabaseError:
            pending += 1  # counted as lost once a readable row follows (past the end it is no row at all)
            misses += 1
            continue
        if r is None:
            misses += 1
            continue
        bad, pending, misses = bad + pending, 0, 0
        rows.append(r)
    if hi is None and pending:
        return rows, -1  # the table's end could not be read: how many rows are lost there is unknown
    return rows, bad + pending
