"""Live view bench: the whole app (window + link thread) against the simulated device at 200 Hz.

The firmware's device app runs in real time on CPython with its emulated IMU (host.link.simdevice), streams
through the real protocol into the Recorder and the store, and the window draws it (Qt offscreen platform
unless --show: the same raster painting, no screen). After the guided stand and the first strides have
calibrated it, the app is measured for --seconds while the simulated runner runs:

  latency_median_ms, latency_p99_ms  every sample: its sample time (device clock mapped to host time by the
                                      recorder's clock fit) -> the end of the first repaint that drew it
  pickup_median_ms                   sample time -> the window took it from the link (device framing,
                                      transport, pipeline, the window's beat): the rest is drawing
  fps                                repaints of the plots per second
  cpu_percent                        CPU of the app, % of one core: every thread of the process except the
                                      simulated device's own (it stands in for the pod's chip);
                                      cpu_gui_percent / cpu_link_percent split it (window; link thread:
                                      recorder + pipeline), cpu_device_percent is the simulated device
  cpu_app_s                          the same as CPU seconds over the span (CPU time, not wall time: less
                                      sensitive to what else the shared machine runs than the latencies)

    python bench/live.py [--seconds 30] [--json FILE] [--show]

Issue 8 names no peer, so the row has "peer": false. --broad/--mobgap/TILTGUARD_DATA are accepted like every
bench's, but this one uses simulated data only. Goals (issue 8): latency median <= 50 ms, p99 <= 100 ms,
>= 30 fps, <= 25 % of one core.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.options import add_data_options  # noqa: E402

SCENARIO = "run-sustained-anterior"


def _thread_cpu(proc, ident_native: dict[str, int]) -> dict[str, float]:
    by_id = {t.id: t.user_time + t.system_time for t in proc.threads()}
    return {name: by_id.get(tid, 0.0) for name, tid in ident_native.items()}


def run(seconds: float, show: bool, minutes: float) -> dict:
    if not show:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import psutil
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication
    from tiltguard.host.live.link import Source
    from tiltguard.host.live.settings import LiveSettings
    from tiltguard.host.live.window import LiveWindow

    app = QApplication.instance() or QApplication([])
    tmp = tempfile.TemporaryDirectory(prefix="tiltguard-bench-live-")
    win = LiveWindow(LiveSettings(str(Path(tmp.name) / "live.ini")), db_path=str(Path(tmp.name) / "s.sqlite3"))
    win.open_url = lambda url: None
    win.meter.enabled = True  # latency and frame-rate figures (off in the app)
    win.resize(1280, 860)
    win.show()

    def wait(sec: float, until=lambda: False) -> bool:
        end = time.monotonic() + sec
        while time.monotonic() < end:
            app.processEvents()
            if until():
                return True
            time.sleep(0.002)
        return until()

    link = win.connect_source(Source("sim", SCENARIO, minutes=minutes, speed=1.0))
    link.request_stand()
    if not wait(120, lambda: link.pipeline is not None and link.pipeline.calibrated):
        raise SystemExit("bench/live.py: the app did not calibrate within 120 s")
    wait(5.0)  # first strides, plots filled
    proc = psutil.Process()
    device_thread = next(t for t in threading.enumerate() if t.name == "sim-device")
    threads = {"gui": threading.main_thread().native_id, "link": link._thread.native_id,
               "device": device_thread.native_id}
    win.meter.reset()
    # the measured span runs Qt's own event loop, as `tiltguard live` does (app.exec()): polling
    # processEvents() would add the poll's own CPU to the app's
    span_loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), span_loop.quit)
    c0, tc0, w0 = proc.cpu_times(), _thread_cpu(proc, threads), time.monotonic()
    span_loop.exec()
    c1, tc1, w1 = proc.cpu_times(), _thread_cpu(proc, threads), time.monotonic()
    lat = np.asarray(win.meter.latency_ms)
    paints = np.asarray(win.meter.paints)
    span = w1 - w0
    row = {
        "name": "tiltguard live (simulated device, 200 Hz)" + ("" if show else ", offscreen"),
        "peer": False,
        "latency_median_ms": round(float(np.median(lat)), 1) if len(lat) else None,
        "latency_p99_ms": round(float(np.percentile(lat, 99)), 1) if len(lat) else None,
        "fps": round(float(len(paints) / span), 1),
        "pickup_median_ms": round(float(np.median(win.meter.pickup_ms)), 1) if win.meter.pickup_ms else None,
        "cpu_percent": round(100 * ((c1.user + c1.system) - (c0.user + c0.system)
                                    - (tc1["device"] - tc0["device"])) / span, 1),
        "cpu_gui_percent": round(100 * (tc1["gui"] - tc0["gui"]) / span, 1),
        "cpu_link_percent": round(100 * (tc1["link"] - tc0["link"]) / span, 1),
        "cpu_device_percent": round(100 * (tc1["device"] - tc0["device"]) / span, 1),
        "cpu_app_s": round((c1.user + c1.system) - (c0.user + c0.system) - (tc1["device"] - tc0["device"]), 2),
        "samples_drawn": int(len(lat)),
        "seconds": round(span, 1),
        "frames_lost": link.status.frames_lost,
    }
    win.stop()
    wait(60, link.finished.is_set)
    win.close()
    tmp.cleanup()
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measured span after calibration (default 30)")
    ap.add_argument("--show", action="store_true", help="draw on the screen instead of offscreen")
    ap.add_argument("--json", help="write {'rows': [...]} here")
    add_data_options(ap)
    args = ap.parse_args(argv)
    minutes = max(6.0, (args.seconds + 120) / 60)  # long enough to calibrate and run through the span
    row = run(args.seconds, args.show, minutes)
    goals = {"latency_median_ms": ("<=", 50), "latency_p99_ms": ("<=", 100), "fps": (">=", 30),
             "cpu_percent": ("<=", 25)}
    print(f"{'metric':22} {'value':>9}  goal")
    for k in ("latency_median_ms", "latency_p99_ms", "pickup_median_ms", "fps", "cpu_percent", "cpu_gui_percent",
              "cpu_link_percent", "cpu_device_percent", "cpu_app_s",
              "samples_drawn", "frames_lost"):
        g = goals.get(k)
        print(f"{k:22} {row[k]!s:>9}  {g[0] + ' ' + str(g[1]) if g else ''}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": [row]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
