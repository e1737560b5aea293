"""The link and session sub-commands of `tiltguard`: record, scan, sync, sessions, export, import.

Heavy imports (bleak, pyserial, numpy, the simulator) happen inside the commands, so `tiltguard --help`
stays quick. Every command takes `--db FILE` (default: host.store.default_db_path()).
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path


def add_link_commands(sub) -> None:
    p = sub.add_parser("record", help="record a session from a device into the session store")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--ble", metavar="NAME|ADDR", help="Bluetooth LE device (name or address)")
    src.add_argument("--serial", metavar="PORT", help="USB serial port, e.g. /dev/ttyACM0")
    src.add_argument("--sim", metavar="SCENARIO", help="the device app on CPython, fed by the simulator")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: Ctrl-C)")
    p.add_argument("--minutes", type=float, help="--sim: scenario length (default: its own)")
    p.add_argument("--seed", type=int, default=0, help="--sim: random seed")
    p.add_argument("--speed", type=float, default=1.0, help="--sim: device clock speed-up (default 1)")
    _db_arg(p)
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("scan", help="list Tiltguard devices advertising nearby (name, address, RSSI, battery)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to listen (default 5)")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("sync", help="download the runs stored on a device's flash, then let it delete them")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--ble", metavar="NAME|ADDR")
    src.add_argument("--serial", metavar="PORT")
    p.add_argument("--keep", action="store_true", help="do not delete the device's copies")
    _db_arg(p)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("sessions", help="list stored sessions (and recover any left open by a crash)")
    _db_arg(p)
    p.set_defaults(func=cmd_sessions)

    p = sub.add_parser("export", help="write a stored session as a raw CSV file (docs/raw-format.md)")
    p.add_argument("session", type=int, help="session id (see `tiltguard sessions`)")
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    _db_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="store a raw CSV file or a device flash log (.tgl) as a session")
    p.add_argument("file")
    p.add_argument("--device", default="file", help="device name to file it under")
    _db_arg(p)
    p.set_defaults(func=cmd_import)


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")


def _store(args):
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store import SessionStore

    store = SessionStore(args.db)
    for sid in store.recovered:
        print(f"recovered session {sid}, left open by a host that stopped mid-run", file=sys.stderr)
    return store


# ---------------------------------------------------------------------- record
def cmd_record(args) -> int:
    with _store(args) as store:
        try:
            return asyncio.run(_record(args, store))
        except KeyboardInterrupt:
            return 0


async def _record(args, store) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store.recorder import Recorder

    device_task = None
    if args.sim:
        transport, device = _sim_device(args)
        device_task = asyncio.ensure_future(device.run())
    elif args.serial:
        # imported when the command runs: keeps `tiltguard --help` and the other commands fast
        from tiltguard.host.link.serial import SerialTransport

        transport = SerialTransport(args.serial)
    else:
        # imported when the command runs: keeps `tiltguard --help` and the other commands fast
        from tiltguard.host.link.ble import BleTransport

        transport = BleTransport(args.ble)
    rec = Recorder(transport, store)
    stop = asyncio.Event()

    # Ctrl-C ends the recording cleanly: stop the stream, fetch the last holes, close the session
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    status = asyncio.ensure_future(_status(rec))
    try:
        sids = await rec.run(duration_s=args.duration, stop=stop)
    finally:
        status.cancel()
        if device_task is not None:
            device.stop()
            await asyncio.gather(device_task, return_exceptions=True)
    s = rec.stats
    print(f"stored session(s) {', '.join(map(str, sids)) or 'none'}: {s.samples_decoded} samples, "
          f"{s.link_drops - 1 if s.link_drops else 0} link drops, {s.frames_filled} frames resent, "
          f"{s.frames_given_up} frames lost, {s.integrity_errors} damaged frames")
    return 0 if sids else 1


def _sim_device(args):
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.link.loopback import LoopbackTransport
    from tiltguard.host.link.simdevice import LoopbackLink, SimulatedDevice
    from tiltguard.host.simulator import simulate

    rec, _ = simulate(args.sim, minutes=args.minutes, seed=args.seed)
    link = LoopbackLink()
    device = SimulatedDevice(rec, [link], speed=args.speed)
    return LoopbackTransport(link, address=f"sim:{args.sim}:{args.seed}"), device


async def _status(rec) -> None:
    t0 = time.monotonic()
    while True:
        await asyncio.sleep(1.0)
        s = rec.stats
        print(f"{time.monotonic() - t0:6.0f} s  {s.samples_decoded} samples  link {'up' if rec.t.connected else 'DOWN'}"
              f"  holes {len(rec.tracker.missing)}", flush=True)


# ---------------------------------------------------------------------- scan
def cmd_scan(args) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.link.ble import scan

    found = asyncio.run(scan(args.timeout))
    if not found:
        print("no Tiltguard device found")
        return 1
    for d in found:
        batt = f"{d.battery}%" if d.battery is not None else "?"
        print(f"{d.name:20} {d.address:20} {d.rssi:4d} dBm  battery {batt}")
    return 0


# ---------------------------------------------------------------------- sync
def cmd_sync(args) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store.sync import sync_device

    if args.serial:
        # imported when the command runs: keeps `tiltguard --help` and the other commands fast
        from tiltguard.host.link.serial import SerialTransport

        transport = SerialTransport(args.serial)
    else:
        # imported when the command runs: keeps `tiltguard --help` and the other commands fast
        from tiltguard.host.link.ble import BleTransport

        transport = BleTransport(args.ble)
    def report(s):
        what = "deleted on the device" if s.deleted else ("kept on the device" if args.keep else
                                                          f"NOT deleted (status {s.delete_status})")
        extra = f"; {s.problem}" if s.problem else ""
        print(f"log {s.log_id}: {s.size} bytes -> session {s.session_id}, {what}{extra}")

    with _store(args) as store:
        done = asyncio.run(sync_device(transport, store, delete=not args.keep, progress=report))
    print(f"{len(done)} log(s) synced")
    return 0


# ---------------------------------------------------------------------- sessions, export, import
def cmd_sessions(args) -> int:
    with _store(args) as store:
        rows = store.sessions()
        if not rows:
            print(f"no sessions in {store.path}")
        for s in rows:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started_at))
            dur = f"{s.duration_s / 60:6.1f} min" if s.duration_s is not None else "  (open)  "
            link = store.analyses(s.id).get("link", {})
            samples = link.get("samples", "?")
            print(f"{s.id:5d}  {when}  {dur}  {s.state:9} {s.source:5} {s.transport or '':7} "
                  f"{s.device_name or '?':16} {samples} samples")
    return 0


def cmd_export(args) -> int:
    with _store(args) as store:
        rec = store.export_csv(args.session, args.output)
    print(f"wrote {args.output}: {len(rec)} samples, {rec.duration_s / 60:.1f} min")
    return 0


def cmd_import(args) -> int:
    with _store(args) as store:
        if args.file.endswith(".tgl"):
            data = Path(args.file).read_bytes()
            sid, problem = store.import_flash_log(data, f"file:{Path(args.file).resolve()}", args.device, "file")
            if problem:
                print(f"note: {problem}; everything before it was kept", file=sys.stderr)
        else:
            sid = store.import_csv(args.file, device_name=args.device)
    print(f"stored as session {sid}")
    return 0
