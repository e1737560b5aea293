"""TDK InvenSense ICM-42688-P driver (I²C, FIFO).

Register map per the ICM-42688-P datasheet (DS-000347 rev 1.x), user bank 0. Data big-endian (the reset
value of INTF_CONFIG0). The FIFO holds 16-byte "packet 3" records: header, accel X/Y/Z, gyro X/Y/Z,
8-bit temperature, 16-bit timestamp. FIFO_DATA (0x30) does not auto-increment, so one burst drains many
records; we set FIFO_COUNT_REC so FIFO_COUNT is in records.
"""
from tiltguard.sensors.base import ImuDriver, SensorNotResponding, UnknownSensor, nearest, unpack_samples

DEVICE_CONFIG = 0x11
FIFO_CONFIG = 0x16
TEMP_DATA1 = 0x1D
INT_STATUS = 0x2D
FIFO_COUNTH = 0x2E
FIFO_DATA = 0x30
SIGNAL_PATH_RESET = 0x4B
INTF_CONFIG0 = 0x4C
PWR_MGMT0 = 0x4E
GYRO_CONFIG0 = 0x4F
ACCEL_CONFIG0 = 0x50
GYRO_ACCEL_CONFIG0 = 0x52
FIFO_CONFIG1 = 0x5F
WHO_AM_I = 0x75
REG_BANK_SEL = 0x76

WHO_ICM42688P = 0x47
INT_FIFO_FULL = 0x02
RESET_DONE = 0x10  # INT_STATUS bit 4
FIFO_FLUSH = 0x02
PACKET = 16
HEADER_ACC_GYR = 0x60  # HEADER_ACCEL | HEADER_GYRO
HEADER_EMPTY = 0x80
FIFO_BYTES = 2048

# ODR code -> Hz (GYRO_ODR / ACCEL_ODR fields)
ODR = {6: 1000, 15: 500, 7: 200, 8: 100, 9: 50, 10: 25}
ACC_RANGES = (16, 8, 4, 2)  # ACCEL_FS_SEL 0..3
ACC_LSB_PER_G = (2048.0, 4096.0, 8192.0, 16384.0)
GYR_RANGES = (2000, 1000, 500, 250, 125)  # GYRO_FS_SEL 0..4
GYR_LSB_PER_DPS = (16.4, 32.8, 65.5, 131.0, 262.0)
# UI filter bandwidth index -> divisor of max(400 Hz, ODR); index 0 is ODR/2
UI_FILT_DIV = (None, 4, 5, 8, 10, 16, 20, 40)


class ICM42688(ImuDriver):
    MODEL = "ICM-42688-P"

    def __init__(self, i2c, addr=0x68, who=None):
        ImuDriver.__init__(self, i2c, addr)
        who = self._r8(WHO_AM_I) if who is None else who
        if who != WHO_ICM42688P:
            raise UnknownSensor("WHO_AM_I 0x%02x at 0x%02x is not an ICM-42688-P" % (who, addr))
        self.who = who

    def _configure(self, rate_hz, acc_range_g, gyr_range_dps, lpf_hz):
        self._w8(REG_BANK_SEL, 0)
        self._w8(DEVICE_CONFIG, 0x01)  # soft reset; RESET_DONE in INT_STATUS says when it is back
        for _ in range(50):
            if self._r8(INT_STATUS) & RESET_DONE:
                break
        else:
            raise SensorNotResponding("ICM-42688-P did not come out of reset")
        self._w8(REG_BANK_SEL, 0)
        odr = nearest(sorted(ODR.values()), rate_hz)
        code = [c for c in ODR if ODR[c] == odr][0]
        self.rate_hz = odr
        ai = ACC_RANGES.index(nearest(ACC_RANGES, acc_range_g))
        gi = GYR_RANGES.index(nearest(GYR_RANGES, gyr_range_dps))
        self.acc_range_g = ACC_RANGES[ai]
        self.gyr_range_dps = GYR_RANGES[gi]
        self._acc_lsb_per_g = ACC_LSB_PER_G[ai]
        self._gyr_lsb_per_dps = GYR_LSB_PER_DPS[gi]
        self._w8(GYRO_CONFIG0, (gi << 5) | code)
        self._w8(ACCEL_CONFIG0, (ai << 5) | code)
        base = 400 if odr < 400 else odr
        cut = [odr / 2] + [base / d for d in UI_FILT_DIV[1:]]
        bw = cut.index(nearest(cut, min(lpf_hz, odr / 2)))
        self.lpf_hz = cut[bw]
        self._w8(GYRO_ACCEL_CONFIG0, (bw << 4) | bw)
        self._w8(INTF_CONFIG0, 0x70)  # FIFO_COUNT_REC, count and data big-endian
        self._w8(FIFO_CONFIG1, 0x03)  # accel + gyro (+ temp and timestamp, always in packet 3)
        self._w8(PWR_MGMT0, 0x0F)  # gyro and accel in low-noise mode
        self.reset_fifo()

    def reset_fifo(self):
        self._w8(FIFO_CONFIG, 0x80)  # stop-on-full mode
        self._w8(SIGNAL_PATH_RESET, FIFO_FLUSH)
        self._r8(INT_STATUS)

    def _read_fifo(self, out, max_n):
        if self._r8(INT_STATUS) & INT_FIFO_FULL:
            self.overflows += 1
            self.reset_fifo()
            return 0
        c = self._read_into(FIFO_COUNTH, self._b2)
        n = (c[0] << 8) | c[1]
        if n > max_n:
            n = max_n
        if n == 0:
            return 0
        buf = self._fifo_buffer(n * PACKET)
        self._read_into(FIFO_DATA, memoryview(buf)[: n * PACKET])
        good = 0
        for i in range(n):  # records without both sensors (start-up) or the empty marker are skipped
            h = buf[i * PACKET]
            if h & HEADER_EMPTY or h & HEADER_ACC_GYR != HEADER_ACC_GYR:
                continue
            if good != i:
                buf[good * PACKET : (good + 1) * PACKET] = buf[i * PACKET : (i + 1) * PACKET]
            good += 1
        unpack_samples(buf, good, PACKET, 1, 7, True, out, 0)
        return good

    def temperature(self):
        c = self._read_into(TEMP_DATA1, self._b2)
        v = (c[0] << 8) | c[1]
        if v >= 32768:
            v -= 65536
        return v / 132.48 + 25.0
