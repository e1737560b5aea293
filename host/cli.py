"""The `tiltguard` command line."""
from __future__ import annotations

import argparse
import sys
import time

# Each command's module only declares its arguments; what a command runs is imported when it runs.
from tiltguard.host.calibrate import add_calibrate_commands
from tiltguard.host.doctor import add_doctor_commands
from tiltguard.host.drill_cli import add_drill_commands
from tiltguard.host.record import add_link_commands
from tiltguard.host.report.cli import add_report_commands
from tiltguard.host.text import printable
from tiltguard.host.watch_commands import add_watch_commands


def _cmd_scenarios(args: argparse.Namespace) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.simulator import SCENARIOS

    for sc in SCENARIOS.values():
        print(f"{sc.name:24} {sc.default_minutes:5.1f} min  {sc.description}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.rawcsv import write_raw
    from tiltguard.host.simulator import simulate

    t0 = time.perf_counter()
    rec, truth = simulate(args.scenario, minutes=args.minutes, rate_hz=args.rate, seed=args.seed)
    write_raw(args.output, rec)
    print(f"wrote {args.output}: {len(rec)} samples, {rec.duration_s / 60:.1f} min at {rec.rate_hz:g} Hz, "
          f"{len(truth.ic_times)} foot strikes ({time.perf_counter() - t0:.1f} s)")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.demo import DEMO_SCENARIO, run_demo

    print(run_demo(args.scenario or DEMO_SCENARIO, minutes=args.minutes, seed=args.seed))
    return 0


def _cmd_live(args: argparse.Namespace) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.live.app import run_live

    return run_live(args)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tiltguard", description="Pelvic tilt, drop and rotation from a sacrum IMU.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("scenarios", help="list the simulator's scenarios")
    p.set_defaults(func=_cmd_scenarios)

    p = sub.add_parser("simulate", help="simulate a scenario into a raw CSV file")
    p.add_argument("scenario", help="scenario name (see `tiltguard scenarios`)")
    p.add_argument("-o", "--output", required=True, help="raw CSV file to write")
    p.add_argument("--minutes", type=float, help="stretch the scenario to this length")
    p.add_argument("--rate", type=float, default=200.0, help="sample rate, Hz (50-1000; default 200)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same data)")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("device", help="flash the firmware to a board, read its hello, set its rate, pair with it or "
                       "make it forget its owners (firmware/deploy.py)", add_help=False)
    p.add_argument("what", choices=("flash", "info", "rate", "pair", "forget"))
    p.add_argument("--port")
    p.add_argument("--ble")

    p = sub.add_parser("demo", help="run the pipeline on a built-in simulated run and print the results")
    p.add_argument("--scenario", help="scenario to simulate instead of the default run")
    p.add_argument("--minutes", type=float)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("live", help="live view: connect, calibrate, watch tilt and flags, record (PySide6 window)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--sim", metavar="SCENARIO", help="the built-in simulated device running this scenario")
    src.add_argument("--serial", metavar="PORT", help="USB serial port, e.g. /dev/ttyACM0")
    src.add_argument("--ble", metavar="NAME|ADDR", help="Bluetooth LE device (name or address)")
    p.add_argument("--minutes", type=float, help="--sim: scenario length (default: its own)")
    p.add_argument("--seed", type=int, default=0, help="--sim: random seed")
    p.add_argument("--speed", type=float, default=1.0, help="--sim: device clock speed-up (default 1)")
    p.add_argument("--no-record", action="store_true", help="watch only: store nothing")
    p.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")
    p.set_defaults(func=_cmd_live)

    add_link_commands(sub)  # record, scan, sync, sessions, export, import
    add_calibrate_commands(sub)  # calibrate accel, calibrate list
    add_report_commands(sub)  # report, history
    add_watch_commands(sub)  # import-activity: merge a watch's FIT file (docs/watch.md)
    add_doctor_commands(sub)  # doctor: check the session database, recover what is readable
    add_drill_commands(sub)  # drill, test: guided tests and drills measured by the pod (docs/drills.md)
    return ap


def _one_line_errors() -> tuple:
    """What a command may fail with in one line: bad input, and SQLite's errors if a command loaded it
    (looked up, not imported: `tiltguard --help` loads no sqlite3)."""
    sqlite3 = sys.modules.get("sqlite3")
    return (KeyError, ValueError, OSError) + ((sqlite3.Error,) if sqlite3 is not None else ())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["device"]:  # its own sub-commands and --help live in firmware.deploy
        # imported when the command runs: keeps `tiltguard --help` and the other commands fast
        from tiltguard.firmware.deploy import main as device_main

        def ble_owner(what, target):  # pair/forget over Bluetooth: host code, loaded only when used
            from tiltguard.host.link.ble import owner_command

            return owner_command(what, target)

        return device_main(argv[1:], ble_owner=ble_owner)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _one_line_errors() as exc:
        # Bad input (unknown scenario, bad file, bad numbers, a damaged database): one clear line, no traceback.
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        if not isinstance(exc, (KeyError, ValueError, OSError)):  # SQLite's own error, from a damaged file
            msg = f"session database: {exc} (`tiltguard doctor` checks it and recovers what is readable)"
        print(f"tiltguard {args.command}: error: {printable(msg, 400)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
