"""The session as two CSV tables: one row per stride (or riding window), one row per second.

Units are in the column names (deg, s, m, m/s, s/km, bpm, per minute). Watch columns are empty when no
watch file was merged, or where the watch had no record (a pause)."""
from __future__ import annotations

import csv
import os

import numpy as np

from .merge import StridesWithWatch

STRIDE_COLUMNS = ("t_start", "t_end", "activity", "tilt_deg", "drop_left_deg", "drop_right_deg", "rotation_deg",
                  "cadence", "speed_mps", "pace_s_per_km", "grade", "heart_rate_bpm", "distance_m", "lat_deg",
                  "lon_deg")
HEADERS = {"t_start": "t_start_s", "t_end": "t_end_s", "grade": "grade_pct"}


def write_stride_table(path: str | os.PathLike, strides: StridesWithWatch) -> int:
    cols = strides.columns()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([HEADERS.get(c, c) for c in STRIDE_COLUMNS])
        for i in range(len(strides)):
            w.writerow([_cell(cols[c][i] * (100 if c == "grade" else 1) if c != "activity" else cols[c][i], c)
                        for c in STRIDE_COLUMNS])
    return len(strides)


def write_seconds_table(path: str | os.PathLike, seconds: dict[str, np.ndarray]) -> int:
    names = list(seconds)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for i in range(len(seconds["t_s"])):
            w.writerow([_cell(seconds[c][i], c) for c in names])
    return len(seconds["t_s"])


def _cell(v, name: str) -> str:
    if isinstance(v, str):
        return v
    v = float(v)
    if not np.isfinite(v):
        return ""
    if name in ("lat_deg", "lon_deg"):
        return f"{v:.7f}"
    if name in ("timestamp",):
        return f"{v:.0f}"
    return f"{v:.3f}"
