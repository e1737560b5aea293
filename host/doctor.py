"""`tiltguard doctor`: check the session database and, if it is damaged, recover what is readable into a
new file (the old one is never touched). The work is host/store/doctor.py; this module only declares the
command and prints its lines."""
from __future__ import annotations

import argparse
import sys


def add_doctor_commands(sub) -> None:
    p = sub.add_parser("doctor", help="check the session database (SQLite integrity_check) and recover what is "
                                      "readable into a new file")
    p.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")
    p.add_argument("-o", "--output", help="file to recover into (default: <db>.recovered-<time>.sqlite3)")
    p.add_argument("--recover", action="store_true", help="recover into a new file even if the check passes")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store.doctor import check_database, recover_database
    from tiltguard.host.store.paths import default_db_path
    from tiltguard.host.text import printable

    path = args.db or default_db_path()
    c = check_database(path)
    spools = f"; {c.spools} spooled recording(s) waiting for it" if c.spools else ""
    if c.ok and not c.chunks_damaged:
        print(f"{path}: integrity_check ok, {c.sessions} sessions, {c.chunks} chunks{spools}")
    elif c.ok:
        print(f"{path}: integrity_check ok, {c.sessions} sessions; {c.chunks_damaged} of {c.chunks} chunks "
              f"damaged (each costs only its own frames){spools}")
    else:
        first = printable(c.problems[0], 160) if c.problems else "?"
        print(f"{path}: DAMAGED: {first}" + (f" (+{len(c.problems) - 1} more problems)" if len(c.problems) > 1 else "")
              + spools)
    if c.ok and not args.recover:
        return 0
    r = recover_database(path, args.output)
    copied = sum(r.rows.values())
    lost = "an unknown number of" if any(v < 0 for v in r.unreadable.values()) else sum(r.unreadable.values())
    if not r.anything:
        print(f"nothing readable in {path}; it is left as it was", file=sys.stderr)
        return 1
    extra = f", {len(r.spooled_sessions)} spooled recording(s) added" if r.spooled_sessions else ""
    print(f"recovered {r.rows.get('sessions', 0)} sessions, {r.rows.get('chunks', 0)} chunks ({copied} rows; "
          f"{lost} rows unreadable){extra} into {r.path}; {path} is untouched: use --db {r.path} or move it in place")
    return 0 if c.ok else 1
