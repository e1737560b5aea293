"""Firmware pieces on both runtimes: BLE encodings, flash-log power loss, resend history, battery curve."""
import contextlib
import io
import json
import struct

import pytest
from tiltguard.firmware import ble
from tiltguard.firmware.flashlog import capacity_hours, parse_log
from tiltguard.firmware.history import FrameHistory
from tiltguard.firmware.peripherals import lipo_percent
from tiltguard.firmware.sampling import SampleClock

from tests.mpy_helpers import run_micropython_code


def test_advertising_fits_31_bytes_with_the_128_bit_service_and_names_in_scan_response():
    adv = ble.adv_payload(services128=(ble.SERVICE_UUID,), appearance=ble.APPEARANCE_RUNNING_SENSOR_ON_HIP,
                          short_name="Tiltguard-A1"[: ble.SHORT_NAME_LEN])
    assert len(adv) == 31  # exactly the legacy limit, with a shortened name a passive scan can show
    assert adv.endswith(b"\x05\x08Tilt")
    assert adv[3:5] == bytes([17, 0x07]) and adv[5:21] == bytes.fromhex(ble.SERVICE_UUID.replace("-", ""))[::-1]
    resp = ble.adv_payload(name="Tiltguard-A1", services16=(0x1814, 0x180F))
    assert b"\x05\x03\x14\x18\x0f\x18" in resp and resp.endswith(b"\x0d\x09Tiltguard-A1")
    with pytest.raises(ValueError):
        ble.adv_payload(name="x" * 30, services128=(ble.SERVICE_UUID,))


def test_rsc_measurement_encoding():
    # flags bit 2 = running; speed in 1/256 m/s; cadence steps/min (Bluetooth RSC service 1.0)
    assert ble.rsc_measurement(168, 3.0) == struct.pack("<BHB", 0x04, 768, 168)
    assert ble.rsc_measurement(110) == struct.pack("<BHB", 0x00, 0, 110)


def test_ble_module_imports_on_micropython_without_machine_or_bluetooth():
    out = run_micropython_code(
        "import sys\nfrom tiltguard.firmware import ble\n"
        "print(ble.adv_payload(name='Tiltguard', services16=(0x1814, 0x180F)).hex())\n"
        "print('machine' in sys.modules, 'bluetooth' in sys.modules)\n")
    hexline, mods = out.strip().splitlines()
    assert hexline == ble.adv_payload(name="Tiltguard", services16=(0x1814, 0x180F)).hex()
    assert mods.split() == ["False", "False"]


LOG_SCRIPT = r"""
import os, json
from tiltguard.firmware.flashlog import FlashLog, parse_log
from tiltguard.firmware import protocol as P
root = ROOT
log = FlashLog(root, block_size=1024, compress=False)  # the plain block form
lid = log.open_new()
for s in range(40):
    log.append(P.encode_samples(s, s * 50000, s * 10, 5000000, 0, list(range(60)), 10))
log.flush()
blocks = log.blocks_written
for s in range(40, 45):
    log.append(P.encode_samples(s, s * 50000, s * 10, 5000000, 0, list(range(60)), 10))
log.f.close(); log.f = None  # power lost: the last 5 frames were still in RAM
size = log.size(lid)
with open(root + "/%05d.tgl" % lid, "ab") as f:
    f.write(b"TB" + bytes([0xF4, 0x01, 1, 2, 3, 4]) + bytes(300))  # a 500-byte block, 300 written
data = open(root + "/%05d.tgl" % lid, "rb").read()
frames, good, problem = parse_log(data)
print(json.dumps({"blocks": blocks, "frames": len(frames), "good": good, "size": size, "problem": problem,
                  "seqs": [P.decode_frame(f).seq for f in frames], "crc": log.crc_of(lid),
                  "list": log.list()}))
"""


def test_flash_log_loses_only_the_unfinished_block_on_power_loss(tmp_path):
    out = run_micropython_code(LOG_SCRIPT.replace("ROOT", repr(str(tmp_path))))
    r = json.loads(out.strip().splitlines()[-1])
    assert r["blocks"] >= 7 and r["good"] == r["size"]
    assert r["seqs"] == list(range(40))  # every frame of every complete block, in order
    assert "cut short" in r["problem"]
    data = next(tmp_path.glob("*.tgl")).read_bytes()
    import binascii

    assert r["crc"] == binascii.crc32(data)  # the device's CRC is what the host computes on its copy
    frames, good, _ = parse_log(data)  # the host's parser agrees
    assert len(frames) == 40 and good == r["size"]


def test_log_capacity_statement():
    # the numbers docs/hardware.md quotes: ~1.9 MB free on a 4 MB board, ~6 MB on 8 MB
    assert capacity_hours(1.9e6, 200) == pytest.approx(0.17, abs=0.01)
    assert capacity_hours(6.0e6, 100) == pytest.approx(1.06, abs=0.02)


def test_history_keeps_the_newest_frames_and_finds_them_by_seq():
    h = FrameHistory(1000, 50)
    for s in range(100):
        h.add(s, bytes([s % 256]) * (30 + s % 17))
    assert h.newest_seq() == 99
    oldest = h.oldest_seq()
    assert 99 - oldest + 1 == h.count and h.used <= 1000
    for s in range(oldest, 100):
        assert bytes(h.get(s)) == bytes([s % 256]) * (30 + s % 17)
    assert h.get(oldest - 1) is None and h.get(100) is None


HISTORY_IN_BLOCKS = """
from tiltguard.firmware.history import FrameHistory
h = FrameHistory(0, 40, 100)
for _ in range(7):
    h.add_block()  # 700 bytes in blocks that need not lie side by side on the heap
for s in range(200):
    h.add(s, bytes([s % 256]) * (30 + s % 37))
    o = h.off[(h.head + h.count - 1) % h.nslots]
    assert o // 100 == (o + 30 + s % 37 - 1) // 100, 'a frame straddles two blocks'
oldest = h.oldest_seq()
assert h.newest_seq() == 199 and 199 - oldest + 1 == h.count and h.used <= 700
assert all(bytes(h.get(s)) == bytes([s % 256]) * (30 + s % 37) for s in range(oldest, 200))
assert h.get(oldest - 1) is None and h.count >= 12
print('ok', h.count)
"""


def test_history_in_blocks_keeps_every_frame_whole_on_the_device_runtime_too():
    """A heap fragmented by the parts made before the history has room in many small holes and no large one:
    the ring is taken in blocks, and a frame that would straddle two goes to the start of the next."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(HISTORY_IN_BLOCKS, {})
    assert run_micropython_code(HISTORY_IN_BLOCKS).strip() == out.getvalue().strip()


def test_sample_clock_measures_a_fast_chip():
    c = SampleClock(200)
    true_ns = 4980000
    k = 0
    t = 0
    for i in range(3000):  # reads every 20 ms of device time
        t += 20000000
        n = (t // true_ns) - k
        k += n
        c.update(t, n)
    assert c.period_ns == pytest.approx(true_ns, rel=1e-4)


def test_sample_clock_keeps_its_phase_through_a_read_timed_late():
    """The host (or the GC) stalled 17 ms between the FIFO read and the clock: that read's time says nothing
    of the samples' phase. Followed with the usual gain it moved every later sample 1 ms late."""
    c = SampleClock(200)
    t = 0
    for _ in range(500):
        t += 20000000
        c.update(t, 4)
    steady = c.t_last_ns
    c.update(t + 20000000 + 17000000, 4, timely=False)
    assert c.t_last_ns == steady + 4 * c.period_ns
    c.update(t + 40000000, 4)
    assert abs(c.t_last_ns - (steady + 8 * c.period_ns)) < 100000  # back on the 5-ms grid, 0.1 ms


def test_battery_curve():
    assert lipo_percent(4200) == 100 and lipo_percent(3300) == 0
    assert 40 <= lipo_percent(3780) <= 55


def test_every_device_module_imports_on_micropython():
    from tiltguard.firmware.deploy import device_module_names

    mods = device_module_names()
    assert "tiltguard" in mods and "tiltguard.firmware.app" in mods and "tiltguard.sensors.icm42688" in mods
    parts = ("core", "sampling", "posture", "resend", "links", "peripherals", "commands")  # the app's parts
    assert all("tiltguard.firmware." + p in mods for p in parts) and "tiltguard.sensors.compat" in mods
    assert "tiltguard.firmware.sim" not in mods and "tiltguard.firmware.deploy" not in mods
    assert not [m for m in mods if "protocol_vectors" in m]  # evaluation code stays off the device
    needs_hw = {"tiltguard.firmware.board", "tiltguard.firmware.main"}  # import machine / start the app
    code = "".join("import %s\n" % m for m in mods if m not in needs_hw) + "print('ok')\n"
    assert run_micropython_code(code).strip() == "ok"


def test_sensors_never_import_firmware():
    """sensors/ is the lowest device layer (drivers and the MicroPython/CPython shims): firmware builds on it."""
    from tiltguard.firmware.deploy import device_module_names

    sensors = [m for m in device_module_names() if m.startswith("tiltguard.sensors")]
    code = ("import sys\n" + "".join("import %s\n" % m for m in sensors)
            + "print(sorted(m for m in sys.modules if m.startswith('tiltguard.firmware')))\n")
    assert run_micropython_code(code).strip() == "[]"


def test_device_info_reads_the_hello_over_a_serial_pty():
    pytest.importorskip("serial", reason="pyserial not installed (comes with the 'device' extra)")
    import os
    import pty
    import threading

    from tiltguard.firmware import protocol as P
    from tiltguard.firmware.deploy import DeployError, info
    from tiltguard_eval import protocol_vectors as V

    master, slave = pty.openpty()
    hello = P.encode_hello(3, 0, V.HELLO_INFO)

    def device():  # garbage first, then answers the host's C_HELLO with a hello frame
        d = P.SerialDeframer()
        while True:
            got = d.feed(os.read(master, 256))
            if any(f.type == P.T_COMMAND and f.cmd == P.C_HELLO for f in got):
                os.write(master, b"\x01\x02garbage\x00" + bytes(P.cobs_encode(hello)))
                return

    threading.Thread(target=device, daemon=True).start()
    r = info(os.ttyname(slave), timeout=5)
    assert r["sensor"] == "ICM-42688-P" and r["rate_hz"] == 200 and r["history_s"] == 60
    with pytest.raises(DeployError, match="cannot open"):
        info("/dev/does-not-exist", timeout=1)
