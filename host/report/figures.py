"""The report's figures: matplotlib (object API, no pyplot state, no GUI backend) rendered to SVG and embedded
as base64 data URIs, so the HTML is one self-contained file. Vector output keeps lines sharp on a phone
and in the PDF; the session-long signals are reduced to SERIES_BINS points first (session_data.bin_series),
which keeps a 2-hour session's figures small and fast.

Each figure comes with an alt text built from the report's own numbers (what the plot shows, not how).
Colours: the Okabe-Ito palette (distinguishable with colour-vision deficiencies).
"""
from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from tiltguard.host.activities import ACTIVITIES

from .session_data import SessionProducts, TrendFit, cycle_mask

BLUE, ORANGE, VERMILLION, GREEN, SKY, PURPLE, GREY = ("#0072B2", "#E69F00", "#D55E00", "#009E73", "#56B4E9",
                                                      "#CC79A7", "#6b6b6b")
FLAG_COLOURS = {"sustained_anterior_tilt": VERMILLION, "tilt_creep": ORANGE, "excess_pelvic_drop": PURPLE,
                "rotation_variability": SKY, "ride_forward_roll": VERMILLION, "ride_rock_growth": ORANGE}
ACTIVITY_COLOURS = {"still": "#bbbbbb", "walking": GREEN, "running": BLUE, "riding": PURPLE, "other": ORANGE}
STYLE = {"svg.fonttype": "none", "font.size": 10, "axes.titlesize": 11, "axes.spines.top": False,
         "axes.spines.right": False, "svg.hashsalt": "tiltguard", "path.simplify": True}
SIDES = {"left": BLUE, "right": VERMILLION}


@dataclass
class FigureOut:
    id: str
    title: str
    alt: str
    caption: str
    data_uri: str
    width: int = 0  # intrinsic size (px): the page reserves the space before the image is decoded
    height: int = 0
    figure: Figure | None = field(default=None, repr=False)  # kept for the PDF made without a browser


class _Svg(str):
    """An SVG data URI that also knows its size."""
    width: int
    height: int


def _svg(fig: Figure) -> _Svg:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", dpi=150, metadata={"Date": None})
    data = buf.getvalue()
    uri = _Svg("data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii"))
    m = re.search(rb'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', data[:2000])
    uri.width, uri.height = (round(float(m.group(1)) * 4 / 3), round(float(m.group(2)) * 4 / 3)) if m else (900, 400)
    return uri


def _figure(id: str, title: str, alt: str, caption: str, fig: Figure) -> FigureOut:
    svg = _svg(fig)
    return FigureOut(id, title, alt, caption, str(svg), svg.width, svg.height, fig)


def _minutes(s):
    return np.asarray(s, float) / 60.0


def render_figures(p: SessionProducts, report: dict) -> list[FigureOut]:
    with matplotlib.rc_context(STYLE):
        out = [tilt_over_session(p, report)]
        if p.main_activity == "riding":  # the ride figure shows the tilt drift next to the rock
            out += [cadence_over_time(p, report), ride_rock_and_drift(p, report)]
        else:
            out += [tilt_trend(p, report), cadence_over_time(p, report)]
        if p.step_curves is not None and p.main_activity != "riding" and _sided(report):
            out.append(step_curves(p, report))
        out.append(distributions(p, report))
    return [f for f in out if f is not None]


def _sided(report: dict) -> bool:
    """Whether the session knows its left foot from its right (direction and side cue, host.analysis)."""
    return not (report["summary"].get("direction_unknown") or report["summary"].get("sides_unknown"))


def tilt_over_session(p: SessionProducts, report: dict) -> FigureOut:
    s = p.tilt_series
    thr = report["settings"]["tilt_threshold_deg"]
    fig = Figure(figsize=(9, 3.6))
    ax, strip = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [8, 1], "hspace": 0.08})
    t = _minutes(s.t)
    ax.axhspan(-thr, thr, color=GREEN, alpha=0.12, lw=0, label=f"neutral band (±{thr:g}°)")
    ax.axhline(thr, color=GREEN, lw=0.8, ls="--")
    for f in report["flags"]:
        ax.axvspan(_minutes(f["start_s"] - p.t0), _minutes(f["end_s"] - p.t0), color=FLAG_COLOURS.get(f["type"], GREY),
                   alpha=0.18, lw=0, label=f["label"])
    ax.fill_between(t, np.degrees(s.lo), np.degrees(s.hi), color=SKY, alpha=0.35, lw=0, label="range within a bin")
    ax.plot(t, np.degrees(s.mean), color=BLUE, lw=1.0, label="tilt (bin mean)")
    stand = report["summary"]["neutral_from"] == "stand"
    reference = "standing neutral" if stand else "first-minute posture (no stand)"
    ax.set_ylabel(f"tilt vs {'neutral' if stand else 'early posture'} (°)\nanterior > 0")
    if np.isfinite(p.tilt_abs_offset):
        off = np.degrees(p.tilt_abs_offset)
        sec = ax.secondary_yaxis("right", functions=(lambda x: x + off, lambda x: x - off))
        sec.set_ylabel("absolute tilt (°)")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), loc="upper left", fontsize=8, ncol=3, frameon=False)
    _activity_strip(strip, p)
    strip.set_xlabel("minutes")
    ax.set_xlim(0, max(t[-1], 1e-3))
    sm = report["summary"]
    flagged = [f"{f['label'].lower()} from minute {f['start_min']:g} to {f['end_min']:g}" for f in report["flags"]]
    mean = report["metrics"].get("mean_tilt_deg", report["metrics"].get("saddle_tilt_deg", {})).get("value")
    alt = (f"Line chart of pelvic tilt relative to {reference} over the {sm['duration_min']:g}-minute session"
           + (f", mean {mean:+.1f}°" if mean is not None else "")
           + f". A green band marks ±{thr:g}° around neutral. "
           + ("Shaded: " + "; ".join(flagged) + "." if flagged else "No flagged interval."))
    return _figure("tilt", "Pelvic tilt over the session", alt,
                     f"Tilt relative to your {reference} (left axis)"
                     + (" and the absolute estimate (right axis)" if np.isfinite(p.tilt_abs_offset) else "")
                     + ". Shaded: flagged intervals. The strip below shows the activity.", fig)


def _activity_strip(ax, p: SessionProducts) -> None:
    act = p.analysis.activity
    codes = act.codes
    change = np.flatnonzero(np.diff(codes)) + 1
    starts = np.r_[0, change]
    ends = np.r_[change, len(codes)]
    t = _minutes(act.t - p.t0)
    for code in np.unique(codes):
        sel = codes[starts] == code
        spans = [(t[a], t[min(b, len(t) - 1)] - t[a]) for a, b in zip(starts[sel], ends[sel])]
        ax.broken_barh(spans, (0, 1), color=ACTIVITY_COLOURS[ACTIVITIES[code]], label=ACTIVITIES[code])
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -1.2), ncol=5, fontsize=8, frameon=False)


def tilt_trend(p: SessionProducts, report: dict) -> FigureOut | None:
    fit: TrendFit | None = p.trend
    if fit is None:
        return None
    fig = Figure(figsize=(9, 3.0))
    ax = fig.subplots()
    unit = "10-s ride window" if p.main_activity == "riding" else "stride"
    c = p.analysis.cycles
    m = cycle_mask(p.analysis, p.main_activity)
    ax.plot(_minutes(0.5 * (c.t_start[m] + c.t_end[m]) - p.t0), np.degrees(c.tilt[m]), ".", ms=1.5, color=SKY,
            alpha=0.5, label=f"{unit} mean tilt", rasterized=True)  # thousands of dots: one embedded bitmap
    ax.plot(_minutes(fit.t), np.degrees(fit.tilt), "o", ms=3.5, color=BLUE, label="per-minute mean")
    tt = np.linspace(fit.t[0], fit.end_s, 200)
    tr = report["trend"]
    ax.plot(_minutes(tt), np.degrees(fit.fitted(tt)), color=VERMILLION, lw=2,
            label=f"fit: {tr['baseline_deg']:+.1f}°, then {tr['slope_deg_per_10min']:+.2f}°/10 min "
                  f"from minute {tr['onset_min']:g}")
    ax.axhline(report["settings"]["tilt_threshold_deg"], color=GREEN, lw=0.8, ls="--", label="flag threshold")
    lo, hi = np.nanpercentile(np.degrees(c.tilt[m]), [1, 99]) if m.any() else (-5, 5)
    ax.set_ylim(min(lo, -1) - 1, max(hi, report["settings"]["tilt_threshold_deg"]) + 1)
    ax.set_xlabel("minutes")
    ax.set_ylabel("tilt vs neutral (°)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    alt = (f"Scatter of {unit}-averaged pelvic tilt over time with a fitted trend: about {tr['baseline_deg']:+.1f}° "
           f"until minute {tr['onset_min']:g}, then changing {tr['slope_deg_per_10min']:+.2f}° per 10 minutes, "
           f"a total rise of {tr['rise_deg']:.1f}°.")
    return _figure("trend", "Stride-averaged tilt and its creep" if p.main_activity != "riding"
                     else "Saddle tilt per window and its drift", alt,
                     "Each dot is one stride (or 10-s ride window); the line is a flat-then-rising fit after the "
                     "first two minutes (warm-up).", fig)


def cadence_over_time(p: SessionProducts, report: dict) -> FigureOut | None:
    fig = Figure(figsize=(9, 2.6))
    ax = fig.subplots()
    if p.main_activity == "riding":
        if not p.rides:
            return None
        for r in p.rides:
            ax.plot(_minutes(r.window_t - p.t0), r.window_rpm, color=PURPLE, lw=1.2)
        ax.set_ylabel("pedal cadence (rpm)")
        value, unit, what = report["metrics"]["pedal_cadence_rpm"]["value"], "rpm", "Pedal cadence"
    else:
        st = p.strides.select(p.strides.activity == p.main_activity)
        if len(st) < 2:
            return None
        tm = _minutes(st.t_start - p.t0)
        cad = 120.0 / st.stride_s
        ax.plot(tm, cad, ".", ms=1.5, color=SKY, alpha=0.5, label="per stride", rasterized=True)
        edges = np.arange(0, tm[-1] + 0.5, 0.5)
        b = np.searchsorted(edges, tm, side="right") - 1
        n = np.bincount(b, minlength=len(edges))
        ok = n > 0
        ax.plot(edges[ok] + 0.25, np.bincount(b, cad, minlength=len(edges))[ok] / n[ok], color=BLUE, lw=1.5,
                label="30-s mean")
        lo, hi = np.percentile(cad, [1, 99])
        ax.set_ylim(lo - 5, hi + 5)
        ax.set_ylabel("cadence (steps/min)")
        ax.legend(loc="lower left", fontsize=8, frameon=False)
        value, unit, what = report["metrics"]["cadence_spm"]["value"], "steps/min", "Cadence"
    ax.set_xlabel("minutes")
    alt = f"Line chart of {what.lower()} over the session; median {value:g} {unit}." if value is not None else \
        f"Line chart of {what.lower()} over the session."
    return _figure("cadence", f"{what} over time", alt,
                     "Steps per minute from the strides (two steps per stride)" if p.main_activity != "riding"
                     else "Crank revolutions per minute from the pelvic rock, per 10-s window.", fig)


def step_curves(p: SessionProducts, report: dict) -> FigureOut:
    sc = p.step_curves
    fig = Figure(figsize=(9, 2.9))
    axes = fig.subplots(1, 3)
    titles = {"tilt": "tilt (anterior > 0)", "obliquity": "obliquity (swing side lower > 0)",
              "rotation": "rotation (right steps mirrored)"}
    for ax, name in zip(axes, ("tilt", "obliquity", "rotation")):
        for side, colour in SIDES.items():
            mu, sd = np.degrees(sc.mean[side][name]), np.degrees(sc.sd[side][name])
            ax.fill_between(sc.pct, mu - sd, mu + sd, color=colour, alpha=0.18, lw=0)
            ax.plot(sc.pct, mu, color=colour, lw=1.6, ls="-" if side == "left" else "--", label=f"{side} step")
        ax.set_title(titles[name], fontsize=9)
        ax.set_xlabel("% of step")
    axes[0].set_ylabel("degrees (mean ± SD)")
    axes[0].legend(fontsize=8, frameon=False)
    fig.subplots_adjust(wspace=0.35)
    m = report["metrics"]
    alt = (f"Three line charts of the mean pelvic angle over a step, left steps (solid) against right steps "
           f"(dashed), with ± one standard deviation shaded, from {sc.steps} strides. Swing-side drop: left "
           f"{m['drop_left_deg']['value']}°, right {m['drop_right_deg']['value']}°.")
    return _figure("curves", "Gait-cycle curves, left vs right", alt,
                     "Each step from its initial contact to the next (left step: left foot lands → right foot "
                     "lands). Obliquity and rotation of right steps are mirrored so symmetric steps overlap.",
                     fig)


def distributions(p: SessionProducts, report: dict) -> FigureOut | None:
    c, main = p.analysis.cycles, p.main_activity
    m = cycle_mask(p.analysis, main) & np.isfinite(c.tilt)
    if m.sum() < 5:
        return None
    thr = report["settings"]["tilt_threshold_deg"]
    fig = Figure(figsize=(9, 2.8))
    axes = fig.subplots(1, 3)
    axes[0].hist(np.degrees(c.tilt[m]), bins=40, color=BLUE, alpha=0.8)
    axes[0].set_xlabel("tilt vs neutral (°)")
    if main != "riding":  # the anterior-tilt threshold means nothing on a saddle
        axes[0].axvline(thr, color=VERMILLION, ls="--", lw=1, label=f"threshold {thr:g}°")
        axes[0].legend(fontsize=8, frameon=False)
    axes[0].set_ylabel("count")
    if main == "riding":
        axes[1].hist(np.degrees(c.rock[m]), bins=30, color=PURPLE, alpha=0.8)
        axes[1].set_xlabel("pelvic rock per window (°)")
        rides = [r for r in p.rides if np.isfinite(r.window_rotation).any()]
        if rides:
            rot = np.concatenate([r.window_rotation for r in rides])
            axes[2].hist(np.degrees(rot[np.isfinite(rot)]), bins=30, color=ORANGE, alpha=0.8)
        axes[2].set_xlabel("rotation per revolution (°)")
        what = "saddle tilt per 10-s window, pelvic rock and rotation per revolution"
    else:
        st = p.strides.select(p.strides.activity == main)
        bins = np.linspace(0, max(1.0, float(np.degrees(np.nanmax(np.r_[st.drop_left, st.drop_right, 0])))), 30)
        if _sided(report):
            axes[1].hist(np.degrees(st.drop_left), bins=bins, color=BLUE, alpha=0.55, label="left")
            axes[1].hist(np.degrees(st.drop_right), bins=bins, color=VERMILLION, alpha=0.55, label="right")
        else:  # which foot is which is unknown: one histogram of both
            axes[1].hist(np.degrees(np.r_[st.drop_left, st.drop_right]), bins=bins, color=BLUE, alpha=0.8,
                         label="either foot")
        axes[1].set_xlabel("swing-side drop (°)")
        axes[1].legend(fontsize=8, frameon=False)
        axes[2].hist(np.degrees(st.angles["rotation"]["range"]), bins=30, color=ORANGE, alpha=0.8)
        axes[2].set_xlabel("rotation range per stride (°)")
        what = "stride-averaged tilt, left and right pelvic drop, and rotation range per stride"
    fig.subplots_adjust(wspace=0.35)
    pct = report["metrics"].get("anterior_tilt_pct", {}).get("value")
    alt = f"Three histograms: {what}." + (f" {pct:g}% of the time was above the {thr:g}° threshold."
                                          if pct is not None else "")
    return _figure("distributions", "Distributions", alt, "How the per-stride (or per-window) values spread.",
                     fig)


def ride_rock_and_drift(p: SessionProducts, report: dict) -> FigureOut | None:
    if not p.rides:
        return None
    fig = Figure(figsize=(9, 3.2))
    ax1, ax2 = fig.subplots(1, 2)
    for r in p.rides:
        tm = _minutes(r.window_t - p.t0)
        ax1.plot(tm, np.degrees(r.window_rock), color=PURPLE, lw=1.2)
        ok = np.isfinite(r.window_tilt)
        ax2.plot(tm, np.degrees(r.window_tilt), color=BLUE, lw=1.0, label="10-s window")
        if ok.sum() > 2:
            k, b = np.polyfit(tm[ok], np.degrees(r.window_tilt[ok]), 1)
            ax2.plot(tm[ok], k * tm[ok] + b, color=VERMILLION, lw=2, label="linear drift")
    ax1.set_ylabel("pelvic rock (°)")
    ax1.set_xlabel("minutes")
    ax2.set_ylabel("saddle tilt vs neutral (°)")
    ax2.set_xlabel("minutes")
    handles, labels = ax2.get_legend_handles_labels()
    ax2.legend(dict(zip(labels, handles)).values(), dict(zip(labels, handles)).keys(), fontsize=8, frameon=False)
    fig.subplots_adjust(wspace=0.35)
    m = report["metrics"]
    alt = (f"Two line charts over the ride: pelvic rock per crank revolution (mean {m['rock_range_deg']['value']}°) "
           f"and saddle tilt with a linear drift of {m['ride_tilt_drift_deg_per_h']['value']}° per hour.")
    return _figure("ride", "Pelvic rock and tilt drift on the bike", alt,
                     "Left: side-to-side rock of the pelvis per revolution. Right: the forward roll on the saddle "
                     "and its trend.", fig)

