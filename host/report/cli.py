"""`tiltguard report` and `tiltguard history`."""
from __future__ import annotations

import argparse
import json
import sys
import time
import webbrowser
from pathlib import Path

from .catalogue import METRICS


def add_report_commands(sub) -> None:
    p = sub.add_parser("report", help="write the post-session report (HTML + JSON + per-stride CSV, or PDF)")
    p.add_argument("session", help="a stored session's id (see `tiltguard sessions`) or a raw CSV file")
    p.add_argument("-o", "--output", metavar="DIR", help="folder to write into (default: ./tiltguard-report-ID)")
    p.add_argument("--format", choices=("html", "pdf"), default="html",
                   help="pdf: also print the HTML to report.pdf with headless Chromium")
    p.add_argument("--open", action="store_true", help="open the report in the web browser")
    p.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("history", help="per-session tilt, anterior-tilt time, cadence, drop asymmetry over weeks")
    p.add_argument("-o", "--output", metavar="DIR", default="tiltguard-history",
                   help="folder for history.html / history.json (default: ./tiltguard-history)")
    p.add_argument("--analyse", action="store_true",
                   help="first analyse stored sessions that have no report yet (takes a few s each)")
    p.add_argument("--open", action="store_true", help="open the history page in the web browser")
    p.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")
    p.set_defaults(func=cmd_history)


def _open_store(db: str | None, create: bool = True):
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store import SessionStore
    from tiltguard.host.store.paths import default_db_path

    path = Path(db) if db else default_db_path()
    if not create and not path.exists():
        return None
    return SessionStore(path)


def cmd_report(args: argparse.Namespace) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.report.write import write_report, write_report_for_recording

    t0 = time.perf_counter()
    source = Path(args.session)
    if args.session.isdigit() and not source.is_file():
        sid = int(args.session)
        with _open_store(args.db) as store:
            paths = write_report(store, sid, args.output or f"tiltguard-report-{sid}", fmt=args.format)
    elif source.is_file():
        # imported when the command runs: keeps `tiltguard --help` and the other commands fast
        from tiltguard.host.rawcsv import read_raw

        rec = read_raw(source)
        store = _open_store(args.db, create=bool(args.db))  # history only from an existing store
        try:
            paths = write_report_for_recording(rec, args.output or f"{source.stem}-report", fmt=args.format,
                                               store=store, label=source.name)
        finally:
            if store is not None:
                store.close()
    else:
        raise ValueError(f"{args.session!r} is neither a stored session id nor a file")
    print(paths.report["summary"]["headline"])
    for name in ("html", "json", "strides_csv", "rides_csv", "pdf"):
        path = getattr(paths, name)
        if path is not None:
            print(f"wrote {path}")
    print(f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    if args.open:
        webbrowser.open((paths.pdf or paths.html).resolve().as_uri())
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.report.write import write_history

    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.report.drill_page import drill_progress_table

    with _open_store(args.db) as store:
        paths = write_history(store, args.output, analyse_missing=args.analyse)
        drills = drill_progress_table(store)  # tests and drills done with the pod (docs/drills.md)

    history = json.loads(paths.json.read_text())
    print(format_history_table(history))
    if drills:
        print(drills)
    print(f"wrote {paths.html}\nwrote {paths.json}")
    if args.open:
        webbrowser.open(paths.html.resolve().as_uri())
    return 0


def format_history_table(history: dict) -> str:
    cols = history["columns"]
    head = f"{'id':>4}  {'date':16}  {'activity':8} {'min':>6}" + "".join(
        f" {METRICS[k].label[:14]:>14}" for k in cols)
    units = " " * 40 + "".join(f" {METRICS[k].unit[:14]:>14}" for k in cols)
    lines = [head, units]
    for s in history["sessions"]:
        vals = "".join(f" {'–' if s[k] is None else format(s[k], f'.{METRICS[k].decimals}f'):>14}" for k in cols)
        lines.append(f"{s['id']:>4}  {s['date']:16}  {s['activity']:8} {s['duration_min']:>6.1f}{vals}")
    if not history["sessions"]:
        lines.append("no session has a report yet: run `tiltguard report ID` or `tiltguard history --analyse`")
    return "\n".join(lines)
