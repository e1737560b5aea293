"""BLE end to end on a virtual Bluetooth link (bumble): the firmware's own BLE module (firmware/ble.py) on
a MicroPython `bluetooth` API over one bumble device, the host's BleTransport with bleak over a bumble
backend on the other; 200 Hz for 32 s, the link cut twice, some notifications damaged in the air."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from tiltguard.firmware import protocol as P
from tiltguard.firmware.ble import BleLink
from tiltguard.firmware.peripherals import lipo_percent
from tiltguard.host.link.ble import BleTransport, scan
from tiltguard.host.link.simdevice import SimulatedDevice
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore
from tiltguard.host.store.recorder import Recorder

from tests.bumble_link import UUID, VirtualRadio

pytest.importorskip("bumble")

SECONDS = 32.0


@pytest.fixture(scope="module")
def ble_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ble")
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=7)

    async def main():
        radio = VirtualRadio()
        await radio.power_on()
        ble = radio.mpy_ble()
        link = BleLink(ble, UUID, "Tiltguard-BLE")
        device = SimulatedDevice(rec, [link], folder=tmp / "device")
        device.device.owner.open_window()  # the owner held the button: the host bonds as it first connects
        dev_task = asyncio.ensure_future(device.run())
        backend = radio.bleak_backend()
        found = await scan(2.0, backend)
        store = SessionStore(tmp / "sessions.sqlite3")
        transport = BleTransport(found[0].address, backend=backend)
        recorder = Recorder(transport, store)
        ble.damage_every = 97

        async def cut_link():
            await asyncio.sleep(8.0)
            await ble.out_of_range(1.5)  # ~300 samples made while nobody listens
            await asyncio.sleep(10.0)
            await ble.out_of_range(0.6)

        cuts = asyncio.ensure_future(cut_link())
        sids = await recorder.run(duration_s=SECONDS)
        await cuts
        device.stop()
        await dev_task
        return found, device, link, ble, recorder, store, sids

    found, device, link, ble, recorder, store, sids = asyncio.run(main())
    return rec, found, device, link, ble, recorder, store, sids


def test_scan_finds_the_device_with_rssi_and_battery(ble_run):
    _, found, *_ = ble_run
    (dev,) = found
    assert dev.rssi < 0
    assert dev.battery == lipo_percent(3950)  # read from the Battery service 0x180F


def test_every_sample_stored_exactly_once_in_order_despite_two_cuts(ble_run):
    rec, _, device, _, _, recorder, store, sids = ble_run
    (sid,) = sids
    produced = device.device.stats["samples"]
    assert produced >= 30 * 200
    stored = store.recording(sid)
    dec = store.decoded(sid)
    from tiltguard.host.link.decode import sample_table

    tab = sample_table(dec)
    assert np.array_equal(tab.index, np.arange(produced))  # each once, in order, none missing
    assert len(stored) == produced
    start = device.board.emu.fifo_base
    want = rec.gyr[(start + np.arange(produced)) % len(rec)]
    assert np.max(np.abs(stored.gyr - want)) <= np.radians(1000) / 32768 / 2 + 1e-6
    link = store.analyses(sid)["link"]
    assert link["missing_frames"] == 0 and link["samples_missing"] == 0


def test_cuts_were_recovered_by_reconnect_and_resend(ble_run):
    _, _, device, _, ble, recorder, _, _ = ble_run
    s = recorder.stats
    assert s.reconnects == 2
    assert s.frames_filled > 1.5 * 20 * 0.8  # at least the first outage, 20 frames/s, came back resent
    assert device.device.stats["resent"] >= s.frames_filled
    assert s.frames_given_up == 0
    # damaged notifications are counted, and their frames came back too
    assert ble.damaged > 0 and s.integrity_errors == ble.damaged


def test_frames_are_sized_from_the_mtu_the_device_negotiated(ble_run):
    _, _, _, link, _, _, store, sids = ble_run
    dec = store.decoded(sids[0])
    assert link.mtu == 247
    # hellos made while connected announce 244 (MTU 247 - 3); one made during an outage (it opens the
    # device's flash log, then came back by resend) announces 0: no link
    assert {h.max_frame for h in dec.hellos} <= {0, 244} and 244 in {h.max_frame for h in dec.hellos}
    assert max(len(fr) for _, fr in store.frames(sids[0])) <= 244
    assert all(f.n == 10 for f, _ in dec.sample_frames[:-1])
    assert P.samples_per_frame_for(244) >= 10  # the configured 10 samples fit the negotiated frame
