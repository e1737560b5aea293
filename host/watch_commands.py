"""`tiltguard import-activity`, the watch file options of `record` / `sync`, and `export --fit / --csv`.

Heavy imports (NumPy, the analysis, the FIT SDK) happen inside the commands, so `tiltguard --help` stays
quick. See docs/watch.md.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

KNOWN_CLOCK_SHIFT_S = 900.0  # a live session's start is the host's clock: the watch's agrees within minutes


def add_watch_commands(sub) -> None:
    p = sub.add_parser("import-activity", help="merge a watch's FIT activity (pace, grade, heart rate) with a session")
    p.add_argument("file", help="the watch's or bike computer's .fit activity file")
    p.add_argument("session", type=int, help="session id (see `tiltguard sessions`)")
    add_clock_args(p)
    p.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")
    p.set_defaults(func=cmd_import_activity)


def add_clock_args(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--max-shift", type=float, metavar="S",
                   help="the watch's and the session's clocks differ by at most S seconds (default: 900 for live "
                        "recordings; anywhere in the file for synced or imported ones, whose start is not known)")
    g.add_argument("--anytime", action="store_true", help="search the whole file whatever the session's clock says")


def cmd_import_activity(args) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.store import SessionStore

    with SessionStore(args.db) as store:
        merged = attach_watch(store, args.session, args.file, max_shift_s=clock_shift(store, args))
    print_merge(merged)
    return 0


def clock_shift(store, args, session_id: int | None = None) -> float | None:
    if getattr(args, "anytime", False):
        return None
    if getattr(args, "max_shift", None) is not None:
        return float(args.max_shift)
    info = store.session(session_id if session_id is not None else args.session)
    return KNOWN_CLOCK_SHIFT_S if info.source == "live" else None


@dataclass
class Merged:
    session_id: int
    summary: dict


def session_products(store, session_id: int):
    """(analysis, main activity, session start unix) of a stored session."""
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    import numpy as np
    from tiltguard.host.activities import ACTIVITIES
    from tiltguard.host.analysis import analyse_recording, stored_recording

    info = store.session(session_id)
    analysis = analyse_recording(stored_recording(store, session_id))
    counts = np.bincount(analysis.activity.codes, minlength=len(ACTIVITIES))
    moving = {a: counts[ACTIVITIES.index(a)] for a in ("walking", "running", "riding")}
    main = max(moving, key=moving.get)
    return analysis, main, float(info.started_at)


def attach_watch(store, session_id: int, fit_path, max_shift_s: float | None, products=None) -> Merged:
    """Read, align and keep a watch file with a session; AlignmentRefused / WatchFileError say why not."""
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.watch.align import align_watch, session_counter
    from tiltguard.host.watch.fit_read import read_fit

    watch = read_fit(fit_path)  # a bad file fails here, before the session is analysed or anything written
    analysis, main, start = products or session_products(store, session_id)
    alignment = align_watch(watch, session_counter(analysis, main), start, float(analysis.rec.duration_s), main,
                            max_shift_s=max_shift_s)
    store.save_watch(session_id, str(Path(fit_path).resolve()), watch.to_bytes(), alignment.to_record())
    summary = summarise(store, session_id, analysis, main, start, watch, alignment.offset_s, alignment)
    return Merged(session_id, summary)


def summarise(store, session_id, analysis, main, start, watch, offset_s, alignment) -> dict:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.flags import FlagSettings
    from tiltguard.host.watch.merge import stride_table
    from tiltguard.host.watch.summary import watch_summary

    strides = stride_table(analysis, watch, offset_s, start)
    summary = watch_summary(watch, alignment, strides, main, FlagSettings().tilt_threshold_deg)
    store.save_analysis(session_id, "watch", summary)
    return summary


def stored_watch(store, session_id: int):
    """(WatchStream, alignment dict) of a session's merged watch file, or None."""
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.watch.stream import WatchStream

    row = store.watch(session_id)
    return None if row is None else (WatchStream.from_bytes(row[0]), row[1])


def print_merge(m: Merged) -> None:
    s = m.summary
    a = s["alignment"]
    print(f"merged {s['file']} ({s['sport']}, {s['records']} records) with session {m.session_id}: the watch's "
          f"clock is {a['offset_s']:+.2f} ± {a['sd_s']:.2f} s from the session's (matched on {a['signal']}, "
          f"r = {a['correlation']:.3f}, {a['matched_records']} records)")
    for k, b in s["grade_bands"].items():
        print(f"  {k:8} {b['strides']:5d} strides  tilt {b['tilt_deg']:5.1f}°  cadence {b['cadence']:5.0f}  "
              f"grade {b['grade_pct']:+5.1f} %")
    if s["pace_threshold"]:
        print(f"  anterior tilt becomes sustained faster than {s['pace_threshold']} /km")
    for adv in s["advice"]:
        print(f"  advice: {adv['text']}")


def attach_after(store, session_ids: list[int], fit_path, args) -> None:
    """`record --watch` / `sync --watch`: merge the file with the newest of the sessions just stored; a file
    that does not match is reported (one line) and the recording stays as it is."""
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.watch.align import AlignmentRefused
    from tiltguard.host.watch.fit_read import WatchFileError

    if not session_ids:
        return
    sid = max(session_ids)
    try:
        print_merge(attach_watch(store, sid, fit_path, clock_shift(store, args, sid)))
    except (AlignmentRefused, WatchFileError) as exc:
        print(f"watch file not merged with session {sid}: {exc}", file=sys.stderr)


def export_session(store, session_id: int, output, fit: bool, csv: bool) -> list[str]:
    """`export --fit` (a FIT activity) and/or `--csv` (OUTPUT's stem + .strides.csv / .seconds.csv)."""
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.watch.fit_export import seconds_table, write_fit_export
    from tiltguard.host.watch.merge import stride_table
    from tiltguard.host.watch.stream import WatchStream
    from tiltguard.host.watch.tables import write_seconds_table, write_stride_table

    analysis, main, start = session_products(store, session_id)
    merged = stored_watch(store, session_id)
    watch, offset = (merged[0], float(merged[1]["offset_s"])) if merged else (None, 0.0)
    strides = stride_table(analysis, watch or WatchStream(main, _empty()), offset, start)
    seconds = seconds_table(analysis, strides, start, watch, offset)
    t0 = float(analysis.rec.t[0])
    flags = [(f.start - t0, (f.end if f.end is not None else f.start) - t0, f.type) for f in analysis.flags]
    out = Path(output)
    wrote = []
    if fit:
        info = write_fit_export(out, seconds, flags, main, serial=session_id)
        wrote.append(f"{out}: FIT activity, {info['records']} records, {len(flags)} flagged span(s) as laps"
                     + (", with the watch's records" if watch else ""))
    if csv:
        stem = out.with_suffix("") if out.suffix in (".csv", ".fit") else out
        sp, cp = Path(f"{stem}.strides.csv"), Path(f"{stem}.seconds.csv")
        n = write_stride_table(sp, strides)
        k = write_seconds_table(cp, seconds)
        wrote += [f"{sp}: {n} strides", f"{cp}: {k} seconds"]
    return wrote


def _empty():
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    import numpy as np

    return np.array([], float)
