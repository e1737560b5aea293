"""Report bench: how long `tiltguard report ID` takes for a stored session, by stage.

    python bench/report.py [--minutes 120] [--repeat 2] [--pdf] [--json FILE]

A simulated run (run-fatigue-creep stretched to --minutes, 200 Hz) is written as a raw CSV and imported into a
fresh store, which analyses it on close as it does every session. Then, --repeat times:

  report_s                 write_report(store, id, dir): load the samples, analyse (host.analysis), derive,
                           build the numbers, draw the figures, write HTML + JSON + CSV. What the CLI runs.
  report_from_analysis_s   the same with the SessionAnalysis handed in (what a caller that already holds the
                           analysis, e.g. the live app at stop, pays): derive + build + figures + write.
  load_s / analyse_s / derive_build_s / figures_s / write_s   report_s by stage
  pdf_s                    --pdf: printing the HTML with headless Chromium
  html_kb                  size of the self-contained page

Medians over the repeats. Issue 9's goal: a 2-hour session's report in <= 10 s. Issue 9 names no peer, so
rows have "peer": false. --broad/--mobgap/TILTGUARD_DATA are accepted like every bench's, but this one
uses simulated data only.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.options import add_data_options  # noqa: E402

SCENARIO = "run-fatigue-creep"
GOAL_S = 10.0


def run(minutes: float, repeat: int, pdf: bool) -> dict:
    from tiltguard.host.analysis import analyse_recording
    from tiltguard.host.rawcsv import write_raw
    from tiltguard.host.report.chromium import find_chromium, html_to_pdf
    from tiltguard.host.report.write import write_report
    from tiltguard.host.simulator import simulate
    from tiltguard.host.store import SessionStore

    rec, _ = simulate(SCENARIO, minutes=minutes, rate_hz=200, seed=1)
    with tempfile.TemporaryDirectory(prefix="tiltguard-bench-report-") as tmp:
        tmp = Path(tmp)
        write_raw(tmp / "session.csv", rec)
        store = SessionStore(tmp / "sessions.sqlite3")
        t = time.perf_counter()
        sid = store.import_csv(tmp / "session.csv")
        close_s = time.perf_counter() - t
        stages: dict[str, list[float]] = {}
        for k in range(repeat):
            t = time.perf_counter()
            paths = write_report(store, sid, tmp / f"out{k}")
            stages.setdefault("report_s", []).append(time.perf_counter() - t)
            for name, v in paths.timings_s.items():
                stages.setdefault(name, []).append(v)
        analysis = analyse_recording(store.recording(sid))
        for k in range(repeat):
            t = time.perf_counter()
            write_report(store, sid, tmp / f"given{k}", analysis=analysis)
            stages.setdefault("report_from_analysis_s", []).append(time.perf_counter() - t)
        if pdf and find_chromium():
            t = time.perf_counter()
            html_to_pdf(paths.html, tmp / "report.pdf")
            stages["pdf_s"] = [time.perf_counter() - t]
        row = {"name": f"report of a {minutes:g}-min stored session ({SCENARIO}, 200 Hz)", "peer": False,
               "minutes": minutes, "samples": len(rec), "strides": paths.report["strides"]["count"],
               "store_close_analysis_s": round(close_s, 2),
               "html_kb": round(paths.html.stat().st_size / 1024)}
        row.update({k: round(statistics.median(v), 2) for k, v in stages.items()})
        store.close()
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[120.0], help="session lengths (default 120)")
    ap.add_argument("--repeat", type=int, default=2, help="reports per session; medians are shown (default 2)")
    ap.add_argument("--pdf", action="store_true", help="also time the PDF (headless Chromium)")
    ap.add_argument("--json", help="write {'rows': [...]} here")
    add_data_options(ap)
    args = ap.parse_args(argv)
    rows = [run(m, args.repeat, args.pdf) for m in args.minutes]
    keys = ("report_s", "report_from_analysis_s", "load_s", "analyse_s", "derive_build_s", "figures_s", "write_s",
            "pdf_s", "html_kb", "store_close_analysis_s")
    print(f"{'metric':24}" + "".join(f"{r['minutes']:>10g} min" for r in rows) + "   goal")
    for k in keys:
        if not any(k in r for r in rows):
            continue
        goal = f"<= {GOAL_S:g} s (120 min)" if k == "report_s" else ""
        print(f"{k:24}" + "".join(f"{r.get(k, ''):>14}" for r in rows) + f"   {goal}")
    print(f"load average: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
