"""The watch part of a session as one JSON-able dict (the report, the store and the CLI read it)."""
from __future__ import annotations

import numpy as np

from .advice import watch_advice
from .align import WatchAlignment
from .merge import StridesWithWatch, format_pace, grade_bands, pace_bands, pace_threshold, tilt_at_pace
from .stream import WatchStream

MATCH_PACES_S_PER_KM = (330.0, 300.0, 270.0, 240.0)  # 5:30, 5:00, 4:30, 4:00 /km: pace-matched history


def watch_summary(watch: WatchStream, alignment: WatchAlignment, strides: StridesWithWatch, activity: str,
                  threshold_deg: float) -> dict:
    grades = grade_bands(strides, activity)
    paces = pace_bands(strides, activity) if activity in ("running", "walking") else []
    thr = pace_threshold(paces, threshold_deg)
    advice = watch_advice(grades, thr, threshold_deg, activity)
    matched = {}
    for p in MATCH_PACES_S_PER_KM:
        tilt, n = tilt_at_pace(strides, activity, p)
        if n >= 20:
            matched[format_pace(p)] = {"tilt_deg": round(tilt, 2), "strides": n}
    return {
        "sport": watch.sport,
        "file": watch.meta.get("file"),
        "records": len(watch),
        "alignment": alignment.to_record(),
        "distance_km": _km(watch),
        "grade_bands": {k: b.to_record() for k, b in grades.items()},
        "pace_bands": [b.to_record() for b in paces],
        "pace_threshold_mps": None if thr is None else round(thr, 3),
        "pace_threshold": None if thr is None else format_pace(1000 / thr),
        "tilt_at_pace": matched,
        "laps": watch.laps,
        "advice": [a.to_record() for a in advice],
    }


def _km(watch: WatchStream):
    if watch.distance_m is None or not np.isfinite(watch.distance_m).any():
        return None
    return round(float(np.nanmax(watch.distance_m) - np.nanmin(watch.distance_m)) / 1000, 3)
