# Runs on the MicroPython unix port (and CPython): drives a real sensor driver against its chip emulator
# and prints one JSON line with what the test asserts on. Usage: check_driver.py CHIP RATE ACC_G GYR_DPS
import array
import json
import math
import sys

from tiltguard.sensors import SensorNotFound, SensorNotResponding, UnknownSensor, detect
from tiltguard.sensors.emulated import (
    FakeI2C,
    FunctionSource,
    ICM42688Emulator,
    LSM6DS3Emulator,
    LSM6DSOXEmulator,
    ManualClock,
    MPU6xxxEmulator,
)

G = 9.80665


def motion(k):
    # distinct values at every sample (so a duplicate or reordering shows), within ±3 g and ±300 dps
    t = k * 0.00731
    return (2.0 * G * math.sin(t * 7.0), 1.5 * G * math.cos(t * 3.3), G + 0.8 * G * math.sin(t * 11.0 + 1.0),
            5.0 * math.sin(t * 5.0), -4.0 * math.cos(t * 2.0), 3.0 * math.sin(t * 13.0 + 0.5))


def make(chip, src, clock, bus):
    if chip.startswith("mpu"):
        who = {"mpu6050": 0x68, "mpu6500": 0x70, "mpu6886": 0x19}[chip]
        return bus.attach(MPU6xxxEmulator(src, clock, who=who, odr_error=0.003))
    if chip == "icm42688":
        return bus.attach(ICM42688Emulator(src, clock, odr_error=-0.002))
    if chip == "lsm6ds3":
        return bus.attach(LSM6DS3Emulator(src, clock, odr_error=0.001))
    return bus.attach(LSM6DSOXEmulator(src, clock, odr_error=0.001))


def compare(drv, out, n, base, stats):
    for i in range(n):
        want = motion(base + i)
        for ax in range(6):
            scale = drv.acc_scale if ax < 3 else drv.gyr_scale
            err = abs(out[6 * i + ax] * scale - want[ax]) / scale
            if err > stats["max_err_lsb"]:
                stats["max_err_lsb"] = err


def main():
    chip, rate, acc_g, gyr_dps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    clock = ManualClock(1000)
    src = FunctionSource(motion, temp_c=31.5)
    bus = FakeI2C()
    emu = make(chip, src, clock, bus)
    drv = detect(bus)
    drv.configure(rate, acc_g, gyr_dps)
    regs = {}
    for r in range(0x7F):
        regs[r] = emu.regs[r]
    out = array.array("h", bytes(2 * 6 * 32))
    stats = {"max_err_lsb": 0.0}
    got = 0
    base = emu.fifo_base
    seed = 12345
    for _ in range(400):  # irregular read intervals of 3..37 ms, like a busy event loop
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        clock.advance_us(3000 + seed % 34000)
        while True:
            n = drv.read_fifo(out, 32)
            compare(drv, out, n, base + got, stats)
            got += n
            if n < 32:
                break
    clock.advance_us(100000)  # drain what is left
    while True:
        n = drv.read_fifo(out, 32)
        compare(drv, out, n, base + got, stats)
        got += n
        if n == 0:
            break
    in_fifo_total = emu.generated - base
    # overflow: stop reading for 5 s, then carry on; the driver reports it and resumes cleanly
    clock.advance_us(5000000)
    n_over = drv.read_fifo(out, 32)
    over = drv.overflows
    base2 = emu.fifo_base if over else base + got  # after an overflow the FIFO restarts empty
    compare(drv, out, n_over, base2, stats)
    got2 = n_over
    stats2 = {"max_err_lsb": 0.0}
    for _ in range(50):
        clock.advance_us(20000)
        n = drv.read_fifo(out, 32)
        compare(drv, out, n, base2 + got2, stats2)
        got2 += n
    # errors: unresponsive chip mid-run, empty bus, unknown chip
    temp_c = drv.temperature()
    emu.unresponsive = True
    errors = {}
    try:
        drv.read_fifo(out, 32)
        errors["unresponsive"] = "none"
    except SensorNotResponding as e:
        errors["unresponsive"] = str(e)
    try:
        detect(FakeI2C())
        errors["missing"] = "none"
    except SensorNotFound as e:
        errors["missing"] = str(e)
    odd = FakeI2C()
    weird = odd.attach(MPU6xxxEmulator(src, clock, who=0x68))
    weird.regs[0x75] = 0x12
    try:
        detect(odd)
        errors["unknown"] = "none"
    except UnknownSensor as e:
        errors["unknown"] = str(e)
    print(json.dumps({
        "model": drv.MODEL, "rate_hz": drv.rate_hz, "acc_range_g": drv.acc_range_g,
        "gyr_range_dps": drv.gyr_range_dps, "acc_scale": drv.acc_scale, "gyr_scale": drv.gyr_scale,
        "lpf_hz": drv.lpf_hz, "read": got, "generated": in_fifo_total, "max_err_lsb": stats["max_err_lsb"],
        "read_at_overflow": n_over, "overflows": over, "read_after": got2,
        "max_err_lsb_after": stats2["max_err_lsb"], "temp_c": temp_c,
        "regs": regs, "errors": errors, "elapsed_s": (clock.now_us() - 1000) / 1e6,
    }))


main()
