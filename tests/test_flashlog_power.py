"""Capacity and battery on the firmware in the loop (MicroPython unix port): the hello's hours of log left
and runtime from the measured duty cycle, and the warning buzzes at 15 min of log and 10 % battery."""
import ast
import time

import pytest
from tiltguard.firmware import power
from tiltguard.firmware.peripherals import lipo_percent

from tiltguard.host.simulator import simulate

from tests.fil_helpers import run_sim, write_source


def _buzzed(buzz, pattern):
    ons = [ms for _, ms in buzz]
    want = list(pattern[::2])
    return any(ons[i : i + len(want)] == want for i in range(len(ons)))


def test_low_log_and_low_battery_each_buzz_once_during_a_session(tmp_path):
    rate = 200
    # a medium that holds the reserve and 15 min + 25 s of log at 5 bytes per sample: a run codes to more
    # (~5.7), so the warning comes as soon as the log has measured its own rate (after two blocks)
    cap = 65536 + int((power.WARN_LOG_S + 25) * rate * 5.0)
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=2)
    data = write_source(tmp_path / "run.f32", rec.acc[-12400:], rec.gyr[-12400:])  # running, not standing
    s = run_sim({"seconds": 60, "chip": "icm42688", "data": str(data), "log_capacity": cap, "battery_mv": 3600},
                tmp_path / "run")
    left, runtime, pct = s["capacity"]
    assert pct == lipo_percent(3600 - 4) or pct <= power.WARN_BATTERY_PCT
    assert _buzzed(s["buzz"], power.WARN_BATTERY) and _buzzed(s["buzz"], power.WARN_LOG)
    assert sum(1 for _, ms in s["buzz"] if ms == 600) == 1  # once, not at every check
    assert left < power.WARN_LOG_S
    bps_measured = s["log_bytes_per_sample"]
    assert 3.0 < bps_measured < 8.0  # the log's own measure replaced the default
    written = 60 * rate * bps_measured
    assert left == pytest.approx((cap - 65536 - written) / (rate * bps_measured), rel=0.05)
    # runtime from the model at the measured shares: sampling all the time, advertising (no host)
    shares = s["power_shares"]
    assert shares["sampling"] > 0.1 and shares["connected"] == 0.0
    assert runtime == pytest.approx(power.runtime_s("esp32-s3", shares, pct), rel=0.01)


def test_power_model_numbers_quoted_in_docs():
    run = {"sampling": 1.0, "adv": 1.0, "write": 0.01, "cpu": 0.02}
    i = power.model_current_ma("esp32-s3", run)
    assert 40 < i < 50  # mA logging alone, no phone
    hours = power.runtime_s("esp32-s3", run, 100) / 3600
    assert hours == pytest.approx(400 * power.USABLE / i, rel=1e-6)
    assert power.log_left_s(13.9e6, 200, 6.2) / 3600 > 2.5  # the recommended 16 MB board at 200 Hz
    assert power.log_left_s(13.9e6, 100, 7.0) / 3600 > 5.0  # ... and at 100 Hz


def test_no_card_falls_back_to_the_flash_on_the_device_runtime():
    from tests.mpy_helpers import run_micropython_code

    out = run_micropython_code(
        "from tiltguard.firmware import storage\n"
        "print(storage.choose_log_root({'slot': 2, 'sck': 12, 'mosi': 11, 'miso': 13, 'cs': 10}, '/logs'))\n"
        "print(storage.choose_log_root(None, '/logs'))\n")
    assert out.split() == ["('/logs',", "0)", "('/logs',", "0)"]  # the unix port has no machine.SDCard


def test_device_info_and_rate_over_usb(tmp_path):
    from tiltguard.firmware import deploy
    from tiltguard.firmware.serial_link import SerialLink
    from tiltguard.host.link.simdevice import DeviceThread
    from tiltguard_eval.virtual_usb import VirtualUsbCable

    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=2)
    cable = VirtualUsbCable(tmp_path / "ttyTiltguard")
    inp, out = cable.device_streams()
    dev = DeviceThread(rec, lambda b: [SerialLink(inp, out, b.ticks_ms, b.ticks_diff)]).start()
    try:  # the functions behind `tiltguard device info` and `device rate`, with room for a busy machine
        # until the pod has read its battery once (its first task turn), the hello says the runtime is unknown
        deadline = time.monotonic() + 15.0
        while dev.sim is None or dev.sim.device.battery.pct is None:
            assert time.monotonic() < deadline, "the simulated pod never read its battery"
            time.sleep(0.01)
        info = deploy.info(str(cable.port_path), timeout=15.0)
        rate = deploy.set_rate(str(cable.port_path), 100, timeout=15.0)
        cfg_rate = dev.sim.device.cfg["rate_hz"]
    finally:
        dev.stop()
        cable.close()
    left_200 = float(info["log_left"].split()[0])
    left_100 = float(rate["log_left"].split()[0])
    assert info["log_left"].endswith("at 200 Hz (flash)") and "runtime_est" in info and "battery" in info
    assert cfg_rate == 100 and rate["rate_hz"] == 100
    assert left_100 == pytest.approx(2 * left_200 * power.DEFAULT_BYTES_PER_SAMPLE[200]
                                     / power.DEFAULT_BYTES_PER_SAMPLE[100], rel=0.05)


def test_logs_left_on_the_flash_stay_listed_when_a_card_is_in_use(tmp_path):
    from tests.mpy_helpers import run_micropython_code

    flash, card = tmp_path / "flash", tmp_path / "sd"
    out = run_micropython_code(f"""
from tiltguard.firmware.flashlog import FlashLog
from tiltguard.firmware import protocol as P
old = FlashLog({str(flash)!r}, reserve_bytes=0)
for k in range(2):
    old.open_new()
    old.append(P.encode_event(k, 0, P.E_LOG, 1, k))
    old.close()
log = FlashLog({str(card)!r}, reserve_bytes=0, also=({str(flash)!r},))
lid = log.open_new()
log.append(P.encode_event(9, 0, P.E_LOG, 1, 9))
log.close()
print(log.list(), lid, log.size(1) > 0, log.crc_of(2) == old.crc_of(2), log.delete(1), log.list())
""")
    first, rest = out.split("] ", 1)
    assert [lid for lid, _ in ast.literal_eval(first + "]")] == [1, 2, 3]  # the flash's two and the card's
    rest = rest.split()
    assert rest[:4] == ["3", "True", "True", "True"]  # new id after the flash's, old logs readable, deletable
    assert not (flash / "00001.tgl").exists() and (card / "00003.tgl").exists()
