"""Flash sync over USB serial: the device app runs with no host and logs to flash; `sync` lists the log,
downloads it with integrity checks, stores it as a session, and only then has the device delete it."""
from __future__ import annotations

import asyncio
import time

import numpy as np
from tiltguard.firmware.serial_link import SerialLink
from tiltguard.host.link.decode import sample_table
from tiltguard.host.link.serial import SerialTransport
from tiltguard.host.link.simdevice import DeviceThread
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore
from tiltguard.host.store.sync import sync_device
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
