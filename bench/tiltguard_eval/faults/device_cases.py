"""Fault cases of the pod's owner-only control and its settings (issue 23 item 6).

Real parts: the firmware app on the MicroPython unix port (bench/tiltguard_eval/owner_pod.py: damaged
config.json files, SET_RATE over a small link), and the firmware app with its own BLE module on the bumble
virtual link (tests/bumble_*.py: real host stacks, LE Secure Connections pairing) with the owner's computer
and strangers as centrals, plus a pty USB cable for the recording a BLE connection must not take.

Rows (docs/firmware.md, "Only the owner controls the pod"): for a stranger's command, `refused` is the pod
answering S_NOT_BONDED and nothing changing (the recording goes on, the log stays byte for byte), and
`told_user` is that refusal reaching the stranger's side as a status, or the host's one-line error where a
host command was run; samples are those the pod made while the stranger was connected and those its flash
log kept of them (bound 0). A damaged config: the pod samples from boot at the default rate, every sample
reaches the host (bound 0), and `told_user` is the hello naming the setting it fell back from.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tiltguard.firmware import config as C
from tiltguard_eval import repo_tests
from tiltguard.firmware import protocol as P

REPO = Path(__file__).resolve().parents[3]
OPEN = (P.C_HELLO, P.C_PING)


def _repo_tests(name: str):
    """tests/<name>.py of this repository (the bumble shims, the unix-port runner)."""
    return repo_tests.module(name)


def _row(name, produced, stored, told, refused, detail, bound=0) -> dict:
    return {"name": name, "samples_produced": int(produced), "samples_stored": int(stored),
            "samples_lost": int(max(0, produced - stored)), "samples_lost_bound": int(bound),
            "told_user": bool(told), "refused": refused, "detail": detail[:300]}


def _pod(tmp: Path, spec: dict) -> dict | None:
    """owner_pod on the unix port; None where the port is not installed."""
    mpy = _repo_tests("mpy_helpers")
    if mpy.find_micropython() is None:
        return None
    path = tmp / "spec.json"
    path.write_text(json.dumps(dict(spec, out=str(tmp))))
    proc = mpy.run_micropython(["-m", "tiltguard_eval.owner_pod", str(path)], timeout=120, check=False)
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        return {"crashed": err.strip().splitlines()[-1:] or ["exit %d" % proc.returncode]}
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


# ------------------------------------------------------------------ damaged settings (unix port)

WRONG_TYPES = {"name": 42, "rate_hz": "200", "acc_range_g": "8g", "gyr_range_dps": [1000], "samples_per_frame": 10.5,
               "history_s": None, "poll_ms": "20", "cue_enabled": "yes", "cue_threshold_deg": "10",
               "cue_hold_s": {"s": 20}, "cue_repeat_s": True, "neutral_up": [0, 0], "left_axis": "y",
               "gyr_bias": 0.0, "session": "7", "autostart": 1}


def _bad_config_case(name: str, text: str, must_mention: str):
    def case(tmp: Path) -> dict:
        seconds = 3.0
        r = _pod(tmp, {"seconds": seconds, "config_text": text, "usb": {"max_frame": 512},
                       "script": [{"t": 0, "do": "usb_connect"}]})
        if r is None:
            return _row(name, 0, 0, False, None, "MicroPython unix port not found")
        if "crashed" in r:
            return _row(name, int(200 * seconds), 0, False, None, "the app stopped: %s" % r["crashed"])
        hellos = r["usb"]["hellos"]
        notice = hellos[0][1] if hellos else ""
        told = must_mention in notice and "\n" not in notice
        return _row(name, r["samples"], r["usb"]["samples"], told, None,
                    "%d Hz from boot; hello: %s" % (r["rate_hz"], notice or "(no notice)"))

    case.__name__ = name
    return case


def set_rate_too_big(tmp: Path) -> dict:
    """SET_RATE 1000 Hz over a 120-byte link (7 samples a frame: 143 frames/s) is refused with the reason."""
    r = _pod(tmp, {"seconds": 5, "usb": {"max_frame": 120},
                   "script": [{"t": 0, "do": "usb_connect"},
                              {"t": 1, "do": "cmd", "on": "usb", "cmd": P.C_SET_RATE, "args": [1000, 8, 1000]}]})
    if r is None:
        return _row("set_rate_too_big", 0, 0, False, None, "MicroPython unix port not found")
    if "crashed" in r:
        return _row("set_rate_too_big", 1000, 0, False, False, "the app stopped: %s" % r["crashed"])
    cmd, status, why = r["usb"]["responses"][0]
    refused = status == P.S_BAD_ARGS and r["rate_hz"] == 200
    return _row("set_rate_too_big", r["samples"], r["usb"]["samples"], bool(why) and "\n" not in why, refused,
                "status %d: %s; still %d Hz" % (status, why, r["rate_hz"]))


# ------------------------------------------------------------------ strangers on the bumble link

_SCENARIO: dict = {}  # one run of the stranger scenario serves its four rows


async def _stranger_probe(backend, commands):
    """Raw GATT from a central that ignores the pod's security request; waits until the pod drops it."""
    from bleak import BleakClient
    from tiltguard.firmware.ble import CONTROL_UUID, STREAM_UUID
    from tiltguard.host.link.ble import scan

    loop = asyncio.get_running_loop()
    found = await scan(2.0, backend, read_battery=False)
    got = {}

    def on(_c, data):
        f = P.decode_frame(bytes(data))
        if f.type == P.T_RESPONSE:
            got[f.cmd] = (f.status, f.data)

    client = BleakClient(found[0].ble_device, backend=backend.client)
    await client.connect()
    t0 = loop.time()
    await client.start_notify(CONTROL_UUID, on)
    await client.start_notify(STREAM_UUID, on)
    for i, (cmd, args) in enumerate(commands):
        await client.write_gatt_char(CONTROL_UUID, P.encode_command(i + 1, 0, cmd, *args), response=True)
    await asyncio.sleep(0.3)
    while client.is_connected and loop.time() - t0 < 10:
        await asyncio.sleep(0.05)
    return got, loop.time() - t0


def _log_samples(path: Path, lo: int | None = None, hi: int | None = None) -> int:
    from tiltguard.firmware.flashlog import parse_log

    frames, _, _ = parse_log(path.read_bytes())
    n = 0
    for raw in frames:
        f = P.decode_frame(raw)
        if f.type != P.T_SAMPLES:
            continue
        for i in range(f.first_index, f.first_index + f.n):
            if (lo is None or i >= lo) and (hi is None or i < hi):
                n += 1
    return n


def _stranger_scenario(tmp: Path) -> dict:
    if _SCENARIO:
        return _SCENARIO
    from tiltguard.firmware.ble import BleLink
    from tiltguard.host.link.ble import BleTransport, pair_device, scan
    from tiltguard.host.link.simdevice import SimulatedDevice
    from tiltguard.host.link.transport import LinkDown
    from tiltguard.host.simulator import simulate

    radio_mod = _repo_tests("bumble_link")
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=5)
    out: dict = {}

    async def main():
        radio = radio_mod.VirtualRadio(centrals=3)
        await radio.power_on()
        link = BleLink(radio.mpy_ble(), radio_mod.UUID, "Tiltguard-Bench", secrets_path=str(tmp / "bonds.json"))
        device = SimulatedDevice(rec, [link], folder=tmp / "device")
        dev = device.device
        task = asyncio.ensure_future(device.run())
        owner, prober, pairer = (radio.bleak_backend(0), radio.bleak_backend(1, answer_security=False),
                                 radio.bleak_backend(2))
        address = (await scan(2.0, owner, read_battery=False))[0].address
        dev.owner.open_window()  # the owner held the button
        await pair_device(address, owner)
        t = BleTransport(address, backend=owner)
        await t.connect()
        await t.probe(t._client, P.C_START)
        await t.disconnect()  # the run goes on to flash: log A
        await asyncio.sleep(1.5)
        await t.connect()  # the owner back: log A closes
        await asyncio.sleep(0.5)
        await t.disconnect()  # gone again: log B, the one being written
        await asyncio.sleep(0.5)
        logs = Path(device.board.log_root)
        (lid_a, size_a), *_ = dev.log.list()
        path_a = logs / ("%05d.tgl" % lid_a)
        data_a = path_a.read_bytes()
        from tiltguard.sensors.compat import crc32

        crc_a = crc32(data_a) & 0xFFFFFFFF
        i0 = dev.sampler.sample_index
        got, dropped_after = await _stranger_probe(prober, [
            (P.C_STOP, ()), (P.C_LOG_READ, (lid_a, 0, 200)), (P.C_LOG_DELETE, (lid_a, len(data_a), crc_a)),
            (P.C_LOG_LIST, ()), (P.C_EXIT, ()), (P.C_HELLO, ()), (P.C_PING, ())])
        i1 = dev.sampler.sample_index
        running_after = dev.running
        try:
            await pair_device(address, pairer)
            msg = "paired (not refused)"
        except LinkDown as exc:
            msg = str(exc)
        i2 = dev.sampler.sample_index
        bonds = len(json.loads((tmp / "bonds.json").read_text()))
        await asyncio.sleep(0.3)
        device.stop()
        await task
        out.update(got=got, dropped_after=dropped_after, i0=i0, i1=i1, i2=i2, running_after=running_after,
                   pair_msg=msg, bonds=bonds, path_a=path_a, data_a=data_a,
                   log_b=[logs / ("%05d.tgl" % lid) for lid, _ in dev.log.list() if lid != lid_a])

    asyncio.run(main())
    a_after = out["path_a"].read_bytes() if out["path_a"].exists() else b""
    out["a_intact"] = a_after == out["data_a"]
    out["a_samples"] = _log_samples(out["path_a"]) if out["path_a"].exists() else 0
    out["a_samples_before"] = out["a_samples"] if out["a_intact"] else None
    out["b_stranger"] = sum(_log_samples(p, out["i0"], out["i1"]) for p in out["log_b"])
    out["b_pairer"] = sum(_log_samples(p, out["i1"], out["i2"]) for p in out["log_b"])
    _SCENARIO.update(out)
    return _SCENARIO


def _status(s: dict, cmd: int) -> int | None:
    return s["got"].get(cmd, (None, b""))[0]


def stranger_stop(tmp: Path) -> dict:
    s = _stranger_scenario(tmp)
    st = _status(s, P.C_STOP)
    refused = st == P.S_NOT_BONDED and s["running_after"] and _status(s, P.C_EXIT) == P.S_NOT_BONDED
    return _row("stranger_stop", s["i1"] - s["i0"], s["b_stranger"], st == P.S_NOT_BONDED, refused,
                "STOP/EXIT answered %s/%s, recording %s; stranger dropped after %.1f s (HELLO %s, PING %s)" % (
                    st, _status(s, P.C_EXIT), "went on" if s["running_after"] else "STOPPED", s["dropped_after"],
                    _status(s, P.C_HELLO), _status(s, P.C_PING)))


def stranger_log_read(tmp: Path) -> dict:
    s = _stranger_scenario(tmp)
    st, data = s["got"].get(P.C_LOG_READ, (None, b""))
    refused = st == P.S_NOT_BONDED and not data and _status(s, P.C_LOG_LIST) == P.S_NOT_BONDED
    return _row("stranger_log_read", s["a_samples"], s["a_samples"], st == P.S_NOT_BONDED, refused,
                "LOG_READ/LOG_LIST answered %s/%s with %d bytes of the owner's log" % (
                    st, _status(s, P.C_LOG_LIST), len(data)))


def stranger_log_delete(tmp: Path) -> dict:
    s = _stranger_scenario(tmp)
    st = _status(s, P.C_LOG_DELETE)
    kept = s["a_samples"] if s["a_intact"] else 0
    return _row("stranger_log_delete", s["a_samples"], kept, st == P.S_NOT_BONDED,
                st == P.S_NOT_BONDED and s["a_intact"],
                "LOG_DELETE with the log's true size and CRC answered %s; log %s" % (
                    st, "intact byte for byte" if s["a_intact"] else "CHANGED OR GONE"))


def stranger_bond_outside_window(tmp: Path) -> dict:
    s = _stranger_scenario(tmp)
    msg = s["pair_msg"]
    refused = s["bonds"] == 1 and msg != "paired (not refused)"
    return _row("stranger_bond_outside_window", s["i2"] - s["i1"], s["b_pairer"],
                "pairing window" in msg and "\n" not in msg, refused,
                "bonds on the pod: %d (the owner); `device pair` said: %s" % (s["bonds"], msg))


def ble_steals_usb(tmp: Path) -> dict:
    """A USB recording on a pty while the owner's phone connects over BLE (BLE listed first, the old order)."""
    import numpy as np
    from tiltguard.host.link.decode import sample_table

    from tiltguard_eval.usb_with_phone import usb_recording_while_the_owner_connects

    r = usb_recording_while_the_owner_connects(tmp)
    produced = r.device.device.stats["samples"]
    tab = sample_table(r.store.decoded(r.session_ids[0]))
    stored = len(np.unique(tab.index))
    phone_samples = sum(f.n for f in r.phone_frames if f.type == P.T_SAMPLES)
    s = r.recorder.stats
    return _row("ble_steals_usb", produced, stored, s.last_error is None, phone_samples == 0,
                "phone bonded and connected 4 s: it got %d samples; USB resend requests %d, problems: %s" % (
                    phone_samples, s.resend_requests, s.last_error or "none"))


CASES = ([_bad_config_case("bad_config_" + k, json.dumps({k: v}), k) for k, v in WRONG_TYPES.items()]
         + [_bad_config_case("bad_config_not_json", '{"rate_hz": 2', "not JSON"),
            _bad_config_case("bad_config_rate_over_link", '{"rate_hz": 1000, "samples_per_frame": 2}', "frames/s"),
            set_rate_too_big, stranger_stop, stranger_log_read, stranger_log_delete, stranger_bond_outside_window,
            ble_steals_usb])

assert set(WRONG_TYPES) == set(C.DEFAULTS)
