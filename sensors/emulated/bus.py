"""A fake I²C bus with the `machine.I2C` calls the drivers use, sample sources and a manual clock."""
import struct

ENODEV = 19  # what machine.I2C raises when nobody acknowledges the address
ETIMEDOUT = 110


class FakeI2C:
    """Routes register reads and writes to attached chip emulators by 7-bit address."""

    def __init__(self):
        self.devices = {}
        self.transactions = 0

    def attach(self, chip):
        self.devices[chip.addr] = chip
        return chip

    def scan(self):
        return sorted(a for a, d in self.devices.items() if not d.unresponsive)

    def _dev(self, addr):
        d = self.devices.get(addr)
        if d is None:
            raise OSError(ENODEV)
        if d.unresponsive:
            raise OSError(ETIMEDOUT)
        self.transactions += 1
        return d

    def readfrom_mem_into(self, addr, reg, buf, addrsize=8):
        self._dev(addr).read_into(reg, buf)

    def readfrom_mem(self, addr, reg, n, addrsize=8):
        buf = bytearray(n)
        self._dev(addr).read_into(reg, buf)
        return bytes(buf)

    def writeto_mem(self, addr, reg, buf, addrsize=8):
        self._dev(addr).write(reg, buf)


class ManualClock:
    """Microseconds that advance only when told: emulators and the simulated device share one."""

    def __init__(self, start_us=0):
        self.t = start_us

    def now_us(self):
        return self.t

    def advance_us(self, dt):
        self.t += dt


class ListSource:
    """Samples from a list of (ax, ay, az, gx, gy, gz) tuples (m/s², rad/s); repeats the last one at the end."""

    def __init__(self, samples, temp_c=30.0):
        self.samples = samples
        self.i = 0
        self.temp_c = temp_c

    def next(self):
        s = self.samples[self.i if self.i < len(self.samples) else len(self.samples) - 1]
        self.i += 1
        return s


class FunctionSource:
    """Samples from f(k) -> 6-tuple, k = chip sample number."""

    def __init__(self, f, temp_c=30.0):
        self.f = f
        self.i = 0
        self.temp_c = temp_c

    def next(self):
        s = self.f(self.i)
        self.i += 1
        return s


class FileSource:
    """Samples from a binary file of little-endian float32, 6 per sample (ax ay az gx gy gz), read in
    small chunks so a long recording does not have to fit the heap. Past the end: the last sample again."""

    CHUNK = 64

    def __init__(self, path, temp_c=30.0):
        self.f = open(path, "rb")
        self.buf = bytearray(24 * self.CHUNK)
        self.n = 0
        self.pos = 0
        self.i = 0
        self.last = (0.0, 0.0, 9.80665, 0.0, 0.0, 0.0)
        self.temp_c = temp_c
        self.exhausted = False

    def next(self):
        if self.pos >= self.n and not self.exhausted:
            got = self.f.readinto(self.buf)
            self.n = (got or 0) // 24
            self.pos = 0
            if self.n == 0:
                self.exhausted = True
        if self.pos < self.n:
            self.last = struct.unpack_from("<6f", self.buf, 24 * self.pos)
            self.pos += 1
        self.i += 1
        return self.last
