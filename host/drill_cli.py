"""`tiltguard drill NAME` and `tiltguard test NAME`: live guidance, or the offline analysis of a raw CSV.

    tiltguard drill --list
    tiltguard drill glute-bridge --sim                 # the live guidance on a simulated person
    tiltguard test hip-flexor-test --serial /dev/ttyACM0   # the pod buzzes each rep (--no-buzz: it does not)
    tiltguard drill glute-bridge --file RAW.csv --json OUT.json [--report DIR] [--db FILE]

Only the arguments are declared here; what a command runs is imported when it runs (`tiltguard --help`
loads no NumPy or Qt).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_drill_commands(sub) -> None:
    for kind, what in (("drill", "a drill"), ("test", "a test")):
        p = sub.add_parser(kind, help=f"guide and measure {what} with the pod (live), or analyse a recorded one")
        p.add_argument("name", nargs="?", help=f"{kind} name (see `tiltguard {kind} --list`)")
        p.add_argument("--list", action="store_true", help="list the tests and drills")
        p.add_argument("--file", metavar="RAW.csv", help="analyse this raw CSV (it starts with a still stand)")
        p.add_argument("--json", metavar="OUT", help="--file: write the sets and reps found here")
        p.add_argument("--report", metavar="DIR", help="--file: also write the drill page (drill.html) here")
        p.add_argument("--tolerance", action="append", default=[], metavar="FAULT=DEG",
                       help="a fault cue's tolerance in degrees, e.g. --tolerance arch=6 (repeatable)")
        src = p.add_mutually_exclusive_group()
        src.add_argument("--sim", action="store_true", help="live: a simulated person doing it")
        src.add_argument("--serial", metavar="PORT", help="live: the pod on this USB serial port")
        src.add_argument("--ble", metavar="NAME|ADDR", help="live: the pod over Bluetooth LE")
        p.add_argument("--seed", type=int, default=0, help="--sim: which simulated person")
        p.add_argument("--speed", type=float, default=1.0, help="--sim: play faster than real time")
        p.add_argument("--sets", type=int, metavar="N", help="--sim: the simulated person does N sets (default: the dose)")
        p.add_argument("--no-buzz", action="store_true",
                       help="live: the pod does not buzz the reps, holds, faults and set ends")
        p.add_argument("--no-record", action="store_true", help="live: store nothing")
        p.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")
        p.set_defaults(func=cmd_drill, kind=kind)


def parse_tolerances(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"--tolerance {item!r}: expected FAULT=DEGREES, e.g. arch=6")
    return out


def cmd_drill(args: argparse.Namespace) -> int:
    # imported when the command runs: keeps `tiltguard --help` fast
    from tiltguard.host.drills import DRILLS, get_drill

    if args.list:
        for d in DRILLS.values():
            print(f"{d.name:22} {d.kind:5} {d.position:9} {d.dose}")
        return 0
    if not args.name:
        raise ValueError(f"give a {args.kind} name (see `tiltguard {args.kind} --list`)")
    spec = get_drill(args.name, args.kind)
    tolerances = parse_tolerances(args.tolerance)
    spec.with_tolerances(tolerances)  # a bad tolerance fails here, before anything runs
    if args.file:
        return _offline(args, spec, tolerances)
    if args.json or args.report:
        raise ValueError("--json and --report go with --file (the live guidance stores its results)")
    if getattr(args, "sets", None) is not None and (not args.sim or args.sets < 1):
        raise ValueError("--sets N goes with --sim, N at least 1")
    # Qt loads when the live guidance starts, not for tiltguard --help
    from tiltguard.host.live.drill_view import run_drill_live

    return run_drill_live(args, spec, tolerances)


def _offline(args, spec, tolerances) -> int:
    # imported when the command runs: keeps `tiltguard --help` fast
    from tiltguard.host.drills import analyse_recording
    from tiltguard.host.rawcsv import read_raw

    rec = read_raw(args.file)
    result = analyse_recording(rec, spec, tolerances)
    data = result.to_json()
    data["source"] = {"file": str(args.file), "rate_hz": rec.rate_hz, "samples": len(rec)}
    print(summary_text(data))
    if args.db:
        # imported when the command runs: keeps `tiltguard --help` fast
        from tiltguard.host.store import SessionStore
        from tiltguard.host.store.drills import save_drill_result

        with SessionStore(args.db) as store:
            sid = store.import_csv(args.file)
            save_drill_result(store, sid, data)
            print(f"stored with session {sid}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1))
        print(f"wrote {args.json}")
    if args.report:
        # imported when the command runs: keeps `tiltguard --help` fast
        from tiltguard.host.report.drill_page import write_drill_page

        print(f"wrote {write_drill_page(data, args.report)}")
    return 0


def summary_text(data: dict) -> str:
    lines = [f"{data['drill']}: {len(data['sets'])} set(s)"]
    for k, s in enumerate(data["sets"], 1):
        reps = s["reps"]
        faults = sum(1 for r in reps if r["faults"])
        side = f" {s['side']}" if s["side"] else ""
        hold = ""
        if reps and any(r["hold_s"] for r in reps):
            hold = f", holds {min(r['hold_s'] for r in reps):.1f}-{max(r['hold_s'] for r in reps):.1f} s"
        lines.append(f"  set {k}{side}: {len(reps)} reps{hold}, {faults} with a fault")
    if data.get("sides"):
        lines.append(f"  {data['sides']['text']}")
    for note in data.get("notes", []):
        lines.append(f"  note: {note}")
    return "\n".join(lines)
