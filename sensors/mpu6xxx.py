"""InvenSense MPU-6050 / MPU-6500 / MPU-6886 driver (I²C, FIFO).

Register map per the MPU-6000/6050 register map (rev 4.2), the MPU-6500 register map (rev 2.1) and the
MPU-6886 datasheet (rev 1.0): data big-endian; the FIFO is read at FIFO_R_W (0x74), which does not
auto-increment, so one burst drains many bytes. Packets are 14 bytes in register order:
ACCEL_X/Y/Z, TEMP, GYRO_X/Y/Z (the MPU-6886 always adds TEMP when gyro data goes to the FIFO; on the
6050/6500 we enable TEMP_FIFO_EN so every variant has the same packet).
"""
from tiltguard.sensors.base import ImuDriver, SensorNotResponding, UnknownSensor, nearest, unpack_samples

SMPLRT_DIV = 0x19
CONFIG = 0x1A
GYRO_CONFIG = 0x1B
ACCEL_CONFIG = 0x1C
ACCEL_CONFIG2 = 0x1D  # 6500 / 6886 only
FIFO_EN = 0x23
INT_STATUS = 0x3A
ACCEL_XOUT_H = 0x3B
TEMP_OUT_H = 0x41
USER_CTRL = 0x6A
PWR_MGMT_1 = 0x6B
FIFO_COUNTH = 0x72
FIFO_R_W = 0x74
WHO_AM_I = 0x75

USER_CTRL_FIFO_EN = 0x40
USER_CTRL_FIFO_RESET = 0x04
INT_FIFO_OFLOW = 0x10
CONFIG_FIFO_MODE_STOP = 0x40  # 6500/6886: stop writing when full (keeps packets aligned)
PWR_RESET = 0x80
PWR_CLK_PLL = 0x01

PACKET = 14
# WHO_AM_I -> (model, FIFO bytes, temperature sensitivity LSB/°C, temperature offset °C at raw 0)
VARIANTS = {
    0x68: ("MPU-6050", 1024, 340.0, 36.53),
    0x70: ("MPU-6500", 512, 333.87, 21.0),
    0x19: ("MPU-6886", 1024, 326.8, 25.0),
}
ACC_RANGES = (2, 4, 8, 16)
ACC_LSB_PER_G = (16384.0, 8192.0, 4096.0, 2048.0)
GYR_RANGES = (250, 500, 1000, 2000)
GYR_LSB_PER_DPS = (131.0, 65.5, 32.8, 16.4)
# DLPF_CFG 1..6 -> gyro bandwidth Hz (internal sample rate 1 kHz); 0 and 7 switch to 8 kHz, never used
DLPF_BW = (188, 98, 42, 20, 10, 5)


class MPU6xxx(ImuDriver):
    def __init__(self, i2c, addr=0x68, who=None):
        ImuDriver.__init__(self, i2c, addr)
        who = self._r8(WHO_AM_I) if who is None else who
        if who not in VARIANTS:
            raise UnknownSensor("WHO_AM_I 0x%02x at 0x%02x is not an MPU-6050/6500/6886" % (who, addr))
        self.who = who
        self.MODEL, self.fifo_size, self._t_sens, self._t_off = VARIANTS[who]

    def _configure(self, rate_hz, acc_range_g, gyr_range_dps, lpf_hz):
        self._w8(PWR_MGMT_1, PWR_RESET)
        for _ in range(50):  # the reset bit clears itself when the chip is back (~100 ms on a real part)
            if not self._r8(PWR_MGMT_1) & PWR_RESET:
                break
        else:
            raise SensorNotResponding("%s did not come out of reset" % self.MODEL)
        self._w8(PWR_MGMT_1, PWR_CLK_PLL)
        div = int(1000 / rate_hz + 0.5) - 1
        div = 0 if div < 0 else (255 if div > 255 else div)
        self.rate_hz = 1000.0 / (1 + div)
        bw = nearest(DLPF_BW, min(lpf_hz, self.rate_hz / 2))
        self.lpf_hz = bw
        dlpf = DLPF_BW.index(bw) + 1
        self._w8(SMPLRT_DIV, div)
        self._w8(CONFIG, dlpf | (CONFIG_FIFO_MODE_STOP if self.who != 0x68 else 0))
        ai = ACC_RANGES.index(nearest(ACC_RANGES, acc_range_g))
        gi = GYR_RANGES.index(nearest(GYR_RANGES, gyr_range_dps))
        self._w8(GYRO_CONFIG, gi << 3)
        self._w8(ACCEL_CONFIG, ai << 3)
        if self.who != 0x68:
            self._w8(ACCEL_CONFIG2, dlpf)  # accel DLPF with the same index: similar bandwidths
        self.acc_range_g = ACC_RANGES[ai]
        self.gyr_range_dps = GYR_RANGES[gi]
        self._acc_lsb_per_g = ACC_LSB_PER_G[ai]
        self._gyr_lsb_per_dps = GYR_LSB_PER_DPS[gi]
        # FIFO: accel + temp + gyro (0x80 TEMP | 0x70 XG YG ZG | 0x08 ACCEL; the 6886 reads bits 4 and 3)
        self._w8(FIFO_EN, 0xF8 if self.who != 0x19 else 0x18)
        self.reset_fifo()

    def reset_fifo(self):
        self._w8(USER_CTRL, USER_CTRL_FIFO_RESET)
        self._r8(INT_STATUS)  # clears a stale overflow flag
        self._w8(USER_CTRL, USER_CTRL_FIFO_EN)

    def _read_fifo(self, out, max_n):
        if self._r8(INT_STATUS) & INT_FIFO_OFLOW:
            self.overflows += 1
            self.reset_fifo()
            return 0
        c = self._read_into(FIFO_COUNTH, self._b2)
        count = (c[0] << 8) | c[1]
        n = count // PACKET
        if n > max_n:
            n = max_n
        if n == 0:
            return 0
        buf = self._fifo_buffer(n * PACKET)
        mv = memoryview(buf)[: n * PACKET]
        self._read_into(FIFO_R_W, mv)
        unpack_samples(buf, n, PACKET, 0, 8, True, out, 0)
        return n

    def temperature(self):
        c = self._read_into(TEMP_OUT_H, self._b2)
        v = (c[0] << 8) | c[1]
        if v >= 32768:
            v -= 65536
        return v / self._t_sens + self._t_off
