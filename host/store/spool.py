"""The spool: where a recording goes when the session database cannot take it (read-only or immutable file,
full disk, damaged file), so that nothing recorded is lost; the next start moves it into the database.

A spool file is append-only: a magic line, then records `kind u8 | length u32 | crc32 u32 | payload`
(little-endian): one header record (JSON: the database it belongs to, the session id there if one was
begun, and everything needed to begin it otherwise), then one record per committed batch of frames (the
host.store.chunks format). Each record is fsync'ed; a torn last record (power cut, disk full mid-write) is
dropped on reading, every complete one kept.

It lives beside the database (`<db>.spool/`) when that directory can be written, else in the temporary
directory (`<tmp>/tiltguard-spool/<hash of the database path>/`): a full disk under the database does not
stop the spool.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import time
import uuid
from pathlib import Path
from zlib import crc32

from tiltguard.host.store import chunks

MAGIC = b"tiltguard spool v1\n"
_REC = struct.Struct("<BII")
HEADER, FRAMES = ord("H"), ord("F")
MAX_RECORD = 64 << 20  # a batch is a quarter second of frames: anything bigger is damage, not data


class SpoolError(OSError):
    """No place to spool to: every candidate directory refused the write."""


def spool_dirs(db_path: str | os.PathLike) -> list[Path]:
    """Where spools of this database go, in order of preference (and where recovery looks)."""
    db = Path(db_path).resolve()
    key = hashlib.sha1(str(db).encode()).hexdigest()[:12]
    return [db.parent / (db.name + ".spool"), Path(tempfile.gettempdir()) / "tiltguard-spool" / key]


class Spool:
    def __init__(self, path: Path, f) -> None:
        self.path = path
        self._f = f
        self.frames = 0
        self.bytes = f.tell()

    @classmethod
    def create(cls, db_path: str | os.PathLike, header: dict) -> "Spool":
        """A new spool file for one session, in the first directory that takes the header (written and
        fsync'ed). Raises SpoolError if none does."""
        header = dict(header, db=str(Path(db_path).resolve()), spool_id=uuid.uuid4().hex, pid=os.getpid(),
                      created=time.time())
        errors = []
        for d in spool_dirs(db_path):
            path = d / f"session-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{header['spool_id'][:6]}.tgspool"
            try:
                d.mkdir(parents=True, exist_ok=True)
                f = open(path, "xb", buffering=0)  # unbuffered: a failed write fails here, not at close
            except OSError as exc:
                errors.append(f"{d}: {exc.strerror or exc}")
                continue
            sp = cls(path, f)
            try:
                _write_all(f, MAGIC)
                sp._record(HEADER, json.dumps(header).encode())
            except OSError as exc:
                errors.append(f"{d}: {exc.strerror or exc}")
                f.close()
                path.unlink(missing_ok=True)
                continue
            return sp
        raise SpoolError("no writable place for the spool (" + "; ".join(errors) + ")")

    def append(self, frames: list[tuple[float, bytes]]) -> None:
        if frames:
            self._record(FRAMES, chunks.pack(frames))
            self.frames += len(frames)

    def _record(self, kind: int, payload: bytes) -> None:
        pos = self._f.tell()
        try:
            _write_all(self._f, _REC.pack(kind, len(payload), crc32(payload) & 0xFFFFFFFF) + payload)
            os.fsync(self._f.fileno())
        except OSError:
            try:  # leave no torn record behind for the next write to follow
                self._f.truncate(pos)
                self._f.seek(pos)
            except OSError:
                pass
            raise
        self.bytes = self._f.tell()

    def close(self) -> None:
        self._f.close()


def _write_all(f, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = f.write(view)
        if not n:
            raise OSError(28, "No space left on device")
        view = view[n:]


def read_spool(path: str | os.PathLike) -> tuple[dict | None, list[list[tuple[float, bytes]]], str | None]:
    """(header, batches of frames, problem or None). A damaged or torn record ends the reading: every
    complete record before it is kept."""
    data = Path(path).read_bytes()
    if not data.startswith(MAGIC):
        return None, [], "not a Tiltguard spool file"
    pos, header, batches = len(MAGIC), None, []
    while pos < len(data):
        if pos + _REC.size > len(data):
            return header, batches, f"torn record at byte {pos} (dropped)"
        kind, length, want = _REC.unpack_from(data, pos)
        body = data[pos + _REC.size : pos + _REC.size + length]
        if length <= MAX_RECORD and len(body) < length:
            return header, batches, f"torn record at byte {pos} (dropped)"
        if length > MAX_RECORD or crc32(body) & 0xFFFFFFFF != want:
            return header, batches, f"damaged record at byte {pos} (it and what follows dropped)"
        pos += _REC.size + length
        if kind == HEADER and header is None:
            try:
                header = json.loads(body)
            except ValueError:
                return None, [], "spool header is not JSON"
            if not isinstance(header, dict):
                return None, [], "spool header is not a JSON object"
        elif kind == FRAMES:
            try:
                batches.append(list(chunks.unpack(body)))
            except ValueError as exc:
                return header, batches, str(exc)
    return header, batches, None


def pending_spools(db_path: str | os.PathLike) -> list[Path]:
    """Spool files that belong to this database, oldest first."""
    db = str(Path(db_path).resolve())
    out = []
    for d in spool_dirs(db_path):
        for p in sorted(d.glob("*.tgspool")) if d.is_dir() else []:
            try:
                with open(p, "rb") as f:
                    head = f.read(len(MAGIC) + _REC.size + 65536)
            except OSError:
                continue
            if head.startswith(MAGIC) and json.dumps(db)[1:-1] in head.decode("utf-8", "replace"):
                out.append(p)
    return out
