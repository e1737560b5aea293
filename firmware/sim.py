"""Firmware in the loop on the MicroPython unix port: the real device app on a simulated board.

    micropython -m firmware.sim RUN.json

RUN.json: {"out": DIR, "seconds": 60, "chip": "icm42688", "data": "samples.f32" (float32 ax ay az gx gy gz
per sample at the chip's rate; omitted: a standing still sensor), "config": {...overrides...},
"script": [{"t": s, "do": "connect" | "disconnect" | "resend_gaps" | "log_sync" | "button" | "cmd", ...}],
"link": {"max_frame": 244, "bonded": true}}

Time is virtual: every `board.sleep_ms` of every task waits on a shared clock that jumps to the next wake-up
as soon as all tasks are waiting, so 60 s of device time take about a second and every run is repeatable.
The simulated chip is one of the register-level emulators in sensors.emulated on a fake I²C bus, fed from
the data file. A scripted host (here, on the device runtime) connects, drops the link, asks for gaps to be
resent and syncs the flash logs; everything it receives is written to DIR/received.bin exactly as it would
arrive over USB serial (COBS frames), for the CPython side of the test to decode.
"""
import gc
import json
import struct
import sys

import asyncio

from tiltguard.firmware import protocol as P

# The unix port compiles every module from source here (the device loads precompiled .mpy): collect the
# compiler's garbage before and after loading the app, so that it does not leave the heap fragmented for
# the resend history's one large block (the ESP32-sized heap test sizes that history from what is left).
gc.collect()
from tiltguard.firmware.app import Device  # noqa: E402
gc.collect()
from tiltguard.firmware import config as cfgmod  # noqa: E402
from tiltguard.sensors.emulated import (FakeI2C, FileSource, FunctionSource, ICM42688Emulator,  # noqa: E402
                              LSM6DS3Emulator, LSM6DSOXEmulator, ManualClock, MPU6xxxEmulator)

TICKS_PERIOD = 1 << 30  # the ESP32 port's ticks_us period (the 64-bit unix port's own is 2**62)
START_US = TICKS_PERIOD - 10000000  # the device's tick counter wraps 10 s into every run


class VirtualTime:
    def __init__(self, clock):
        self.clock = clock
        self.pending = []

    async def sleep_ms(self, ms):
        wake = self.clock.t + int(ms * 1000)
        self.pending.append(wake)
        try:
            await asyncio.sleep_ms(0)
            while self.clock.t < wake:
                await asyncio.sleep_ms(0)
        finally:
            self.pending.remove(wake)

    async def drive(self, until_us, on_advance):
        """Advance the clock to the earliest wake-up whenever every task is waiting."""
        while self.clock.t < until_us:
            await asyncio.sleep_ms(0)
            if self.pending:
                m = min(self.pending)
                if m > self.clock.t:
                    self.clock.t = m if m < until_us else until_us
                    on_advance()


class SimBoard:
    def __init__(self, run, clock, vtime):
        self.clock = clock
        self.vtime = vtime
        self.i2c = FakeI2C()
        chip = run.get("chip", "icm42688")
        if run.get("data"):
            src = FileSource(run["data"])
        else:
            src = FunctionSource(lambda k: (0.0, 0.0, 9.80665, 0.0, 0.0, 0.0))
        err = run.get("odr_error", 0.004)
        if chip.startswith("mpu"):
            who = {"mpu6050": 0x68, "mpu6500": 0x70, "mpu6886": 0x19}[chip]
            self.emu = MPU6xxxEmulator(src, clock, who=who, odr_error=err)
        elif chip == "lsm6ds3":
            self.emu = LSM6DS3Emulator(src, clock, odr_error=err)
        elif chip == "lsm6dsox":
            self.emu = LSM6DSOXEmulator(src, clock, odr_error=err)
        else:
            self.emu = ICM42688Emulator(src, clock, odr_error=err)
        self.i2c.attach(self.emu)
        self.config_path = run["out"] + "/config.json"
        self.log_root = run["out"] + "/logs"
        self.presses = []  # (start ms, end ms) of scripted button presses
        self.battery_start_mv = 4150  # the run spec may start lower (battery_mv)
        self.buzzing = False

    def ticks_us(self):
        return self.clock.t % TICKS_PERIOD

    def ticks_diff(self, a, b):
        half = TICKS_PERIOD // 2
        return ((a - b + half) % TICKS_PERIOD) - half

    def sleep_ms(self, ms):
        return self.vtime.sleep_ms(ms)

    def button_pressed(self):
        now = self.clock.t // 1000
        for a, b in self.presses:
            if a <= now < b:
                return True
        return False

    def battery_mv(self):
        hours = (self.clock.t - START_US) / 3.6e9
        return int(self.battery_start_mv - 250 * hours)

    def buzz(self, on):
        self.buzzing = on

    def mem_free(self):
        return gc.mem_free()


class SimLink:
    """The device end of a scripted serial/BLE link; what the host receives is written to a file."""

    name = "sim"

    def __init__(self, out_path, max_frame=244, bonded=True):
        self.out = open(out_path, "wb")
        self.connected = False
        self.bonded = bonded
        self.max_frame = max_frame
        self.inbox = []
        self.host = None
        self.battery = None
        self.cadence = []  # what a BLE link would publish as RSC cadence, once a second

    def send(self, frame):
        if not self.connected:
            return False
        if len(frame) > self.max_frame:
            raise ValueError("frame of %d bytes exceeds the link's %d" % (len(frame), self.max_frame))
        self.out.write(P.cobs_encode(frame))
        if self.host:
            self.host.on_frame(frame)
        return True

    def poll(self):
        got = self.inbox
        self.inbox = []
        return got

    def set_battery(self, pct):
        self.battery = pct

    def set_cadence(self, spm):
        self.cadence.append(spm)


class ScriptedHost:
    """Minimal host behaviour for the run: track received seqs, request gaps, download and delete logs."""

    def __init__(self, link, out_dir, max_frames):
        self.link = link
        self.out_dir = out_dir
        self.seen = bytearray(max_frames // 8 + 1)  # bitmap of received stream seqs
        self.max_seq = -1
        self.cmd_seq = 1
        self.responses = []
        self.sync = None  # state of a log download in progress
        self.synced = []

    def command(self, cmd, *args):
        self.link.inbox.append(P.encode_command(self.cmd_seq, 0, cmd, *args))
        self.cmd_seq += 1

    def on_frame(self, frame):
        ftype = frame[1]
        if ftype == P.T_RESPONSE:
            f = P.decode_frame(frame)
            self.responses.append((f.cmd, f.status))
            self._on_response(f)
            return
        (seq,) = struct.unpack_from("<I", frame, 3)
        self.seen[seq >> 3] |= 1 << (seq & 7)
        if seq > self.max_seq:
            self.max_seq = seq

    def gaps(self):
        out = []
        start = None
        for s in range(self.max_seq + 1):
            have = self.seen[s >> 3] & (1 << (s & 7))
            if not have and start is None:
                start = s
            elif have and start is not None:
                out.append((start, s - 1))
                start = None
        return out

    def request_gaps(self):
        for a, b in self.gaps():
            self.command(P.C_RESEND, a, b)

    def start_log_sync(self):
        self.sync = {"logs": None}
        self.command(P.C_LOG_LIST)

    def _on_response(self, f):
        s = self.sync
        if s is None:
            return
        if f.cmd == P.C_LOG_LIST:
            s["logs"] = P.decode_log_list(f.data)
            self._next_log()
        elif f.cmd == P.C_LOG_READ and f.status == P.S_OK:
            from tiltguard.sensors.compat import crc32

            lid, off, chunk = P.decode_log_chunk(f.data)
            with open("%s/log%05d.bin" % (self.out_dir, lid), "ab") as fh:  # streamed: little RAM here
                fh.write(chunk)
            s["got"] += len(chunk)
            s["crc"] = crc32(chunk, s["crc"])
            if s["got"] < s["size"] and chunk:
                self.command(P.C_LOG_READ, lid, s["got"], 4096)
            else:
                self.command(P.C_LOG_DELETE, lid, s["got"], s["crc"] & 0xFFFFFFFF)
                self.synced.append(lid)
        elif f.cmd == P.C_LOG_DELETE:
            self._next_log()

    def _next_log(self):
        s = self.sync
        if not s["logs"]:
            self.sync = None
            return
        lid, size = s["logs"].pop(0)
        s["lid"] = lid
        s["size"] = size
        s["got"] = 0
        s["crc"] = 0
        self.command(P.C_LOG_READ, lid, 0, 4096)


def run(spec):
    import os

    out = spec["out"]
    for d in (out, out + "/logs"):
        try:
            os.mkdir(d)
        except OSError:
            pass
    clock = ManualClock(START_US)
    vtime = VirtualTime(clock)
    board = SimBoard(spec, clock, vtime)
    lk = spec.get("link", {})
    link = SimLink(out + "/received.bin", lk.get("max_frame", 244), lk.get("bonded", True))
    host = ScriptedHost(link, out, int(spec["seconds"] * 60) + 4096)
    link.host = host
    cfg = dict(cfgmod.DEFAULTS)
    cfg.update(spec.get("config", {}))
    cfg["autostart"] = False
    board.battery_start_mv = spec.get("battery_mv", 4150)
    dev = Device(board, [link], cfg)
    if spec.get("log_capacity"):  # a log medium of this many bytes (the unix port's disk is much larger)
        cap = spec["log_capacity"]
        dev.log.free_bytes = lambda: cap - dev.log.bytes_written
    script = sorted(spec.get("script", []), key=lambda a: a["t"])
    for a in script:
        if a["do"] == "button":
            t0 = START_US // 1000 + int(a["t"] * 1000)
            board.presses.append((t0, t0 + a["ms"]))
    script = [a for a in script if a["do"] != "button"]
    state = {"i": 0}

    def on_advance():
        t = (clock.t - START_US) / 1e6
        while state["i"] < len(script) and script[state["i"]]["t"] <= t:
            a = script[state["i"]]
            state["i"] += 1
            do = a["do"]
            if do == "connect":
                link.connected = True
            elif do == "disconnect":
                link.connected = False
            elif do == "resend_gaps":
                host.request_gaps()
            elif do == "log_sync":
                host.start_log_sync()
            elif do == "cmd":
                host.command(a["cmd"], *a.get("args", []))

    on_advance()
    dev.link_selector.update()
    if spec.get("start", True):
        dev.start()
    base = board.emu.fifo_base
    until = START_US + int(spec["seconds"] * 1e6)

    async def main():
        app = asyncio.create_task(dev.run())
        await vtime.drive(until, on_advance)
        dev.exit = True
        await app

    asyncio.run(main())
    link.out.close()
    gc.collect()
    summary = {
        "source_base": base,
        "generated": board.emu.generated,
        "stats": dev.stats,
        "seq": dev.seq,
        "history_s": dev.history_s,
        "history_frames": dev.history.count,
        "buzz": dev.buzzer.log,
        "rate_hz": dev.sampler.drv.rate_hz,
        "sensor": dev.sampler.drv.MODEL,
        "period_ns": dev.sampler.clock.period_ns,
        "responses": host.responses,
        "synced": host.synced,
        "logs_left": dev.log.list(),
        "mem_free": gc.mem_free(),
        "mem_alloc": gc.mem_alloc(),
        "neutral": dev.cfg.get("neutral_up"),
        "left_axis": dev.cfg.get("left_axis"),
        "gaps_left": host.gaps(),
        "cadence": link.cadence,
        "capacity": dev.power.hello_fields(),
        "power_shares": dev.power.shares,
        "log_bytes_per_sample": dev.log.bytes_per_sample(),
    }
    return summary


def main(argv):
    with open(argv[1]) as f:
        spec = json.load(f)
    summary = run(spec)
    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv)
