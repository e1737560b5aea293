"""A USB recording on a pty while the owner's phone, bonded over the bumble virtual link, connects for 4 s
(BLE listed first among the pod's links: the old preferred order). Shared by tests/test_owner_only.py and the
fault bench (bench/tiltguard_eval/faults/device_cases.py): what the recorder stored, what the phone got."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from tiltguard.firmware import protocol as P

from tiltguard_eval import repo_tests
from tiltguard_eval.virtual_usb import VirtualUsbCable


@dataclass
class UsbWithPhone:
    device: object  # host.link.simdevice.SimulatedDevice
    recorder: object  # host.store.recorder.Recorder
    store: object  # host.store.SessionStore
    session_ids: list[int]
    phone_frames: list  # decoded frames the phone received


def usb_recording_while_the_owner_connects(tmp: Path, seconds: float = 10.0) -> UsbWithPhone:
    from tiltguard.firmware.ble import BleLink
    from tiltguard.firmware.serial_link import SerialLink
    from tiltguard.host.link.ble import BleTransport, pair_device, scan
    from tiltguard.host.link.serial import SerialTransport
    from tiltguard.host.link.simdevice import SimulatedDevice
    from tiltguard.host.simulator import simulate
    from tiltguard.host.store import SessionStore
    from tiltguard.host.store.recorder import Recorder

    radio_mod = repo_tests.module("bumble_link")
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=4)
    cable = VirtualUsbCable(tmp / "ttyTiltguard")
    inp, outp = cable.device_streams()
    phone: list = []

    async def main():
        radio = radio_mod.VirtualRadio()
        await radio.power_on()
        link = BleLink(radio.mpy_ble(), radio_mod.UUID, "Tiltguard-USB")
        device = SimulatedDevice(rec, [link], folder=tmp / "device")
        b = device.board
        device.device.links.append(SerialLink(inp, outp, b.ticks_ms, b.ticks_diff))
        task = asyncio.ensure_future(device.run())
        backend = radio.bleak_backend()
        address = (await scan(2.0, backend, read_battery=False))[0].address
        device.device.owner.open_window()
        await pair_device(address, backend)
        store = SessionStore(tmp / "sessions.sqlite3")
        recorder = Recorder(SerialTransport(str(cable.port_path)), store)

        async def owner_phone():
            await asyncio.sleep(3.0)
            t = BleTransport(address, backend=backend)
            t.on_frame = lambda frame, rx: phone.append(P.decode_frame(frame))
            await t.connect()
            await asyncio.sleep(4.0)  # connected and bonded for 4 s of the USB recording
            await t.disconnect()

        ph = asyncio.ensure_future(owner_phone())
        sids = await recorder.run(duration_s=seconds)
        await ph
        device.stop()
        await task
        return UsbWithPhone(device, recorder, store, sids, phone)

    try:
        return asyncio.run(main())
    finally:
        cable.close()
