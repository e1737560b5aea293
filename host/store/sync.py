"""Flash sync: list the device's stored runs, download each with integrity checks, store it as a session,
then let the device delete it.

Integrity, three layers: every C_LOG_READ response is a CRC-checked frame; the downloaded file's blocks
carry their own CRC-32 (firmware/flashlog.py: a block cut by a power loss is dropped, the rest kept); and
deletion sends the CRC-32 of the whole copy, which the device compares with its file before removing it.
A log is deleted only after its session is committed to the store.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tiltguard.firmware import protocol as P
from tiltguard.host.link.transport import Transport
from tiltguard.host.store.recorder import Recorder
from tiltguard.sensors.compat import crc32

READ_CHUNK = 4096  # asked per C_LOG_READ; the device trims it to its link's frame size


@dataclass
class SyncedLog:
    log_id: int
    size: int
    session_id: int | None
    crc32: int
    problem: str | None  # a damaged tail found while parsing (kept: everything before it)
    deleted: bool
    delete_status: int | None


async def sync_device(transport: Transport, store, delete: bool = True, progress=None) -> list[SyncedLog]:
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
        out = []
        for lid, size in logs:
            data = await _download(rec, lid, size, progress)
            if data is None:
                continue  # the log being written right now, or gone
            c = crc32(data) & 0xFFFFFFFF
            sid, problem = store.import_flash_log(data, f"flash:{name}:{lid}", name, transport.address, crc32=c)
            status = None
            deleted = False
            if delete:
                d = await rec.command(P.C_LOG_DELETE, lid, len(data), c, timeout=10.0)
                status = d.status
                deleted = d.status == P.S_OK
            out.append(SyncedLog(lid, len(data), sid, c, problem, deleted, status))
            if progress:
                progress(out[-1])
        return out
    finally:
        await transport.disconnect()


async def _download(rec: Recorder, lid: int, size: int, progress) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        r = await rec.command(P.C_LOG_READ, lid, len(data), READ_CHUNK)
        if r.status != P.S_OK:
            return None
        got_id, offset, chunk = P.decode_log_chunk(r.data)
        if got_id != lid or offset != len(data):
            raise RuntimeError(f"log {lid}: answer for log {got_id} at {offset}, expected offset {len(data)}")
        if not chunk:
            break  # the file is shorter than listed (still being written when listed)
        data += chunk
        await asyncio.sleep(0)
    return bytes(data)
