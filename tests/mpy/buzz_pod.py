# Runs on the MicroPython unix port: the real device app (firmware/app.py) on firmware/sim.py's simulated board
# in virtual time, with two links: the owner's (a cable: bonded) and a stranger's (not bonded). Raw command
# frames are written into the links at scripted times; everything answered, every pulse the app played and the
# heap before and after a flood of buzz commands are printed as one JSON line. Usage: buzz_pod.py OUT_DIR
import gc
import json
import sys

import asyncio

from tiltguard.firmware import config as cfgmod
from tiltguard.firmware import peripherals
from tiltguard.firmware import protocol as P
from tiltguard.firmware.app import Device
from tiltguard.firmware.sim import START_US, SimBoard, VirtualTime
from tiltguard.sensors.emulated import ManualClock


class Link:
    def __init__(self, name, bonded):
        self.name = name
        self.connected = True
        self.bonded = bonded
        self.max_frame = 244
        self.inbox = []
        self.responses = []  # (device ms, seq, cmd, status, data)
        self.flood_ok = 0
        self.now = None

    def send(self, frame):
        if frame[1] == P.T_RESPONSE:
            f = P.decode_frame(frame)
            if f.seq >= 100:  # the flood: counted, not kept (the heap is measured around it)
                self.flood_ok += f.status == P.S_OK
            else:
                self.responses.append((self.now(), f.seq, f.cmd, f.status, bytes(f.data).decode()))
        return True

    def poll(self):
        got = self.inbox
        self.inbox = []
        return got

    def set_battery(self, pct):
        pass

    def set_cadence(self, spm):
        pass


def buzz_frame(seq, *args):
    return P.encode_command(seq, 0, P.C_BUZZ, *args)


def buzz_args(pattern):  # as the host sends it (host/link/buzz.py): count, then the durations padded to 8
    return (len(pattern),) + tuple(pattern) + (0,) * (P.BUZZ_STEPS - len(pattern))


def damaged(frame):
    b = bytearray(frame)
    b[12] ^= 0x55
    return bytes(b)


def main(out):
    import os

    for d in (out, out + "/logs"):
        try:
            os.mkdir(d)
        except OSError:
            pass
    clock = ManualClock(START_US)
    vtime = VirtualTime(clock)
    board = SimBoard({"out": out}, clock, vtime)
    edges = []  # (device ms, on) as the motor switched, before the flood
    counts = {"on": 0, "overlap": 0}  # switched on during the flood; switched on while already on
    plain = board.buzz

    def buzz(on):
        ms = (clock.t - START_US) // 1000
        if on and board.buzzing:
            counts["overlap"] += 1
        if on != board.buzzing:
            if ms < 8000:
                edges.append((ms, on))
            elif on:
                counts["on"] += 1
        plain(on)

    board.buzz = buzz
    owner = Link("usb", True)
    stranger = Link("ble", False)
    cfg = dict(cfgmod.DEFAULTS)
    cfg["autostart"] = False
    dev = Device(board, [owner, stranger], cfg)
    owner.now = stranger.now = lambda: dev.now_us() // 1000
    too_long = bytearray(P.encode_command(20, 0, P.C_BUZZ, *buzz_args((80,))))
    too_long = too_long[: P.HEADER_SIZE + 1 + 17] + bytes((1, 0, 2, 0))  # 2 more durations than the frame holds
    too_long = P._finish(bytearray(too_long))
    script = [  # (s, link, raw frame)
        (1.0, owner, buzz_frame(1, *buzz_args((80,)))),
        (2.0, owner, buzz_frame(2, *buzz_args((250, 150, 250)))),
        (3.0, owner, buzz_frame(3, 0, 0, 0, 0, 0, 0, 0, 0, 0)),  # no durations
        (3.1, owner, buzz_frame(4, 9, 80, 80, 80, 80, 80, 80, 80, 80)),  # 9 durations claimed
        (3.2, owner, buzz_frame(5, 1, 5, 0, 0, 0, 0, 0, 0, 0)),  # 5 ms: not a pulse one feels
        (3.3, owner, buzz_frame(6, 1, 2500, 0, 0, 0, 0, 0, 0, 0)),  # one duration too long
        (3.4, owner, buzz_frame(7, 3, 2000, 1500, 2000, 0, 0, 0, 0, 0)),  # 5.5 s in all
        (3.5, owner, too_long),  # seq 20
        (3.6, owner, damaged(buzz_frame(8, *buzz_args((80,))))),  # no answer: nothing can be trusted
        (4.0, stranger, buzz_frame(9, *buzz_args((700,)))),  # not the owner
        (5.0, owner, buzz_frame(10, *buzz_args((700,)))),
        (5.3, owner, buzz_frame(11, *buzz_args((80,)))),  # while the 700 plays: busy
        (5.73, owner, buzz_frame(12, *buzz_args((80,)))),  # once it has ended (and the gap after it)
        (5.76, owner, buzz_frame(13, *buzz_args((60, 60, 60, 60, 60)))),  # while the 80 plays: busy
        (5.84, owner, buzz_frame(14, *buzz_args((60, 60, 60, 60, 60)))),
    ]
    state = {"i": 0, "heap": []}

    def on_advance():
        t = (clock.t - START_US) / 1e6
        while state["i"] < len(script) and script[state["i"]][0] <= t:
            _, link, raw = script[state["i"]]
            state["i"] += 1
            link.inbox.append(raw)

    async def flood():
        # 300 reps' pulses, one every 300 ms: the buzzer's log and queue must not grow with them
        await board.sleep_ms(8000)
        gc.collect()
        state["heap"].append(gc.mem_alloc())
        for k in range(300):
            owner.inbox.append(buzz_frame(100 + k, *buzz_args((80,))))
            await board.sleep_ms(300)
            if k == 99:  # the log is full by now: from here on nothing may grow
                gc.collect()
                state["heap"].append(gc.mem_alloc())
        await board.sleep_ms(500)
        gc.collect()
        state["heap"].append(gc.mem_alloc())

    async def run():
        app = asyncio.create_task(dev.run())
        asyncio.create_task(flood())
        await vtime.drive(START_US + 100 * 1000000, on_advance)
        dev.exit = True
        await app

    asyncio.run(run())
    gc.collect()
    print(json.dumps({
        "owner": owner.responses, "stranger": stranger.responses, "flood_ok": owner.flood_ok,
        "edges": edges, "flood_pulses": counts["on"], "overlaps": counts["overlap"],
        "log": dev.buzzer.log,
        "on_ms": dev.buzzer.on_ms, "log_max": peripherals.BUZZ_LOG_MAX,
        "heap": state["heap"], "bad_commands": dev.stats["bad_commands"], "rule": P.BUZZ_RULE,
    }))


main(sys.argv[1])
