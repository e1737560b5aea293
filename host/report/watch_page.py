"""The report's watch section: tilt and cadence against pace and grade, the route coloured by tilt, the
watch's laps. Present only when a watch file was merged with the session (`tiltguard import-activity`).

The route is a plain SVG polyline in local metres (equirectangular around the route's centre: exact
enough over a few km), no map tiles, so the report stays one offline file.
"""
from __future__ import annotations

import base64

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from tiltguard.host.watch.align import WatchAlignment
from tiltguard.host.watch.merge import GRADE_BAND, StridesWithWatch, format_pace, stride_table
from tiltguard.host.watch.stream import WatchStream
from tiltguard.host.watch.summary import watch_summary

from .figures import BLUE, GREEN, GREY, ORANGE, STYLE, VERMILLION, FigureOut, _figure

EARTH_RADIUS_M = 6_371_000.0
ROUTE_PX = 640


def watch_section(store, session_id: int | None, products, threshold_deg: float) -> tuple[dict | None, list[FigureOut]]:
    """(the report's 'watch' entry, its figures), or (None, []) without a merged watch file."""
    if store is None or session_id is None:
        return None, []
    row = store.watch(session_id)
    if row is None:
        return None, []
    watch = WatchStream.from_bytes(row[0])
    al = row[1]
    alignment = WatchAlignment(**{k: al[k] for k in WatchAlignment.__dataclass_fields__ if k in al})
    info = store.session(session_id)
    main = products.main_activity
    strides = stride_table(products.analysis, watch, alignment.offset_s, float(info.started_at))
    summary = watch_summary(watch, alignment, strides, main, threshold_deg)
    start_watch = float(info.started_at) + alignment.offset_s
    summary["laps"] = [_lap_entry(k, lap, start_watch) for k, lap in enumerate(watch.laps)]
    summary["origin"] = al.get("origin")
    with matplotlib.rc_context(STYLE):
        figs = [pace_figure(strides, summary, main, threshold_deg), grade_figure(strides, summary, main, threshold_deg)]
    figs.append(route_figure(strides, threshold_deg))
    return summary, [f for f in figs if f is not None]


def _lap_entry(k: int, lap: dict, start_watch: float) -> dict:
    dur = lap["end"] - lap["start"]
    d = lap.get("distance_m")
    return {"lap": k + 1, "start_min": round((lap["start"] - start_watch) / 60, 1), "duration_min": round(dur / 60, 1),
            "distance_km": None if d is None else round(d / 1000, 2),
            "pace": format_pace(dur / (d / 1000)) if d else None, "trigger": lap.get("trigger")}


def _level(s: StridesWithWatch, main: str) -> np.ndarray:
    return (s.activity == main) & np.isfinite(s.speed_mps) & (s.speed_mps > 0.5) & np.isfinite(s.tilt_deg) & \
        (~np.isfinite(s.grade) | (np.abs(s.grade) <= GRADE_BAND))


def pace_figure(s: StridesWithWatch, summary: dict, main: str, threshold_deg: float) -> FigureOut | None:
    m = _level(s, main)
    if m.sum() < 20:
        return None
    riding = main == "riding"
    x = s.speed_mps[m] * 3.6 if riding else s.pace_s_per_km[m] / 60
    fig = Figure(figsize=(9, 4.6))
    ax1, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"hspace": 0.1})
    ax1.scatter(x, s.tilt_deg[m], s=4, color=BLUE, alpha=0.25, lw=0, label="stride (level)")
    ax1.axhline(threshold_deg, color=VERMILLION, lw=0.9, ls="--",
                label=f"sustained-tilt threshold ({threshold_deg:g}°)")
    bands = summary["pace_bands"]
    if bands:
        bx = [b["speed_mps"] * 3.6 if riding else 1000 / b["speed_mps"] / 60 for b in bands]
        ax1.plot(bx, [b["tilt_deg"] for b in bands], "o-", color=BLUE, ms=4, lw=1.2, label="band median")
        ax2.plot(bx, [b["cadence"] for b in bands], "o-", color=GREEN, ms=4, lw=1.2)
    thr = summary["pace_threshold_mps"]
    if thr:
        ax1.axvline(1000 / thr / 60, color=VERMILLION, lw=0.9, label=f"threshold pace {summary['pace_threshold']} /km")
    ax2.scatter(x, s.cadence[m], s=4, color=GREEN, alpha=0.25, lw=0)
    ax1.set_ylabel("tilt vs neutral (°)")
    ax2.set_ylabel("cadence (rpm)" if riding else "cadence (steps/min)")
    ax2.set_xlabel("speed (km/h)" if riding else "pace (min/km), faster to the left")
    if not riding:
        ax2.invert_xaxis()
    ax1.legend(loc="upper left", fontsize=8, frameon=False)
    alt = (f"Tilt and cadence of {int(m.sum())} level strides against pace; "
           + (f"the median tilt crosses {threshold_deg:g}° at {summary['pace_threshold']} per km." if thr
              else "no pace above which the tilt stays over the threshold."))
    return _figure("watch-pace", "Tilt and cadence against pace", alt,
                   "Level strides only (|grade| ≤ 2 %), so that hills do not pass for pace. Dots: strides; line: "
                   "median per 0.15-m/s speed band.", fig)


def grade_figure(s: StridesWithWatch, summary: dict, main: str, threshold_deg: float) -> FigureOut | None:
    m = (s.activity == main) & np.isfinite(s.grade) & np.isfinite(s.tilt_deg)
    if m.sum() < 20:
        return None
    g = 100 * s.grade[m]
    fig = Figure(figsize=(9, 4.2))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"wspace": 0.3})
    ax1.scatter(g, s.tilt_deg[m], s=4, color=BLUE, alpha=0.25, lw=0)
    ax1.axhline(threshold_deg, color=VERMILLION, lw=0.9, ls="--")
    ax2.scatter(g, s.cadence[m], s=4, color=GREEN, alpha=0.25, lw=0)
    colours = {"uphill": ORANGE, "level": GREY, "downhill": BLUE}
    for k, b in summary["grade_bands"].items():
        ax1.plot([b["grade_pct"]], [b["tilt_deg"]], "D", color=colours[k], ms=7, label=f"{k}: {b['tilt_deg']:.1f}°")
        ax2.plot([b["grade_pct"]], [b["cadence"]], "D", color=colours[k], ms=7)
    for ax in (ax1, ax2):
        ax.axvspan(-100 * GRADE_BAND, 100 * GRADE_BAND, color=GREY, alpha=0.1, lw=0)
        ax.set_xlabel("grade (%), uphill > 0")
    ax1.set_ylabel("tilt vs neutral (°)")
    ax2.set_ylabel("cadence (per min)")
    ax1.legend(loc="upper left", fontsize=8, frameon=False)
    bands = ", ".join(f"{k} {b['tilt_deg']:.1f}°" for k, b in summary["grade_bands"].items())
    return _figure("watch-grade", "Tilt and cadence against grade", f"Median tilt by grade band: {bands or 'none'}.",
                   "Grade from the watch's altitude over its distance, smoothed over 15 m (docs/watch.md). "
                   "Diamonds: the median of each band (uphill > 2 %, level, downhill < −2 %).", fig)


def route_figure(s: StridesWithWatch, threshold_deg: float) -> FigureOut | None:
    ok = np.isfinite(s.lat_deg) & np.isfinite(s.lon_deg) & np.isfinite(s.tilt_deg)
    if ok.sum() < 10:
        return None
    lat, lon, tilt = s.lat_deg[ok], s.lon_deg[ok], s.tilt_deg[ok]
    x = np.radians(lon - lon.mean()) * EARTH_RADIUS_M * np.cos(np.radians(lat.mean()))
    y = np.radians(lat - lat.mean()) * EARTH_RADIUS_M
    span = max(np.ptp(x), np.ptp(y), 1.0)
    pad = 20
    scale = (ROUTE_PX - 2 * pad) / span
    px = pad + (x - x.min()) * scale
    py = pad + (y.max() - y) * scale
    w, h = int(np.ptp(x) * scale + 2 * pad), int(np.ptp(y) * scale + 2 * pad + 30)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
             f'<rect width="{w}" height="{h}" fill="#ffffff"/>']
    for i in range(len(px) - 1):
        if abs(px[i + 1] - px[i]) + abs(py[i + 1] - py[i]) > 40:  # a pause: no line across it
            continue
        parts.append(f'<line x1="{px[i]:.1f}" y1="{py[i]:.1f}" x2="{px[i + 1]:.1f}" y2="{py[i + 1]:.1f}" '
                     f'stroke="{_tilt_colour(tilt[i], threshold_deg)}" stroke-width="3" stroke-linecap="round"/>')
    ybar = h - 14
    for k, (label, c) in enumerate((("tilt &lt; 0°", "#0072B2"), (f"0–{threshold_deg:g}°", "#009E73"),
                                    (f"&gt; {threshold_deg:g}°", "#D55E00"))):
        parts.append(f'<rect x="{pad + 110 * k}" y="{ybar - 8}" width="14" height="8" fill="{c}"/>'
                     f'<text x="{pad + 110 * k + 18}" y="{ybar}" font-size="11" '
                     f'font-family="sans-serif">{label}</text>')
    parts.append("</svg>")
    svg = "".join(parts).encode()
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    above = float(np.mean(tilt > threshold_deg) * 100)
    return FigureOut("watch-route", "The route, coloured by tilt",
                     f"The route from the watch's GPS, {above:.0f} % of its strides above {threshold_deg:g}° tilt.",
                     "Each stride's tilt on the watch's track (north up; no map, so it works offline).", uri, w, h)


def _tilt_colour(t: float, threshold_deg: float) -> str:
    """Blue (posterior) → green (in range) → vermillion (over the threshold), blended in between."""
    stops = [(-3.0, (0x00, 0x72, 0xB2)), (1.0, (0x00, 0x9E, 0x73)), (threshold_deg, (0xE6, 0x9F, 0x00)),
             (threshold_deg + 3, (0xD5, 0x5E, 0x00))]
    for (a, ca), (b, cb) in zip(stops[:-1], stops[1:]):
        if t <= b:
            f = 0.0 if t <= a else (t - a) / (b - a)
            c = [round(u + f * (v - u)) for u, v in zip(ca, cb)]
            return "#%02x%02x%02x" % tuple(c)
    return "#%02x%02x%02x" % stops[-1][1]
