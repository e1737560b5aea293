"""IMU drivers for Tiltguard (MicroPython-compatible; also import on CPython).

`detect(i2c)` finds and identifies the IMU on the bus by WHO_AM_I and returns its driver; then
`configure(rate_hz, acc_range_g, gyr_range_dps)` and `read_fifo(out, max_n)`.
"""
from tiltguard.sensors.base import ImuError, SensorNotFound, SensorNotResponding, UnknownSensor

# (I²C address, WHO_AM_I register) pairs probed, in order
_PROBES = ((0x68, 0x75), (0x69, 0x75), (0x6A, 0x0F), (0x6B, 0x0F))


def detect(i2c, addr=None):
    """Driver for the first supported IMU found (or the one at addr). Clear errors otherwise."""
    try:
        present = i2c.scan()
    except OSError as e:
        raise SensorNotFound("I2C bus scan failed (%s): check SDA/SCL pins and pull-ups" % e)
    probes = [p for p in _PROBES if (addr is None or p[0] == addr) and p[0] in present]
    if not probes:
        raise SensorNotFound(
            "no IMU answers on I2C at %s (bus has %s): check wiring and power"
            % ("0x%02x" % addr if addr is not None else "0x68/0x69/0x6A/0x6B", [hex(a) for a in present])
        )
    seen = []
    for a, reg in probes:
        b = bytearray(1)
        try:
            i2c.readfrom_mem_into(a, reg, b)
        except OSError as e:
            raise SensorNotResponding("device at 0x%02x does not answer a register read (%s)" % (a, e))
        who = b[0]
        seen.append("0x%02x@0x%02x" % (who, a))
        if reg == 0x75:
            if who == 0x47:
                # only the detected chip's driver is loaded: RAM on the device
                from tiltguard.sensors.icm42688 import ICM42688

                return ICM42688(i2c, a, who)
            from tiltguard.sensors.mpu6xxx import VARIANTS

            if who in VARIANTS:
                from tiltguard.sensors.mpu6xxx import MPU6xxx

                return MPU6xxx(i2c, a, who)
        elif who in (0x69, 0x6A, 0x6C):
            from tiltguard.sensors.lsm6ds import make_lsm6ds

            return make_lsm6ds(i2c, a, who)
    raise UnknownSensor("unsupported IMU (WHO_AM_I %s): supported are MPU-6050/6500/6886, LSM6DS3/DSOX, "
                        "ICM-42688-P" % ", ".join(seen))
