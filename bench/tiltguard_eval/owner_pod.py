"""A scripted pod on the MicroPython unix port, for the owner-only and damaged-config tests and fault cases.

    micropython -m tiltguard_eval.owner_pod SPEC.json      (prints one JSON line: what happened)

The real device app (firmware/app.py) on the simulated board of firmware/sim.py (emulated IMU, virtual
time), with up to two links: "usb", the firmware-in-the-loop link (firmware/sim.py SimLink) named as the
USB link, and "ble", the firmware's own BleLink (firmware/ble.py) on a scripted radio: an object with
MicroPython's `bluetooth.BLE` API whose centrals are scripted. A central either answers the pod's security
request as a phone does (re-encrypts with its bond, or pairs; the pod's `bond` setting decides whether the
pairing bonds and the keys reach the app through _IRQ_SET_SECRET), or ignores it (a stranger probing).
This stand-in exists because the unix port has no Bluetooth; the same firmware module runs against a real
host stack in tests/test_owner_only.py (bumble).

SPEC: {"out": DIR, "seconds": S, "config_text": "..." (written as config.json before boot; omitted: none),
"usb": {"max_frame": 512} (omitted: no USB link), "ble": true, "secrets": true (keep bonds in DIR),
"boot_button_ms": N (held from power-up), "start": true,
"script": [{"t": s, "do": "usb_connect" | "usb_disconnect" | "button" (ms) | "cmd" (on: "usb" | central
name, cmd, args) | "central" (name, answers: true, keys: false) | "leave" (name)}]}
"""
import gc
import json
import sys

import asyncio

from tiltguard.firmware import config as cfgmod
from tiltguard.firmware import protocol as P
from tiltguard.firmware.app import Device
from tiltguard.firmware.ble import BleLink
from tiltguard.firmware.sim import START_US, SimBoard, SimLink, VirtualTime
from tiltguard.sensors.emulated import ManualClock

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30
SEC_PEER = 2


def _text(b):
    """A response's data as text (a refusal's reason), or as hex where it is binary."""
    try:
        t = bytes(b).decode()
        if not [c for c in t if ord(c) < 32]:
            return t
    except UnicodeError:
        pass
    return bytes(b).hex()


class UUID:
    def __init__(self, v):
        self.v = v


class Central:
    def __init__(self, name, answers=True):
        self.name = name
        self.addr = (name + "------")[:6].encode()
        self.answers = answers  # answers the pod's security request
        self.keys = False  # holds a bond with the pod
        self.conn = None
        self.responses = []  # (cmd, status, data text)
        self.hellos = []  # (owner flags, notice)
        self.stream_frames = 0
        self.dropped = 0  # times the pod disconnected it
        self.seq = 1


class ScriptedRadio:
    """MicroPython's bluetooth.BLE API; the app's IRQ handler gets events as the stack would send them,
    one step of virtual time after what caused them."""

    def __init__(self):
        self.cfg = {}
        self.handler = None
        self.values = {}
        self.next_handle = 1
        self.pending = []  # (event, data) to deliver at the next step
        self.centrals = {}  # conn -> Central
        self.next_conn = 1
        self.bond_history = []
        self.advertising = False

    # configuration
    def active(self, on=None):
        return True

    def config(self, *a, **kw):
        if a:
            return self.cfg.get(a[0])
        for k in kw:
            self.cfg[k] = kw[k]
        if "bond" in kw:
            self.bond_history.append(bool(kw["bond"]))

    def irq(self, handler):
        self.handler = handler

    # GATT server
    def gatts_register_services(self, defs):
        out = []
        for _, chars in defs:
            hs = []
            for _c in chars:
                hs.append(self.next_handle)
                self.next_handle += 1
            out.append(tuple(hs))
        return tuple(out)

    def gatts_write(self, h, v, *a):
        self.values[h] = bytes(v)

    def gatts_read(self, h):
        return self.values.get(h, b"")

    def gatts_set_buffer(self, *a):
        pass

    def gatts_notify(self, conn, h, data=None):
        c = self.centrals.get(conn)
        if c is None:
            raise OSError(107)
        frame = bytes(data) if data is not None else self.values.get(h, b"")
        if len(frame) < P.OVERHEAD or frame[0] != P.PROTOCOL_VERSION:
            return  # battery / cadence characteristics
        try:
            f = P.decode_frame(frame)
        except P.FrameError:
            return
        if f.type == P.T_RESPONSE:
            c.responses.append((f.cmd, f.status, _text(f.data)))
        elif f.type == P.T_HELLO:
            c.hellos.append((f.owner, f.notice))
            c.stream_frames += 1
        else:
            c.stream_frames += 1

    # GAP
    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        self.advertising = interval_us is not None

    def gap_disconnect(self, conn):
        c = self.centrals.pop(conn, None)
        if c is None:
            return False
        c.dropped += 1
        c.conn = None
        self.pending.append((_IRQ_CENTRAL_DISCONNECT, (conn, 0, c.addr)))
        return True

    def gattc_exchange_mtu(self, conn):
        self.pending.append((_IRQ_MTU_EXCHANGED, (conn, 247)))

    def gap_pair(self, conn):
        c = self.centrals.get(conn)
        if c is None or not c.answers:
            return  # a stranger ignores the security request
        self.pending.append(("security", conn))

    # the centrals' side
    def connect(self, c):
        if not self.advertising or self.centrals:
            return False  # one central at a time: a connected pod does not advertise
        conn = self.next_conn
        self.next_conn += 1
        c.conn = conn
        self.centrals[conn] = c
        self.advertising = False
        self.pending.append((_IRQ_CENTRAL_CONNECT, (conn, 0, c.addr)))
        return True

    def leave(self, c):
        if c.conn is not None:
            conn = c.conn
            self.centrals.pop(conn, None)
            c.conn = None
            self.pending.append((_IRQ_CENTRAL_DISCONNECT, (conn, 0, c.addr)))

    def write(self, c, frame, h_control):
        if c.conn is None:
            return
        self.values[h_control] = bytes(frame)
        self.pending.append((_IRQ_GATTS_WRITE, (c.conn, h_control)))

    def _security(self, conn):
        """The central answers a security request: re-encrypt with its bond if the pod knows it, else pair."""
        c = self.centrals.get(conn)
        if c is None:
            return
        h = self.handler
        if c.keys and h(_IRQ_GET_SECRET, (SEC_PEER, None, c.addr)) is not None:
            h(_IRQ_ENCRYPTION_UPDATE, (conn, True, False, True, 16))
            return
        bonded = False  # Just Works pairing (LE Secure Connections); the pod's `bond` decides
        if self.cfg.get("bond"):
            bonded = bool(h(_IRQ_SET_SECRET, (SEC_PEER, c.addr, b"ltk-" + c.addr)))
            c.keys = bonded
        h(_IRQ_ENCRYPTION_UPDATE, (conn, True, False, bonded, 16))

    def step(self):
        todo = self.pending
        self.pending = []
        for ev, data in todo:
            if ev == "security":
                self._security(data)
            else:
                self.handler(ev, data)


def run(spec):
    import os

    out = spec["out"]
    for d in (out, out + "/logs"):
        try:
            os.mkdir(d)
        except OSError:
            pass
    if spec.get("config_text") is not None:
        with open(out + "/config.json", "w") as fh:
            fh.write(spec["config_text"])
    clock = ManualClock(START_US)
    vtime = VirtualTime(clock)
    board = SimBoard({"out": out, "chip": spec.get("chip", "icm42688"), "odr_error": 0.0}, clock, vtime)
    links = []
    usb = None
    usb_rx = {"samples": 0, "frames": 0, "responses": [], "hellos": []}
    if spec.get("usb"):
        usb = SimLink(out + "/usb.bin", spec["usb"].get("max_frame", 512), True)
        usb.name = "usb"

        class UsbHost:
            def __init__(self):
                self.seq = 1

            def on_frame(self, frame):
                f = P.decode_frame(frame)
                if f.type == P.T_RESPONSE:
                    usb_rx["responses"].append((f.cmd, f.status, _text(f.data)))
                    return
                usb_rx["frames"] += 1
                if f.type == P.T_SAMPLES:
                    usb_rx["samples"] += f.n
                elif f.type == P.T_HELLO:
                    usb_rx["hellos"].append((f.owner, f.notice))

        usb.host = UsbHost()
        links.append(usb)
    radio = None
    ble = None
    if spec.get("ble"):
        radio = ScriptedRadio()
        ble = BleLink(radio, UUID, "Tiltguard", secrets_path=out + "/bonds.json" if spec.get("secrets") else None)
        links.append(ble)
    cfg, problems = cfgmod.load_checked(board.config_path)
    cfg["autostart"] = False
    dev = Device(board, links, cfg, problems)
    centrals = {}
    script = sorted(spec.get("script", []), key=lambda a: a["t"])
    if spec.get("boot_button_ms"):
        board.presses.append((START_US // 1000, START_US // 1000 + spec["boot_button_ms"]))
    for a in script:
        if a["do"] == "button":
            t0 = START_US // 1000 + int(a["t"] * 1000)
            board.presses.append((t0, t0 + a["ms"]))
    script = [a for a in script if a["do"] != "button"]
    state = {"i": 0}
    events = []
    sample_counts = []  # (t, samples made) at each script step

    def on_advance():
        if radio is not None:
            radio.step()
        t = (clock.t - START_US) / 1e6
        while state["i"] < len(script) and script[state["i"]]["t"] <= t:
            a = script[state["i"]]
            state["i"] += 1
            do = a["do"]
            sample_counts.append((a["t"], dev.stats["samples"]))
            if do == "usb_connect":
                usb.connected = True
            elif do == "usb_disconnect":
                usb.connected = False
            elif do == "central":
                c = centrals.get(a["name"])
                if c is None:
                    c = centrals[a["name"]] = Central(a["name"], a.get("answers", True))
                c.answers = a.get("answers", c.answers)
                radio.connect(c)
            elif do == "leave":
                radio.leave(centrals[a["name"]])
            elif do == "cmd":
                if a["on"] == "usb":
                    usb.inbox.append(P.encode_command(usb.host.seq, 0, a["cmd"], *a.get("args", [])))
                    usb.host.seq += 1
                else:
                    c = centrals[a["on"]]
                    radio.write(c, P.encode_command(c.seq, 0, a["cmd"], *a.get("args", [])), ble.h_control)
                    c.seq += 1

    orig_event = dev.event

    def event(code, arg=0, value=0):
        events.append((code, arg, value))
        orig_event(code, arg, value)

    dev.event = event
    on_advance()
    dev.link_selector.update()
    if spec.get("start", True):
        dev.start()
    until = START_US + int(spec["seconds"] * 1e6)

    async def main():
        app = asyncio.create_task(dev.run())
        await vtime.drive(until, on_advance)
        dev.exit = True
        await app

    asyncio.run(main())
    if usb is not None:
        usb.out.close()
    gc.collect()
    return {
        "samples": dev.stats["samples"],
        "rate_hz": dev.sampler.drv.rate_hz,
        "spf": dev.sampler.spf,
        "stats": dev.stats,
        "cfg": dev.cfg,
        "cfg_problems": dev.cfg_problems,
        "events": events,
        "buzz": dev.buzzer.log,
        "usb": usb_rx,
        "centrals": dict((n, {"responses": c.responses, "hellos": c.hellos, "stream_frames": c.stream_frames,
                              "dropped": c.dropped, "keys": c.keys, "connected": c.conn is not None})
                         for n, c in centrals.items()),
        "bond_history": radio.bond_history if radio else [],
        "bonds": len([k for k in ble._secrets if k[0] == SEC_PEER]) if ble else 0,
        "owned": dev.owner.owned(),
        "window_open": dev.owner.window_open(),
        "sample_counts": sample_counts,
        "logs": dev.log.list(),
    }


def main(argv):
    with open(argv[1]) as f:
        spec = json.load(f)
    print(json.dumps(run(spec)))


if __name__ == "__main__":
    main(sys.argv)
