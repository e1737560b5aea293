"""The report as one dict: every number the HTML shows, rounded to the decimals it is shown with.

This dict is the single source of truth: it is written as report.json, saved in the store (analysis kind
'report'), and the HTML template renders from it, so the three cannot disagree. Degrees, minutes and
centimetres appear here (the user-facing edge); everything upstream is SI.
"""
from __future__ import annotations

import math
import time

import numpy as np
from tiltguard.host.flags import FlagSettings, UserProfile
from tiltguard.host.flags.advice import AdviceContext, advise

from .catalogue import GAIT_METRICS, METRICS, REFERENCES, RIDE_METRICS
from .drill_page import check_for_advice
from .drills import DRILLS_BY_ADVICE
from .headline import headline
from .session_data import SessionProducts, cycle_mask

SCHEMA = "tiltguard-report/1"
TOP_ADVICE = 3
ALWAYS_LAST = "see-professional"  # shown on every report, below the top advice, not counted among it
ACTIVITY_LABELS = {"running": "Run", "walking": "Walk", "riding": "Ride", "still": "Standing", "other": "Session"}
FLAG_LABELS = {
    "sustained_anterior_tilt": "Sustained anterior tilt",
    "tilt_creep": "Tilt creep (fatigue)",
    "excess_pelvic_drop": "Excess pelvic drop",
    "rotation_variability": "Variable pelvic rotation",
    "ride_forward_roll": "Forward roll on the saddle",
    "ride_rock_growth": "Growing pelvic rock",
}


def rnd(x, decimals: int = 1):
    """A number as shown: rounded, NaN/inf/None -> None (shown as '–')."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    v = round(x, decimals)
    return 0.0 if v == 0 else v  # no '-0.0'


def deg(x_rad) -> float:
    return float(np.degrees(x_rad))


def build_report(p: SessionProducts, session: dict, history: dict[str, dict] | None = None,
                 profile: UserProfile | None = None, settings: FlagSettings | None = None) -> dict:
    """`session`: what is known about the recording (id, source, started_at, device, ...); `history`:
    metric key -> {'median': value, 'sessions': n} over the wearer's earlier sessions (host.report.history)."""
    profile = profile or UserProfile()
    settings = settings or profile.settings()
    a, main = p.analysis, p.main_activity
    duration_s = float(a.rec.duration_s)
    values = metric_values(p, settings)
    keys = RIDE_METRICS if main == "riding" else GAIT_METRICS
    withheld = withheld_metrics(a, main)  # not shown as "missing": withheld, and the summary says why
    keys = [k for k in keys if k not in withheld]
    metrics = {}
    for k in keys:
        m = METRICS[k]
        lit = m.literature.get(main)
        h = (history or {}).get(k) if m.history else None
        metrics[k] = {
            "label": m.label, "unit": m.unit, "decimals": m.decimals, "definition": m.definition,
            "value": rnd(values.get(k), m.decimals),
            "history_median": rnd(h["median"], m.decimals) if h else None,
            "history_sessions": int(h["sessions"]) if h else 0,
            "literature": None if lit is None else {"text": lit.text, "refs": list(lit.refs), "low": lit.low,
                                                     "high": lit.high},
        }
    flags = [flag_entry(f, p.t0) for f in a.flags]
    cadence = a.cadence_spm(main) if main in ("running", "walking") else None
    advice = advise(a.flags, AdviceContext("after", main if main != "still" else "other", profile, cadence))
    top = [advice_entry(x) for x in advice if x.id != ALWAYS_LAST][:TOP_ADVICE]
    closing = [advice_entry(x) for x in advice if x.id == ALWAYS_LAST]
    drills = drill_entries(advice)
    meta = a.rec.meta or {}
    distance_m = meta.get("distance_m")
    moving_s = p.moving_s.get(main, 0.0)
    summary = {
        "activity": main,
        "activity_label": ACTIVITY_LABELS.get(main, "Session"),
        "duration_min": rnd(duration_s / 60, 1),
        "moving_min": rnd(moving_s / 60, 1),
        "activities_min": {k: rnd(v / 60, 1) for k, v in p.moving_s.items() if v > 0},
        "distance_km": rnd(distance_m / 1000, 2) if distance_m else None,
        "pace_min_per_km": rnd(moving_s / 60 / (distance_m / 1000), 2) if distance_m and main != "riding" else None,
        "neutral_tilt_abs_deg": rnd(deg(p.tilt_abs_offset), 1),  # None without a stand (the offset is NaN)
        "neutral_tilt_abs_sd_deg": rnd(deg(a.angles.tilt_abs_sd), 1),
        "neutral_from": a.alignment.neutral_from,
        # which way is forward: the decision with its cues and strengths, or why it is unknown
        "direction": a.alignment.direction.to_record() if a.alignment.direction is not None else None,
        "direction_unknown": a.alignment.withheld or None,
        # which foot is which: each gait's side cue and its strength, or why the feet cannot be told apart
        "sides": a.contacts.sides.to_record() if a.contacts.sides is not None else None,
        "sides_unknown": (a.contacts.sides.why_unknown(main) or None) if a.alignment.direction_known
        and not a.sides_known(main) else None,
        "flag_count": len(flags),
    }
    trend = None
    if p.trend is not None:
        trend = {"baseline_deg": rnd(deg(p.trend.baseline), 1), "onset_min": rnd(p.trend.onset_s / 60, 1),
                 "slope_deg_per_10min": rnd(deg(p.trend.slope_per_s) * 600, 2), "rise_deg": rnd(deg(p.trend.rise), 1)}
    summary["headline"] = headline(main, summary, flags, trend, metrics, settings)
    refs = sorted({r for x in top + closing for r in x["refs"]} |
                  {r for m in metrics.values() if m["literature"] for r in m["literature"]["refs"]} |
                  {"Baker 2001"})
    return {
        "schema": SCHEMA,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "session": session,
        "summary": summary,
        "advice": top,
        "advice_closing": closing,
        "drills": drills,
        "flags": flags,
        "trend": trend,
        "metrics": metrics,
        "strides": {"count": int(len(p.strides)), "file": "strides.csv"},
        "rides": {"count": int(sum(len(r.window_t) for r in p.rides)), "file": "rides.csv"} if p.rides else None,
        "settings": {"tilt_threshold_deg": settings.tilt_threshold_deg, "tilt_min_s": settings.tilt_min_s},
        "references": {r: REFERENCES[r] for r in refs if r in REFERENCES},
    }


# Metrics whose value has a sign (tilt, its creep and drift) or a side (drop, asymmetries): withheld while the
# session's direction is unknown (host.analysis: the alignment withholds the sign of the forward axis)
NEEDS_DIRECTION = frozenset({
    "mean_tilt_deg", "anterior_tilt_min", "anterior_tilt_pct", "above_threshold_pct", "tilt_creep_deg",
    "drop_left_deg", "drop_right_deg", "drop_asymmetry_deg", "step_time_asymmetry_pct", "saddle_tilt_deg",
    "ride_tilt_drift_deg_per_h", "ride_tilt_change_deg", "contact_time_balance_pct", "braking_mps2"})
# Metrics that name a foot: withheld while the side cue cannot tell the feet apart (host.gait.sides)
NEEDS_SIDES = frozenset({"drop_left_deg", "drop_right_deg", "drop_asymmetry_deg", "step_time_asymmetry_pct",
                         "contact_time_balance_pct"})


def withheld_metrics(a, main: str) -> frozenset:
    """The metrics this session cannot decide: those with a sign or a side without the direction, those that
    name a foot without the sides of its main activity (`a`: host.analysis.SessionAnalysis)."""
    if not a.alignment.direction_known:
        return NEEDS_DIRECTION
    if not a.sides_known(main):
        return NEEDS_SIDES
    return frozenset()


def metric_values(p: SessionProducts, s: FlagSettings) -> dict[str, float]:
    """Every metric of the catalogue that this session has, unrounded, in display units. Metrics the store
    also keeps (host.analysis.session_summary) are taken from that summary, so report and store agree."""
    a, main = p.analysis, p.main_activity
    out = stored_metric_values(p.stored_summary, main)
    out.setdefault("moving_min", p.moving_s.get(main, 0.0) / 60)
    if main in ("running", "walking"):
        c = a.cycles
        m = cycle_mask(a, main) & np.isfinite(c.tilt)
        if m.any() and a.alignment.has_neutral:  # the threshold is an angle from the standing neutral
            dur = c.t_end[m] - c.t_start[m]
            above = c.tilt[m] > np.radians(s.tilt_threshold_deg)
            out["above_threshold_pct"] = float(100 * dur[above].sum() / dur.sum())
        if p.trend is not None:
            out["tilt_creep_deg"] = deg(p.trend.rise)
        out.update(_gait_values(p, main))
    elif main == "riding":
        out.update(_ride_values(p))
    withheld = withheld_metrics(a, main)
    return {k: v for k, v in out.items() if k not in withheld}


def main_activity_of(stored: dict) -> str | None:
    """The moving activity a stored summary (host.analysis.session_summary) spent most time in."""
    shares = {k: v for k, v in stored.get("activity_share", {}).items() if k in ("running", "walking", "riding")
              and k in stored}
    return max(shares, key=shares.get) if shares else None


def stored_metric_values(stored: dict, main: str) -> dict[str, float]:
    """The catalogue metrics that the store's own session summary holds, for the session's main activity."""
    row = stored.get(main, {})
    out: dict[str, float] = {}
    if "minutes" in row:
        out["moving_min"] = row["minutes"]
    if "tilt_mean_deg" in row:
        out["saddle_tilt_deg" if main == "riding" else "mean_tilt_deg"] = row["tilt_mean_deg"]
    for key in ("cadence_spm", "drop_left_deg", "drop_right_deg", "rotation_range_deg", "contact_time_ms",
                "flight_time_ms", "contact_time_balance_pct", "braking_mps2"):
        if key in row:
            out[key] = row[key]
    if "drop_left_deg" in out and "drop_right_deg" in out:
        out["drop_asymmetry_deg"] = out["drop_right_deg"] - out["drop_left_deg"]
    if main in ("running", "walking") and "anterior_tilt_min" in stored:
        out["anterior_tilt_min"] = stored["anterior_tilt_min"]
        if out.get("moving_min"):
            out["anterior_tilt_pct"] = 100 * out["anterior_tilt_min"] / out["moving_min"]
    return out


def _gait_values(p: SessionProducts, main: str) -> dict[str, float]:
    out: dict[str, float] = {}
    st = p.strides.select(p.strides.activity == main)
    if len(st) == 0:
        return out
    out["tilt_range_deg"] = deg(np.mean(st.angles["tilt"]["range"]))
    out["obliquity_range_deg"] = deg(np.mean(st.angles["obliquity"]["range"]))
    steps = 0.5 * (np.mean(st.step_left_s) + np.mean(st.step_right_s))
    out["step_time_asymmetry_pct"] = 100 * (np.mean(st.step_left_s) - np.mean(st.step_right_s)) / steps
    vo = np.r_[st.vertical_left_step, st.vertical_right_step]
    if np.isfinite(vo).any():
        out["vertical_oscillation_cm"] = 100 * float(np.nanmean(vo))
    bouts = [b for b in p.bouts if b.activity == main]
    if bouts:
        w = np.array([b.strides for b in bouts], float)
        out["stride_time_cv_pct"] = 100 * float(np.average([b.stride_time_cv for b in bouts], weights=w))
        cv = [b.angle_range_sd["rotation"] / b.angles["rotation"]["range"] for b in bouts]
        out["rotation_range_cv_pct"] = 100 * float(np.average(cv, weights=w))
    return out


def _ride_values(p: SessionProducts) -> dict[str, float]:
    if not p.rides:
        return {}
    dur = np.array([r.end_s - r.start_s for r in p.rides])
    longest = p.rides[int(np.argmax(dur))]
    out = {
        "pedal_cadence_rpm": float(np.average([r.cadence_rpm for r in p.rides], weights=dur)),
        "rock_range_deg": deg(np.average([r.rock_range for r in p.rides], weights=dur)),
        "ride_rotation_range_deg": deg(np.average([r.rotation_range for r in p.rides], weights=dur)),
        "ride_tilt_drift_deg_per_h": deg(longest.tilt_drift_per_hour),
        "ride_tilt_change_deg": deg(longest.tilt_change),
    }
    wt, rock = longest.window_t, longest.window_rock
    first = np.isfinite(rock) & (wt < wt[0] + 300)
    last = np.isfinite(rock) & (wt > wt[-1] - 300)
    if first.any() and last.any() and (wt[-1] - wt[0]) > 600:
        out["rock_growth_pct"] = 100 * (float(np.mean(rock[last]) / np.mean(rock[first])) - 1)
    return out


def flag_entry(f, t0: float) -> dict:
    end = f.end if f.end is not None else f.start
    return {"type": f.type, "label": FLAG_LABELS.get(f.type, f.type.replace("_", " ")),
            "start_min": rnd((f.start - t0) / 60, 1), "end_min": rnd((end - t0) / 60, 1),
            "duration_min": rnd((end - f.start) / 60, 1), "peak": rnd(f.peak, 1), "mean": rnd(f.mean, 1),
            "unit": f.evidence.get("unit", ""), "activity": f.activity,
            "start_s": float(f.start), "end_s": float(end)}


def advice_entry(x) -> dict:
    return {"id": x.id, "text": x.text, "reason": x.reason, "refs": list(x.refs), "because_of": list(x.because_of)}


def drill_entries(advice) -> list[dict]:
    """The drills of every piece of advice, each drill once, in the advice's order."""
    out, seen = [], set()
    for x in advice:
        for d in DRILLS_BY_ADVICE.get(x.id, ()):
            if d.name in seen:
                continue
            seen.add(d.name)
            out.append({"advice_id": x.id, "name": d.name, "dose": d.dose, "steps": list(d.steps),
                        "watch": d.watch, "why": x.reason, "check": check_for_advice(x.id)})
    return out
