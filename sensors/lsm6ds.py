"""ST LSM6DS3 / LSM6DS3TR-C and LSM6DSO / LSM6DSOX drivers (I²C, FIFO).

Register maps per the LSM6DS3 datasheet (DocID026899) with AN4650, and the LSM6DSOX datasheet (DS12814)
with AN5272. Data little-endian, IF_INC auto-increment. The two generations differ in the FIFO:
* LSM6DS3: untagged 16-bit words in a fixed pattern, gyro X/Y/Z then accel X/Y/Z per ODR tick; the
  pattern position of the next word is in FIFO_STATUS3/4, DIFF_FIFO counts words.
* LSM6DSOX: tagged 7-byte words (tag + X/Y/Z) at FIFO_DATA_OUT_TAG; DIFF_FIFO counts words; a burst read
  rolls the address back from 0x7E to 0x78, so one transfer drains many words.
"""
from tiltguard.sensors.base import ImuDriver, SensorNotResponding, UnknownSensor, nearest, unpack_samples

WHO_AM_I = 0x0F
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
CTRL4_C = 0x13
CTRL8_XL = 0x17
OUT_TEMP_L = 0x20
FIFO_STATUS1 = 0x3A

CTRL3_BOOT = 0x80
CTRL3_BDU = 0x40
CTRL3_IF_INC = 0x04
CTRL3_SW_RESET = 0x01

ODR_HZ = (12.5, 26, 52, 104, 208, 416, 833)  # codes 1..7
ACC_RANGES = (2, 4, 8, 16)
ACC_FS_BITS = (0, 2, 3, 1)  # FS_XL codes: 00 2g, 10 4g, 11 8g, 01 16g
ACC_MG_PER_LSB = (0.061, 0.122, 0.244, 0.488)
GYR_RANGES = (125, 250, 500, 1000, 2000)
GYR_MDPS_PER_LSB = (4.375, 8.75, 17.5, 35.0, 70.0)

VARIANTS = {0x69: "LSM6DS3", 0x6A: "LSM6DS3TR-C", 0x6C: "LSM6DSOX"}


def make_lsm6ds(i2c, addr=0x6A, who=None):
    """The right driver class for the chip at addr."""
    if who is None:
        drv = ImuDriver(i2c, addr)
        drv.MODEL = "LSM6DS"
        who = drv._r8(WHO_AM_I)
    if who == 0x6C:
        return LSM6DSOX(i2c, addr, who)
    if who in (0x69, 0x6A):
        return LSM6DS3(i2c, addr, who)
    raise UnknownSensor("WHO_AM_I 0x%02x at 0x%02x is not an LSM6DS3/LSM6DSOX" % (who, addr))


class _LSM6DSBase(ImuDriver):
    TEMP_LSB_PER_C = 16.0

    def __init__(self, i2c, addr, who):
        ImuDriver.__init__(self, i2c, addr)
        self.who = who
        self.MODEL = VARIANTS[who]

    def _configure(self, rate_hz, acc_range_g, gyr_range_dps, lpf_hz):
        self._w8(CTRL3_C, CTRL3_SW_RESET | CTRL3_IF_INC)
        for _ in range(50):
            if not self._r8(CTRL3_C) & CTRL3_SW_RESET:
                break
        else:
            raise SensorNotResponding("%s did not come out of reset" % self.MODEL)
        self._w8(CTRL3_C, CTRL3_BDU | CTRL3_IF_INC)
        odr = nearest(ODR_HZ, rate_hz)
        self._odr_code = ODR_HZ.index(odr) + 1
        self.rate_hz = odr
        ai = ACC_RANGES.index(nearest(ACC_RANGES, acc_range_g))
        gi = GYR_RANGES.index(nearest(GYR_RANGES, gyr_range_dps))
        self.acc_range_g = ACC_RANGES[ai]
        self.gyr_range_dps = GYR_RANGES[gi]
        self._acc_lsb_per_g = 1000.0 / ACC_MG_PER_LSB[ai]
        self._gyr_lsb_per_dps = 1000.0 / GYR_MDPS_PER_LSB[gi]
        acc_bw = self._accel_filter(lpf_hz)
        self._w8(CTRL1_XL, (self._odr_code << 4) | (ACC_FS_BITS[ai] << 2) | acc_bw)
        gfs = 0x02 if gi == 0 else (gi - 1) << 2  # FS_125 bit, else FS_G
        self._w8(CTRL2_G, (self._odr_code << 4) | gfs)
        self._start_fifo()

    def temperature(self):
        c = self._read_into(OUT_TEMP_L, self._b2)
        v = c[0] | (c[1] << 8)
        if v >= 32768:
            v -= 65536
        return 25.0 + v / self.TEMP_LSB_PER_C


class LSM6DS3(_LSM6DSBase):
    FIFO_CTRL3 = 0x08
    FIFO_CTRL5 = 0x0A
    FIFO_STATUS3 = 0x3C
    FIFO_DATA_OUT_L = 0x3E
    XL_BW = (400, 200, 100, 50)  # BW_XL codes 00..11, used when XL_BW_SCAL_ODR is set
    FIFO_WORDS = 4096  # 8 kB

    def _accel_filter(self, lpf_hz):
        bw = nearest(self.XL_BW, lpf_hz)
        self.lpf_hz = bw
        self._w8(CTRL4_C, 0x80)  # XL_BW_SCAL_ODR: bandwidth from BW_XL rather than from the ODR
        return self.XL_BW.index(bw)

    def _start_fifo(self):
        self._w8(self.FIFO_CTRL5, 0)  # bypass mode empties the FIFO
        self._w8(self.FIFO_CTRL3, 0x09)  # gyro and accel both in the FIFO, no decimation
        self._w8(self.FIFO_CTRL5, (self._odr_code << 3) | 0x01)  # FIFO ODR = sensor ODR, stop when full
        self._carry = 0

    def reset_fifo(self):
        self._start_fifo()

    def _read_fifo(self, out, max_n):
        st = self._read_into(FIFO_STATUS1, bytearray(4))
        words = st[0] | ((st[1] & 0x0F) << 8)
        if st[1] & 0x60:  # OVER_RUN or FIFO_FULL: the pattern is no longer trustworthy
            self.overflows += 1
            self.reset_fifo()
            return 0
        pattern = st[2] | ((st[3] & 0x03) << 8)
        if pattern:  # a previous partial read left us mid-pattern: skip to the next gyro X word
            skip = 6 - pattern
            if skip > words:
                return 0
            self._read_into(self.FIFO_DATA_OUT_L, bytearray(2 * skip))
            words -= skip
        n = words // 6
        if n > max_n:
            n = max_n
        if n == 0:
            return 0
        buf = self._fifo_buffer(12 * n)
        self._read_into(self.FIFO_DATA_OUT_L, memoryview(buf)[: 12 * n])
        unpack_samples(buf, n, 12, 6, 0, False, out, 0)  # gyro first, then accel
        return n


class LSM6DSOX(_LSM6DSBase):
    TEMP_LSB_PER_C = 256.0
    FIFO_CTRL3 = 0x09
    FIFO_CTRL4 = 0x0A
    FIFO_DATA_OUT_TAG = 0x78
    TAG_GYRO = 0x01
    TAG_ACCEL = 0x02
    WORD = 7

    def _accel_filter(self, lpf_hz):
        # LPF2 on with HPCF_XL = 000 gives ODR/4; off leaves the ODR/2 analogue chain
        if lpf_hz <= self.rate_hz / 4 + 1:
            self._w8(CTRL8_XL, 0)
            self.lpf_hz = self.rate_hz / 4
            return 0x02
        self.lpf_hz = self.rate_hz / 2
        return 0

    def _start_fifo(self):
        self._w8(self.FIFO_CTRL4, 0)  # bypass empties the FIFO
        self._w8(self.FIFO_CTRL3, (self._odr_code << 4) | self._odr_code)  # batch gyro and accel at ODR
        self._w8(self.FIFO_CTRL4, 0x01)  # FIFO mode: stop when full
        self._pending_acc = None
        self._pending_gyr = None

    def reset_fifo(self):
        self._start_fifo()

    def _read_fifo(self, out, max_n):
        st = self._read_into(FIFO_STATUS1, self._b2)
        words = st[0] | ((st[1] & 0x03) << 8)
        if st[1] & 0x60:  # FIFO_OVR_IA or FIFO_FULL_IA
            self.overflows += 1
            self.reset_fifo()
            return 0
        if words > 2 * max_n:
            words = 2 * max_n
        if words == 0:
            return 0
        nbytes = self.WORD * words
        buf = self._fifo_buffer(nbytes)
        self._read_into(self.FIFO_DATA_OUT_TAG, memoryview(buf)[:nbytes])
        # pair accel and gyro words of the same time slot (TAG_CNT); a word left over waits for the next read
        n = 0
        o = 0
        for w in range(words):
            p = w * self.WORD
            tag = buf[p] >> 3
            cnt = (buf[p] >> 1) & 0x03
            if tag == self.TAG_ACCEL:
                self._pending_acc = (cnt, bytes(buf[p + 1 : p + 7]))
            elif tag == self.TAG_GYRO:
                self._pending_gyr = (cnt, bytes(buf[p + 1 : p + 7]))
            else:
                continue  # temperature / timestamp words are not batched by this driver
            a = self._pending_acc
            g = self._pending_gyr
            if a is not None and g is not None and a[0] == cnt and g[0] == cnt:
                unpack_samples(a[1] + g[1], 1, 12, 0, 6, False, out, o)
                o += 6
                n += 1
                self._pending_acc = None
                self._pending_gyr = None
        return n
