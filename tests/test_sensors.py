"""IMU drivers against their register-level chip emulators, run on the MicroPython unix port."""
import json
import subprocess
import sys

import pytest

from tests.mpy_helpers import REPO_ROOT, run_micropython

CHIPS = {  # chip -> (model, rates the driver picks for 200 and 400 Hz requests)
    "mpu6050": ("MPU-6050", {200: 200.0, 400: 1000.0 / 3}),
    "mpu6500": ("MPU-6500", {200: 200.0, 400: 1000.0 / 3}),
    "mpu6886": ("MPU-6886", {200: 200.0, 400: 1000.0 / 3}),
    "icm42688": ("ICM-42688-P", {200: 200, 400: 500}),
    "lsm6ds3": ("LSM6DS3", {200: 208, 400: 416}),
    "lsm6dsox": ("LSM6DSOX", {200: 208, 400: 416}),
}


def _check(chip, rate, acc_g=8, gyr_dps=1000):
    proc = run_micropython(["tests/mpy/check_driver.py", chip, str(rate), str(acc_g), str(gyr_dps)])
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("rate", [200, 400])
@pytest.mark.parametrize("chip", sorted(CHIPS))
def test_driver_reads_every_sample_through_the_fifo(chip, rate):
    r = _check(chip, rate)
    model, rates = CHIPS[chip]
    assert r["model"] == model
    assert r["rate_hz"] == pytest.approx(rates[rate])
    # 8 s of irregular reads: every sample the chip produced arrives once, in order, within half an LSB
    assert r["generated"] == r["read"] > 7.5 * r["rate_hz"]
    assert r["max_err_lsb"] <= 0.5 + 1e-6
    # a 5 s stall overflows the FIFO: reported once, then reading resumes with correct data
    assert r["overflows"] == 1 and r["read_at_overflow"] == 0
    assert abs(r["read_after"] - r["rate_hz"]) <= 2  # the next second of samples
    assert r["max_err_lsb_after"] <= 0.5 + 1e-6
    assert r["temp_c"] == pytest.approx(31.5, abs=0.1)
    assert r["acc_range_g"] == 8 and r["gyr_range_dps"] == 1000


def test_scale_factors_follow_the_datasheet_sensitivities():
    g = 9.80665
    r = _check("icm42688", 200, 4, 500)
    assert r["acc_scale"] == pytest.approx(g / 8192) and r["gyr_scale"] == pytest.approx(0.017453292519943295 / 65.5)
    r = _check("lsm6dsox", 200, 16, 2000)
    assert r["acc_scale"] == pytest.approx(g * 0.488e-3) and r["gyr_scale"] == pytest.approx(0.017453292519943295 * 0.070)
    r = _check("mpu6050", 200, 2, 250)
    assert r["acc_scale"] == pytest.approx(g / 16384) and r["gyr_scale"] == pytest.approx(0.017453292519943295 / 131)


def test_configuration_registers_match_the_datasheet_encoding():
    regs = {int(k): v for k, v in _check("mpu6500", 200)["regs"].items()}
    assert regs[0x19] == 4  # SMPLRT_DIV: 1 kHz / (1 + 4) = 200 Hz
    assert regs[0x1B] == 0x10 and regs[0x1C] == 0x10  # FS_SEL=2 (1000 dps), AFS_SEL=2 (8 g)
    assert regs[0x1A] & 0x07 in range(1, 7)  # DLPF on, so the internal rate is 1 kHz
    assert regs[0x6A] & 0x40 and regs[0x23] == 0xF8  # FIFO on with temp, gyro xyz, accel
    regs = {int(k): v for k, v in _check("lsm6ds3", 200)["regs"].items()}
    assert regs[0x10] >> 2 == 0x17  # CTRL1_XL: ODR 208 Hz (0101), FS_XL ±8 g (11)
    assert regs[0x11] == 0x58  # CTRL2_G: ODR 208 Hz, FS_G 1000 dps (10)
    assert regs[0x0A] == (5 << 3) | 1  # FIFO_CTRL5: FIFO ODR 208 Hz, FIFO mode
    regs = {int(k): v for k, v in _check("icm42688", 200)["regs"].items()}
    assert regs[0x4F] == 0x27 and regs[0x50] == 0x27  # FS_SEL=1 (1000 dps / 8 g), ODR code 7 (200 Hz)
    assert regs[0x4E] == 0x0F and regs[0x5F] & 0x03 == 0x03


def test_missing_unknown_and_unresponsive_chips_give_clear_errors():
    e = _check("lsm6dsox", 200)["errors"]
    assert e["missing"].startswith("no IMU answers on I2C")
    assert "WHO_AM_I 0x12" in e["unknown"] and "supported are" in e["unknown"]
    assert "stopped answering" in e["unresponsive"]


def test_drivers_and_emulators_also_run_on_cpython():
    proc = subprocess.run([sys.executable, "tests/mpy/check_driver.py", "lsm6ds3", "200", "8", "1000"],
                          capture_output=True, cwd=REPO_ROOT, env={"PYTHONPATH": str(REPO_ROOT)}, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    r = json.loads(proc.stdout.decode())
    assert r["generated"] == r["read"] and r["max_err_lsb"] <= 0.5 + 1e-6
