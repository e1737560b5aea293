"""Per-stride metrics as CSV (one row per stride, walking and running), and per-window ride metrics.

Columns carry their unit in the name; angles in degrees relative to standing neutral, times in seconds from
the first sample of the session. `flags` lists the flags that held at the stride's right contact.
What the session could not decide is left empty, not guessed: without the direction, the angles' signed values
(mean, min, max) and every left/right column; without sides for a stride's gait (host.gait.sides), its left/right
columns. Ranges, stride time and cadence stay.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .session_data import SessionProducts

STRIDE_COLUMNS = (
    "stride", "t_start_s", "t_end_s", "activity", "stride_s", "cadence_spm", "step_left_s", "step_right_s",
    "tilt_mean_deg", "tilt_min_deg", "tilt_max_deg", "tilt_range_deg",
    "obliquity_mean_deg", "obliquity_min_deg", "obliquity_max_deg", "obliquity_range_deg",
    "rotation_mean_deg", "rotation_min_deg", "rotation_max_deg", "rotation_range_deg",
    "drop_left_deg", "drop_right_deg", "tilt_range_left_step_deg", "tilt_range_right_step_deg",
    "vertical_left_step_cm", "vertical_right_step_cm",
    "contact_left_ms", "contact_right_ms", "flight_left_ms", "flight_right_ms", "braking_left_mps2",
    "braking_right_mps2", "flags",
)
SIGNED = {f"{angle}_{k}_deg" for angle in ("tilt", "obliquity", "rotation") for k in ("mean", "min", "max")}
SIDED = {c for c in STRIDE_COLUMNS if "_left" in c or "_right" in c}
RIDE_COLUMNS = ("ride", "t_s", "cadence_rpm", "tilt_deg", "rock_deg", "rotation_deg")


def _fmt(x, decimals: int) -> str:
    return "" if not np.isfinite(x) else f"{x:.{decimals}f}"


def write_stride_csv(p: SessionProducts, path: str | Path) -> int:
    """Write the per-stride table; returns the number of strides written."""
    st, t0 = p.strides, p.t0
    d = np.degrees
    cols = [st.t_start - t0, st.t_end - t0, st.stride_s, 120.0 / st.stride_s if len(st) else st.stride_s,
            st.step_left_s, st.step_right_s]
    for name in ("tilt", "obliquity", "rotation"):
        cols += [d(st.angles[name][k]) for k in ("mean", "min", "max", "range")]
    cols += [d(st.drop_left), d(st.drop_right), d(st.tilt_range_left_step), d(st.tilt_range_right_step),
             100 * st.vertical_left_step, 100 * st.vertical_right_step]
    cols += [1000 * st.contact_left_s, 1000 * st.contact_right_s, 1000 * st.flight_left_s, 1000 * st.flight_right_s,
             st.braking_left_mps2, st.braking_right_mps2]
    decimals = [3, 3, 3, 1, 3, 3] + [2] * 12 + [2] * 4 + [1, 1] + [0] * 4 + [2, 2]
    flags = [(f.type, f.start, f.end if f.end is not None else f.start) for f in p.analysis.flags]
    names = [c for c in STRIDE_COLUMNS[1:-1] if c != "activity"]  # the order of `cols`
    signed = p.analysis.alignment.direction_known
    sided = {a: p.analysis.sides_known(a) for a in set(st.activity)}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(STRIDE_COLUMNS)
        for i in range(len(st)):
            mid = st.t_mid[i]
            held = ";".join(kind for kind, a, b in flags if a <= mid <= b)
            withheld = (set() if signed else SIGNED) | (set() if sided[st.activity[i]] else SIDED)
            cells = ["" if name in withheld else _fmt(c[i], k) for name, c, k in zip(names, cols, decimals)]
            w.writerow([i + 1, *cells[:2], st.activity[i], *cells[2:], held])
    return len(st)


def write_ride_csv(p: SessionProducts, path: str | Path) -> int:
    rows = 0
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(RIDE_COLUMNS)
        for k, r in enumerate(p.rides, 1):
            for i in range(len(r.window_t)):
                w.writerow([k, _fmt(r.window_t[i] - p.t0, 1), _fmt(r.window_rpm[i], 1),
                            _fmt(np.degrees(r.window_tilt[i]), 2), _fmt(np.degrees(r.window_rock[i]), 2),
                            _fmt(np.degrees(r.window_rotation[i]), 2)])
                rows += 1
    return rows
