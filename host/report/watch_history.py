"""Pace-matched history: the pelvis at the same pace, session after session ("tilt at 5:00 /km this month
vs last"). Only sessions with a merged watch file have a pace; each keeps, in its 'watch' analysis
(host.watch.summary), the median tilt of its level strides within ±10 s/km of 5:30, 5:00, 4:30 and 4:00 /km.
Comparing like with like takes out the biggest confounder of a tilt trend: how fast the runs were."""
from __future__ import annotations

import datetime as dt

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from .figures import BLUE, GREEN, ORANGE, STYLE, VERMILLION, FigureOut, _figure

WATCH_KIND = "watch"


def pace_matched_history(store, now: dt.datetime | None = None) -> dict | None:
    """{'sessions': [{id, date, started_at, paces: {pace: tilt}}], 'months': {this, last},
    'compare': {pace: {this_month, last_month, sessions_this, sessions_last}}}, or None without any."""
    rows = []
    for info in store.sessions():
        w = store.analyses(info.id).get(WATCH_KIND)
        if not w or not w.get("tilt_at_pace"):
            continue
        rows.append({"id": info.id, "started_at": info.started_at,
                     "date": dt.datetime.fromtimestamp(info.started_at).strftime("%Y-%m-%d"),
                     "paces": {p: v["tilt_deg"] for p, v in w["tilt_at_pace"].items()}})
    if not rows:
        return None
    latest = dt.datetime.fromtimestamp(max(r["started_at"] for r in rows)) if now is None else now
    this = (latest.year, latest.month)
    last = (latest.year - 1, 12) if latest.month == 1 else (latest.year, latest.month - 1)
    compare = {}
    for pace in sorted({p for r in rows for p in r["paces"]}, reverse=True):
        sel = {m: [r["paces"][pace] for r in rows if pace in r["paces"] and _month(r) == m] for m in (this, last)}
        compare[pace] = {"this_month": _median(sel[this]), "last_month": _median(sel[last]),
                         "sessions_this": len(sel[this]), "sessions_last": len(sel[last])}
    return {"sessions": rows, "months": {"this": "%04d-%02d" % this, "last": "%04d-%02d" % last},
            "compare": compare}


def _month(r) -> tuple[int, int]:
    d = dt.datetime.fromtimestamp(r["started_at"])
    return d.year, d.month


def _median(v):
    return round(float(np.median(v)), 1) if v else None


def pace_matched_figure(h: dict) -> FigureOut | None:
    rows = h["sessions"]
    paces = list(h["compare"])
    if not rows or not paces:
        return None
    colours = [GREEN, BLUE, ORANGE, VERMILLION]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(9, 3.2))
        ax = fig.subplots()
        when = np.array([dt.datetime.fromtimestamp(r["started_at"]) for r in rows])
        for pace, c in zip(paces, colours):
            vals = np.array([r["paces"].get(pace, np.nan) for r in rows], float)
            ok = np.isfinite(vals)
            if ok.any():
                ax.plot(when[ok], vals[ok], "o-", color=c, ms=4, lw=1, label=f"at {pace} /km")
        ax.set_ylabel("tilt vs neutral (°)")
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=6))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    parts = [f"{p}: {v['this_month']}° this month vs {v['last_month']}° last" for p, v in h["compare"].items()
             if v["this_month"] is not None and v["last_month"] is not None]
    alt = "Tilt at matched paces per session. " + ("; ".join(parts) if parts else "Not yet two months to compare.")
    return _figure("pace-matched", "Tilt at the same pace, session by session", alt,
                   "Level strides within ±10 s/km of each pace, from sessions with a merged watch file "
                   "(docs/watch.md).", fig)
