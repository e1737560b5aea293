"""Everything the report plots and counts, derived once from a SessionAnalysis (host.analysis).

The analysis already holds angles, activity, contacts, per-cycle records, flags, per-stride metrics, bouts
and rides (host.gait), and the summary the store keeps (host.analysis.session_summary). What the report
adds: left/right step curves over 0-100 % of the step, a hinge fit of the stride-averaged tilt (the creep)
and downsampled per-sample series for the session plot. Angles stay in rad here; degrees only in the
builder.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.analysis import SessionAnalysis, session_summary
from tiltguard.host.gait.riding import Ride
from tiltguard.host.gait.strides import ANGLES, BoutGait, StrideTable

MOVING = ("running", "walking", "riding")
SERIES_BINS = 1500  # points of the session-long plots (a few per screen pixel)
TREND_BIN_S = 60.0  # stride tilts are averaged per minute before the creep fit
TREND_WARMUP_S = 120.0  # the first minutes of moving are warm-up (as the creep flag's baseline)
STEP_POINTS = 51  # 0, 2, ..., 100 % of a step


@dataclass
class Series:
    """A per-sample signal reduced to bins: time (s from the session start), mean, min, max."""

    t: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


@dataclass
class TrendFit:
    """Hinge fit of the binned cycle tilt: level `baseline` until `onset_s`, then rising `slope` per s."""

    t: np.ndarray  # bin centres, s
    tilt: np.ndarray  # binned cycle tilt, rad
    baseline: float  # rad
    onset_s: float
    slope_per_s: float  # rad/s
    end_s: float

    def fitted(self, t: np.ndarray) -> np.ndarray:
        return self.baseline + self.slope_per_s * np.maximum(0.0, t - self.onset_s)

    @property
    def rise(self) -> float:
        return self.slope_per_s * max(0.0, self.end_s - self.onset_s)


@dataclass
class StepCurves:
    """Mean ± SD over 0-100 % of the left and the right step (left step: left contact → right contact).
    Obliquity and rotation of right steps are mirrored so that a symmetric runner's curves overlap: after
    mirroring, obliquity > 0 means the swing side is lower, and rotation > 0 means turned to the left in
    left steps and to the right in right steps."""

    pct: np.ndarray
    mean: dict[str, dict[str, np.ndarray]]  # side -> angle -> (STEP_POINTS,) rad
    sd: dict[str, dict[str, np.ndarray]]
    steps: int  # strides contributing (each has one left and one right step)


@dataclass
class SessionProducts:
    analysis: SessionAnalysis
    t0: float  # first sample time: report times are s from here
    main_activity: str
    moving_s: dict[str, float]  # activity -> seconds classified as it
    strides: StrideTable  # all strides (walking and running)
    bouts: list[BoutGait]
    rides: list[Ride]
    step_curves: StepCurves | None
    trend: TrendFit | None
    tilt_series: Series
    tilt_abs_offset: float  # rad: absolute tilt = relative tilt + this (standing neutral, absolute)
    stored_summary: dict  # host.analysis.session_summary: the numbers the store keeps for this session


def derive(analysis: SessionAnalysis) -> SessionProducts:
    rec, angles, act = analysis.rec, analysis.angles, analysis.activity
    t0 = float(rec.t[0])
    per_sample = {"tilt": angles.tilt, "obliquity": angles.obliquity, "rotation": angles.rotation}
    strides, bouts, rides = analysis.gait.strides, analysis.gait.bouts, analysis.gait.rides  # computed once, upstream
    counts = np.bincount(act.codes, minlength=len(ACTIVITIES))
    moving_s = {name: float(counts[ACTIVITIES.index(name)] / rec.rate_hz) for name in MOVING}
    main = max(MOVING, key=lambda a: moving_s[a]) if max(moving_s.values()) > 0 else "still"
    gait = strides.select(strides.activity == main)  # none when the session is a ride
    offset = angles.tilt_abs - angles.tilt
    return SessionProducts(
        analysis=analysis, t0=t0, main_activity=main, moving_s=moving_s, strides=strides, bouts=bouts,
        rides=rides, step_curves=step_curves(rec.t, per_sample, gait) if len(gait) >= 2 else None,
        trend=trend_fit(analysis, main, t0), tilt_series=bin_series(rec.t - t0, angles.tilt),
        tilt_abs_offset=(float(np.nanmedian(offset)) if np.isfinite(offset).any() and analysis.alignment.has_neutral
                         else float("nan")),  # without a stand there is no neutral to add it to
        stored_summary=session_summary(analysis),
    )


def bin_series(t: np.ndarray, x: np.ndarray, bins: int = SERIES_BINS) -> Series:
    """Mean / min / max of x in `bins` equal runs of samples (NaN samples ignored, all-NaN bins NaN)."""
    n = len(x)
    bins = max(1, min(bins, n))
    edges = np.linspace(0, n, bins + 1).astype(int)
    starts = edges[:-1]
    ok = np.isfinite(x)
    counts = np.add.reduceat(ok.astype(float), starts)
    sums = np.add.reduceat(np.where(ok, x, 0.0), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / counts, np.nan)
    lo = np.fmin.reduceat(x, starts)
    hi = np.fmax.reduceat(x, starts)
    centre = t[np.minimum((starts + edges[1:]) // 2, n - 1)]
    return Series(centre, mean, lo, hi)


def cycle_mask(analysis: SessionAnalysis, activity: str) -> np.ndarray:
    return analysis.cycles.activity == activity


def trend_fit(analysis: SessionAnalysis, activity: str, t0: float) -> TrendFit | None:
    """Hinge fit (flat, then a straight rise) of the per-minute mean cycle tilt of one activity, warm-up left
    out. The onset is searched on the bin grid; a plain straight line is the onset at the first bin."""
    c = analysis.cycles
    m = cycle_mask(analysis, activity) & np.isfinite(c.tilt)
    if m.sum() < 10:
        return None
    tc = 0.5 * (c.t_start[m] + c.t_end[m]) - t0
    keep = tc >= tc[0] + TREND_WARMUP_S
    if keep.sum() < 10:
        keep[:] = True
    tc, tilt = tc[keep], c.tilt[m][keep]
    edges = np.arange(tc[0], tc[-1] + TREND_BIN_S, TREND_BIN_S)
    b = np.clip(np.searchsorted(edges, tc, side="right") - 1, 0, len(edges) - 1)
    n = np.bincount(b, minlength=len(edges))
    s = np.bincount(b, tilt, minlength=len(edges))
    have = n > 0
    bt = np.bincount(b, tc, minlength=len(edges))[have] / n[have]
    bx = s[have] / n[have]
    if len(bx) < 3:
        return TrendFit(bt, bx, float(np.mean(bx)), float(bt[0]), 0.0, float(tc[-1]))
    best = None
    for onset in bt[:-2]:  # at least two bins after the onset carry the slope
        h = np.maximum(0.0, bt - onset)
        A = np.column_stack([np.ones_like(bt), h])
        coef, *_ = np.linalg.lstsq(A, bx, rcond=None)
        sse = float(np.sum((A @ coef - bx) ** 2))
        if best is None or sse < best[0] - 1e-12:
            best = (sse, float(onset), float(coef[0]), float(coef[1]))
    _, onset, base, slope = best
    return TrendFit(bt, bx, base, onset, slope, float(tc[-1]))


def step_curves(t: np.ndarray, angles: dict[str, np.ndarray], strides: StrideTable,
                points: int = STEP_POINTS) -> StepCurves:
    """Left and right step curves, each step resampled over 0-100 % (linear interpolation on the sample
    clock at fractional positions)."""
    idx = np.arange(len(t), dtype=float)
    p0, p2 = strides.start_index, strides.end_index
    p1 = np.interp(strides.t_mid, t, idx)
    frac = np.linspace(0.0, 1.0, points)
    spans = {"left": (p0, p1), "right": (p1, p2)}
    mirror = {"tilt": 1.0, "obliquity": -1.0, "rotation": -1.0}
    mean: dict = {}
    sd: dict = {}
    for side, (a, b) in spans.items():
        pos = a[:, None] + (b - a)[:, None] * frac
        mean[side], sd[side] = {}, {}
        for name in ANGLES:
            curves = np.interp(pos, idx, angles[name])
            if side == "right":
                curves = curves * mirror[name]
            mean[side][name] = np.nanmean(curves, axis=0)
            sd[side][name] = np.nanstd(curves, axis=0)
    return StepCurves(frac * 100.0, mean, sd, len(strides))
