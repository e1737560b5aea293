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
    p.add_argument("--watch", metavar="FILE.fit", help="merge this watch activity with the session (docs/watch.md)")
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
    p.add_argument("--watch", metavar="FILE.fit", help="merge this watch activity with the newest synced session")
    _db_arg(p)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("sessions", help="list stored sessions (and recover any left open by a crash)")
    _db_arg(p)
    p.set_defaults(func=cmd_sessions)

    p = sub.add_parser("export", help="write a stored session as a raw CSV file (docs/raw-format.md), a FIT "
                                      "activity or per-stride/per-second tables (docs/watch.md)")
    p.add_argument("session", type=int, help="session id (see `tiltguard sessions`)")
    p.add_argument("-o", "--output", required=True, help="file to write (--csv: its stem + .strides/.seconds.csv)")
    p.add_argument("--fit", action="store_true", help="a FIT activity with the pelvis as developer fields")
    p.add_argument("--csv", action="store_true", help="per-stride and per-second tables (with the watch's pace, grade)")
    _db_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="store a raw CSV file or a device flash log (.tgl) as a session")
    p.add_argument("file")
    p.add_argument("--device", default="file", help="device name to file it under")
    _db_arg(p)
    p.set_defaults(func=cmd_import)


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")


def _store(args, check: bool = False):
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store import SessionStore

    store = SessionStore(args.db, check=check)
    for sid in store.recovered:
        print(f"recovered session {sid}, left open by a host that stopped mid-run or spooled when the "
              "database could not be written", file=sys.stderr)
    for problem in store.spool_problems:
        print(f"tiltguard {args.command}: note: {problem}", file=sys.stderr)
    return store


def _say(line: str) -> None:
    """One line for the user, at once (stderr, flushed), from any thread."""
    print(f"tiltguard record: {line}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- record
def cmd_record(args) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store import StoreError, UnavailableStore

    try:
        store = _store(args, check=True)  # nothing is ever added to a damaged file
    except StoreError as exc:  # record anyway: into a spool, moved into the database once it works again
        _say(f"{exc}; recording into a spool file instead")
        store = UnavailableStore(args.db, exc)
    with store:
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
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.text import printable

    rec = Recorder(transport, store, on_problem=lambda kind, msg: _say(printable(msg, 400)))
    rec.check_space()  # before: a warning if less than 10 minutes fit (the writers check again during)
    # the guided calibration the analysis looks for at the start: the neutral, then the wearer showing forward
    _say("to calibrate: stand still for 5 s, then hinge forward from the hips and hold 2 s, then set off "
         "(the stand sets your neutral; the hinge shows which way is forward, whatever the treadmill or the road)")
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
    restarts = f", {len(rec.restarts)} pod restart(s)" if rec.restarts else ""
    where = f"stored session(s) {', '.join(map(str, sids))}" if sids else "recorded (spooled)" if rec.spools else \
        "stored session(s) none"
    print(f"{where}: {s.samples_decoded} samples, "
          f"{s.link_drops - 1 if s.link_drops else 0} link drops, {s.frames_filled} frames resent, "
          f"{s.frames_given_up} frames lost, {s.integrity_errors} damaged frames{restarts}")
    for path in rec.spools:
        _say(f"the recording is safe in {path}; it is moved into {store.path} at the next start once the "
             "database can be written (`tiltguard doctor` if it is damaged)")
    if args.watch and sids:
        # imported when used: keeps `tiltguard --help` and the other commands fast
        from tiltguard.host.watch_commands import attach_after

        attach_after(store, sids, args.watch, args)
    return 0 if sids or rec.spools else 1


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

    from tiltguard.host.text import printable

    found = asyncio.run(scan(args.timeout))
    if not found:
        print("no Tiltguard device found")
        return 1
    for d in found:
        batt = f"{d.battery}%" if d.battery is not None else "?"
        print(f"{printable(d.name, 32):20} {d.address:20} {d.rssi:4d} dBm  battery {batt}")
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
        if s.damaged:
            what = "kept on the device (damaged: not deleted)"
        elif s.deleted:
            what = "deleted on the device"
        else:
            what = "kept on the device" if args.keep else f"NOT deleted (status {s.delete_status})"
        resumed = f", resumed at byte {s.resumed_from}" if s.resumed_from else ""
        print(f"\rlog {s.log_id}: {s.size} bytes, {s.frames} frames -> session {s.session_id}, {what}"
              f" ({s.kbytes_per_s:.1f} kB/s{resumed})")
        if s.damaged:
            for (a, b, why), (q0, q1) in zip(s.damaged, s.lost_seqs):
                seqs = f"frames {q0}-{q1}" if q0 is not None and q1 is not None and q1 >= q0 else "frames unknown"
                print(f"  damaged: bytes {a}-{b} ({why}), {seqs} lost; every other block kept")
            print(f"  raw copy kept in {s.kept_copy}")

    def bytes_done(lid, have, size, kbps):
        print(f"\rlog {lid}: {have * 100 // max(1, size):3d} % of {size} bytes, {kbps:.1f} kB/s", end="",
              flush=True)

    with _store(args, check=True) as store:  # nothing is added to a damaged file
        try:
            done = asyncio.run(sync_device(transport, store, delete=not args.keep, progress=report,
                                           on_bytes=bytes_done))
        except (OSError, RuntimeError, asyncio.TimeoutError) as exc:
            print(f"\nsync stopped: {exc}; run it again to resume where it stopped")
            return 1
        if args.watch:
            # imported when used: keeps `tiltguard --help` and the other commands fast
            from tiltguard.host.watch_commands import attach_after

            attach_after(store, [s.session_id for s in done if s.session_id is not None], args.watch, args)
    print(f"{len(done)} log(s) synced")
    return 0


# ---------------------------------------------------------------------- sessions, export, import
def cmd_sessions(args) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.text import printable

    with _store(args) as store:
        rows = store.sessions()
        if not rows:
            print(f"no sessions in {store.path}")
        for s in rows:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started_at))
            dur = f"{s.duration_s / 60:6.1f} min" if s.duration_s is not None else "  (open)  "
            link = store.analyses(s.id).get("link", {})
            samples = link.get("samples", "?")
            restarts = ""
            if link.get("restarts"):  # the pod restarted mid-session: its segments and the time without data
                restarts = (f", {link['restarts'] + 1} segments (pod restarted; "
                            f"{link.get('restart_gap_s', 0):.1f} s without data)")
            print(f"{s.id:5d}  {when}  {dur}  {s.state:9} {s.source:5} {s.transport or '':7} "
                  f"{printable(s.device_name or '?', 32):16} {samples} samples{restarts}")
    return 0


def cmd_export(args) -> int:
    if args.fit or args.csv:
        # imported when used: keeps `tiltguard --help` and the other commands fast
        from tiltguard.host.watch_commands import export_session

        with _store(args) as store:
            for line in export_session(store, args.session, args.output, fit=args.fit, csv=args.csv):
                print(f"wrote {line}")
        return 0
    with _store(args) as store:
        rec = store.export_csv(args.session, args.output)
    print(f"wrote {args.output}: {len(rec)} samples, {rec.duration_s / 60:.1f} min")
    return 0


def cmd_import(args) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store.store import content_origin

    with _store(args, check=True) as store:  # nothing is added to a damaged file
        if args.file.endswith(".tgl"):
            data = Path(args.file).read_bytes()
            # the same log imported again (from any path) is the same session; a new log at an old path is not
            sid, problem = store.import_flash_log(data, content_origin(data), args.device, "file")
            if problem:
                print(f"note: {problem}; everything before it was kept", file=sys.stderr)
        else:
            sid = store.import_csv(args.file, device_name=args.device)
    print(f"stored as session {sid}")
    return 0
