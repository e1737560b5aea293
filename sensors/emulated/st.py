"""Emulated ST LSM6DS3 (pattern FIFO) and LSM6DSOX (tagged FIFO), per their datasheets."""
import struct

from tiltguard.sensors.emulated.chip import DEG, G, ChipEmulator, quantise

ST_ODR = {1: 12.5, 2: 26, 3: 52, 4: 104, 5: 208, 6: 416, 7: 833, 8: 1660, 9: 3330, 10: 6660}
XL_MG_PER_LSB = {0: 0.061, 1: 0.488, 2: 0.122, 3: 0.244}  # FS_XL code -> mg/LSB (code 01 is ±16 g)
G_MDPS_PER_LSB = {0: 8.75, 1: 17.5, 2: 35.0, 3: 70.0}  # FS_G code -> mdps/LSB


class _STEmulator(ChipEmulator):
    WHO_AM_I_REG = 0x0F
    TEMP_LSB_PER_C = 16.0

    def _defaults(self):
        self.regs[0x12] = 0x04  # CTRL3_C: IF_INC

    def _on_write(self, reg, old, new):
        if reg == 0x12 and new & 0x01:  # SW_RESET, self-clearing
            self._power_on()

    def _active(self):
        return (self.regs[0x10] >> 4) != 0 and (self.regs[0x11] >> 4) != 0

    def _odr_hz(self):
        return ST_ODR.get(self.regs[0x10] >> 4, 0) or 1

    def _quantise(self, s):
        a_lsb = G * XL_MG_PER_LSB[(self.regs[0x10] >> 2) & 3] / 1000.0
        g_mdps = 4.375 if self.regs[0x11] & 0x02 else G_MDPS_PER_LSB[(self.regs[0x11] >> 2) & 3]
        g_lsb = DEG * g_mdps / 1000.0
        return (quantise(s[0], a_lsb), quantise(s[1], a_lsb), quantise(s[2], a_lsb),
                quantise(s[3], g_lsb), quantise(s[4], g_lsb), quantise(s[5], g_lsb))

    def _temp_raw(self):
        return quantise(self.temp_c - 25.0, 1.0 / self.TEMP_LSB_PER_C)

    def _next_addr(self, reg):
        if not self.regs[0x12] & 0x04:  # IF_INC off: the address stays put
            return reg
        return (reg + 1) & 0xFF

    def _read_output(self, reg):
        """OUT_TEMP (0x20) and gyro (0x22) / accel (0x28) output registers, little-endian."""
        if 0x20 <= reg <= 0x2D:
            r = self.latest
            vals = (self._temp_raw(), r[3], r[4], r[5], r[0], r[1], r[2])
            v = vals[(reg - 0x20) // 2] & 0xFFFF
            return v & 0xFF if reg % 2 == 0 else v >> 8
        return None


class LSM6DS3Emulator(_STEmulator):
    """LSM6DS3 (WHO_AM_I 0x69) or LSM6DS3TR-C (0x6A): 16-bit FIFO words in the pattern Gx Gy Gz Ax Ay Az."""

    WHO_AM_I = 0x69
    FIFO_BYTES = 8192
    FIFO_DATA_REG = 0x3E

    def __init__(self, source, clock, addr=0x6A, who=0x69, odr_error=0.0):
        self.WHO_AM_I = who
        ChipEmulator.__init__(self, source, clock, addr, odr_error)

    def _defaults(self):
        _STEmulator._defaults(self)
        self.words_read = 0  # pattern position = words read since the last reset, modulo 6
        self.over_run = False

    def _on_write(self, reg, old, new):
        _STEmulator._on_write(self, reg, old, new)
        if reg == 0x0A and (new & 0x07) == 0:  # bypass mode empties the FIFO
            self.fifo_clear()
            self.words_read = 0
            self.over_run = False

    def _sample(self, s):
        raw = self._quantise(s)
        self.latest = raw
        mode = self.regs[0x0A] & 0x07
        if mode == 0 or (self.regs[0x08] & 0x3F) != 0x09:  # bypass, or not both sets undecimated
            return
        pkt = struct.pack("<6h", raw[3], raw[4], raw[5], raw[0], raw[1], raw[2])
        if self.f_len + 12 > self.FIFO_BYTES:
            self.over_run = True
        self.fifo_push(pkt, mode == 6)  # continuous mode overwrites, FIFO mode stops

    def _read_reg(self, reg):
        v = self._read_output(reg)
        if v is not None:
            return v
        words = self.f_len // 2
        if reg == 0x3A:
            return words & 0xFF
        if reg == 0x3B:
            full = self.f_len + 12 > self.FIFO_BYTES
            return ((words >> 8) & 0x0F) | (0x40 if self.over_run else 0) | (0x20 if full else 0) | (
                0x10 if words == 0 else 0)
        if reg == 0x3C:
            return self.words_read % 6
        if reg == 0x3D:
            return 0
        return self.regs[reg]

    def _fifo_read_into(self, buf):
        for i in range(len(buf)):
            b = self.fifo_pop()
            buf[i] = 0 if b is None else b
        self.words_read += len(buf) // 2


class LSM6DSOXEmulator(_STEmulator):
    """LSM6DSOX (WHO_AM_I 0x6C): tagged 7-byte FIFO words; gyro and accel words of one time slot share
    TAG_CNT, and their order within the slot alternates here so a driver cannot rely on it."""

    WHO_AM_I = 0x6C
    FIFO_BYTES = 7 * 512
    FIFO_DATA_REG = 0x78
    TEMP_LSB_PER_C = 256.0

    def __init__(self, source, clock, addr=0x6A, odr_error=0.0):
        ChipEmulator.__init__(self, source, clock, addr, odr_error)

    def _defaults(self):
        _STEmulator._defaults(self)
        self.ovr = False
        self.slot = 0

    def _on_write(self, reg, old, new):
        _STEmulator._on_write(self, reg, old, new)
        if reg == 0x0A and (new & 0x07) == 0:
            self.fifo_clear()
            self.ovr = False

    @staticmethod
    def _word(tag, cnt, x, y, z):
        t = (tag << 3) | (cnt << 1)
        parity = 0
        v = t
        while v:
            parity ^= v & 1
            v >>= 1
        return struct.pack("<B3h", t | parity, x, y, z)

    def _sample(self, s):
        raw = self._quantise(s)
        self.latest = raw
        mode = self.regs[0x0A] & 0x07
        bdr = self.regs[0x09]
        if mode == 0 or (bdr & 0x0F) == 0 or (bdr >> 4) == 0:
            return
        cnt = self.slot & 3
        g = self._word(0x01, cnt, raw[3], raw[4], raw[5])
        a = self._word(0x02, cnt, raw[0], raw[1], raw[2])
        for w in ((g, a) if self.slot % 2 == 0 else (a, g)):
            if self.f_len + 7 > self.FIFO_BYTES:
                self.ovr = True
            self.fifo_push(w, mode == 6)
        self.slot += 1

    def _read_reg(self, reg):
        v = self._read_output(reg)
        if v is not None:
            return v
        words = self.f_len // 7
        if reg == 0x3A:
            return words & 0xFF
        if reg == 0x3B:
            full = self.f_len + 7 > self.FIFO_BYTES
            return ((words >> 8) & 0x03) | (0x40 if self.ovr else 0) | (0x20 if full else 0)
        return self.regs[reg]
