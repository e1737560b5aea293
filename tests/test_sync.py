"""Flash sync over USB serial: the device app runs with no host and logs to flash; `sync` lists the log,
downloads it with integrity checks, stores it as a session, and only then has the device delete it."""
from __future__ import annotations

import asyncio
from pathlib import Path
import time

import numpy as np
from tiltguard.firmware.serial_link import SerialLink
from tiltguard.host.link.decode import sample_table
from tiltguard.host.link.serial import SerialTransport
from tiltguard.host.link.simdevice import DeviceThread
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore
from tiltguard.host.store.sync import spool_dir, sync_device
import pytest
from tiltguard_eval.virtual_usb import VirtualUsbCable


def test_sync_downloads_stores_then_deletes_the_flash_log(tmp_path):
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=9)
    cable = VirtualUsbCable(tmp_path / "ttyTiltguard")
    inp, out = cable.device_streams()
    dev = DeviceThread(rec, lambda b: [SerialLink(inp, out, b.ticks_ms, b.ticks_diff)],
                       config={"autostart": True}).start()  # started by its button: no laptop
    try:
        time.sleep(2.5)
        logged = dev.sim.device.stats["logged"]
        assert logged > 0 and dev.sim.device.log.list()
        store = SessionStore(tmp_path / "sessions.sqlite3")
        synced = asyncio.run(sync_device(SerialTransport(str(cable.port_path)), store))
        lids_after = [lid for lid, _ in dev.sim.device.log.list()]
    finally:
        dev.stop()
        cable.close()
    assert dev.error is None
    (first,) = [s for s in synced if s.log_id == 1]
    assert first.deleted and first.problem is None
    assert 1 not in lids_after  # gone from the device only after the host's copy was stored
    info = store.session(first.session_id)
    assert info.source == "flash" and info.state == "closed"
    tab = sample_table(store.decoded(first.session_id))
    assert len(tab.index) >= 2.0 * 200 * 0.9
    assert np.array_equal(tab.index, np.arange(len(tab.index)))  # from the run's first sample, no holes
    assert store.analyses(first.session_id)["link"]["missing_frames"] == 0


# ---------------------------------------------------------------------- resume, damage, never delete unstored
from tiltguard.firmware import protocol as P  # noqa: E402
from tiltguard.firmware.flashlog import FlashLog, scan_log  # noqa: E402
from tiltguard_eval.log_frames import CHIPS, device_frames, quantise  # noqa: E402


class _Drop(Exception):
    """The link went away mid-transfer (raised from the byte progress callback)."""


def _device_with_log(tmp_path, seconds=60.0):
    """An idle device (no session running) whose flash holds one compressed log of `seconds` at 200 Hz."""
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=4)
    n = int(seconds * 200)
    frames = device_frames(quantise(rec.acc, rec.gyr, CHIPS[1])[:n], 200, CHIPS[1], gyr_radps=rec.gyr[:n])
    cable = VirtualUsbCable(tmp_path / "ttyTiltguard")
    inp, out = cable.device_streams()
    dev = DeviceThread(rec, lambda b: [SerialLink(inp, out, b.ticks_ms, b.ticks_diff)]).start()
    log = FlashLog(dev.sim.board.log_root, block_size=1024, reserve_bytes=0)  # small blocks: many of them
    log.open_new()
    for f in frames:
        log.append(f)
    log.close()
    return dev, cable, frames, log


def _stored_frames(store, sid):
    return [bytes(fr) for _, fr in store.frames(sid)]


def test_an_interrupted_sync_resumes_without_resending_and_deletes_only_a_whole_copy(tmp_path):
    dev, cable, frames, log = _device_with_log(tmp_path)
    (lid, size), = log.list()
    store = SessionStore(tmp_path / "sessions.sqlite3")
    seen = []

    def drop_at_40_percent(lid_, have, total, kbps):
        seen.append(have)
        if have > 0.4 * total:
            raise _Drop()

    try:
        with pytest.raises(_Drop):
            asyncio.run(sync_device(SerialTransport(str(cable.port_path)), store, on_bytes=drop_at_40_percent))
        assert log.list() == [(lid, size)]  # nothing deleted after a partial copy
        partial = seen[-1]
        time.sleep(0.5)  # reads still in flight when the link dropped are answered into nowhere
        served_before = dev.sim.device.stats["log_read_bytes"]
        synced = asyncio.run(sync_device(SerialTransport(str(cable.port_path)), store))
        served = dev.sim.device.stats["log_read_bytes"] - served_before
        left = dev.sim.device.log.list()
    finally:
        dev.stop()
        cable.close()
    (s,) = synced
    assert s.resumed_from == partial and s.downloaded == size - partial
    assert served == size - partial + P_PREFIX  # only the missing bytes, plus the 64-byte prefix check
    assert s.deleted and s.problem is None and left == [] and s.kept_copy is None and s.frames == len(frames)
    assert _stored_frames(store, s.session_id) == frames  # every frame, byte for byte
    assert not any(spool_dir(store).iterdir())  # the raw copy goes once proven good


P_PREFIX = 64


def test_a_damaged_log_keeps_every_good_block_and_is_not_deleted(tmp_path):
    dev, cable, frames, log = _device_with_log(tmp_path, seconds=30.0)
    (lid, size), = log.list()
    path = f"{dev.sim.board.log_root}/{lid:05d}.tgl"
    original = open(path, "rb").read()
    data = bytearray(original)
    data[2500] ^= 0x10  # one flipped bit in the third block of the device's flash
    open(path, "wb").write(data)
    good, _, damaged = scan_log(bytes(data))
    store = SessionStore(tmp_path / "sessions.sqlite3")
    lines = []
    try:
        synced = asyncio.run(sync_device(SerialTransport(str(cable.port_path)), store, progress=lines.append))
        left = dev.sim.device.log.list()
    finally:
        dev.stop()
        cable.close()
    (s,) = synced
    assert len(damaged) == 1 and s.damaged == damaged
    assert not s.deleted and left == [(lid, size)]  # the device keeps its copy
    assert s.kept_copy and open(s.kept_copy, "rb").read() == bytes(data)  # and so does the store
    stored = _stored_frames(store, s.session_id)
    a, b, _ = damaged[0]
    in_block = scan_log(original[a:b])[0]
    assert stored == good and stored == [f for f in frames if f not in in_block]  # that block's frames only
    lost = [P.decode_frame(f).seq for f in in_block]
    assert s.lost_seqs == [(lost[0], lost[-1])]
    assert f"bytes {a}-{b}" in s.problem and "CRC" in s.problem
    from tiltguard.host.report.write import write_report

    paths = write_report(store, s.session_id, tmp_path / "report")
    html = Path(paths.html).read_text()
    assert 'id="log-damage"' in html and f"bytes {a}-{b}" in html  # the report says what was lost
