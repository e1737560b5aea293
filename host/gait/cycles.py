"""Per-cycle pelvic metrics: one record per stride while walking/running, one per window while riding.
The flag engines, the report and the live view consume these.

A stride runs from a left initial contact to the next left contact, with one right contact between. Its
metrics come from the per-sample pelvic angles (relative to standing neutral, rad):
  tilt        mean tilt over the stride (the "stride-averaged tilt")
  drop_right  peak obliquity in the left-stance step: the right (swing) side's drop
  drop_left   peak negative obliquity in the right-stance step: the left side's drop
  rot_mean    mean rotation over the stride (left/right imbalance)
  rot_range   peak-to-peak rotation over the stride
Riding windows carry the mean tilt and the rock (obliquity, 5th-95th percentile span).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tiltguard.host.activities import ACTIVITIES

MAX_STRIDE_S = 2.0  # longer: a stop or a missed contact, not a stride
RIDE_WINDOW_S = 10.0


@dataclass
class Cycle:
    """One stride or one riding window, as the live engine receives it."""

    t_start: float
    t_end: float
    activity: str  # 'walking', 'running' or 'riding'
    tilt: float
    drop_left: float = np.nan
    drop_right: float = np.nan
    rot_mean: float = np.nan
    rot_range: float = np.nan
    rock: float = np.nan


@dataclass
class CycleTable:
    """Columns of cycles, in time order (the post-session view of the same data)."""

    t_start: np.ndarray
    t_end: np.ndarray
    activity: np.ndarray  # str
    tilt: np.ndarray
    drop_left: np.ndarray
    drop_right: np.ndarray
    rot_mean: np.ndarray
    rot_range: np.ndarray
    rock: np.ndarray

    def __len__(self) -> int:
        return len(self.t_start)

    def cycles(self):
        for i in range(len(self)):
            yield Cycle(float(self.t_start[i]), float(self.t_end[i]), str(self.activity[i]), float(self.tilt[i]),
                         float(self.drop_left[i]), float(self.drop_right[i]), float(self.rot_mean[i]),
                         float(self.rot_range[i]), float(self.rock[i]))

    @classmethod
    def concat(cls, parts: list["CycleTable"]) -> "CycleTable":
        cols = {k: np.concatenate([getattr(p, k) for p in parts]) for k in cls.__dataclass_fields__}
        order = np.argsort(cols["t_start"], kind="stable")
        return cls(**{k: v[order] for k, v in cols.items()})


def stride_cycles(t: np.ndarray, tilt: np.ndarray, obliquity: np.ndarray, rotation: np.ndarray,
                   activity: np.ndarray, ic_t: np.ndarray, ic_left: np.ndarray) -> CycleTable:
    """Per-stride records from per-sample angles and initial contacts (times on the same clock as t)."""
    ic_t = np.asarray(ic_t, float)
    ic_left = np.asarray(ic_left, bool)
    i_left = np.nonzero(ic_left)[0]
    keep = []
    for a, b in zip(i_left[:-1], i_left[1:]):
        # Exactly one right contact between two left ones, and no pause inside.
        if b - a == 2 and not ic_left[a + 1] and ic_t[b] - ic_t[a] <= MAX_STRIDE_S:
            keep.append((a, a + 1, b))
    if not keep:
        return _empty()
    k = np.array(keep)
    s0, s1, s2 = (np.searchsorted(t, ic_t[k[:, j]]) for j in range(3))
    s2 = np.minimum(s2, len(t))
    gait_codes = activity[np.minimum(s0 + (s2 - s0) // 2, len(t) - 1)]
    names = np.asarray(ACTIVITIES)[gait_codes]
    ok = np.isin(names, ("walking", "running")) & (s2 > s1) & (s1 > s0)
    s0, s1, s2, names = s0[ok], s1[ok], s2[ok], names[ok]
    if len(s0) == 0:
        return _empty()
    return CycleTable(
        t_start=t[s0], t_end=t[np.minimum(s2, len(t) - 1)], activity=names,
        tilt=_segment_mean(tilt, s0, s2),
        drop_right=np.maximum.reduceat(obliquity, np.ravel(np.column_stack([s0, s1])))[::2],
        drop_left=-np.minimum.reduceat(obliquity, np.ravel(np.column_stack([s1, s2 - 1])))[::2],
        rot_mean=_segment_mean(rotation, s0, s2),
        rot_range=np.maximum.reduceat(rotation, np.ravel(np.column_stack([s0, s2 - 1])))[::2]
        - np.minimum.reduceat(rotation, np.ravel(np.column_stack([s0, s2 - 1])))[::2],
        rock=np.full(len(s0), np.nan),
    )


def ride_cycles(t: np.ndarray, tilt: np.ndarray, obliquity: np.ndarray, activity: np.ndarray,
                 window_s: float = RIDE_WINDOW_S) -> CycleTable:
    """Fixed windows over the riding samples: mean tilt and pelvic rock."""
    riding = activity == ACTIVITIES.index("riding")
    if not riding.any():
        return _empty()
    edges = np.arange(t[0], t[-1] + window_s, window_s)
    win = np.searchsorted(edges, t, side="right") - 1
    rows = []
    for w in np.unique(win[riding]):
        m = riding & (win == w)
        if m.sum() < 0.8 * window_s * (len(t) - 1) / (t[-1] - t[0]):
            continue  # a window only partly spent riding
        ob = obliquity[m]
        rows.append((t[m][0], t[m][-1], float(tilt[m].mean()), float(np.percentile(ob, 95) - np.percentile(ob, 5))))
    if not rows:
        return _empty()
    r = np.array(rows)
    n = len(r)
    nan = np.full(n, np.nan)
    return CycleTable(r[:, 0], r[:, 1], np.full(n, "riding"), r[:, 2], nan, nan.copy(), nan.copy(), nan.copy(),
                       r[:, 3])


def _segment_mean(x: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x, dtype=float)])
    return (c[end] - c[start]) / (end - start)


def _empty() -> CycleTable:
    z = np.zeros(0)
    return CycleTable(z, z, np.zeros(0, dtype="<U8"), z, z, z, z, z, z)
