"""Capacity and battery you can trust: hours of log left, estimated runtime, and the warning buzz.

The runtime comes from a power model (docs/hardware.md, "Power model"): a current per state from the
reference boards' datasheets, weighted by the share of time the pod actually spends in each state, which the
firmware measures itself (DutyMeter): sampling or idle, BLE advertising or connected, writing the log
(time measured around each block write), encoding the log (time measured around each frame), the buzzer on.

    I = I_base[sampling or idle] + I_imu*sampling + I_adv*advertising + I_conn*connected
        + I_write*write_share + I_cpu*encode_share + I_buzz*buzz_share
    runtime = capacity_mAh * battery% / 100 * USABLE / I

Log left = free bytes of the log medium / (bytes per sample measured on this session's log, or the
compressed rate measured by bench/flashlog.py until there is one) / rate. The hello frame carries both
(protocol HX_CAPACITY); the pod buzzes WARN_LOG once when 15 min of log are left and WARN_BATTERY once at 10 %
battery, during a session.
"""
WARN_LOG_S = 15 * 60
WARN_BATTERY_PCT = 10
WARN_LOG = (300, 150, 300, 150, 300)  # three long: the log is nearly full
WARN_BATTERY = (100, 100, 100, 100, 100, 100, 600)  # three short, one long: charge me
EVERY_MS = 1000
USABLE = 0.9  # share of the nominal LiPo capacity usable above the 3.3 V cut-off of the regulator

# Bytes per sample of the compressed log, on the high side of what bench/flashlog.py measures on simulated and
# real runs (frame headers, quaternion and block overhead included): used until the session's own log has
# measured it.
DEFAULT_BYTES_PER_SAMPLE = {100: 7.0, 200: 6.2}

# Currents in mA per state, from the datasheets (docs/hardware.md cites them): the base is the MCU with
# MicroPython's event loop at 240 MHz and the radio idle; the others add to it while that state lasts.
BOARDS = {
    "esp32-s3": {"idle": 28.0, "sampling": 42.0, "imu": 0.9, "adv": 3.0, "connected": 14.0, "write": 20.0,
                 "cpu": 25.0, "buzz": 70.0, "battery_mah": 400},
    "m5stickc-plus2": {"idle": 35.0, "sampling": 50.0, "imu": 3.8, "adv": 4.0, "connected": 16.0, "write": 22.0,
                       "cpu": 30.0, "buzz": 25.0, "battery_mah": 200},
}


def model_current_ma(board, shares):
    """Average current (mA) for the state shares (0..1 each: sampling, adv, connected, write, cpu, buzz)."""
    c = BOARDS[board]
    s = shares.get("sampling", 0.0)
    i = c["idle"] + (c["sampling"] - c["idle"]) * s + c["imu"] * s
    for k in ("adv", "connected", "write", "cpu", "buzz"):
        i += c[k] * shares.get(k, 0.0)
    return i


def runtime_s(board, shares, battery_pct, battery_mah=None):
    """Seconds of running left at these shares from battery_pct % of the battery."""
    cap = battery_mah or BOARDS[board]["battery_mah"]
    return cap * USABLE * battery_pct / 100.0 / model_current_ma(board, shares) * 3600.0


def log_left_s(free_bytes, rate_hz, bytes_per_sample):
    if rate_hz <= 0 or bytes_per_sample <= 0:
        return 0
    return int(free_bytes / (rate_hz * bytes_per_sample))


class DutyMeter:
    """Shares of time in each state over a sliding window (exponential, ~5 min), measured on the pod."""

    TAU_S = 300.0

    def __init__(self, core, buzzer, board_name="esp32-s3", battery_mah=None):
        self.core = core
        self.buzzer = buzzer
        self.board_name = board_name if board_name in BOARDS else "esp32-s3"
        self.battery_mah = battery_mah
        self.shares = {"sampling": 0.0, "adv": 1.0, "connected": 0.0, "write": 0.0, "cpu": 0.0, "buzz": 0.0}
        self.warned_log = False
        self.warned_battery = False
        self._quiet_until = 0
        self._last = None  # (ms, log coding µs, log writing µs, buzzer on ms so far)

    def battery_pct(self):
        b = getattr(self.core, "battery", None)
        return b.pct if b is not None else None

    def log_left(self):
        core = self.core
        log = core.log
        rate = core.cfg.get("rate_hz", 200)
        bps = log.bytes_per_sample() or DEFAULT_BYTES_PER_SAMPLE.get(rate) or DEFAULT_BYTES_PER_SAMPLE[200]
        return log_left_s(max(0, log.free_bytes() - log.reserve_bytes), rate, bps)

    def runtime(self):
        pct = self.battery_pct()
        if pct is None:
            return None
        return int(runtime_s(self.board_name, self.shares, pct, self.battery_mah))

    def hello_fields(self):
        """(log seconds left, runtime seconds or None, battery % or None) for the hello frame."""
        return self.log_left(), self.runtime(), self.battery_pct()

    def sample(self, now_ms):
        """One measurement step: the states seen since the last step, folded into the shares."""
        core = self.core
        log = core.log
        code_us = log.code_us
        write_us = log.write_us
        seen = self.buzzer.on_ms  # the buzzer's log keeps only the latest pulses: its running total
        if self._last is None:
            self._last = (now_ms, code_us, write_us, seen)
            return
        t0, code0, write0, seen0 = self._last
        dt = now_ms - t0
        if dt <= 0:
            return
        buzz_ms = seen - seen0
        link = core.link
        connected = 1.0 if (link is not None and link.connected and link.name == "ble") else 0.0
        now = {"sampling": 1.0 if core.running else 0.0,
               "adv": 0.0 if connected else 1.0,
               "connected": connected,
               "write": min(1.0, (write_us - write0) / 1000.0 / dt),
               "cpu": min(1.0, (code_us - code0) / 1000.0 / dt),
               "buzz": min(1.0, buzz_ms / dt)}
        a = min(1.0, dt / 1000.0 / self.TAU_S)
        for k, v in now.items():
            self.shares[k] += a * (v - self.shares[k])
        self._last = (now_ms, code_us, write_us, seen)

    def check_warnings(self, now_ms=0):
        """During a session: buzz once when the log or the battery runs low (one pattern at a time: the
        motor plays one, the other waits for the next check after it)."""
        core = self.core
        if not core.running or now_ms < self._quiet_until:
            return
        pct = self.battery_pct()
        if not self.warned_battery and pct is not None and pct <= WARN_BATTERY_PCT:
            self.warned_battery = True
            self._play(WARN_BATTERY, now_ms)
        elif not self.warned_log and self.log_left() < WARN_LOG_S:
            self.warned_log = True
            self._play(WARN_LOG, now_ms)

    def _play(self, pattern, now_ms):
        self._quiet_until = now_ms + sum(pattern) + 500
        self.buzzer.play(pattern)

    async def task(self):
        core = self.core
        while not core.exit:
            self.sample(core.now_us() // 1000)
            self.check_warnings(core.now_us() // 1000)
            await core.board.sleep_ms(EVERY_MS)
