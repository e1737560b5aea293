"""What every Tiltguard IMU driver shares: errors, register access with retries, FIFO unpacking, SI scales.

Drivers talk to a `machine.I2C`-compatible bus through three calls only: `readfrom_mem_into`,
`writeto_mem` and `scan`, so the same code runs against the real bus on the device and against the
register-level emulators in `sensors.emulated` on the unix port or CPython.
"""
try:
    import micropython
except ImportError:  # CPython
    from tiltguard.sensors.compat import micropython

G = 9.80665  # m/s² per g
DEG = 0.017453292519943295  # rad per degree


class ImuError(Exception):
    """Base class of sensor errors (one-line messages meant for the user)."""


class SensorNotFound(ImuError):
    """Nothing answers at the address (wiring, power, wrong bus pins)."""


class UnknownSensor(ImuError):
    """Something answers but its WHO_AM_I is not one of the supported chips."""


class SensorNotResponding(ImuError):
    """The chip was there but stopped answering, or a reset did not complete."""


@micropython.native
def unpack_samples(buf, n, stride, acc_off, gyr_off, big_endian, out, out_off):
    """Copy n packets of 3+3 int16 from buf (FIFO bytes) into out[out_off:] as ax ay az gx gy gz.

    stride: packet size; acc_off/gyr_off: byte offsets of X in each packet. Native code because this is
    the per-sample hot path on the device.
    """
    hi = 0 if big_endian else 1
    lo = 1 - hi
    o = out_off
    for i in range(n):
        base = i * stride
        for off in (acc_off, gyr_off):
            p = base + off
            for _ in range(3):
                v = (buf[p + hi] << 8) | buf[p + lo]
                if v >= 32768:
                    v -= 65536
                out[o] = v
                o += 1
                p += 2
    return o


def nearest(options, value):
    """The option closest to value (ties go to the first listed)."""
    best = options[0]
    for o in options:
        if abs(o - value) < abs(best - value):
            best = o
    return best


class ImuDriver:
    """Base driver. Subclasses set MODEL/WHO_AM_I tables and implement _configure and _read_fifo_packets.

    After configure(): rate_hz (actual ODR), acc_scale (m/s² per LSB), gyr_scale (rad/s per LSB),
    acc_range_g, gyr_range_dps. read_fifo(out, max_n) drains up to max_n samples into `out`
    (array('h'), 6 per sample) and returns how many; overflows counts FIFO overruns seen (the FIFO is
    reset then, and the caller learns the gap from its own clock).
    """

    MODEL = "?"
    RETRIES = 3

    def __init__(self, i2c, addr):
        self.i2c = i2c
        self.addr = addr
        self._b1 = bytearray(1)
        self._b2 = bytearray(2)
        self.overflows = 0
        self.rate_hz = 0
        self.acc_range_g = 0
        self.gyr_range_dps = 0
        self.acc_scale = 0.0
        self.gyr_scale = 0.0
        self.lpf_hz = 0
        self._fifo_buf = None

    # --- register access (retries: a single NACK on a long cable must not end a run)
    def _read_into(self, reg, buf):
        err = None
        for _ in range(self.RETRIES):
            try:
                self.i2c.readfrom_mem_into(self.addr, reg, buf)
                return buf
            except OSError as e:
                err = e
        raise SensorNotResponding("%s at 0x%02x stopped answering (%s)" % (self.MODEL, self.addr, err))

    def _r8(self, reg):
        return self._read_into(reg, self._b1)[0]

    def _w8(self, reg, value):
        self._b1[0] = value & 0xFF
        err = None
        for _ in range(self.RETRIES):
            try:
                self.i2c.writeto_mem(self.addr, reg, self._b1)
                return
            except OSError as e:
                err = e
        raise SensorNotResponding("%s at 0x%02x stopped answering (%s)" % (self.MODEL, self.addr, err))

    def _update(self, reg, mask, value):
        self._w8(reg, (self._r8(reg) & ~mask) | (value & mask))

    def _fifo_buffer(self, nbytes):
        if self._fifo_buf is None or len(self._fifo_buf) < nbytes:
            self._fifo_buf = bytearray(nbytes)
        return self._fifo_buf

    # --- public API
    def configure(self, rate_hz=200, acc_range_g=8, gyr_range_dps=1000, lpf_hz=None):
        """Set ODR (50–800 Hz, nearest supported), ranges (nearest supported) and the low-pass filter
        (default: a quarter of the ODR), then start the FIFO. Returns self."""
        if not 12 <= rate_hz <= 1000:
            raise ValueError("rate %s Hz outside 12..1000 Hz" % rate_hz)
        self._configure(rate_hz, acc_range_g, gyr_range_dps, lpf_hz or rate_hz / 4)
        # sensitivities come from the datasheet tables (e.g. 16.4 LSB/dps), not from range/32768
        self.acc_scale = G / self._acc_lsb_per_g
        self.gyr_scale = DEG / self._gyr_lsb_per_dps
        return self

    def read_fifo(self, out, max_n):
        """Drain up to max_n whole samples from the FIFO into out (6 int16 each). Returns the count."""
        return self._read_fifo(out, max_n)

    def info(self):
        return {
            "sensor": self.MODEL,
            "rate_hz": self.rate_hz,
            "acc_range_g": self.acc_range_g,
            "gyr_range_dps": self.gyr_range_dps,
            "acc_scale": self.acc_scale,
            "gyr_scale": self.gyr_scale,
            "lpf_hz": self.lpf_hz,
        }

    def to_si(self, raw, i):
        """Sample i of a raw array as ((ax, ay, az) m/s², (gx, gy, gz) rad/s)."""
        a = self.acc_scale
        g = self.gyr_scale
        o = 6 * i
        return (raw[o] * a, raw[o + 1] * a, raw[o + 2] * a), (raw[o + 3] * g, raw[o + 4] * g, raw[o + 5] * g)
