"""The host's buzz API (host.link.buzz.PodBuzzer) on the real links, with the firmware's own app on the other end.

* USB serial on a pty (a virtual cable): the device app on its own thread with its SerialLink, the host's
  SerialTransport and Recorder recording into a SQLite file; patterns asked for from another thread (as the
  live window's Qt thread does) come back as the pod's pulses, in order, while every sample is still stored.
* The same with a pod whose firmware predates C_BUZZ (it answers 'unknown command'): said once, nothing more
  sent, the recording unharmed.
* BLE on the bumble virtual link: the owner's bonded BleTransport buzzes the pod; a stranger writing the same
  command over raw GATT is refused and the motor stays still.
"""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from tiltguard.firmware import protocol as P
from tiltguard.firmware.peripherals import HOST_GAP_MS
from tiltguard.host.link.buzz import (
    PACE_MARGIN_S,
    UNSUPPORTED_TEXT,
    PodBuzzer,
    buzz_args,
)
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore
from tiltguard.host.store.recorder import Recorder

PATTERNS = [((80,), "rep 1"), ((250, 150, 250), "hold reached"), ((80,), "rep 2"), ((700,), "set done")]
JITTER_MS = 30  # a pulse's measured length on the simulated board: the host's scheduler, not the pod
TOOK_MAX_S = 0.02  # buzz() from the window's thread (a busy, shared machine: a thread switch or two)


def ask_from_another_thread(buzzer: PodBuzzer, patterns, gap_s: float = 0.4) -> list[float]:
    """buzz() from a thread of its own, as the window does; returns how long each call took (s).
    TOOK_MAX_S: well inside the window's 50-ms tick, and a fraction of one command's round trip.
    Each call is made while the link's loop is held, so no answer can come during it: a buzz() that waited for
    the pod's answer would wait until the hold's 1-s timeout (an answer arriving fast on the virtual link while
    the asking thread was descheduled is not mistaken for waiting)."""
    took = []

    def hold(entered: threading.Event, release: threading.Event) -> None:
        entered.set()
        release.wait(1.0)

    def run():
        for pattern, what in patterns:
            entered, release = threading.Event(), threading.Event()
            buzzer.loop.call_soon_threadsafe(hold, entered, release)
            assert entered.wait(5.0), "the link's loop did not run"
            answered = len(buzzer.done)
            t0 = time.perf_counter()
            buzzer.buzz(pattern, what)
            took.append(time.perf_counter() - t0)
            if len(buzzer.done) != answered:  # it waited for the pod's answer
                took.append(float("inf"))
            release.set()
            time.sleep(gap_s)

    th = threading.Thread(target=run)
    th.start()
    th.join()
    return took


def pulses_of(patterns) -> list[int]:
    return [ms for pattern, _ in patterns for ms in pattern[::2]]


async def record_while(recorder: Recorder, body):
    """Record until `body()` (awaited once the samples flow) is done and a second more; returns the session ids."""
    stop = asyncio.Event()
    task = asyncio.ensure_future(recorder.run(stop=stop, drain_s=2.0))
    for _ in range(200):
        if recorder.hello is not None and recorder.stats.samples_decoded > 100:
            break
        await asyncio.sleep(0.05)
    try:
        await body()
    finally:
        await asyncio.sleep(1.0)
        stop.set()
    return await task


def serial_pod(tmp, rec, old_firmware: bool = False):
    from tiltguard.firmware.serial_link import SerialLink
    from tiltguard.host.link.serial import SerialTransport
    from tiltguard.host.link.simdevice import DeviceThread
    from tiltguard_eval.virtual_usb import VirtualUsbCable

    cable = VirtualUsbCable(tmp / "ttyTiltguard")
    inp, out = cable.device_streams()
    dev = DeviceThread(rec, lambda board: [SerialLink(inp, out, board.ticks_ms, board.ticks_diff)]).start()
    if old_firmware:  # as a pod flashed before C_BUZZ: it knows no such command
        dev.sim.device._commands.pop(P.C_BUZZ)
    return cable, dev, SerialTransport(str(cable.port_path))


@pytest.fixture(scope="module")
def rec():
    return simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=4)[0]


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory, rec):
    pytest.importorskip("serial")
    tmp = tmp_path_factory.mktemp("buzz-serial")
    cable, dev, transport = serial_pod(tmp, rec)
    store = SessionStore(tmp / "sessions.sqlite3")
    recorder = Recorder(transport, store)
    out = {}

    async def body():
        buzzer = out["buzzer"] = PodBuzzer(recorder.command, asyncio.get_running_loop())
        out["took"] = await asyncio.to_thread(ask_from_another_thread, buzzer, PATTERNS)
        out["idle"] = await asyncio.to_thread(buzzer.wait_idle, 5.0)
        await asyncio.sleep(1.0)  # the last pattern plays

    try:
        out["sids"] = asyncio.run(record_while(recorder, body))
    finally:
        dev.stop()
        cable.close()
    assert dev.error is None, dev.error
    return out, dev, recorder, store


def test_serial_buzzes_come_back_as_the_pods_pulses_in_order(serial_run):
    out, dev, _, _ = serial_run
    buzzer = out["buzzer"]
    assert out["idle"] and buzzer.supported is True and buzzer.dropped == 0
    assert [(b.what, b.status) for b in buzzer.done] == [(w, P.S_OK) for _, w in PATTERNS]
    assert max(out["took"]) < TOOK_MAX_S
    assert [ms for _, ms in dev.sim.device.buzzer.log] == pulses_of(PATTERNS)  # what the firmware played
    felt = dev.sim.board.buzzes  # what the motor did
    assert [round(ms) for _, ms in felt] == pytest.approx(pulses_of(PATTERNS), abs=JITTER_MS)
    # asked 0.4 s apart from the window's thread: felt 0.4 s apart (within the link's and the control loop's
    # delay), except rep 2, asked while the hold's 650-ms pattern still played: sent once it had been played,
    # so felt after it, never over it, and not much later
    starts = [t for t, _ in felt]
    assert starts[1] - starts[0] == pytest.approx(0.4, abs=0.1)
    assert 0.65 + HOST_GAP_MS / 1000 <= starts[3] - starts[1] <= 0.65 + PACE_MARGIN_S + 0.1
    assert starts[4] - starts[0] == pytest.approx(1.2, abs=0.1)


def test_serial_the_recording_goes_on_untouched_while_the_pod_buzzes(serial_run):
    out, dev, recorder, store = serial_run
    (sid,) = out["sids"]
    link = store.analyses(sid)["link"]
    assert link["samples"] == dev.sim.device.stats["samples"] > 3 * 200
    assert link["samples_missing"] == 0 and recorder.stats.frames_given_up == 0


def test_serial_old_firmware_is_said_once_and_the_rest_goes_on(tmp_path, rec):
    pytest.importorskip("serial")
    cable, dev, transport = serial_pod(tmp_path, rec, old_firmware=True)
    store = SessionStore(tmp_path / "sessions.sqlite3")
    recorder = Recorder(transport, store)
    said = []
    out = {}

    async def body():
        buzzer = out["buzzer"] = PodBuzzer(recorder.command, asyncio.get_running_loop(), on_unsupported=said.append)
        await asyncio.to_thread(ask_from_another_thread, buzzer, PATTERNS, 0.2)
        await asyncio.to_thread(buzzer.wait_idle, 5.0)
        out["after"] = buzzer.buzz((80,), "rep 3")  # known unsupported: not even sent

    try:
        (sid,) = asyncio.run(record_while(recorder, body))
    finally:
        dev.stop()
        cable.close()
    buzzer = out["buzzer"]
    assert said == [UNSUPPORTED_TEXT] and "\n" not in said[0]
    assert buzzer.supported is False and out["after"] is False
    assert buzzer.done[0].status == P.S_UNKNOWN
    assert sum(b.status == P.S_UNKNOWN for b in buzzer.done) <= 2  # at most one more was on its way
    assert dev.sim.device.buzzer.log == [] and dev.sim.board.buzzes == []
    link = store.analyses(sid)["link"]
    assert link["samples"] == dev.sim.device.stats["samples"] > 2 * 200 and link["samples_missing"] == 0


@pytest.fixture(scope="module")
def ble_run(tmp_path_factory, rec):
    pytest.importorskip("bumble")
    from bleak import BleakClient
    from tiltguard.firmware.ble import CONTROL_UUID, BleLink
    from tiltguard.host.link.ble import BleTransport, scan
    from tiltguard.host.link.simdevice import SimulatedDevice

    from tests.bumble_link import UUID, VirtualRadio

    tmp = tmp_path_factory.mktemp("buzz-ble")
    out = {}

    async def stranger_buzzes(backend, address):
        """Raw GATT, ignoring the pod's security request: the buzz command, and what came back."""
        got = []
        found = [d for d in await scan(2.0, backend, read_battery=False) if d.address == address]
        client = BleakClient(found[0].ble_device, backend=backend.client)
        await client.connect()
        await client.start_notify(CONTROL_UUID, lambda _c, data: got.append(P.decode_frame(bytes(data))))
        await client.write_gatt_char(CONTROL_UUID, P.encode_command(1, 0, P.C_BUZZ, *buzz_args((700,))),
                                     response=True)
        await asyncio.sleep(0.5)
        if client.is_connected:
            await client.disconnect()
        return [(f.cmd, f.status) for f in got if f.type == P.T_RESPONSE]

    async def main():
        radio = VirtualRadio(centrals=2)
        await radio.power_on()
        link = BleLink(radio.mpy_ble(), UUID, "Tiltguard-Buzz")
        device = SimulatedDevice(rec, [link], folder=tmp / "device")
        device.device.owner.open_window()  # the owner held the button: this computer bonds as it connects
        dev_task = asyncio.ensure_future(device.run())
        owner = radio.bleak_backend(0)
        address = (await scan(2.0, owner, read_battery=False))[0].address
        recorder = Recorder(BleTransport(address, backend=owner), SessionStore(tmp / "sessions.sqlite3"))

        async def body():
            await asyncio.sleep(0.5)  # the pod's own buzz for its new owner (owner.BUZZ_NEW_OWNER) is over
            n_log, n_felt = len(device.device.buzzer.log), len(device.board.buzzes)
            buzzer = out["buzzer"] = PodBuzzer(recorder.command, asyncio.get_running_loop())
            out["took"] = await asyncio.to_thread(ask_from_another_thread, buzzer, PATTERNS)
            out["idle"] = await asyncio.to_thread(buzzer.wait_idle, 5.0)
            await asyncio.sleep(1.0)
            out["log"] = device.device.buzzer.log[n_log:]
            out["felt"] = device.board.buzzes[n_felt:]

        out["sids"] = await record_while(recorder, body)
        await asyncio.sleep(0.5)  # the owner has gone: the pod advertises again
        n = len(device.board.buzzes)
        out["stranger"] = await stranger_buzzes(radio.bleak_backend(1, answer_security=False), address)
        await asyncio.sleep(1.0)
        out["stranger_pulses"] = device.board.buzzes[n:]
        device.stop()
        await dev_task
        return device

    device = asyncio.run(main())
    return out, device


def test_ble_the_owner_buzzes_the_pod(ble_run):
    out, _ = ble_run
    buzzer = out["buzzer"]
    assert out["idle"] and buzzer.supported is True
    assert [(b.what, b.status) for b in buzzer.done] == [(w, P.S_OK) for _, w in PATTERNS]
    assert max(out["took"]) < TOOK_MAX_S
    assert [ms for _, ms in out["log"]] == pulses_of(PATTERNS)
    assert [round(ms) for _, ms in out["felt"]] == pytest.approx(pulses_of(PATTERNS), abs=JITTER_MS)


def test_ble_a_stranger_cannot_buzz_the_pod(ble_run):
    out, _ = ble_run
    assert out["stranger"] == [(P.C_BUZZ, P.S_NOT_BONDED)]
    assert out["stranger_pulses"] == []
