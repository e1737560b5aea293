"""Host link bench: sustained 200 Hz streams through each transport into the session store.

For each transport the firmware's own device app (CPython, real time, emulated IMU fed by the simulator)
streams for --seconds; the host records into a fresh SQLite store. Reported per transport:

  samples_sent      samples the device app produced
  samples_stored    distinct samples in the stored session
  lost, duplicated  sent but not stored; stored more than once (decoded session)
  latency_*_ms      frame arrival (transport callback) -> decoded and handed to live consumers
  store_latency_*   frame arrival -> committed to SQLite (the commit beat dominates)
  host_cpu_percent  CPU of the host side per stream, % of one core (serial: all threads but the
                    device's; ble/sim: device app and both bumble stacks share one event loop with the
                    host, so the figure covers all of them and is an upper bound for the host alone)

    python bench/link.py [--seconds 20] [--transports sim,serial,ble] [--json FILE]

Issue 7 names no peer implementation, so every row has "peer": false. --broad/--mobgap/TILTGUARD_DATA are
accepted like every bench's, but this one uses simulated data only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from tiltguard_eval import repo_tests  # noqa: E402

repo_tests.bind()  # tests/bumble_link.py as `tests.bumble_link`

from tiltguard.host.link.decode import sample_table  # noqa: E402
from tiltguard.host.simulator import simulate  # noqa: E402
from tiltguard.host.store import SessionStore  # noqa: E402
from tiltguard.host.store.recorder import Recorder  # noqa: E402

from bench.options import add_data_options  # noqa: E402


def _cpu_of_threads(exclude_native_ids: set[int]) -> float:
    import psutil

    total = 0.0
    for t in psutil.Process().threads():
        if t.id not in exclude_native_ids:
            total += t.user_time + t.system_time
    return total


def _summary(name, sent, store, sid, recorder, cpu_s, wall_s, extra=None):
    tab = sample_table(store.decoded(sid))
    uniq = np.unique(tab.index)
    lat = np.array(recorder.stats.decode_latency_s) * 1e3
    slat = []
    for w in recorder._sessions:
        slat.extend(w[2].latencies)
    slat = np.array(slat) * 1e3
    row = {
        "name": name,
        "peer": False,
        "samples_sent": int(sent),
        "samples_stored": int(len(uniq)),
        "lost": int(sent - len(uniq)),
        "duplicated": int(len(tab.index) - len(uniq)),
        "latency_median_ms": float(np.median(lat)) if len(lat) else None,
        "latency_p99_ms": float(np.percentile(lat, 99)) if len(lat) else None,
        "store_latency_median_ms": float(np.median(slat)) if len(slat) else None,
        "store_latency_p99_ms": float(np.percentile(slat, 99)) if len(slat) else None,
        "host_cpu_percent": 100.0 * cpu_s / wall_s,
        "throughput_samples_per_s": len(uniq) / wall_s,
        "integrity_errors": recorder.stats.integrity_errors,
        "frames_resent": recorder.stats.frames_filled,
    }
    row.update(extra or {})
    return row


def bench_sim(rec, seconds, tmp):
    from tiltguard.host.link.loopback import LoopbackTransport
    from tiltguard.host.link.simdevice import LoopbackLink, SimulatedDevice

    async def main():
        link = LoopbackLink()
        device = SimulatedDevice(rec, [link], folder=tmp / "sim-dev")
        store = SessionStore(tmp / "sim.sqlite3")
        r = Recorder(LoopbackTransport(link), store)
        task = asyncio.ensure_future(device.run())
        c0, t0 = time.process_time(), time.monotonic()
        sids = await r.run(duration_s=seconds)
        cpu, wall = time.process_time() - c0, time.monotonic() - t0
        device.stop()
        await task
        return _summary("sim", device.device.stats["samples"], store, sids[0], r, cpu, wall,
                        {"cpu_scope": "device+host"})

    return asyncio.run(main())


def bench_serial(rec, seconds, tmp):
    from tiltguard.firmware.serial_link import SerialLink
    from tiltguard.host.link.serial import SerialTransport
    from tiltguard.host.link.simdevice import DeviceThread
    from tiltguard_eval.virtual_usb import VirtualUsbCable

    cable = VirtualUsbCable(tmp / "ttyBench")
    inp, out = cable.device_streams()
    dev = DeviceThread(rec, lambda b: [SerialLink(inp, out, b.ticks_ms, b.ticks_diff)]).start()
    dev_ids = {dev._thread.native_id}
    store = SessionStore(tmp / "serial.sqlite3")
    r = Recorder(SerialTransport(str(cable.port_path)), store)

    async def main():
        c0, t0 = _cpu_of_threads(dev_ids), time.monotonic()
        sids = await r.run(duration_s=seconds)
        return sids, _cpu_of_threads(dev_ids) - c0, time.monotonic() - t0

    try:
        sids, cpu, wall = asyncio.run(main())
    finally:
        dev.stop()
        cable.close()
    return _summary("serial", dev.sim.device.stats["samples"], store, sids[0], r, cpu, wall,
                    {"cpu_scope": "host"})


def bench_ble(rec, seconds, tmp):
    sys.path.insert(0, str(REPO))
    from tiltguard.firmware.ble import BleLink
    from tiltguard.host.link.ble import BleTransport
    from tiltguard.host.link.simdevice import SimulatedDevice

    from tests.bumble_link import UUID, VirtualRadio

    async def main():
        radio = VirtualRadio()
        await radio.power_on()
        link = BleLink(radio.mpy_ble(), UUID, "Tiltguard-bench")
        device = SimulatedDevice(rec, [link], folder=tmp / "ble-dev")
        device.device.owner.open_window()  # the owner held the button: the host bonds as it connects
        task = asyncio.ensure_future(device.run())
        store = SessionStore(tmp / "ble.sqlite3")
        r = Recorder(BleTransport("C0:11:22:33:44:01", backend=radio.bleak_backend()), store)
        c0, t0 = time.process_time(), time.monotonic()
        sids = await r.run(duration_s=seconds)
        cpu, wall = time.process_time() - c0, time.monotonic() - t0
        device.stop()
        await task
        return _summary("ble", device.device.stats["samples"], store, sids[0], r, cpu, wall,
                        {"cpu_scope": "device+bumble(2 stacks)+host"})

    return asyncio.run(main())


BENCHES = {"sim": bench_sim, "serial": bench_serial, "ble": bench_ble}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="stream length per transport (default 20)")
    ap.add_argument("--transports", default="sim,serial,ble")
    ap.add_argument("--json", help="write {'rows': [...]} here")
    add_data_options(ap)
    args = ap.parse_args(argv)
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=11)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tiltguard-bench-link-") as d:
        for name in args.transports.split(","):
            tmp = Path(d) / name
            tmp.mkdir()
            rows.append(BENCHES[name](rec, args.seconds, tmp))
            print(f"  {name}: done", file=sys.stderr, flush=True)
    cols = ["name", "samples_sent", "samples_stored", "lost", "duplicated", "latency_median_ms", "latency_p99_ms",
            "store_latency_median_ms", "store_latency_p99_ms", "host_cpu_percent", "throughput_samples_per_s",
            "cpu_scope"]
    print(f"200 Hz stream, {args.seconds:g} s per transport (one threading.Thread per device where separate)")
    print("  ".join(f"{c:>14}" if c != "cpu_scope" else c for c in cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            cells.append(v if c == "cpu_scope" else (f"{v:14.2f}" if isinstance(v, float) else f"{v!s:>14}"))
        print("  ".join(cells))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
