"""The one sentence at the top of the report: what mattered in this session, with when.

Built from the report's own (rounded) numbers, so the headline never says something the tables do not.
"""
from __future__ import annotations

import math

MOSTLY = 0.75  # "mostly after minute M": at least this share of the flagged time lies after M
# Unflagged rides: changes worth a mention though below the flags' thresholds (ride flags: 3° / +35 %).
NOTABLE_ROLL_DEG = 1.5
NOTABLE_ROCK_GROWTH_PCT = 20.0


def _minutes(x: float) -> int:
    return int(round(x))


def when_flagged(intervals: list[tuple[float, float]], session_end_min: float) -> str:
    """'from minute 15 to the end', 'from minute 3 to minute 9', 'in 3 stretches, mostly after minute 25'."""
    intervals = sorted(intervals)
    if len(intervals) == 1:
        a, b = intervals[0]
        if session_end_min - b <= 1.0:
            return f"from minute {math.floor(a)} to the end"
        return f"from minute {math.floor(a)} to minute {math.ceil(b)}"
    total = sum(b - a for a, b in intervals)
    acc = 0.0
    for a, b in reversed(intervals):  # walk back from the end until MOSTLY of the flagged time is covered
        acc += b - a
        if acc >= MOSTLY * total:
            start = a
            break
    if start <= intervals[0][0]:
        return f"in {len(intervals)} stretches from minute {math.floor(start)} on"
    return f"in {len(intervals)} stretches, mostly after minute {math.floor(start)}"


def headline(activity: str, summary: dict, flags: list[dict], trend: dict | None, metrics: dict,
             settings) -> str:
    duration = summary["duration_min"] or 0.0
    label = summary["activity_label"]
    sustained = [(f["start_min"], f["end_min"]) for f in flags if f["type"] == "sustained_anterior_tilt"]
    parts = []
    if sustained:
        flagged = metrics.get("anterior_tilt_min", {}).get("value") or sum(b - a for a, b in sustained)
        parts.append(f"Anterior tilt sustained for {_minutes(flagged)} of {_minutes(duration)} min, "
                     f"{when_flagged(sustained, duration)}.")
    if any(f["type"] == "tilt_creep" for f in flags) and trend and trend["rise_deg"]:
        parts.append(f"Your tilt crept up {trend['rise_deg']:.1f}° from {trend['baseline_deg']:+.1f}° "
                     f"after minute {_minutes(trend['onset_min'])}, a sign of fatigue.")
    roll = [f for f in flags if f["type"] == "ride_forward_roll"]
    if roll:
        change = metrics.get("ride_tilt_change_deg", {}).get("value")
        size = f" {change:.1f}°" if change is not None else ""
        parts.append(f"Your pelvis rolled{size} forward on the saddle as the ride went on, "
                     f"{when_flagged([(f['start_min'], f['end_min']) for f in roll], duration)}.")
    if any(f["type"] == "ride_rock_growth" for f in flags):
        parts.append("Your pelvis rocked more on the saddle late in the ride.")
    if any(f["type"] == "excess_pelvic_drop" for f in flags):
        parts.append("One side of your pelvis dropped more than is typical.")
    if any(f["type"] == "rotation_variability" for f in flags):
        parts.append("Your pelvic rotation varied a lot from stride to stride.")
    if parts:
        return " ".join(parts)
    if activity == "riding":
        change = metrics.get("ride_tilt_change_deg", {}).get("value")
        growth = metrics.get("rock_growth_pct", {}).get("value")
        said = []
        if change is not None and abs(change) >= NOTABLE_ROLL_DEG:
            said.append(f"your pelvis rolled {abs(change):.1f}° {'forward' if change > 0 else 'back'} on the saddle "
                        "from the first to the last 5 minutes")
        if growth is not None and growth >= NOTABLE_ROCK_GROWTH_PCT:
            said.append(f"the rock grew {growth:.0f} %")
        if said:
            return f"{label} of {_minutes(duration)} min: " + " and ".join(said) + "; no flag was raised."
        tilt = metrics.get("saddle_tilt_deg", {}).get("value")
        tail = f" (saddle tilt {tilt:+.1f}° from standing)" if tilt is not None else ""
        return f"{label} of {_minutes(duration)} min: a steady position on the saddle{tail}."
    tilt = metrics.get("mean_tilt_deg", {}).get("value")
    tail = f" (mean tilt {tilt:+.1f}° from your standing neutral)" if tilt is not None else ""
    if activity in ("running", "walking"):
        return f"{label} of {_minutes(duration)} min: no sustained anterior tilt{tail}."
    return f"{_minutes(duration)} min recorded, no run, walk or ride found in it."
