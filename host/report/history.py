"""The wearer's history from the store: per-session values (from each session's saved report), medians of
the last sessions for the report's "your usual" column, weekly medians and the history page's figures.

Each report is saved in the store as analysis kind 'report' (the same dict as report.json); every closed
session also has the store's own summary (kind 'pelvis', host.analysis.session_summary), which holds the
history's columns. So history needs no re-analysis of raw samples; sessions with neither can be analysed
on demand (`tiltguard history --analyse`).
"""
from __future__ import annotations

import datetime as dt
import time

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from .build import main_activity_of, rnd, stored_metric_values
from .catalogue import HISTORY_METRICS, METRICS
from .figures import BLUE, GREEN, ORANGE, PURPLE, STYLE, VERMILLION, FigureOut, _figure

REPORT_KIND = "report"  # the report dict (= report.json), saved by write_report
STORED_KIND = "pelvis"  # the summary host.analysis keeps for every closed session
LAST_SESSIONS = 10  # "your usual": median over this many of the wearer's latest earlier sessions


def session_values(analyses: dict) -> tuple[str, float | None, dict[str, float]] | None:
    """(main activity, duration min, metric -> value as shown) of one stored session: from its saved report,
    else from the summary the store keeps for every analysed session ('pelvis', host.analysis); None if
    the session has neither (or could not be analysed)."""
    rep = analyses.get(REPORT_KIND)
    if rep and "metrics" in rep:
        values = {k: m["value"] for k, m in rep["metrics"].items() if m["value"] is not None}
        return rep["summary"]["activity"], rep["summary"]["duration_min"], values
    stored = analyses.get(STORED_KIND)
    if not stored or "error" in stored:
        return None
    main = main_activity_of(stored)
    if main is None:
        return None
    values = {k: rnd(v, METRICS[k].decimals) for k, v in stored_metric_values(stored, main).items()}
    return main, rnd(stored.get("duration_min"), 1), {k: v for k, v in values.items() if v is not None}


def sessions_with_values(store) -> list[tuple[object, str, float | None, dict]]:
    """(SessionInfo, activity, duration min, values) of every analysed session, oldest first."""
    out = []
    for info in store.sessions():
        got = session_values(store.analyses(info.id))
        if got is not None:
            out.append((info, *got))
    return out


def history_medians(store, session_id: int | None, activity: str, before: float | None = None,
                    last: int = LAST_SESSIONS) -> dict[str, dict]:
    """metric -> {'median', 'sessions'} over the latest `last` earlier sessions of the same activity
    (earlier: started before `before`, or a lower id when `before` is None)."""
    earlier = []
    for info, act, _, values in sessions_with_values(store):
        if info.id == session_id or act != activity:
            continue
        if before is not None and info.started_at >= before:
            continue
        if before is None and session_id is not None and info.id > session_id:
            continue
        earlier.append(values)
    earlier = earlier[-last:]
    out = {}
    for key in METRICS:
        vals = [v[key] for v in earlier if v.get(key) is not None]
        if vals:
            out[key] = {"median": float(np.median(vals)), "sessions": len(vals)}
    return out


def collect_history(store) -> dict:
    """The history page's data: one row per session with a saved report, weekly medians."""
    rows = []
    for info, activity, duration_min, values in sessions_with_values(store):
        day = dt.datetime.fromtimestamp(info.started_at)
        iso = day.isocalendar()
        row = {"id": info.id, "date": day.strftime("%Y-%m-%d %H:%M"), "week": f"{iso[0]}-W{iso[1]:02d}",
               "started_at": info.started_at, "activity": activity, "duration_min": duration_min}
        for key in HISTORY_METRICS:
            row[key] = values.get(key)
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
            locator = mdates.AutoDateLocator(minticks=2, maxticks=6)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.tick_params(axis="x", labelsize=7)
        for ax in axes[len(keys):]:
            ax.set_visible(False)
        fig.subplots_adjust(hspace=0.8, wspace=0.3)
        names = ", ".join(METRICS[k].label.lower() for k in keys)
        alt = (f"Small line charts, one per metric ({names}), with one point per session over "
               f"{len(history['weeks'])} weeks, from {rows[0]['date'][:10]} to {rows[-1]['date'][:10]}.")
        return [_figure("history", "Per session", alt, "One point per analysed session, oldest on the left.",
                          fig)]
