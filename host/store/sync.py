"""Flash sync: list the device's stored runs, download each with integrity checks (resuming a download that
was cut), store it as a session, then let the device delete it only if every block of the copy is good.

Integrity, three layers: every C_LOG_READ response is a CRC-checked frame; the downloaded file's blocks
carry their own CRC-32 (firmware/flashlog.py: every good block is kept, the reader resyncs after a damaged
one and names each damaged byte range); and deletion sends the size and CRC-32 of the whole copy, which the
device compares with its file before removing it.

Nothing is deleted that was not stored. The bytes arrive into a spool file beside the database
(`<db>.flashlogs/`), appended chunk by chunk, so a dropped link or a closed laptop resumes where it stopped
(after checking the device's file still starts with the same bytes). The spool copy stays until a good copy
is proven: the session is committed and every block passed its CRC and the device confirmed the same size and
CRC. A log with a damaged block is imported (every good block), kept on the device and in the spool, and the
damage is reported range by range.
"""
from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from tiltguard.firmware import protocol as P
from tiltguard.firmware.flashlog import describe_damage, scan_blocks, scan_log
from tiltguard.host.link.transport import Transport
from tiltguard.host.store.recorder import Recorder
from tiltguard.sensors.compat import crc32

READ_CHUNK = 4096  # asked per C_LOG_READ; the device trims it to its link's frame size
PREFIX_CHECK = 64  # bytes compared before resuming a partial download
WINDOW = 8  # LOG_READs in flight at once


@dataclass
class SyncedLog:
    log_id: int
    size: int
    session_id: int | None
    crc32: int
    problem: str | None  # the damaged byte ranges, in one line (None: every block good)
    deleted: bool
    delete_status: int | None
    damaged: list = field(default_factory=list)  # [(first byte, end byte, reason)]
    frames: int = 0
    resumed_from: int = 0  # bytes already in the spool from an earlier, interrupted sync
    downloaded: int = 0  # bytes read from the device this time
    seconds: float = 0.0
    kept_copy: str | None = None  # the spool file kept because the copy is not proven good
    lost_seqs: list = field(default_factory=list)  # [(first, last)] frame sequence numbers in damaged ranges

    @property
    def kbytes_per_s(self) -> float:
        return self.downloaded / 1000.0 / self.seconds if self.seconds > 0 else 0.0


def spool_dir(store) -> Path:
    p = Path(store.path)
    return p.with_name(p.name + ".flashlogs")


def _spool_name(device: str, lid: int) -> str:
    return "%s-%05d" % (re.sub(r"[^A-Za-z0-9_.-]+", "_", device)[:60], lid)


async def sync_device(transport: Transport, store, delete: bool = True, progress=None,
                      on_bytes=None) -> list[SyncedLog]:
    """progress(SyncedLog) after each log; on_bytes(log id, bytes held, size, kB/s) after each chunk."""
    rec = Recorder(transport, store, start_stream=False)
    await transport.connect()
    try:
        if transport.keepalive_s:
            await rec.command(P.C_PING)
        r = await rec.command(P.C_LOG_LIST)
        if r.status != P.S_OK:
            raise RuntimeError(f"device refused to list its logs (status {r.status})")
        logs = P.decode_log_list(r.data)
        name = (rec.hello.name if rec.hello else None) or transport.device_name or transport.address
        spool = spool_dir(store)
        spool.mkdir(parents=True, exist_ok=True)
        out = []
        for lid, size in logs:
            base = spool / _spool_name(str(transport.address or name), lid)
            t0 = time.monotonic()
            got = await _download(rec, lid, size, base, on_bytes)
            if got is None:
                continue  # the log being written right now, or gone
            path, resumed, downloaded = got
            data = path.read_bytes()
            c = crc32(data) & 0xFFFFFFFF
            good, damaged = scan_blocks(data)  # by the CRCs: the store decodes the frames once
            sid, _ = store.import_flash_log(data, f"flash:{name}:{lid}", name, transport.address, crc32=c)
            s = SyncedLog(lid, len(data), sid, c, describe_damage(damaged), False, None, damaged,
                          _frame_count(data, good), resumed, downloaded, time.monotonic() - t0)
            s.lost_seqs = _lost_seqs(data, good, damaged)
            if delete and not damaged:  # the store holds every block: the device may let go of its copy
                d = await rec.command(P.C_LOG_DELETE, lid, len(data), c, timeout=30.0)
                s.delete_status = d.status
                s.deleted = d.status == P.S_OK
            if s.deleted or (not damaged and not delete and sid is not None):
                path.unlink(missing_ok=True)  # proven: committed, every block good (and the device agreed)
            else:
                s.kept_copy = str(path)
            out.append(s)
            if progress:
                progress(s)
        return out
    finally:
        await transport.disconnect()


async def _download(rec: Recorder, lid: int, size: int, base: Path, on_bytes):
    """(path of the complete copy, bytes resumed from, bytes downloaded) or None."""
    done = base.with_suffix(".tgl")
    part = base.with_suffix(".part")
    if done.exists() and done.stat().st_size == size and await _same_start(rec, lid, done):
        return done, size, 0  # complete from an earlier sync (kept, or the device's delete never came)
    have = part.stat().st_size if part.exists() else 0
    if have and (have > size or not await _same_start(rec, lid, part)):
        have = 0  # another log under the same id: start over
    resumed = have
    downloaded = 0
    t0 = time.monotonic()
    step = 0  # the device's chunk size on this link, learnt from its first answer
    with open(part, "ab" if have else "wb") as f:
        while have < size:
            # a window of reads in flight: the link's round trip is paid once per window, not per chunk
            offsets = [have] if not step else list(range(have, size, step))[:WINDOW]
            reads = [asyncio.ensure_future(rec.command(P.C_LOG_READ, lid, o, READ_CHUNK)) for o in offsets]
            try:
                for o, fut in zip(offsets, reads):
                    r = await fut
                    if r.status != P.S_OK:
                        return None
                    got_id, offset, chunk = P.decode_log_chunk(r.data)
                    if got_id != lid or offset != o or offset != have:
                        raise RuntimeError(f"log {lid}: answer for log {got_id} at {offset}, expected {have}")
                    if not chunk:
                        break  # the file is shorter than listed (still being written when listed)
                    f.write(chunk)
                    f.flush()  # what arrived survives a drop: the next sync starts after it
                    have += len(chunk)
                    downloaded += len(chunk)
                    if on_bytes:
                        dt = time.monotonic() - t0
                        on_bytes(lid, have, size, downloaded / 1000.0 / dt if dt > 0 else 0.0)
                    if step and len(chunk) != step:
                        break  # a short chunk before the end: the window's offsets are off, ask again
                    step = step or len(chunk)
                else:
                    continue
                if not chunk:
                    break
            finally:
                for fut in reads:
                    if not fut.done():
                        fut.cancel()
                await asyncio.gather(*reads, return_exceptions=True)
        os.fsync(f.fileno())
    os.replace(part, done)
    return done, resumed, downloaded


async def _same_start(rec: Recorder, lid: int, path: Path) -> bool:
    with open(path, "rb") as f:
        mine = f.read(PREFIX_CHECK)
    r = await rec.command(P.C_LOG_READ, lid, 0, len(mine))
    if r.status != P.S_OK:
        return False
    got_id, offset, chunk = P.decode_log_chunk(r.data)
    return got_id == lid and offset == 0 and chunk == mine[: len(chunk)] and len(chunk) > 0


def _frame_count(data: bytes, good: list) -> int:
    """Frames in the good blocks, from their heads (a compressed block states its count)."""
    n = 0
    for a, b in good:
        if data[a : a + 2] == b"TZ":
            n += int.from_bytes(data[a + 9 : a + 11], "little")
        else:
            n += len(scan_log(data[a:b])[0])
    return n


def _lost_seqs(data: bytes, good: list, damaged: list) -> list[tuple[int | None, int | None]]:
    """Per damaged range, the sequence numbers it held: those between the good frames either side (only the
    neighbouring blocks are decoded)."""
    out = []
    for a, b, _ in damaged:
        before = [g for g in good if g[1] <= a]
        after = [g for g in good if g[0] >= b]
        last = scan_log(data[before[-1][0] : before[-1][1]])[0] if before else []
        first = scan_log(data[after[0][0] : after[0][1]])[0] if after else []
        q0 = P.decode_frame(last[-1]).seq + 1 if last else None
        q1 = P.decode_frame(first[0]).seq - 1 if first else None
        out.append((q0, q1))
    return out
