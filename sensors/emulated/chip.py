"""Common machinery of the chip emulators: register file, byte FIFO ring, ODR timing, quantisation."""
G = 9.80665
DEG = 0.017453292519943295


def quantise(value, lsb):
    """Raw int16 reading of value (SI) at `lsb` SI units per LSB, saturating like the ADC does."""
    v = value / lsb
    r = int(v + 0.5) if v >= 0 else -int(-v + 0.5)
    return 32767 if r > 32767 else (-32768 if r < -32768 else r)


class ChipEmulator:
    """Subclasses define WHO_AM_I_REG/WHO_AM_I, FIFO_BYTES, _defaults(), _on_write(reg, old, new),
    _read_reg(reg) for live registers, _next_addr(reg), _odr_hz(), _active(), _push_sample(s)."""

    WHO_AM_I_REG = 0x75
    WHO_AM_I = 0
    FIFO_BYTES = 1024
    FIFO_DATA_REG = -1

    def __init__(self, source, clock, addr, odr_error=0.0):
        self.source = source
        self.clock = clock
        self.addr = addr
        self.odr_error = odr_error  # relative error of the chip's own oscillator (e.g. 0.002 = +0.2 %)
        self.unresponsive = False
        self.regs = bytearray(256)
        self.fifo = bytearray(self.FIFO_BYTES)
        self.generated = 0  # samples taken from the source since power-on
        self.fifo_base = 0  # value of `generated` at the last FIFO reset: source index of the next FIFO sample
        self.fifo_pushes = 0
        self.fifo_dropped = 0
        self.latest = (0, 0, 0, 0, 0, 0)  # raw ax ay az gx gy gz of the newest sample
        self.temp_c = getattr(source, "temp_c", 30.0)
        self._power_on()

    # ---- state
    def _power_on(self):
        for i in range(256):
            self.regs[i] = 0
        self._defaults()
        self.regs[self.WHO_AM_I_REG] = self.WHO_AM_I
        self.fifo_clear()
        self._t0 = None  # clock time at which sampling (re)started
        self._k = 0  # samples produced since then

    def fifo_clear(self):
        self.f_read = 0
        self.f_len = 0
        self.fifo_base = self.generated

    def fifo_push(self, data, overwrite):
        n = len(data)
        if self.f_len + n > self.FIFO_BYTES:
            self.fifo_dropped += 1
            if not overwrite:
                return False
            while self.f_len + n > self.FIFO_BYTES:  # drop the oldest whole packet
                self.f_read = (self.f_read + n) % self.FIFO_BYTES
                self.f_len -= n
        w = (self.f_read + self.f_len) % self.FIFO_BYTES
        first = self.FIFO_BYTES - w
        if first >= n:
            self.fifo[w : w + n] = data
        else:
            self.fifo[w:] = data[:first]
            self.fifo[: n - first] = data[first:]
        self.f_len += n
        self.fifo_pushes += 1
        return True

    def fifo_pop(self):
        if self.f_len == 0:
            return None
        b = self.fifo[self.f_read]
        self.f_read = (self.f_read + 1) % self.FIFO_BYTES
        self.f_len -= 1
        return b

    # ---- time
    def _advance(self):
        if not self._active():
            self._t0 = None
            return
        now = self.clock.now_us()
        odr = self._odr_hz() * (1.0 + self.odr_error)
        if self._t0 is None:
            self._t0 = now
            self._k = 0
            self._odr_used = odr
            return
        if odr != self._odr_used:  # rate changed while running: restart the tick count from here
            self._t0 = now
            self._k = 0
            self._odr_used = odr
            return
        due = int((now - self._t0) * odr / 1000000)
        while self._k < due:
            self._k += 1
            s = self.source.next()
            self.generated += 1
            self._sample(s)

    # ---- bus side
    def read_into(self, reg, buf):
        self._advance()
        if reg == self.FIFO_DATA_REG:
            self._fifo_read_into(buf)
            return
        for i in range(len(buf)):
            buf[i] = self._read_reg(reg) & 0xFF
            reg = self._next_addr(reg)

    def write(self, reg, data):
        self._advance()
        for b in data:
            old = self.regs[reg]
            self.regs[reg] = b
            self._on_write(reg, old, b)
            reg = self._next_addr(reg)

    def _next_addr(self, reg):
        return (reg + 1) & 0xFF

    def _read_reg(self, reg):
        return self.regs[reg]

    def _fifo_read_into(self, buf):
        for i in range(len(buf)):
            b = self.fifo_pop()
            buf[i] = self._fifo_empty_byte() if b is None else b

    def _fifo_empty_byte(self):
        return 0xFF
