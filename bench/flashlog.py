"""The compressed flash log: ratio per recording set and chip, encoder cost, capacity per board and rate,
100-Hz against 200-Hz analysis, and sync throughput over USB (a pty) and BLE (bumble).

    python bench/flashlog.py [--seconds 60] [--sync-minutes 5] [--skip-sync] [--skip-rate]
                             [--broad DIR] [--mobgap DIR] [--running DIR] [--json out.json]

Compression: every recording is re-quantised to each supported chip's int16 LSB at the firmware's ranges
(8 g, 1000 dps: tiltguard_eval.log_frames.CHIPS), framed exactly as the device streams it (10 samples and a
quaternion per frame, a hello, battery events) and written both as the compressed log and as the plain log
(the format before compression). The ratio is plain bytes / compressed bytes; bytes per sample include every
header, the quaternion and the block overhead. The host's encoder is used here (the tests prove it writes the
same bytes as the device's, viper and bytecode, on the MicroPython unix port). Real sets keep their own
rate (BROAD 286 Hz, mobgap 100 Hz, alcantara 500 Hz); alcantara has only vertical and fore-aft acceleration,
its other four channels are zeros (so its ratio is stated per present channel too). Simulated runs and rides
at 100 and 200 Hz, each chip's noise model (the simulator's scenario errors at the chip's LSB).

Encoder: µs per sample on the unix port (viper, and plain bytecode), ESP32 estimate x --factor as
bench/firmware_cpu.py. Capacity: hours of log per board and rate from the measured bytes per sample of the
simulated runs at that rate. Rate: the same simulated sessions analysed at 200 Hz and decimated to 100 Hz
(every other sample, as a 100-Hz ODR would deliver them): tilt RMS difference, median contact time difference,
cadence and the flags raised. Sync: a log of --sync-minutes at 200 Hz downloaded from the simulated device
over a pty and over the bumble link; the time for a 4-hour log is extrapolated from the measured throughput.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from tiltguard_eval import repo_tests  # noqa: E402

repo_tests.bind()  # the repository's test helpers as `tests.*`

from tiltguard.firmware.flashlog import FlashLog, capacity_hours, parse_log  # noqa: E402
from tiltguard_eval.datasets import DatasetMissing, dataset_dir  # noqa: E402
from tiltguard_eval.log_frames import (  # noqa: E402
    CHIPS,
    device_frames,
    frames_file,
    quantise,
    samples_in,
)

from bench.options import add_data_options  # noqa: E402

FACTOR = 60.0  # ESP32 slowdown against this machine's unix port (bench/firmware_cpu.py's assumption)
BOARDS = (  # free bytes for logs: the filesystem partition minus the app (docs/hardware.md)
    ("4 MB flash board", 1.8e6),
    ("M5StickC Plus2 (8 MB)", 5.9e6),
    ("ESP32-S3-DevKitC-1-N16R8 (16 MB, recommended)", 13.9e6),
    ("any board + 32 GB microSD", 31.0e9),
)


def write_logs(frames: list[bytes], folder: Path) -> tuple[int, int]:
    """(compressed bytes, plain bytes) of one log of these frames; checks the round trip."""
    out = []
    for compress in (True, False):
        root = folder / ("z" if compress else "p")
        root.mkdir(parents=True, exist_ok=True)
        log = FlashLog(str(root), reserve_bytes=0, compress=compress)
        lid = log.open_new()
        for f in frames:
            log.append(f)
        log.close()
        data = (root / f"{lid:05d}.tgl").read_bytes()
        if compress and parse_log(data)[0] != frames:
            raise AssertionError("compressed log does not decode to its frames")
        out.append(len(data))
        (root / f"{lid:05d}.tgl").unlink()
    return out[0], out[1]


def recordings(a) -> list[tuple[str, str, np.ndarray, np.ndarray, float]]:
    """(set, name, acc m/s², gyr rad/s, rate) of every recording available, cut to --seconds."""
    out = []
    try:
        for p in sorted(dataset_dir("broad", a.broad).glob("*.npz")):
            d = np.load(p)
            rate = float(d["sampling_rate"])
            n = int(a.seconds * rate)
            out.append(("BROAD", p.stem, d["imu_acc"][:n], d["imu_gyr"][:n], rate))
    except DatasetMissing as e:
        print(f"skipped BROAD: {e}")
    try:
        from tiltguard_eval.mobgap_recordings import load_all

        for r in load_all(dataset_dir("mobgap", a.mobgap)):
            n = int(a.seconds * r.raw.rate_hz)
            out.append(("mobgap", f"{r.participant}/{r.name}", r.raw.acc[:n], r.raw.gyr[:n], r.raw.rate_hz))
    except DatasetMissing as e:
        print(f"skipped mobgap: {e}")
    try:
        from tiltguard_eval.running_data import load_alcantara, load_virtual

        run_dir = dataset_dir("running", a.running)
        for s in load_alcantara(run_dir / "alcantara"):
            out.append(("alcantara", s.name, s.rec.acc, s.rec.gyr, s.rec.rate_hz))
        for s in load_virtual(run_dir / "virtual")[:4]:
            n = int(a.seconds * s.rec.rate_hz)
            out.append(("running-virtual", s.name, s.rec.acc[:n], s.rec.gyr[:n], s.rec.rate_hz))
    except (DatasetMissing, FileNotFoundError) as e:
        print(f"skipped running: {e}")
    from tiltguard.host.simulator import simulate

    for scen in ("easy-run-neutral", "ride-steady"):
        for rate in (200.0, 100.0):
            rec, _ = simulate(scen, rate_hz=rate, seed=1, minutes=None)
            n = int(a.seconds * rate)
            kind = "sim-run" if "run" in scen else "sim-ride"
            out.append((f"{kind}-{int(rate)}Hz", scen, rec.acc[-n:], rec.gyr[-n:], rate))
    return out


def compression_rows(a, tmp: Path) -> tuple[list[dict], dict]:
    rows, per_set = [], {}
    print("\n%-18s %-12s %10s %8s %10s %8s" % ("set", "chip", "samples", "ratio", "B/sample", "files"))
    recs = recordings(a)
    for chip in CHIPS:
        acc_by_set: dict[str, list] = {}
        for set_name, name, acc, gyr, rate in recs:
            raw = quantise(acc, gyr, chip)
            frames = device_frames(raw, rate, chip, gyr_radps=gyr)
            z, p = write_logs(frames, tmp)
            acc_by_set.setdefault(set_name, []).append((z, p, samples_in(frames)))
        for set_name, parts in acc_by_set.items():
            z = sum(x[0] for x in parts)
            p = sum(x[1] for x in parts)
            n = sum(x[2] for x in parts)
            ratio, bps = p / z, z / n
            per_set.setdefault(set_name, []).append(bps)
            print("%-18s %-12s %10d %8.2f %10.2f %8d" % (set_name, chip.model, n, ratio, bps, len(parts)))
            rows.append({"name": f"compression_{set_name}_{chip.model}", "peer": False, "dataset": set_name,
                         "chip": chip.model, "compression_ratio": round(ratio, 3), "bytes_per_sample": round(bps, 3),
                         "samples": n})
    return rows, per_set


def encoder_rows(tmp: Path) -> list[dict]:
    from tiltguard.host.simulator import simulate

    from tests.mpy_helpers import find_micropython, run_micropython

    if find_micropython() is None:
        print("MicroPython unix port not found: encoder timing skipped")
        return []
    rec, _ = simulate("easy-run-neutral", rate_hz=200, seed=2, minutes=None)
    chip = CHIPS[0]
    frames = device_frames(quantise(rec.acc[-12000:], rec.gyr[-12000:], chip), 200, chip, gyr_radps=rec.gyr[-12000:])
    src = tmp / "frames.bin"
    src.write_bytes(frames_file(frames))
    rows = []
    print("\n%-28s %12s %14s %14s" % ("encoder (unix port)", "us/sample", "ESP32 us/smp", "ESP32 load %"))
    for mode in ("viper", "plain", "none"):
        out = tmp / f"enc-{mode}"
        out.mkdir(exist_ok=True)
        r = json.loads(run_micropython(["tests/mpy/encode_log.py", str(src), str(out), mode]).stdout.decode()
                       .strip().splitlines()[-1])
        us = r["append_us_per_sample"]
        esp = us * FACTOR
        load = esp * 200 / 1e4
        label = {"viper": "compressed (viper)", "plain": "compressed (bytecode)", "none": "plain blocks"}[mode]
        print("%-28s %12.2f %14.0f %14.1f" % (label, us, esp, load))
        rows.append({"name": f"encoder_{mode}", "peer": False, "dataset": "sim-run-200Hz",
                     "encoder_us_per_sample": round(us, 3), "esp32_us_per_sample_est": round(esp, 1),
                     "esp32_load_percent": round(load, 2), "factor_assumed": FACTOR})
    return rows


def capacity_rows(per_set: dict) -> list[dict]:
    rows = []
    print("\n%-48s %8s %10s %10s" % ("board", "rate Hz", "B/sample", "hours"))
    for rate in (100, 200):
        bps = max(per_set.get(f"sim-run-{rate}Hz", [7.0]) + per_set.get(f"sim-ride-{rate}Hz", [7.0]))
        for board, free in BOARDS:
            h = capacity_hours(free, rate, bytes_per_sample=bps)
            hp = capacity_hours(free, rate)
            print("%-48s %8d %10.2f %10.2f   (plain log: %.2f h)" % (board, rate, bps, h, hp))
            rows.append({"name": f"capacity_{board.split(' (')[0]}_{rate}Hz", "peer": False, "dataset": "sim",
                         "board": board, "rate_hz": rate, "bytes_per_sample": round(bps, 3),
                         "capacity_h": round(h, 2), "capacity_h_plain_log": round(hp, 2)})
    return rows


def rate_rows(a=None) -> list[dict]:
    from tiltguard.host.analysis import analyse_recording
    from tiltguard.host.samples import RawRecording
    from tiltguard.host.simulator import simulate

    rows = []
    print("\n%-26s %14s %16s %14s %s" % ("100 vs 200 Hz", "tilt RMS deg", "contact med ms", "cadence spm", "flags"))
    sessions = [(scen, "sim", simulate(scen, rate_hz=200, seed=5, minutes=None)[0])
                for scen in ("easy-run-neutral", "run-sustained-anterior", "ride-steady")]
    try:
        from tiltguard_eval.running_data import load_virtual

        for s in load_virtual(dataset_dir("running", a.running if a else None) / "virtual")[::4]:
            sessions.append((s.name, "running-virtual", s.rec))
    except (DatasetMissing, FileNotFoundError) as e:
        print(f"real running sessions skipped: {e}")
    for scen, set_name, rec in sessions:
        half = RawRecording(rec.t[::2], rec.acc[::2], rec.gyr[::2], 100.0, rec.sensor_model,
                            None if rec.temp_c is None else rec.temp_c[::2], dict(rec.meta))
        a2, a1 = analyse_recording(rec), analyse_recording(half)
        tilt2 = np.degrees(a2.angles.tilt[::2][: len(a1.angles.tilt)])
        tilt1 = np.degrees(a1.angles.tilt[: len(tilt2)])
        ok = np.isfinite(tilt1) & np.isfinite(tilt2)
        tilt_rms = float(np.sqrt(np.mean((tilt1[ok] - tilt2[ok]) ** 2))) if ok.any() else float("nan")
        c2, c1 = a2.contacts.t, a1.contacts.t
        if len(c1) and len(c2):
            j = np.searchsorted(c2, c1)
            j = np.clip(j, 1, len(c2) - 1)
            nearest = np.where(np.abs(c2[j] - c1) < np.abs(c2[j - 1] - c1), c2[j], c2[j - 1])
            diffs = (c1 - nearest) * 1000
            matched = np.abs(diffs) < 100
            med = float(np.median(diffs[matched])) if matched.any() else float("nan")
        else:
            med, matched = float("nan"), np.zeros(0, bool)
        cad2, cad1 = a2.cadence_spm("running") or a2.cadence_spm("riding"), a1.cadence_spm("running") or \
            a1.cadence_spm("riding")
        f2 = sorted(f.type for f in a2.flags)
        f1 = sorted(f.type for f in a1.flags)
        cad_diff = (cad1 - cad2) if cad1 is not None and cad2 is not None else None
        print("%-26s %14.3f %16.2f %14s %s" % (scen, tilt_rms, med, "%.2f" % cad_diff if cad_diff is not None else "-",
                                                "same " + str(f1) if f1 == f2 else f"200 Hz {f2} / 100 Hz {f1}"))
        rows.append({"name": f"rate_100_vs_200_{scen}", "peer": False, "dataset": set_name, "rate_hz": 100,
                     "tilt_rms_diff_deg": round(tilt_rms, 4), "contact_median_diff_ms": round(med, 2),
                     "contacts_200hz": int(len(c2)), "contacts_100hz": int(len(c1)),
                     "contacts_matched": int(matched.sum()),
                     "cadence_diff_spm": None if cad_diff is None else round(cad_diff, 3),
                     "same_flags": f1 == f2, "flags_200hz": f2, "flags_100hz": f1})
    return rows


def _log_on(folder: str, minutes: float) -> tuple[list[bytes], int]:
    from tiltguard.host.simulator import simulate

    rec, _ = simulate("easy-run-neutral", rate_hz=200, seed=6, minutes=max(1.5, minutes))
    n = int(minutes * 60 * 200)
    chip = CHIPS[1]
    frames = device_frames(quantise(rec.acc[:n], rec.gyr[:n], chip), 200, chip, gyr_radps=rec.gyr[:n])
    log = FlashLog(folder, reserve_bytes=0)
    log.open_new()
    for f in frames:
        log.append(f)
    log.close()
    return frames, log.list()[0][1]


def sync_rows(minutes: float, tmp: Path) -> list[dict]:
    from tiltguard.firmware.serial_link import SerialLink
    from tiltguard.host.link.serial import SerialTransport
    from tiltguard.host.link.simdevice import DeviceThread
    from tiltguard.host.simulator import simulate
    from tiltguard.host.store import SessionStore
    from tiltguard.host.store.sync import sync_device
    from tiltguard_eval.virtual_usb import VirtualUsbCable

    rows = []
    size_4h = None
    print("\n%-10s %10s %10s %12s %16s" % ("sync link", "bytes", "seconds", "kB/s", "4-h log, min"))
    rec, _ = simulate("easy-run-neutral", rate_hz=200, seed=6, minutes=1.5)
    cable = VirtualUsbCable(tmp / "ttyBench")
    inp, out = cable.device_streams()
    dev = DeviceThread(rec, lambda b: [SerialLink(inp, out, b.ticks_ms, b.ticks_diff)]).start()
    try:
        frames, size = _log_on(dev.sim.board.log_root, minutes)
        bps = size / samples_in(frames)
        size_4h = bps * 200 * 4 * 3600
        store = SessionStore(tmp / "sync-usb.sqlite3", analyse=None)
        t0 = time.monotonic()
        (s,) = asyncio.run(sync_device(SerialTransport(str(cable.port_path)), store))
        dt = time.monotonic() - t0
    finally:
        dev.stop()
        cable.close()
    rows.append(_sync_row("usb_pty", size, dt, s.kbytes_per_s, size_4h))
    try:
        rows.append(_ble_sync(minutes, tmp, size_4h))
    except ImportError as e:
        print(f"BLE sync skipped: {e}")
    return rows


def _sync_row(link, size, dt, kbps, size_4h):
    print("%-10s %10d %10.2f %12.1f %16.1f" % (link, size, dt, kbps, size_4h / 1000 / kbps / 60))
    return {"name": f"sync_{link}", "peer": False, "dataset": "sim-run-200Hz", "link": link, "bytes": size,
            "seconds": round(dt, 2), "sync_kbytes_per_s": round(kbps, 1),
            "log_4h_bytes": int(size_4h), "sync_4h_minutes_est": round(size_4h / 1000 / kbps / 60, 1)}


def _ble_sync(minutes, tmp, size_4h):
    import bumble  # noqa: F401 - skip cleanly without it
    from tiltguard.firmware.ble import BleLink
    from tiltguard.host.link.ble import BleTransport, scan
    from tiltguard.host.link.simdevice import SimulatedDevice
    from tiltguard.host.simulator import simulate
    from tiltguard.host.store import SessionStore
    from tiltguard.host.store.sync import sync_device

    from tests.bumble_link import UUID, VirtualRadio

    rec, _ = simulate("easy-run-neutral", rate_hz=200, seed=6, minutes=1.5)

    async def main():
        radio = VirtualRadio()
        await radio.power_on()
        link = BleLink(radio.mpy_ble(), UUID, "Tiltguard-Bench")
        device = SimulatedDevice(rec, [link], folder=tmp / "ble-device")
        frames, size = _log_on(device.board.log_root, minutes)
        task = asyncio.ensure_future(device.run())
        owner = getattr(device.device, "owner", None)
        if owner is not None:
            owner.open_window()
        backend = radio.bleak_backend()
        found = await scan(2.0, backend)
        store = SessionStore(tmp / "sync-ble.sqlite3", analyse=None)
        t0 = time.monotonic()
        (s,) = await sync_device(BleTransport(found[0].address, backend=backend), store)
        dt = time.monotonic() - t0
        device.stop()
        await task
        return size, dt, s.kbytes_per_s, link.max_frame

    size, dt, kbps, max_frame = asyncio.run(main())
    row = _sync_row("ble_bumble", size, dt, kbps, size_4h)
    row["max_frame"] = max_frame
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="seconds of each recording (default 60)")
    ap.add_argument("--sync-minutes", type=float, default=5.0, help="minutes of log synced (default 5)")
    ap.add_argument("--skip-sync", action="store_true")
    ap.add_argument("--skip-rate", action="store_true")
    ap.add_argument("--json", type=Path)
    add_data_options(ap, reads=("broad", "mobgap", "running"))
    a = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        comp, per_set = compression_rows(a, tmp)
        rows += comp
        rows += encoder_rows(tmp)
        rows += capacity_rows(per_set)
        if not a.skip_rate:
            rows += rate_rows(a)
        if not a.skip_sync:
            rows += sync_rows(a.sync_minutes, tmp)
    if a.json:
        a.json.write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
