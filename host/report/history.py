"""The wearer's history from the store: per-session values (from each session's saved report), medians of
the last sessions for the report's "your usual" column, weekly medians and the history page's figures.

Each report is saved in the store as analysis kind 'report' (the same dict as report.json), so history
needs no re-analysis of raw samples. Sessions without one can be analysed on demand
(`tiltguard history --analyse`).
"""
from __future__ import annotations

import datetime as dt
import time

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .build import rnd
from .catalogue import HISTORY_METRICS, METRICS
from .figures import BLUE, GREEN, ORANGE, PURPLE, STYLE, VERMILLION, FigureOut, _svg

REPORT_KIND = "report"
LAST_SESSIONS = 10  # "your usual": median over this many of the wearer's latest earlier sessions


def saved_reports(store) -> list[tuple[object, dict]]:
    """(SessionInfo, report dict) of every session with a saved report, oldest first."""
    out = []
    for info in store.sessions():
        rep = store.analyses(info.id).get(REPORT_KIND)
        if rep and "metrics" in rep:
            out.append((info, rep))
    return out


def history_medians(store, session_id: int | None, activity: str, before: float | None = None,
                    last: int = LAST_SESSIONS) -> dict[str, dict]:
    """metric -> {'median', 'sessions'} over the latest `last` earlier sessions of the same activity
    (earlier: started before `before`, or a lower id when `before` is None)."""
    earlier = []
    for info, rep in saved_reports(store):
        if info.id == session_id or rep.get("summary", {}).get("activity") != activity:
            continue
        if (before is not None and info.started_at >= before) or (before is None and session_id is not None
                                                                   and info.id > session_id):
            continue
        earlier.append(rep)
    earlier = earlier[-last:]
    out = {}
    for key in METRICS:
        vals = [r["metrics"][key]["value"] for r in earlier
                if key in r["metrics"] and r["metrics"][key]["value"] is not None]
        if vals:
            out[key] = {"median": float(np.median(vals)), "sessions": len(vals)}
    return out


def collect_history(store) -> dict:
    """The history page's data: one row per session with a saved report, weekly medians."""
    rows = []
    for info, rep in saved_reports(store):
        day = dt.datetime.fromtimestamp(info.started_at)
        iso = day.isocalendar()
        row = {"id": info.id, "date": day.strftime("%Y-%m-%d %H:%M"), "week": f"{iso[0]}-W{iso[1]:02d}",
               "started_at": info.started_at, "activity": rep["summary"]["activity"],
               "duration_min": rep["summary"]["duration_min"]}
        for key in HISTORY_METRICS:
            m = rep["metrics"].get(key)
            row[key] = m["value"] if m else None
        rows.append(row)
    weeks = []
    for week in sorted({r["week"] for r in rows}):
        sel = [r for r in rows if r["week"] == week]
        w = {"week": week, "sessions": len(sel)}
        for key in HISTORY_METRICS:
            vals = [r[key] for r in sel if r[key] is not None]
            w[key] = rnd(np.median(vals), METRICS[key].decimals) if vals else None
        weeks.append(w)
    columns = [k for k in HISTORY_METRICS if any(r[k] is not None for r in rows)] or list(HISTORY_METRICS[:4])
    return {"schema": "tiltguard-history/1", "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "columns": columns, "sessions": rows, "weeks": weeks}


def history_figures(history: dict) -> list[FigureOut]:
    rows = history["sessions"]
    if not rows:
        return []
    keys = history["columns"]
    colours = [BLUE, VERMILLION, GREEN, PURPLE, ORANGE, BLUE]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(9, 2.3 * ((len(keys) + 1) // 2)))
        axes = np.atleast_1d(fig.subplots((len(keys) + 1) // 2, 2, squeeze=False)).ravel()
        when = np.array([dt.datetime.fromtimestamp(r["started_at"]) for r in rows])
        for ax, key, colour in zip(axes, keys, colours):
            vals = np.array([np.nan if r[key] is None else r[key] for r in rows], float)
            ok = np.isfinite(vals)
            ax.plot(when[ok], vals[ok], "o-", color=colour, ms=4, lw=1)
            ax.set_title(f"{METRICS[key].label} ({METRICS[key].unit})", fontsize=9)
            ax.tick_params(axis="x", labelsize=7, rotation=30)
        for ax in axes[len(keys):]:
            ax.set_visible(False)
        fig.subplots_adjust(hspace=0.8, wspace=0.3)
        names = ", ".join(METRICS[k].label.lower() for k in keys)
        alt = (f"Small line charts, one per metric ({names}), with one point per session over "
               f"{len(history['weeks'])} weeks, from {rows[0]['date'][:10]} to {rows[-1]['date'][:10]}.")
        return [FigureOut("history", "Per session", alt, "One point per analysed session, oldest on the left.",
                          _svg(fig))]
