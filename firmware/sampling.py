"""From the IMU's FIFO to stream frames: sensor start, FIFO drain, sample times, fusion, steps, frames.

The per-sample work of the device lives here, so this module is kept allocation-free per sample: the FIFO
and frame buffers are preallocated arrays, fusion and step counting run as native code, and what else needs
the fused orientation (the posture cue) is called once per FIFO block through `after_block`, not per sample.
"""
from array import array

try:
    import micropython
except ImportError:  # CPython
    from tiltguard.sensors.compat import micropython

from tiltguard.firmware import protocol as P
from tiltguard.firmware.cadence import CadenceCounter
from tiltguard.firmware.fusion import Mahony
from tiltguard.sensors import detect

MAX_READ = 32  # samples per FIFO burst
TEMP_EVERY_MS = 1000


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

    def update(self, now_ns, n, timely=True):
        """n new samples were read at now_ns; returns the time of the newest one. `timely`: now_ns was taken
        right after the read; an interrupted read (a task or the GC ran between the FIFO read and the
        clock) says nothing about the phase, which then goes on by the period alone."""
        if self.t_last_ns is None:
            self.anchor_ns = now_ns
            self.count = 0
            self.t_last_ns = now_ns - self.period_ns // 2
            return self.t_last_ns
        self.count += n
        if self.count >= self.MIN_BASELINE:
            self.period_ns = (now_ns - self.anchor_ns) // self.count
        pred = self.t_last_ns + n * self.period_ns
        err = (now_ns - self.period_ns // 2) - pred if timely else 0
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


class Sampler:
    def __init__(self, core):
        self.core = core
        self.stats = core.stats
        self.fusion = Mahony()
        self.cadence = CadenceCounter()
        self.temp_centi = 0
        self.after_block = []  # fn(sampler, n, up) after every FIFO block: up = earth-up in the sensor frame
        self.start_sensor()

    def start_sensor(self):
        """Find and configure the IMU from the config (at boot, and again when the rate changes)."""
        c = self.core.cfg
        self.drv = detect(self.core.board.i2c)
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

    def reset(self):
        """A session starts: an empty FIFO, a fresh clock, sample index 0."""
        self.drv.reset_fifo()
        self.clock = SampleClock(self.drv.rate_hz)
        self._seen_overflows = self.drv.overflows
        self.sample_index = 0
        self.fcount = 0

    def drain(self):
        """A session stops: what is left in the FIFO goes out, the last frame too, however short."""
        self.sample_step()
        self.flush_frame()

    def fit_frames(self, max_frame):
        """Samples per frame for a link's largest frame: the configured count, or fewer if they do not fit."""
        fit = P.samples_per_frame_for(max_frame)
        want = self.core.cfg["samples_per_frame"]
        new_spf = want if want <= fit else fit
        if new_spf < 1:
            self.core.event(P.E_ERROR, 0, P.ERR_MTU_TOO_SMALL)
            new_spf = 1
        if new_spf != self.spf:
            self.flush_frame()
            self.spf = new_spf

    def flush_frame(self):
        if self.fcount == 0:
            return
        core = self.core
        s = core.next_seq()
        frame = P.encode_samples(s, self.f_t0_ns // 1000, self.f_index0, self.clock.period_ns, self.temp_centi,
                                 self.fbuf, self.fcount, self.fusion.q)
        self.fcount = 0
        self.stats["frames"] += 1
        core.emit(frame, s)

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
        """Drain the FIFO once: timestamps, fusion, frames, steps, then the after-block parts. Returns samples
        read."""
        total = 0
        while True:
            before_us = self.core.now_us()
            n = self.drv.read_fifo(self.raw, MAX_READ)
            now_ns = self.core.now_us() * 1000
            if self.drv.overflows != self._seen_overflows:
                self._seen_overflows = self.drv.overflows
                self.flush_frame()
                lost = self.clock.skip(now_ns)
                self.sample_index += lost
                self.stats["lost"] += lost
                self.core.event(P.E_FIFO_OVERFLOW, 0, lost)
            if n == 0:
                break
            # a read that took over two periods (an I2C burst takes ~1 ms) was interrupted
            t_new = self.clock.update(now_ns, n, now_ns - before_us * 1000 <= 2 * self.clock.period_ns)
            self.dt = self.clock.period_ns * 1e-9
            if not self.fusion.initialised:
                self.fusion.reset_from_accel(self.raw[0], self.raw[1], self.raw[2])
            self._fuse(self.raw, n)
            self._frame_add(n, t_new)
            total += n
            up = self.fusion.up_in_sensor()
            self.cadence.update(self.raw, n, self.drv.acc_scale, up[0], up[1], up[2], self.dt)
            for fn in self.after_block:
                fn(self, n, up)
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
                self.flush_frame()
        self.stats["samples"] += n

    async def task(self):
        """Poll the FIFO every poll_ms while a session runs; the chip's temperature once a second."""
        core = self.core
        ms = core.cfg["poll_ms"]
        last_temp = -TEMP_EVERY_MS
        while not core.exit:
            if core.running:
                t = core.now_us() // 1000
                if t - last_temp >= TEMP_EVERY_MS:
                    last_temp = t
                    self.temp_centi = int(self.drv.temperature() * 100)
                self.sample_step()
            await core.board.sleep_ms(ms)
