"""Emulated InvenSense MPU-6050/6500/6886 and TDK ICM-42688-P (register map + FIFO), per their datasheets."""
import struct

from tiltguard.sensors.emulated.chip import DEG, G, ChipEmulator, quantise

# ---------------------------------------------------------------- MPU-6050 / 6500 / 6886

# WHO_AM_I -> (FIFO bytes, temp LSB/°C, temp °C at raw 0, has FIFO_MODE bit in CONFIG)
MPU_VARIANTS = {0x68: (1024, 340.0, 36.53, False), 0x70: (512, 333.87, 21.0, True), 0x19: (1024, 326.8, 25.0, True)}
MPU_ACC_LSB_PER_G = (16384, 8192, 4096, 2048)  # AFS_SEL 0..3 (±2, 4, 8, 16 g)
MPU_GYR_LSB_PER_DPS = (131.0, 65.5, 32.8, 16.4)  # FS_SEL 0..3 (±250 ... 2000 dps)


class MPU6xxxEmulator(ChipEmulator):
    FIFO_DATA_REG = 0x74

    def __init__(self, source, clock, addr=0x68, who=0x68, odr_error=0.0):
        self.WHO_AM_I = who
        self.FIFO_BYTES, self.t_sens, self.t_off, self.has_fifo_mode = MPU_VARIANTS[who]
        ChipEmulator.__init__(self, source, clock, addr, odr_error)

    def _defaults(self):
        self.regs[0x6B] = 0x40  # PWR_MGMT_1: SLEEP after power-on
        self.int_status = 0

    def _on_write(self, reg, old, new):
        if reg == 0x6B and new & 0x80:  # DEVICE_RESET: registers back to defaults; bit reads back 0
            self._power_on()
        elif reg == 0x6A and new & 0x04:  # FIFO_RESET, self-clearing
            self.fifo_clear()
            self.regs[0x6A] = new & ~0x04

    def _active(self):
        return not self.regs[0x6B] & 0x40

    def _odr_hz(self):
        dlpf = self.regs[0x1A] & 0x07
        internal = 1000.0 if 1 <= dlpf <= 6 else 8000.0
        return internal / (1 + self.regs[0x19])

    def _sample(self, s):
        a_lsb = G / MPU_ACC_LSB_PER_G[(self.regs[0x1C] >> 3) & 3]
        g_lsb = DEG / MPU_GYR_LSB_PER_DPS[(self.regs[0x1B] >> 3) & 3]
        raw = (quantise(s[0], a_lsb), quantise(s[1], a_lsb), quantise(s[2], a_lsb),
               quantise(s[3], g_lsb), quantise(s[4], g_lsb), quantise(s[5], g_lsb))
        self.latest = raw
        if not self.regs[0x6A] & 0x40:  # USER_CTRL.FIFO_EN
            return
        en = self.regs[0x23]
        t = self._temp_raw()
        pkt = bytearray()
        if self.WHO_AM_I == 0x19:  # MPU-6886: ACC (bit 3), then TEMP and GYRO together (bit 4)
            if en & 0x08:
                pkt += struct.pack(">3h", raw[0], raw[1], raw[2])
            if en & 0x18:
                pkt += struct.pack(">h", t)
            if en & 0x10:
                pkt += struct.pack(">3h", raw[3], raw[4], raw[5])
        else:  # register order: ACCEL, TEMP, GYRO X, Y, Z
            if en & 0x08:
                pkt += struct.pack(">3h", raw[0], raw[1], raw[2])
            if en & 0x80:
                pkt += struct.pack(">h", t)
            for bit, v in ((0x40, raw[3]), (0x20, raw[4]), (0x10, raw[5])):
                if en & bit:
                    pkt += struct.pack(">h", v)
        if pkt:
            stop = self.has_fifo_mode and self.regs[0x1A] & 0x40
            if self.f_len + len(pkt) > self.FIFO_BYTES:
                self.int_status |= 0x10  # FIFO_OFLOW_INT
            self.fifo_push(pkt, not stop)

    def _temp_raw(self):
        return quantise(self.temp_c - self.t_off, 1.0 / self.t_sens)

    def _read_reg(self, reg):
        if reg == 0x3A:  # INT_STATUS, cleared by reading
            v = self.int_status | 0x01
            self.int_status = 0
            return v
        if 0x3B <= reg <= 0x48:
            vals = (self.latest[0], self.latest[1], self.latest[2], self._temp_raw(),
                    self.latest[3], self.latest[4], self.latest[5])
            v = vals[(reg - 0x3B) // 2] & 0xFFFF
            return v >> 8 if (reg - 0x3B) % 2 == 0 else v & 0xFF
        if reg == 0x72:
            return self.f_len >> 8
        if reg == 0x73:
            return self.f_len & 0xFF
        return self.regs[reg]


# ---------------------------------------------------------------- ICM-42688-P

# GYRO_FS_SEL 0..7 (±2000 ... 15.625 dps): datasheet sensitivities, not exact powers of two
ICM_GYR_LSB_PER_DPS = (16.4, 32.8, 65.5, 131.0, 262.0, 524.3, 1048.6, 2097.2)
ICM_ODR = {1: 32000, 2: 16000, 3: 8000, 4: 4000, 5: 2000, 6: 1000, 7: 200, 8: 100, 9: 50, 10: 25, 11: 12.5, 15: 500}


class ICM42688Emulator(ChipEmulator):
    WHO_AM_I = 0x47
    FIFO_BYTES = 2048
    FIFO_DATA_REG = 0x30
    PACKET = 16

    def __init__(self, source, clock, addr=0x68, odr_error=0.0):
        ChipEmulator.__init__(self, source, clock, addr, odr_error)

    def _defaults(self):
        r = self.regs
        r[0x4C] = 0x30  # INTF_CONFIG0: count and data big-endian
        r[0x4F] = 0x06  # GYRO_CONFIG0: ±2000 dps, 1 kHz
        r[0x50] = 0x06  # ACCEL_CONFIG0: ±16 g, 1 kHz
        r[0x52] = 0x11
        r[0x5F] = 0x00
        self.int_status = 0x10  # RESET_DONE after power-on / soft reset
        self.bank = 0

    def _on_write(self, reg, old, new):
        if reg == 0x76:
            self.bank = new & 0x07
            return
        if self.bank != 0:
            self.regs[reg] = old  # other banks are not emulated: writes there do not alias bank 0
            return
        if reg == 0x11 and new & 0x01:  # DEVICE_CONFIG.SOFT_RESET_CONFIG
            self._power_on()
        elif reg == 0x4B and new & 0x02:  # SIGNAL_PATH_RESET.FIFO_FLUSH
            self.fifo_clear()
            self.regs[0x4B] = new & ~0x02

    def _active(self):
        return (self.regs[0x4E] & 0x03) == 0x03 and (self.regs[0x4E] & 0x0C) == 0x0C

    def _odr_hz(self):
        return ICM_ODR.get(self.regs[0x4F] & 0x0F, 1000)

    def _sample(self, s):
        a_lsb = G / (2048 << ((self.regs[0x50] >> 5) & 3))
        g_lsb = DEG / ICM_GYR_LSB_PER_DPS[(self.regs[0x4F] >> 5) & 7]
        raw = (quantise(s[0], a_lsb), quantise(s[1], a_lsb), quantise(s[2], a_lsb),
               quantise(s[3], g_lsb), quantise(s[4], g_lsb), quantise(s[5], g_lsb))
        self.latest = raw
        mode = self.regs[0x16] >> 6
        if mode == 0 or (self.regs[0x5F] & 0x03) != 0x03:  # bypass, or not both sensors (packet 3 only)
            return
        big = self.regs[0x4C] & 0x10
        e = ">" if big else "<"
        t8 = int((self.temp_c - 25.0) * 2.07)
        ts = (self._k * int(1000000 / self._odr_hz())) & 0xFFFF
        pkt = struct.pack(e + "B6hb" + "H", 0x68, raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], t8, ts)
        if self.f_len + self.PACKET > self.FIFO_BYTES:
            self.int_status |= 0x02  # FIFO_FULL_INT
        self.fifo_push(pkt, mode == 1)  # stream-to-FIFO overwrites, stop-on-full drops new data

    def _temp_raw(self):
        return quantise(self.temp_c - 25.0, 1.0 / 132.48)

    def _read_reg(self, reg):
        if self.bank != 0:
            return 0x75 if reg == 0x75 else 0  # only the bank select and WHO_AM_I make sense there
        if reg == 0x2D:  # INT_STATUS, cleared by reading
            v = self.int_status
            self.int_status = 0
            return v
        if 0x1D <= reg <= 0x2A:
            big = self.regs[0x4C] & 0x10
            vals = (self._temp_raw(),) + tuple(self.latest)
            v = vals[(reg - 0x1D) // 2] & 0xFFFF
            first = (reg - 0x1D) % 2 == 0
            return (v >> 8 if first else v & 0xFF) if big else (v & 0xFF if first else v >> 8)
        if reg in (0x2E, 0x2F):
            c = self.f_len // self.PACKET if self.regs[0x4C] & 0x40 else self.f_len
            big = self.regs[0x4C] & 0x20
            hi = (reg == 0x2E) == bool(big)
            return c >> 8 if hi else c & 0xFF
        return self.regs[reg]

    def _fifo_empty_byte(self):
        return 0x80
