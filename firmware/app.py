"""The Tiltguard device app (asyncio): sample through the FIFO, timestamp, fuse, frame, stream or log, cue.

Hardware comes in through a `board` object (firmware/board.py on the device, firmware/sim.py on the unix
port) and hosts through `links` (firmware/serial_link.py, firmware/ble.py): this module imports neither
`machine` nor `bluetooth`, so the same code runs on the device and in the firmware-in-the-loop tests.

board: i2c, ticks_us(), ticks_diff(a, b), sleep_ms(ms) (awaitable), button_pressed(), battery_mv(), buzz(on),
       config_path, log_root, mem_free()
link:  name, connected, bonded, max_frame, send(frame) -> bool, poll() -> [frame bytes], set_battery(pct),
       set_cadence(steps per minute)
"""
import gc
from array import array

try:
    import micropython
except ImportError:  # CPython
    from tiltguard.firmware.compat import micropython

import asyncio

from tiltguard.firmware import config as cfgmod
from tiltguard.firmware import protocol as P
from tiltguard.firmware.cadence import CadenceCounter
from tiltguard.firmware.cue import Neutral, TiltCue
from tiltguard.firmware.flashlog import FlashLog
from tiltguard.firmware.fusion import Mahony
from tiltguard.firmware.history import FrameHistory

MAX_READ = 32  # samples per FIFO burst
SHORT_PRESS_MS = 1000
LONG_PRESS_MS = 1500
NEUTRAL_S = 1.0
BATTERY_EVERY_MS = 30000
TEMP_EVERY_MS = 1000


def lipo_percent(mv):
    """State of charge of a 1-cell LiPo at rest from its voltage (typical discharge curve)."""
    curve = ((3300, 0), (3500, 5), (3600, 10), (3700, 25), (3750, 40), (3800, 55), (3900, 70), (4000, 82),
             (4100, 92), (4200, 100))
    if mv <= curve[0][0]:
        return 0
    for i in range(1, len(curve)):
        v1, p1 = curve[i]
        if mv <= v1:
            v0, p0 = curve[i - 1]
            return int(p0 + (p1 - p0) * (mv - v0) / (v1 - v0))
    return 100


class SampleClock:
    """Device time of every sample, locked to the FIFO read times.

    The IMU's oscillator differs from the MCU's by up to ~1 %, so the sample period is measured: samples
    counted against device time since an anchor (the first read), which averages out the read-time jitter
    (the newest sample is 0..1 period old when read) over an ever longer baseline. The phase follows the
    reads with a small gain. Integer nanoseconds throughout (ESP32 floats are single precision).
    """

    MIN_BASELINE = 100  # samples before the measured period replaces the nominal one

    def __init__(self, rate_hz):
        self.period_ns = int(1000000000 / rate_hz)
        self.t_last_ns = None  # device time of the newest sample read so far
        self.anchor_ns = 0
        self.count = 0  # samples since the anchor

    def update(self, now_ns, n):
        """n new samples were read at now_ns; returns the time of the newest one."""
        if self.t_last_ns is None:
            self.anchor_ns = now_ns
            self.count = 0
            self.t_last_ns = now_ns - self.period_ns // 2
            return self.t_last_ns
        self.count += n
        if self.count >= self.MIN_BASELINE:
            self.period_ns = (now_ns - self.anchor_ns) // self.count
        pred = self.t_last_ns + n * self.period_ns
        err = (now_ns - self.period_ns // 2) - pred
        self.t_last_ns = pred + err // 16
        return self.t_last_ns

    def skip(self, now_ns):
        """Samples lost in a FIFO overflow (the FIFO restarted empty at about now_ns): how many."""
        if self.t_last_ns is None:
            return 0
        lost = (now_ns - self.t_last_ns - self.period_ns // 2) // self.period_ns
        lost = lost if lost > 0 else 0
        self.t_last_ns += lost * self.period_ns
        self.count += lost
        return lost


class Device:
    def __init__(self, board, links, cfg=None):
        self.board = board
        self.links = links
        self.cfg = cfg if cfg is not None else cfgmod.load(board.config_path)
        self.log = FlashLog(board.log_root)
        self.fusion = Mahony()
        self.neutral = None
        self._load_neutral()
        self.cue = TiltCue()
        self._apply_cue_cfg()
        self.cadence = CadenceCounter()
        self.seq = 0
        self.running = False
        self.exit = False
        self.link = None
        self.dev_us = 0  # unwrapped device time, µs
        self._last_ticks = board.ticks_us()
        self.temp_centi = 0
        self.stats = {"frames": 0, "samples": 0, "logged": 0, "send_fail": 0, "lost": 0, "resent": 0,
                      "cues": 0, "bad_commands": 0}
        self.resend_queue = []
        self._neutral_acc = None
        self._battery_pct = None
        self.buzz_log = []  # (device ms, duration ms): what the wearer felt
        self._start_sensor()
        self._alloc_history()
        gc.collect()

    # ------------------------------------------------------------------ set-up
    def _start_sensor(self):
        from tiltguard.sensors import detect

        c = self.cfg
        self.drv = detect(self.board.i2c)
        self.drv.configure(c["rate_hz"], c["acc_range_g"], c["gyr_range_dps"])
        self.clock = SampleClock(self.drv.rate_hz)
        self.raw = array("h", bytes(12 * MAX_READ))
        self._seen_overflows = self.drv.overflows
        self.spf = c["samples_per_frame"]
        self.fbuf = array("h", bytes(12 * 64))
        self.fcount = 0
        self.sample_index = 0
        self.dt = 1.0 / self.drv.rate_hz
        self.gbias = c["gyr_bias"]

    def _alloc_history(self):
        """Room for history_s seconds of frames, or as much as the heap allows (announced in hello)."""
        frame = P.OVERHEAD + P.SAMPLES_HEAD_SIZE + P.QUAT_SIZE + P.SAMPLE_SIZE * self.spf
        fps = self.drv.rate_hz / self.spf
        want_s = self.cfg["history_s"]
        gc.collect()
        free = self.board.mem_free()
        budget = free - 24 * 1024  # keep room for the app's working objects
        per_s = int(fps * (frame + 1) + 12 * fps) + 64
        seconds = want_s if per_s * want_s <= budget else max(2, budget // per_s)
        while True:
            try:  # free memory may be fragmented: halve the window until one block fits
                nslots = int(fps * seconds) + 8
                self.history = FrameHistory(int(fps * (frame + 1) * seconds) + 2 * frame, nslots)
                break
            except MemoryError:
                if seconds <= 2:
                    raise
                seconds = max(2, seconds // 2)
                gc.collect()
        self.history_s = seconds

    def _load_neutral(self):
        up = self.cfg.get("neutral_up")
        self.neutral = Neutral(up, self.cfg["left_axis"]) if up else None

    def _apply_cue_cfg(self):
        c = self.cfg
        self.cue.enabled = bool(c["cue_enabled"])
        self.cue.threshold_deg = c["cue_threshold_deg"]
        self.cue.hold_s = c["cue_hold_s"]
        self.cue.repeat_s = c["cue_repeat_s"]

    def _save_cfg(self):
        try:
            cfgmod.save(self.board.config_path, self.cfg)
        except OSError:
            pass  # a full or read-only filesystem must not stop a run

    # ------------------------------------------------------------------ time
    def now_us(self):
        t = self.board.ticks_us()
        self.dev_us += self.board.ticks_diff(t, self._last_ticks)
        self._last_ticks = t
        return self.dev_us

    # ------------------------------------------------------------------ frames out
    def hello_info(self):
        link = self.link
        n = self.neutral
        return {
            "session": self.cfg["session"],
            "rate_hz": int(self.drv.rate_hz + 0.5),
            "acc_range_g": self.drv.acc_range_g,
            "gyr_range_dps": self.drv.gyr_range_dps,
            "acc_scale": self.drv.acc_scale,
            "gyr_scale": self.drv.gyr_scale,
            "max_frame": link.max_frame if link else 0,
            "samples_per_frame": self.spf,
            "history_s": int(self.history_s),
            "gyr_bias": self.gbias,
            "neutral": (1.0, n.up[0], n.up[1], n.up[2]) if n else None,
            "firmware": cfgmod.VERSION,
            "sensor": self.drv.MODEL,
            "name": self.cfg["name"],
        }

    def _next_seq(self):
        s = self.seq
        self.seq = (s + 1) & 0xFFFFFFFF
        return s

    def emit(self, frame, seq):
        """A new stream frame: into the RAM history, then to the host if one is connected, else to flash."""
        self.history.add(seq, frame)
        link = self.link
        if link is not None and link.connected:
            if not link.send(frame):
                self.stats["send_fail"] += 1  # still in the history: the host asks for it by seq
        elif self.running:
            if self.log.f is None:
                self.log.open_new()  # normally opened by _open_log, which writes a hello first
            if self.log.append(frame):
                self.stats["logged"] += 1
            elif self.log.full and not self._log_full_reported:
                self._log_full_reported = True
                self.event(P.E_ERROR, 0, P.ERR_LOG_FULL)

    _log_full_reported = False

    def _open_log(self):
        """No host: start a flash log that opens with a hello frame, so every log describes itself."""
        if self.log.f is None:
            try:
                self.log.open_new()
            except OSError:
                self.event(P.E_ERROR, 0, P.ERR_LOG_FULL)
                return
            self.send_hello()
            self.event(P.E_LOG, 1, self.log.current)

    def send_hello(self):
        s = self._next_seq()
        self.emit(P.encode_hello(s, self.dev_us, self.hello_info()), s)

    def event(self, code, arg=0, value=0):
        s = self._next_seq()
        self.emit(P.encode_event(s, self.now_us(), code, arg, value), s)

    def _flush_frame(self):
        if self.fcount == 0:
            return
        s = self._next_seq()
        q = self.fusion.q
        frame = P.encode_samples(s, self.f_t0_ns // 1000, self.f_index0, self.clock.period_ns, self.temp_centi,
                                 self.fbuf, self.fcount, q)
        self.fcount = 0
        self.stats["frames"] += 1
        self.emit(frame, s)

    # ------------------------------------------------------------------ sampling
    @micropython.native
    def _fuse(self, raw, n):
        f = self.fusion
        a = self.drv.acc_scale
        g = self.drv.gyr_scale
        b = self.gbias
        dt = self.dt
        bx = b[0]
        by = b[1]
        bz = b[2]
        for i in range(n):
            o = 6 * i
            f.update(raw[o + 3] * g - bx, raw[o + 4] * g - by, raw[o + 5] * g - bz, raw[o] * a, raw[o + 1] * a,
                     raw[o + 2] * a, dt)

    def sample_step(self):
        """Drain the FIFO once: timestamps, fusion, frames, neutral capture and cue. Returns samples read."""
        total = 0
        while True:
            n = self.drv.read_fifo(self.raw, MAX_READ)
            now_ns = self.now_us() * 1000
            if self.drv.overflows != self._seen_overflows:
                self._seen_overflows = self.drv.overflows
                self._flush_frame()
                lost = self.clock.skip(now_ns)
                self.sample_index += lost
                self.stats["lost"] += lost
                self.event(P.E_FIFO_OVERFLOW, 0, lost)
            if n == 0:
                break
            t_new = self.clock.update(now_ns, n)
            self.dt = self.clock.period_ns * 1e-9
            if not self.fusion.initialised:
                self.fusion.reset_from_accel(self.raw[0], self.raw[1], self.raw[2])
            self._fuse(self.raw, n)
            self._frame_add(n, t_new)
            total += n
            self._after_block(n)
            if n < MAX_READ:
                break
        return total

    def _frame_add(self, n, t_new_ns):
        per = self.clock.period_ns
        raw = self.raw
        fb = self.fbuf
        for i in range(n):
            if self.fcount == 0:
                self.f_index0 = self.sample_index
                self.f_t0_ns = t_new_ns - (n - 1 - i) * per
            o = 6 * i
            d = 6 * self.fcount
            for k in range(6):
                fb[d + k] = raw[o + k]
            self.fcount += 1
            self.sample_index += 1
            if self.fcount >= self.spf:
                self._flush_frame()
        self.stats["samples"] += n

    def _after_block(self, n):
        up = self.fusion.up_in_sensor()
        self.cadence.update(self.raw, n, self.drv.acc_scale, up[0], up[1], up[2], self.dt)
        na = self._neutral_acc
        if na is not None:
            na[0] += up[0]
            na[1] += up[1]
            na[2] += up[2]
            na[3] += n
            if na[3] * self.dt >= NEUTRAL_S:
                self._neutral_acc = None
                self._store_neutral((na[0], na[1], na[2]))
        if self.neutral is not None:
            tilt = self.neutral.tilt_deg(up)
            r = self.cue.update(tilt, n * self.dt)
            if r == 1:
                self.stats["cues"] += 1
                self.event(P.E_CUE, 1, int(self.cue.smoothed * 100))
                asyncio.create_task(self.buzz_pattern((400, 200, 400)))
            elif r == -1:
                self.event(P.E_CUE, 0, int(self.cue.smoothed * 100))

    def _store_neutral(self, up):
        n = (up[0] * up[0] + up[1] * up[1] + up[2] * up[2]) ** 0.5
        self.cfg["neutral_up"] = [up[0] / n, up[1] / n, up[2] / n]
        self._load_neutral()
        self.cue.smoothed = None
        self.cue.above_s = 0.0
        self._save_cfg()
        self.event(P.E_NEUTRAL, 1, 0)
        asyncio.create_task(self.buzz_pattern((800,)))

    def start_neutral_capture(self):
        self._neutral_acc = [0.0, 0.0, 0.0, 0]
        if not self.running:
            self.start()

    # ------------------------------------------------------------------ session
    def start(self):
        if self.running:
            return
        self.cfg["session"] += 1
        self._save_cfg()
        self.drv.reset_fifo()
        self.clock = SampleClock(self.drv.rate_hz)
        self._seen_overflows = self.drv.overflows
        self.sample_index = 0
        self.fcount = 0
        self.running = True
        if self.link is None:
            self._open_log()
        else:
            self.send_hello()
        self.event(P.E_STREAM, 1, self.cfg["session"])

    def stop(self):
        if not self.running:
            return
        self.sample_step()
        self._flush_frame()
        self.event(P.E_STREAM, 0, self.cfg["session"])
        self.running = False
        self.log.close()
        self._log_full_reported = False

    # ------------------------------------------------------------------ commands
    def _respond(self, link, cmd_frame, status, data=b""):
        link.send(P.encode_response(cmd_frame.seq, self.now_us(), cmd_frame.cmd, status, data))

    async def handle(self, link, raw):
        try:
            f = P.decode_frame(raw)
        except P.FrameError:
            self.stats["bad_commands"] += 1
            return
        if f.type != P.T_COMMAND:
            return
        c = f.cmd
        a = f.args
        if a is None:
            self._respond(link, f, P.S_UNKNOWN)
            return
        import struct

        if c == P.C_PING:
            self._respond(link, f, P.S_OK, struct.pack("<I", self.now_us() & 0xFFFFFFFF))
        elif c == P.C_HELLO:
            self._respond(link, f, P.S_OK)
            self.send_hello()
        elif c == P.C_START:
            self.start()
            self._respond(link, f, P.S_OK)
        elif c == P.C_STOP:
            self.stop()
            self._respond(link, f, P.S_OK)
        elif c == P.C_RESEND:
            first, last = a
            oldest = self.history.oldest_seq()
            count = ((last - first) & 0xFFFFFFFF) + 1
            if count > self.history.nslots:
                self._respond(link, f, P.S_BAD_ARGS)
                return
            queued = 0
            missing = 0
            for k in range(count):
                s = (first + k) & 0xFFFFFFFF
                if self.history.find(s) >= 0:
                    self.resend_queue.append(s)
                    queued += 1
                else:
                    missing += 1
            status = P.S_GONE if missing else P.S_OK
            self._respond(link, f, status, struct.pack("<IH", oldest if oldest is not None else 0, queued))
        elif c == P.C_NEUTRAL:
            self.start_neutral_capture()
            self._respond(link, f, P.S_OK)
        elif c == P.C_SET_CUE:
            enabled, thr, hold_ms = a
            self.cfg["cue_enabled"] = bool(enabled)
            self.cfg["cue_threshold_deg"] = thr / 100.0
            self.cfg["cue_hold_s"] = hold_ms / 1000.0
            self._apply_cue_cfg()
            self._save_cfg()
            self._respond(link, f, P.S_OK)
        elif c == P.C_SET_RATE:
            rate, acc_g, gyr_dps = a
            if not 12 <= rate <= 1000:
                self._respond(link, f, P.S_BAD_ARGS)
                return
            was = self.running
            self.stop()
            self.cfg["rate_hz"] = rate
            self.cfg["acc_range_g"] = acc_g
            self.cfg["gyr_range_dps"] = gyr_dps
            self._save_cfg()
            self._start_sensor()
            self._respond(link, f, P.S_OK)
            if was:
                self.start()
            else:
                self.send_hello()
        elif c == P.C_LOG_LIST:
            logs = self.log.list()[:40]
            data = bytearray([len(logs)])
            for lid, size in logs:
                data.extend(struct.pack("<HI", lid, size))
            self._respond(link, f, P.S_OK, data)
        elif c == P.C_LOG_READ:
            lid, offset, length = a
            room = link.max_frame - P.OVERHEAD - 2 - 6
            length = length if length < room else room
            try:
                chunk = self.log.read(lid, offset, length)
            except OSError:
                self._respond(link, f, P.S_NOT_FOUND)
                return
            self._respond(link, f, P.S_OK, struct.pack("<HI", lid, offset) + chunk)
        elif c == P.C_LOG_DELETE:
            lid, size, crc = a
            if not link.bonded:
                self._respond(link, f, P.S_NOT_BONDED)
                return
            if self.log.size(lid) < 0:
                self._respond(link, f, P.S_NOT_FOUND)
                return
            if lid == self.log.current:
                self._respond(link, f, P.S_BUSY)
                return
            for _ in self.log.crc(lid):
                await self.board.sleep_ms(0)  # long files: keep sampling between chunks
            if self.log.size(lid) != size or self.log._last_crc != crc:
                self._respond(link, f, P.S_CRC_MISMATCH)
                return
            self._respond(link, f, P.S_OK if self.log.delete(lid) else P.S_NOT_FOUND)
        elif c == P.C_EXIT:
            self._respond(link, f, P.S_OK)
            self.stop()
            self.exit = True
        else:
            self._respond(link, f, P.S_UNKNOWN)

    # ------------------------------------------------------------------ links
    def _update_link(self):
        current = None
        for lk in self.links:
            if lk.connected:
                current = lk
                break
        if current is not self.link:
            old = self.link
            self.link = current
            if current is None:
                if self.running:
                    self._open_log()
                self.event(P.E_LINK, 0, 0)
            else:
                fit = P.samples_per_frame_for(current.max_frame)
                want = self.cfg["samples_per_frame"]
                new_spf = want if want <= fit else fit
                if new_spf < 1:
                    self.event(P.E_ERROR, 0, P.ERR_MTU_TOO_SMALL)
                    new_spf = 1
                if new_spf != self.spf:
                    self._flush_frame()
                    self.spf = new_spf
                if old is None and self.log.f is not None:
                    self.log.close()  # this stretch of the run is on flash; the rest goes to the host
                self.send_hello()
                self.event(P.E_LINK, 1, 0)
                if self._battery_pct is not None:
                    current.set_battery(self._battery_pct)

    def _pump_resend(self, budget=24):
        link = self.link
        if link is None:
            return
        while self.resend_queue and budget:
            s = self.resend_queue[0]
            fr = self.history.get(s)
            if fr is not None:
                if not link.send(P.restamp_flags(fr, P.F_RESENT)):
                    return  # link busy: try again next tick
                self.stats["resent"] += 1
            self.resend_queue.pop(0)
            budget -= 1

    # ------------------------------------------------------------------ tasks
    async def sampler_task(self):
        ms = self.cfg["poll_ms"]
        last_temp = -TEMP_EVERY_MS
        while not self.exit:
            if self.running:
                t = self.now_us() // 1000
                if t - last_temp >= TEMP_EVERY_MS:
                    last_temp = t
                    self.temp_centi = int(self.drv.temperature() * 100)
                self.sample_step()
            await self.board.sleep_ms(ms)

    async def io_task(self):
        while not self.exit:
            self._update_link()
            for lk in self.links:
                for raw in lk.poll():
                    try:
                        await self.handle(lk, raw)
                    except Exception as e:  # one bad command must not end the control task
                        self.stats["bad_commands"] += 1
                        self.last_error = repr(e)
                        try:
                            self.event(P.E_ERROR, 0, 0)
                        except Exception:
                            pass
            self._pump_resend()
            await self.board.sleep_ms(10)

    async def button_task(self):
        pressed_at = None
        long_done = False
        while not self.exit:
            now = self.now_us() // 1000
            if self.board.button_pressed():
                if pressed_at is None:
                    pressed_at = now
                    long_done = False
                elif not long_done and now - pressed_at >= LONG_PRESS_MS:
                    long_done = True  # act while still held, so the wearer feels it and lets go
                    self.event(P.E_BUTTON, 2, 0)
                    self.start_neutral_capture()
            elif pressed_at is not None:
                if not long_done and now - pressed_at < SHORT_PRESS_MS:
                    self.event(P.E_BUTTON, 1, 0)
                    if self.running:
                        self.stop()
                        asyncio.create_task(self.buzz_pattern((100, 100, 100)))
                    else:
                        self.start()
                        asyncio.create_task(self.buzz_pattern((100,)))
                pressed_at = None
            await self.board.sleep_ms(20)

    async def battery_task(self):
        while not self.exit:
            mv = self.board.battery_mv()
            pct = lipo_percent(mv)
            self._battery_pct = pct
            for lk in self.links:
                lk.set_battery(pct)
            if self.running or self.link is not None:
                self.event(P.E_BATTERY, pct, mv)
            await self.board.sleep_ms(BATTERY_EVERY_MS)

    async def cadence_task(self):
        """Once a second: cadence to links that publish it (BLE Running Speed and Cadence)."""
        while not self.exit:
            spm = self.cadence.spm() if self.running else 0
            for lk in self.links:
                lk.set_cadence(spm)
            await self.board.sleep_ms(1000)

    async def buzz_pattern(self, pattern):
        """on, off, on, ... durations in ms."""
        on = True
        for ms in pattern:
            if on:
                self.buzz_log.append((self.now_us() // 1000, ms))
            self.board.buzz(on)
            await self.board.sleep_ms(ms)
            on = not on
        self.board.buzz(False)

    async def run(self):
        if self.cfg.get("autostart"):
            self.start()
        tasks = [asyncio.create_task(self.sampler_task()), asyncio.create_task(self.io_task()),
                 asyncio.create_task(self.button_task()), asyncio.create_task(self.battery_task()),
                 asyncio.create_task(self.cadence_task())]
        while not self.exit:
            await self.board.sleep_ms(50)
        self.stop()
        for t in tasks:
            t.cancel()
