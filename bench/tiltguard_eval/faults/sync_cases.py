"""Fault cases of the flash log and sync (issue 23 item 3, issue 21): a damaged log synced, a power cut in the
middle of a block, a sync cut half-way, a delete asked without a good copy.

Real parts: the firmware app on a simulated board behind a pty (the virtual USB cable), the log written by
the device's own FlashLog (the MicroPython unix port for the power cut), the real CLI (`tiltguard sync`) and
an SQLite store on disk. Bounds (docs/firmware.md, "Flash log"): a damaged block costs its own samples (they
stay on the device and in the store's raw copy); a power cut costs at most the block being written.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import time
from pathlib import Path

from tiltguard.firmware import protocol as P
from tiltguard.firmware.flashlog import FlashLog, scan_log

from tiltguard_eval import repo_tests
from tiltguard_eval.log_frames import (
    CHIPS,
    device_frames,
    frames_file,
    quantise,
    samples_in,
)

repo_tests.bind()  # the repository's test helpers as `tests.*`


def _frames(seconds: float, seed: int = 4) -> list[bytes]:
    from tiltguard.host.simulator import simulate

    rec, _ = simulate("easy-run-neutral", minutes=max(1.5, seconds / 60 + 1.4), rate_hz=200, seed=seed)
    n = int(seconds * 200)
    return device_frames(quantise(rec.acc[-n:], rec.gyr[-n:], CHIPS[0]), 200, CHIPS[0], gyr_radps=rec.gyr[-n:])


@contextlib.contextmanager
def _device(tmp: Path, data: bytes | None = None, frames: list[bytes] | None = None, block: int = 1024):
    """An idle simulated pod on a virtual USB cable whose flash holds one log (given bytes, or these frames)."""
    from tiltguard.firmware.serial_link import SerialLink
    from tiltguard.host.link.simdevice import DeviceThread
    from tiltguard.host.simulator import simulate

    from tiltguard_eval.virtual_usb import VirtualUsbCable

    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=1)
    cable = VirtualUsbCable(tmp / "ttyTiltguard")
    inp, out = cable.device_streams()
    dev = DeviceThread(rec, lambda b: [SerialLink(inp, out, b.ticks_ms, b.ticks_diff)]).start()
    try:
        log = FlashLog(dev.sim.board.log_root, block_size=block, reserve_bytes=0)
        lid = log.open_new()
        if data is None:
            for f in frames:
                log.append(f)
            log.close()
        else:
            log.close()
            Path(f"{dev.sim.board.log_root}/{lid:05d}.tgl").write_bytes(data)
        yield dev, cable, f"{dev.sim.board.log_root}/{lid:05d}.tgl"
    finally:
        dev.stop()
        cable.close()


def _cli(*args) -> tuple[int, str]:
    from tiltguard.host.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse
            code = e.code if isinstance(e.code, int) else 1
    return code or 0, buf.getvalue()


def _stored_samples(db: Path) -> int:
    from tiltguard.host.store import SessionStore

    store = SessionStore(db, analyse=None)
    n = 0
    for s in store.sessions():
        n += sum(fr[21] for _, fr in store.frames(s.id) if fr[1] == P.T_SAMPLES)
    store.close()
    return n


def _blocks(data: bytes) -> list[tuple[int, int]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        end = pos + 8 + int.from_bytes(data[pos + 2 : pos + 4], "little")
        out.append((pos, end))
        pos = end
    return out


def _row(name, produced, stored, bound, told, refused, detail):
    return {"name": name, "samples_produced": int(produced), "samples_stored": int(stored),
            "samples_lost": int(produced - stored), "samples_lost_bound": int(bound), "told_user": bool(told),
            "refused": refused, "detail": detail}


def damaged_log_synced(tmp: Path) -> dict:
    """One flipped bit in the third block of the pod's log, then `tiltguard sync`."""
    frames = _frames(30)
    with _device(tmp, frames=frames) as (dev, cable, path):
        data = bytearray(Path(path).read_bytes())
        a, b = _blocks(bytes(data))[2]
        data[(a + b) // 2] ^= 0x04
        Path(path).write_bytes(bytes(data))
        block_samples = samples_in(scan_log(Path(path).read_bytes()[:0] + _original_block(frames, a, b))[0])
        code, out = _cli("sync", "--serial", str(cable.port_path), "--db", str(tmp / "s.sqlite3"))
        kept = Path(path).exists()
    stored = _stored_samples(tmp / "s.sqlite3")
    told = f"damaged: bytes {a}-{b}" in out and "Traceback" not in out
    return _row("damaged_log_synced", samples_in(frames), stored, block_samples, told and kept, None,
                f"exit {code}; device copy {'kept' if kept else 'DELETED'}; " + out.strip().splitlines()[-1][:120])


def _original_block(frames, a, b) -> bytes:
    """The bytes of block a..b of the undamaged log (same frames, same block size: the writer is deterministic)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        log = FlashLog(d, block_size=1024, reserve_bytes=0)
        lid = log.open_new()
        for f in frames:
            log.append(f)
        log.close()
        return Path(f"{d}/{lid:05d}.tgl").read_bytes()[a:b]


def power_cut_mid_block(tmp: Path) -> dict:
    """The pod's encoder (MicroPython unix port) logs a run; the power goes in the middle of a block write."""
    from tests.mpy_helpers import find_micropython, run_micropython

    frames = _frames(40, seed=6)
    src = tmp / "frames.bin"
    src.write_bytes(frames_file(frames))
    root = tmp / "flash"
    root.mkdir()
    if find_micropython() is None:
        return _row("power_cut_mid_block", 0, 0, 0, False, None, "MicroPython unix port not found")
    run_micropython(["tests/mpy/encode_log.py", str(src), str(root), "viper", "1024"])
    whole = (root / "00001.tgl").read_bytes()
    blocks = _blocks(whole)
    a, b = blocks[len(blocks) // 2]
    cut = whole[: a + (b - a) // 3]  # the block being written when the power went
    produced = samples_in(scan_log(whole[:b])[0])  # what the pod had made up to the cut block
    bound = produced - samples_in(scan_log(whole[:a])[0])
    with _device(tmp, data=cut) as (dev, cable, path):
        code, out = _cli("sync", "--serial", str(cable.port_path), "--db", str(tmp / "s.sqlite3"))
    stored = _stored_samples(tmp / "s.sqlite3")
    told = "cut short" in out and "Traceback" not in out
    return _row("power_cut_mid_block", produced, stored, bound, told, None,
                f"cut at byte {len(cut)} inside block {a}-{b}; exit {code}")


def interrupted_sync(tmp: Path) -> dict:
    """The USB cable is pulled half-way through `tiltguard sync`; plugged back, the next sync resumes."""
    frames = _frames(120, seed=8)
    db = tmp / "s.sqlite3"
    with _device(tmp, frames=frames, block=4096) as (dev, cable, path):
        size = Path(path).stat().st_size
        spool = Path(str(db) + ".flashlogs")

        def pull_half_way():
            end = time.monotonic() + 30
            while time.monotonic() < end:
                for p in spool.glob("*.part") if spool.exists() else []:
                    if p.stat().st_size > size * 0.4:
                        cable.unplug()
                        return
                time.sleep(0.005)

        t = threading.Thread(target=pull_half_way)
        t.start()
        code1, out1 = _cli("sync", "--serial", str(cable.port_path), "--db", str(db))
        t.join()
        parts = list(spool.glob("*.part"))
        arrived = parts[0].stat().st_size if parts else 0
        cable.replug()
        served0 = dev.sim.device.stats.get("log_read_bytes", 0)
        time.sleep(0.5)
        code2, out2 = _cli("sync", "--serial", str(cable.port_path), "--db", str(db))
        served = dev.sim.device.stats.get("log_read_bytes", 0) - served0
        left = dev.sim.device.log.list()
    stored = _stored_samples(db)
    told = "run it again to resume" in out1 and "resumed at byte" in out2 and "Traceback" not in out1 + out2
    return _row("interrupted_sync", samples_in(frames), stored, 0, told, None,
                f"exit {code1} then {code2}; {arrived} of {size} bytes had arrived, the resumed sync read "
                f"{served} (the rest + a 64-byte prefix check); device logs left {left}")


def delete_without_a_good_copy(tmp: Path) -> dict:
    """A host asks the pod to delete a log with a CRC that is not the file's: refused, nothing lost."""
    from tiltguard.host.link.serial import SerialTransport
    from tiltguard.host.store.recorder import Recorder

    frames = _frames(20, seed=9)
    with _device(tmp, frames=frames) as (dev, cable, path):
        size = Path(path).stat().st_size

        async def ask():
            t = SerialTransport(str(cable.port_path))
            rec = Recorder(t, None, start_stream=False)
            await t.connect()
            try:
                return (await rec.command(P.C_LOG_DELETE, 1, size, 0x12345678, timeout=10.0)).status
            finally:
                await t.disconnect()

        status = asyncio.run(ask())
        kept = Path(path).exists()
    produced = samples_in(frames)
    return _row("delete_without_a_good_copy", produced, produced if kept else 0, 0,
                status == P.S_CRC_MISMATCH, kept and status != P.S_OK, f"device answered status {status}")


CASES = [damaged_log_synced, power_cut_mid_block, interrupted_sync, delete_without_a_good_copy]
