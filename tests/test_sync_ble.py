"""Flash sync over a virtual Bluetooth link (bumble): the firmware's BLE module on one bumble device, the
host's BleTransport (bleak over bumble) on the other. The owner pairs in the pod's pairing window, a
transfer is cut half-way and the next sync resumes without asking for what already arrived."""
from __future__ import annotations

import asyncio

import pytest
from tiltguard.firmware.ble import BleLink
from tiltguard.firmware.flashlog import FlashLog
from tiltguard.host.link.ble import BleTransport, scan
from tiltguard.host.link.simdevice import SimulatedDevice
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore
from tiltguard.host.store.sync import sync_device
from tiltguard_eval.log_frames import CHIPS, device_frames, quantise

from tests.bumble_link import UUID, VirtualRadio

pytest.importorskip("bumble")


class _Drop(Exception):
    pass


def test_ble_sync_resumes_after_a_drop_and_stores_every_frame(tmp_path):
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=8)
    n = 30 * 200
    frames = device_frames(quantise(rec.acc, rec.gyr, CHIPS[0])[:n], 200, CHIPS[0], gyr_radps=rec.gyr[:n])

    async def main():
        radio = VirtualRadio()
        await radio.power_on()
        link = BleLink(radio.mpy_ble(), UUID, "Tiltguard-Sync")
        device = SimulatedDevice(rec, [link], folder=tmp_path / "device")
        log = FlashLog(device.board.log_root, reserve_bytes=0)
        log.open_new()
        for f in frames:
            log.append(f)
        log.close()
        (lid, size), = log.list()
        dev_task = asyncio.ensure_future(device.run())
        owner = getattr(device.device, "owner", None)
        if owner is not None:
            owner.open_window()  # the owner holds the button: this central may bond
        backend = radio.bleak_backend()
        found = await scan(2.0, backend)
        store = SessionStore(tmp_path / "sessions.sqlite3")
        seen = []

        def drop_half_way(lid_, have, total, kbps):
            seen.append((have, kbps))
            if have > total // 2:
                raise _Drop()

        with pytest.raises(_Drop):
            await sync_device(BleTransport(found[0].address, backend=backend), store, on_bytes=drop_half_way)
        await asyncio.sleep(3.0)
        stats = device.device.stats
        before = stats.get("log_read_bytes", 0)
        synced = await sync_device(BleTransport(found[0].address, backend=backend), store)
        served = stats["log_read_bytes"] - before
        left = device.device.log.list()
        device.stop()
        await dev_task
        return size, seen, synced, served, left, store, link

    size, seen, synced, served, left, store, link = asyncio.run(main())
    (s,) = synced
    partial = seen[-1][0]
    assert s.resumed_from == partial and s.downloaded == size - partial
    assert served == size - partial + 64  # the missing bytes and the 64-byte prefix check, nothing twice
    assert s.deleted and left == []
    assert [bytes(fr) for _, fr in store.frames(s.session_id)] == frames
    assert link.max_frame == 244  # the largest ATT MTU the firmware asks for (247)
    assert s.kbytes_per_s > 0
