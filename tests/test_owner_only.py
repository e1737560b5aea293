"""Only the owner controls the pod.

On the MicroPython unix port (virtual time, the firmware's own BleLink on a scripted radio): the pairing
window opens only by holding the button 6 s (three buzzes) and shuts at the first bond (a long buzz); a
central that pairs outside it never bonds and is dropped; one that ignores the pod's security request gets
HELLO and PING only and is dropped after PROVE_MS; holding the button at power-up is the factory reset;
a USB recording keeps its stream while the owner's phone connects.

On the bumble virtual link (real Bluetooth host stacks, LE Secure Connections pairing, three centrals):
the owner pairs with `pair_device` in the window; a stranger who ignores security is refused every command
but HELLO/PING while the pod records on, then dropped; a stranger who pairs outside the window is told
`NotOwner` and leaves no bond; only the owner can make the pod forget; a USB recording on a pty keeps
every sample in its stream while the owner's BLE central connects.
"""
from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from tiltguard.firmware import protocol as P
from tiltguard.firmware.ble import CONTROL_UUID, PROVE_MS, STREAM_UUID, BleLink
from tiltguard.firmware.owner import BUZZ_NEW_OWNER, BUZZ_WINDOW_OPEN, PAIR_WINDOW_MS

from tests.mpy_helpers import run_micropython

STRANGER_COMMANDS = [  # everything a stranger might try, with plausible arguments
    (P.C_STOP, ()), (P.C_START, ()), (P.C_EXIT, ()), (P.C_SET_RATE, (100, 8, 1000)), (P.C_SET_CUE, (0, 1000, 5000)),
    (P.C_NEUTRAL, ()), (P.C_RESEND, (0, 10)), (P.C_LOG_LIST, ()), (P.C_LOG_READ, (1, 0, 100)),
    (P.C_LOG_DELETE, (1, 0, 0)), (P.C_FORGET, ()),
]
OPEN = [(P.C_HELLO, ()), (P.C_PING, ())]


def run_pod(tmp_path, spec: dict) -> dict:
    spec = dict(spec, out=str(tmp_path))
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    proc = run_micropython(["-m", "tiltguard_eval.owner_pod", str(path)], timeout=120)
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def cmds(on, t0, commands, dt=0.05):
    return [{"t": t0 + i * dt, "do": "cmd", "on": on, "cmd": c, "args": list(a)} for i, (c, a) in enumerate(commands)]


# ------------------------------------------------------------------ unix port, scripted radio


@pytest.fixture(scope="module")
def owned_pod(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("owner")
    script = ([{"t": 0.5, "do": "central", "name": "early"}] + cmds("early", 0.7, [(P.C_STOP, ())])
              + [{"t": 1.0, "do": "leave", "name": "early"},
                 {"t": 1.5, "do": "button", "ms": 3000},  # 3 s: a neutral capture, no window
                 {"t": 6.0, "do": "central", "name": "pairer"},  # pairs: the window is shut
                 {"t": 6.5, "do": "leave", "name": "pairer"},
                 {"t": 8.0, "do": "button", "ms": 7000},  # 6 s held: the window opens at t=14
                 {"t": 16.0, "do": "central", "name": "owner"}]
              + cmds("owner", 17.0, [(P.C_LOG_LIST, ())])
              + [{"t": 18.0, "do": "leave", "name": "owner"},
                 {"t": 19.0, "do": "central", "name": "pairer"},  # tries again, window shut again
                 {"t": 20.0, "do": "central", "name": "prober", "answers": False}]
              + cmds("prober", 20.2, STRANGER_COMMANDS + OPEN)
              + [{"t": 26.0, "do": "central", "name": "owner"}]
              + cmds("owner", 27.0, [(P.C_STOP, ())]))
    return run_pod(tmp, {"seconds": 28, "ble": True, "secrets": True, "script": script})


def test_pairing_window_opens_only_after_6_s_held_and_shuts_at_the_first_bond(owned_pod):
    r = owned_pod
    assert [e[1] for e in r["events"] if e[0] == P.E_BUTTON] == [2, 3]  # the 3-s hold stored a neutral only
    # bonding switched on exactly once (the window), then off again at the owner's bond
    assert r["bond_history"] == [False, True, False]
    window_buzz = [ms for ms, dur in r["buzz"] if dur == BUZZ_WINDOW_OPEN[0]]
    assert len(window_buzz) == 3 and window_buzz[0] - r["buzz"][0][0] >= 0
    assert window_buzz[0] == pytest.approx(8000 + 6000, abs=60)  # felt while still held, at 6 s
    owner_buzz = [ms for ms, dur in r["buzz"] if dur == BUZZ_NEW_OWNER[0]]
    assert len(owner_buzz) == 1 and 16000 <= owner_buzz[0] <= 16300
    assert r["bonds"] == 1 and r["owned"] and not r["window_open"]


def test_before_the_window_no_central_bonds_or_commands(owned_pod):
    c = owned_pod["centrals"]
    assert c["early"]["responses"] == [[P.C_STOP, P.S_NOT_BONDED, ""]]
    assert not c["pairer"]["keys"]  # paired twice (at 6 s and 19 s), bonded never


def test_the_owner_bonds_and_commands(owned_pod):
    o = owned_pod["centrals"]["owner"]
    assert o["keys"] and o["responses"][0][:2] == [P.C_LOG_LIST, P.S_OK]
    assert o["responses"][1][:2] == [P.C_STOP, P.S_OK]  # back later: re-encrypted with its bond
    assert o["hellos"] and o["hellos"][0][0] & P.HO_OWNED


def test_strangers_are_refused_everything_but_hello_and_ping_then_dropped(owned_pod):
    r = owned_pod
    p = r["centrals"]["prober"]
    got = {cmd: status for cmd, status, _ in p["responses"]}
    assert got == dict([(c, P.S_NOT_BONDED) for c, _ in STRANGER_COMMANDS] + [(c, P.S_OK) for c, _ in OPEN])
    assert p["dropped"] == 1 and p["stream_frames"] == 1  # its own hello, never the stream
    # paired without a bond: kept by the pod without an owner (HELLO/PING only), dropped once it has one
    assert r["centrals"]["pairer"]["dropped"] == 1
    counts = dict(r["sample_counts"])
    assert counts[26.0] - counts[20.2] >= 0.97 * 200 * 5.8  # the recording went on through all of it
    assert r["events"].count([P.E_STREAM, 0, 1]) == 1  # stopped once: by the owner at 27 s


def test_a_window_nobody_uses_shuts_after_a_minute(tmp_path):
    r = run_pod(tmp_path, {"seconds": 8 + PAIR_WINDOW_MS / 1000 + 3, "ble": True, "start": False,
                           "script": [{"t": 1, "do": "button", "ms": 6500},
                                      {"t": 8 + PAIR_WINDOW_MS / 1000 + 1, "do": "central", "name": "late"}]})
    assert r["bond_history"] == [False, True, False] and not r["window_open"]
    assert not r["centrals"]["late"]["keys"] and r["bonds"] == 0


def test_factory_reset_by_holding_the_button_at_power_up(tmp_path):
    first = run_pod(tmp_path, {"seconds": 10, "ble": True, "secrets": True, "config_text": '{"rate_hz": 100}',
                               "script": [{"t": 1, "do": "button", "ms": 6500}, {"t": 8, "do": "central", "name": "o"}]})
    assert first["bonds"] == 1 and first["rate_hz"] == 100
    # held for 3 s at power-up: nothing happens (not even a short press)
    short = run_pod(tmp_path, {"seconds": 6, "ble": True, "secrets": True, "boot_button_ms": 3000, "start": False})
    assert short["bonds"] == 1 and short["rate_hz"] == 100 and short["events"] == []
    reset = run_pod(tmp_path, {"seconds": 8, "ble": True, "secrets": True, "boot_button_ms": 6000, "start": False,
                               "script": [{"t": 7, "do": "central", "name": "o"}] + cmds("o", 7.5, [(P.C_START, ())])})
    assert reset["events"][:1] == [[P.E_BUTTON, 4, 0]] and reset["buzz"][0][1] == 1000
    assert reset["bonds"] == 0 and not reset["owned"] and reset["rate_hz"] == 200
    assert reset["cfg"]["session"] == first["cfg"]["session"]  # session ids stay unique
    assert json.loads((tmp_path / "bonds.json").read_text()) == []
    assert reset["centrals"]["o"]["responses"] == [[P.C_START, P.S_NOT_BONDED, ""]]  # the old owner too


def test_a_ble_connection_never_takes_the_stream_from_a_usb_recording(tmp_path):
    script = ([{"t": 0, "do": "usb_connect"}, {"t": 1, "do": "button", "ms": 6500},
               {"t": 8, "do": "central", "name": "owner"}]
              + cmds("owner", 9, [(P.C_HELLO, ())]) + [{"t": 20, "do": "leave", "name": "owner"}])
    # USB listed after BLE: the order main.py used to prefer BLE in
    r = run_pod(tmp_path, {"seconds": 25, "ble": True, "usb": {"max_frame": 512}, "script": script})
    assert r["centrals"]["owner"]["keys"]
    assert r["usb"]["samples"] == r["samples"] >= 0.97 * 25 * 200  # every sample, on USB, throughout
    assert r["centrals"]["owner"]["stream_frames"] == 1  # its hello, not the stream
    assert [e[1] for e in r["events"] if e[0] == P.E_LINK] == [1]  # the stream never switched links
    assert r["stats"]["logged"] == 0


# ------------------------------------------------------------------ bumble: real host stacks


@pytest.fixture(scope="module")
def bumble_run(tmp_path_factory):
    pytest.importorskip("bumble")
    from bleak import BleakClient
    from tiltguard.host.link.ble import BleTransport, NotOwner, forget_device, pair_device, scan
    from tiltguard.host.link.simdevice import SimulatedDevice
    from tiltguard.host.link.transport import LinkDown
    from tiltguard.host.simulator import simulate

    from tests.bumble_link import UUID, VirtualRadio

    tmp = tmp_path_factory.mktemp("bumble-owner")
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=3)
    out = {}

    async def stranger_probe(backend, address):
        """Raw GATT, ignoring the pod's security request: every command, then wait to be dropped."""
        loop = asyncio.get_running_loop()
        found = await scan(2.0, backend, read_battery=False)
        got, hellos, stream = {}, [], []

        def on(_c, data):
            f = P.decode_frame(bytes(data))
            if f.type == P.T_RESPONSE:
                got[f.cmd] = f.status
            elif f.type == P.T_HELLO:
                hellos.append(f)
            else:
                stream.append(f)

        client = BleakClient(found[0].ble_device, backend=backend.client)
        await client.connect()
        t0 = loop.time()
        await client.start_notify(CONTROL_UUID, on)
        await client.start_notify(STREAM_UUID, on)
        for i, (cmd, args) in enumerate(STRANGER_COMMANDS + OPEN):
            await client.write_gatt_char(CONTROL_UUID, P.encode_command(i + 1, 0, cmd, *args), response=True)
        await asyncio.sleep(0.5)
        while client.is_connected and loop.time() - t0 < 10:
            await asyncio.sleep(0.05)
        return got, hellos, stream, loop.time() - t0, client.is_connected

    async def main():
        radio = VirtualRadio(centrals=3)  # the owner's computer, a stranger probing, a stranger pairing
        await radio.power_on()
        ble = radio.mpy_ble()
        link = BleLink(ble, UUID, "Tiltguard-Own", secrets_path=str(tmp / "bonds.json"))
        device = SimulatedDevice(rec, [link], folder=tmp / "device")
        dev = device.device
        task = asyncio.ensure_future(device.run())
        owner, prober, pairer = (radio.bleak_backend(0), radio.bleak_backend(1, answer_security=False),
                                 radio.bleak_backend(2))
        address = (await scan(2.0, owner, read_battery=False))[0].address
        try:
            await pair_device(address, pairer)  # outside the window
        except NotOwner as exc:
            out["pair_outside"] = str(exc)
        out["bonds_after_outside"] = link.has_bonds()
        dev.owner.open_window()  # the owner holds the button (the gesture: unix-port tests above)
        out["pair_owner"] = await pair_device(address, owner)
        await asyncio.sleep(0.3)  # the owner part looks every 100 ms
        out["window_after"] = dev.owner.window_open()
        out["secrets_file"] = json.loads((tmp / "bonds.json").read_text())
        t = BleTransport(address, backend=owner)
        await t.connect()
        out["owner_start"] = await t.probe(t._client, P.C_START)
        await t.disconnect()
        await asyncio.sleep(0.3)
        samples0 = dev.stats["samples"]
        out["probe"] = await stranger_probe(prober, address)
        out["running_after_probe"] = dev.running
        try:  # refused as it proves no bond, or dropped while still connecting: told to pair either way
            await BleTransport(address, backend=pairer).connect()
        except LinkDown as exc:
            out["stranger_connect"] = str(exc)
        try:
            await forget_device(address, pairer)
        except LinkDown as exc:
            out["stranger_forget"] = str(exc)
        out["bonds_after_strangers"] = len(json.loads((tmp / "bonds.json").read_text()))
        out["samples_during_strangers"] = dev.stats["samples"] - samples0
        out["running"] = dev.running
        await asyncio.sleep(0.5)
        out["forget"] = await forget_device(address, owner)
        out["bonds_after_forget"] = link.has_bonds()
        out["file_after_forget"] = json.loads((tmp / "bonds.json").read_text())
        device.stop()
        await task

    asyncio.run(main())
    return out


def test_bumble_owner_pairs_in_the_window_only(bumble_run):
    r = bumble_run
    assert "did not bond: open its pairing window first" in r["pair_outside"]
    assert r["bonds_after_outside"] is False
    assert r["pair_owner"].startswith("paired with ") and "this computer is its owner" in r["pair_owner"]
    assert r["window_after"] is False  # shut by the bond
    assert len(r["secrets_file"]) == 1 and r["secrets_file"][0][0] == 2  # one peer's keys, on "flash"
    assert r["owner_start"] == P.S_OK


def test_bumble_stranger_refused_everything_but_hello_ping_while_the_pod_records(bumble_run):
    got, hellos, stream, dropped_after_s, still_connected = bumble_run["probe"]
    assert got == dict([(c, P.S_NOT_BONDED) for c, _ in STRANGER_COMMANDS] + [(c, P.S_OK) for c, _ in OPEN])
    assert len(hellos) == 1 and hellos[0].owner & P.HO_OWNED and not stream  # no sample reaches it
    assert not still_connected and PROVE_MS / 1000 - 0.2 <= dropped_after_s <= PROVE_MS / 1000 + 1.0
    assert bumble_run["running_after_probe"] and bumble_run["running"]
    assert bumble_run["samples_during_strangers"] >= 0.9 * 200 * dropped_after_s


def test_bumble_stranger_cannot_bond_connect_or_make_the_pod_forget(bumble_run):
    r = bumble_run
    for msg in (r["stranger_connect"], r["stranger_forget"]):
        assert "tiltguard device pair" in msg and "\n" not in msg
    assert r["bonds_after_strangers"] == 1  # still only the owner


def test_bumble_owner_makes_the_pod_forget(bumble_run):
    r = bumble_run
    assert "forgot its owners" in r["forget"]
    assert r["bonds_after_forget"] is False and r["file_after_forget"] == []


def test_bumble_usb_recording_keeps_its_stream_while_the_owner_connects_over_ble(tmp_path):
    pytest.importorskip("bumble")
    pytest.importorskip("serial")
    from tiltguard.host.link.decode import sample_table
    from tiltguard_eval.usb_with_phone import usb_recording_while_the_owner_connects

    r = usb_recording_while_the_owner_connects(tmp_path)
    (sid,) = r.session_ids
    produced = r.device.device.stats["samples"]
    tab = sample_table(r.store.decoded(sid))
    assert produced >= 9 * 200 and np.array_equal(tab.index, np.arange(produced))
    assert r.recorder.stats.resend_requests == 0 and r.recorder.stats.frames_filled == 0  # never a gap
    assert not [f for f in r.phone_frames if f.type == P.T_SAMPLES]  # the phone got no stream
    assert r.device.device.stats["logged"] == 0


def test_forget_over_usb_clears_every_bond_and_a_stranger_cannot(tmp_path):
    script = ([{"t": 1, "do": "button", "ms": 6500}, {"t": 8, "do": "central", "name": "owner"},
               {"t": 9, "do": "leave", "name": "owner"}, {"t": 10, "do": "central", "name": "prober", "answers": False}]
              + cmds("prober", 10.2, [(P.C_FORGET, ())])
              + [{"t": 14, "do": "usb_connect"}] + cmds("usb", 14.1, [(P.C_FORGET, ())])
              + [{"t": 15, "do": "central", "name": "owner"}] + cmds("owner", 16, [(P.C_STOP, ())]))
    r = run_pod(tmp_path, {"seconds": 17, "ble": True, "secrets": True, "usb": {"max_frame": 512}, "script": script})
    assert r["centrals"]["prober"]["responses"] == [[P.C_FORGET, P.S_NOT_BONDED, ""]]
    assert r["usb"]["responses"] == [[P.C_FORGET, P.S_OK, ""]]  # a cable counts as the owner
    assert r["bonds"] == 0 and not r["owned"] and json.loads((tmp_path / "bonds.json").read_text()) == []
    assert r["centrals"]["owner"]["responses"] == [[P.C_STOP, P.S_NOT_BONDED, ""]]  # forgotten: pair again


def test_device_info_shows_the_owner_and_what_the_settings_fell_back_from():
    pytest.importorskip("serial", reason="pyserial not installed (comes with the 'device' extra)")
    import os
    import pty
    import threading

    from tiltguard.firmware.deploy import info
    from tiltguard_eval import protocol_vectors as V

    master, slave = pty.openpty()
    notice = "config (1 fixed): rate_hz: 'fast' is not a number\x1b[2J"  # control codes never reach a terminal
    hello = P.encode_hello(3, 0, dict(V.HELLO_INFO, owner=P.HO_OWNED | P.HO_PAIRING, notice=notice))

    def device():
        d = P.SerialDeframer()
        while True:
            if any(f.type == P.T_COMMAND and f.cmd == P.C_HELLO for f in d.feed(os.read(master, 256))):
                os.write(master, bytes(P.cobs_encode(hello)))
                return

    threading.Thread(target=device, daemon=True).start()
    r = info(os.ttyname(slave), timeout=5)
    assert r["owner"] == "bonded owner, pairing window open"
    assert r["notice"] == "config (1 fixed): rate_hz: 'fast' is not a number?[2J"


@pytest.mark.parametrize("status", [P.S_OK, P.S_NOT_BONDED, None], ids=["forgot", "refused", "no app"])
def test_device_forget_over_the_cable_says_what_the_pod_answered(status):
    pytest.importorskip("serial", reason="pyserial not installed (comes with the 'device' extra)")
    import os
    import pty
    import threading

    from tiltguard.firmware.deploy import DeployError, forget_usb

    master, slave = pty.openpty()

    def device():
        d = P.SerialDeframer()
        while True:
            if any(f.type == P.T_COMMAND and f.cmd == P.C_FORGET for f in d.feed(os.read(master, 256))):
                if status is not None:
                    os.write(master, bytes(P.cobs_encode(P.encode_response(1, 0, P.C_FORGET, status))))
                return

    threading.Thread(target=device, daemon=True).start()
    if status == P.S_OK:
        assert "forgot its owners" in forget_usb(os.ttyname(slave), timeout=3)
    else:
        with pytest.raises(DeployError, match="refused to forget" if status is not None else "no answer"):
            forget_usb(os.ttyname(slave), timeout=1.5)
