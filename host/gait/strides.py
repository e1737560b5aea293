"""Per-stride pelvic metrics, per-step vertical oscillation and gait-cycle-normalised curves.

A stride runs from a left initial contact to the next left contact with exactly one right contact between
(the left step is L→R, i.e. left stance; the right step R→L). For each stride and each pelvic angle
(tilt, obliquity, rotation; rad, relative to standing neutral): mean, min, max and range. Left vs right:
the swing side's drop in each stance (obliquity peak, as host.gait.cycles defines drop_left/drop_right),
step times, per-step tilt range and vertical oscillation. All of it is computed with cumulative sums and
ufunc.reduceat over contiguous sample spans: no Python loop over strides.

Vertical oscillation of the sacrum per step (Zijlstra & Hof 2003): the vertical acceleration is integrated
twice between consecutive contacts, with the drift removed by the periodicity of a step on level ground —
the step's mean acceleration is subtracted before the first integration (the velocity ends where it began)
and the mean velocity before the second (the height ends where it began). The result is the peak-to-peak
excursion within that step, free of the integration drift that builds up over longer spans.

Per bout (`summarise_bouts`): means and stride-to-stride variability (SD, and CV of stride time), left
vs right, and the mean ± SD of each angle over 0-100 % of the stride from left initial contact.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tiltguard.host.activities import ACTIVITIES, GAIT_ACTIVITIES

from .sequence import MAX_STEP_S, MIN_STEP_S

ANGLES = ("tilt", "obliquity", "rotation")
CURVE_POINTS = 101  # 0, 1, ..., 100 % of the stride
MAX_STRIDE_S = 2.0  # longer: a stop or a missed contact, not a stride


@dataclass
class StrideTable:
    """One row per stride (left contact to left contact), in time order. Angles rad, times s, heights m."""

    t_start: np.ndarray
    t_mid: np.ndarray  # the right contact between
    t_end: np.ndarray
    activity: np.ndarray  # str: 'walking' / 'running' (activity at mid-stride), '' if unknown
    stride_s: np.ndarray
    step_left_s: np.ndarray  # left stance: left contact -> right contact
    step_right_s: np.ndarray
    angles: dict[str, dict[str, np.ndarray]]  # angle -> {'mean', 'min', 'max', 'range'}
    drop_right: np.ndarray  # peak obliquity (left side up) in the left-stance step: the right side's drop
    drop_left: np.ndarray  # peak negative obliquity in the right-stance step: the left side's drop
    tilt_range_left_step: np.ndarray
    tilt_range_right_step: np.ndarray
    vertical_left_step: np.ndarray  # vertical oscillation (peak-to-peak, m) in the left-stance step
    vertical_right_step: np.ndarray
    # the stance of each foot (host.gait.stance; NaN where not measured, e.g. walking): ground contact time,
    # the flight after it, and the braking (peak fore-aft deceleration, contact to mid-stance, m/s²)
    contact_left_s: np.ndarray
    contact_right_s: np.ndarray
    flight_left_s: np.ndarray
    flight_right_s: np.ndarray
    braking_left_mps2: np.ndarray
    braking_right_mps2: np.ndarray
    start_index: np.ndarray = field(repr=False, default=None)  # fractional sample positions (for curves)
    end_index: np.ndarray = field(repr=False, default=None)

    def __len__(self) -> int:
        return len(self.t_start)

    def select(self, keep: np.ndarray) -> "StrideTable":
        def pick(v):
            if isinstance(v, dict):
                return {k: pick(x) for k, x in v.items()}
            return v[keep]

        return StrideTable(**{k: pick(getattr(self, k)) for k in self.__dataclass_fields__})


def _sample_positions(t: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Fractional sample index of each time on the sample clock t."""
    return np.interp(times, t, np.arange(len(t), dtype=float))


def _span_stats(x: np.ndarray, a: np.ndarray, b: np.ndarray):
    """mean, min, max of x over every [a, b) (b > a, spans may overlap)."""
    c = np.concatenate([[0.0], np.cumsum(x, dtype=float)])
    mean = (c[b] - c[a]) / (b - a)
    # reduceat needs ascending, non-overlapping starts; interleave [a, b) pairs and take every other result
    idx = np.ravel(np.column_stack([a, b]))
    ok = b < len(x)
    hi = np.empty(len(a))
    lo = np.empty(len(a))
    if ok.all():
        hi[:] = np.maximum.reduceat(x, idx)[::2]
        lo[:] = np.minimum.reduceat(x, idx)[::2]
    else:
        xp = np.concatenate([x, x[-1:]])
        hi[:] = np.maximum.reduceat(xp, idx)[::2]
        lo[:] = np.minimum.reduceat(xp, idx)[::2]
    return mean, lo, hi


def _ranges_over(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0)
    _, lo, hi = _span_stats(x, a, b)
    return hi - lo


def vertical_oscillation(vertical_acc: np.ndarray, rate_hz: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Peak-to-peak height change (m) of each step [a, b) from the vertical acceleration (m/s², gravity
    removed), by drift-free double integration (module docstring). Steps must not overlap."""
    if len(a) == 0:
        return np.zeros(0)
    dt = 1.0 / rate_hz
    lengths = b - a
    seg = np.repeat(np.arange(len(a)), lengths)
    j = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # index within its step
    acc = vertical_acc[np.repeat(a, lengths) + j]
    acc = acc - (np.bincount(seg, acc) / lengths)[seg]
    v = _segment_cumsum(acc, seg, lengths) * dt
    v = v - (np.bincount(seg, v) / lengths)[seg]
    z = _segment_cumsum(v, seg, lengths) * dt
    starts = np.cumsum(lengths) - lengths
    return np.maximum.reduceat(z, starts) - np.minimum.reduceat(z, starts)


def _segment_cumsum(x: np.ndarray, seg: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    c = np.cumsum(x)
    ends = np.cumsum(lengths)
    offset = np.concatenate([[0.0], c[ends[:-1] - 1]])
    return c - offset[seg]


def stride_metrics(t: np.ndarray, tilt: np.ndarray, obliquity: np.ndarray, rotation: np.ndarray,
                   ic_t: np.ndarray, ic_left: np.ndarray, vertical_acc: np.ndarray | None = None,
                   activity: np.ndarray | None = None, stance=None) -> StrideTable:
    """Per-stride table from per-sample angles (rad) on the clock t, contacts (same clock) with sides,
    and optionally the vertical acceleration (m/s², gravity removed), activity codes per sample and the
    stance phases per contact (host.gait.stance.StancePhases)."""
    ic_t = np.asarray(ic_t, float)
    ic_left = np.asarray(ic_left, bool)
    rate_hz = (len(t) - 1) / (t[-1] - t[0])
    k = np.flatnonzero(ic_left[:-2] & ~ic_left[1:-1] & ic_left[2:]) if len(ic_t) >= 3 else np.zeros(0, int)
    if len(k):
        step1, step2 = ic_t[k + 1] - ic_t[k], ic_t[k + 2] - ic_t[k + 1]
        ok = ((step1 >= MIN_STEP_S) & (step2 >= MIN_STEP_S) & (step1 <= MAX_STEP_S) & (step2 <= MAX_STEP_S)
              & (step1 + step2 <= MAX_STRIDE_S) & (ic_t[k] >= t[0]) & (ic_t[k + 2] <= t[-1]))
        k = k[ok]
    p0, p1, p2 = (_sample_positions(t, ic_t[k + j]) for j in range(3))
    s0, s1, s2 = (np.round(p).astype(int) for p in (p0, p1, p2))
    good = (s1 > s0) & (s2 > s1)
    k, p0, p2, s0, s1, s2 = k[good], p0[good], p2[good], s0[good], s1[good], s2[good]

    angles = {}
    for name, x in zip(ANGLES, (tilt, obliquity, rotation)):
        mean, lo, hi = _span_stats(x, s0, s2)
        angles[name] = {"mean": mean, "min": lo, "max": hi, "range": hi - lo}
    _, _, ob_max_left = _span_stats(obliquity, s0, s1)
    _, ob_min_right, _ = _span_stats(obliquity, s1, s2)
    if activity is not None:
        names = np.asarray(ACTIVITIES)[np.asarray(activity)[np.minimum(s1, len(t) - 1)]]
        names = np.where(np.isin(names, GAIT_ACTIVITIES), names, "")
    else:
        names = np.full(len(k), "")
    if vertical_acc is not None and len(k):
        # left and right steps of all strides, one integration pass (consecutive strides share no step)
        osc = vertical_oscillation(np.asarray(vertical_acc, float), rate_hz, np.r_[s0, s1], np.r_[s1, s2])
        v_left, v_right = osc[: len(k)], osc[len(k):]
    else:
        v_left = v_right = np.full(len(k), np.nan)

    def per_foot(values):  # the left stance starts the stride, the right one is its middle contact
        if values is None:
            return np.full(len(k), np.nan), np.full(len(k), np.nan)
        values = np.asarray(values, float)
        return values[k], values[k + 1]

    contact = per_foot(None if stance is None else stance.contact_s)
    flight = per_foot(None if stance is None else stance.flight_s)
    braking = per_foot(None if stance is None else stance.braking_mps2)
    return StrideTable(
        t_start=ic_t[k], t_mid=ic_t[k + 1], t_end=ic_t[k + 2], activity=names,
        stride_s=ic_t[k + 2] - ic_t[k], step_left_s=ic_t[k + 1] - ic_t[k], step_right_s=ic_t[k + 2] - ic_t[k + 1],
        angles=angles, drop_right=ob_max_left, drop_left=-ob_min_right,
        tilt_range_left_step=_ranges_over(tilt, s0, s1), tilt_range_right_step=_ranges_over(tilt, s1, s2),
        vertical_left_step=v_left, vertical_right_step=v_right,
        contact_left_s=contact[0], contact_right_s=contact[1], flight_left_s=flight[0], flight_right_s=flight[1],
        braking_left_mps2=braking[0], braking_right_mps2=braking[1], start_index=p0, end_index=p2,
    )


def normalised_curves(x: np.ndarray, strides: StrideTable, points: int = CURVE_POINTS) -> np.ndarray:
    """(strides, points) of x resampled over 0-100 % of each stride (linear interpolation)."""
    if len(strides) == 0:
        return np.zeros((0, points))
    frac = np.linspace(0.0, 1.0, points)
    pos = strides.start_index[:, None] + (strides.end_index - strides.start_index)[:, None] * frac
    return np.interp(pos, np.arange(len(x), dtype=float), x)


@dataclass
class BoutGait:
    """Summary of the strides of one walking/running bout (angles rad, heights m, times s)."""

    activity: str
    start_s: float
    end_s: float
    strides: int
    cadence_spm: float  # mean over strides of 120 / stride time
    stride_time_cv: float  # stride-to-stride variability of stride time (SD / mean)
    step_time_left_s: float
    step_time_right_s: float
    angles: dict[str, dict[str, float]]  # angle -> mean of per-stride 'mean', 'min', 'max', 'range'
    angle_range_sd: dict[str, float]  # stride-to-stride SD of each angle's range
    drop_left: float
    drop_right: float
    vertical_left: float
    vertical_right: float
    curve_mean: dict[str, np.ndarray]  # angle -> (CURVE_POINTS,) mean over strides, 0-100 % from left IC
    curve_sd: dict[str, np.ndarray]


def summarise_bouts(strides: StrideTable, bouts, angles: dict[str, np.ndarray]) -> list[BoutGait]:
    """One summary per gait bout (host.gait.activity.Bout) holding at least two strides. `angles` maps
    'tilt', 'obliquity', 'rotation' to the per-sample angles the strides were measured on."""
    out = []
    curves = {name: normalised_curves(angles[name], strides) for name in ANGLES}
    for bout in bouts:
        if bout.activity not in GAIT_ACTIVITIES:
            continue
        keep = (strides.t_start >= bout.start_s) & (strides.t_end <= bout.end_s)
        if keep.sum() < 2:
            continue
        s = strides.select(keep)
        out.append(BoutGait(
            activity=bout.activity, start_s=bout.start_s, end_s=bout.end_s, strides=len(s),
            cadence_spm=float(np.mean(120.0 / s.stride_s)),
            stride_time_cv=float(np.std(s.stride_s) / np.mean(s.stride_s)),
            step_time_left_s=float(np.mean(s.step_left_s)), step_time_right_s=float(np.mean(s.step_right_s)),
            angles={a: {m: float(np.mean(v)) for m, v in s.angles[a].items()} for a in ANGLES},
            angle_range_sd={a: float(np.std(s.angles[a]["range"])) for a in ANGLES},
            drop_left=float(np.mean(s.drop_left)), drop_right=float(np.mean(s.drop_right)),
            vertical_left=float(np.nanmean(s.vertical_left_step)) if np.isfinite(s.vertical_left_step).any() else float("nan"),
            vertical_right=float(np.nanmean(s.vertical_right_step)) if np.isfinite(s.vertical_right_step).any() else float("nan"),
            curve_mean={a: curves[a][keep].mean(axis=0) for a in ANGLES},
            curve_sd={a: curves[a][keep].std(axis=0) for a in ANGLES},
        ))
    return out
