"""The watch's records on the pod's strides and seconds, and what the pelvis does at each pace and grade.

Per stride (or per riding window): the watch's speed, grade, heart rate, distance and position at the
stride's middle (pod time + offset → watch time, linear between records; nothing across a pause longer
than MAX_GAP_S). Bands:

- grade: uphill (> +GRADE_BAND %), level, downhill (< -GRADE_BAND %);
- pace (level strides only, so hills do not pass for pace): PACE_BIN_MPS-wide speed bins with at least
  MIN_BAND_STRIDES strides; per bin the median speed, tilt, drop and cadence.

Pace threshold of sustained anterior tilt: the speed where the band-median stride tilt crosses the
sustained-tilt threshold (FlagSettings.tilt_threshold_deg, the flags' own number), linearly interpolated
between the slowest band above it and the band below, and only if every faster band stays above (a
single fast band over it is not "above this pace"). None when no band, or every band, is above.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grade import record_grade
from .stream import WatchStream

MAX_GAP_S = 3.0
GRADE_BAND = 0.02
PACE_BIN_MPS = 0.15
MIN_BAND_STRIDES = 20
MATCH_PACE_S_PER_KM = 10.0  # pace-matched comparisons: strides within this of the asked pace


@dataclass
class StridesWithWatch:
    """One row per pod stride (walking/running) or riding window, with the watch's values (NaN: none)."""

    t_start: np.ndarray  # session s
    t_end: np.ndarray
    activity: np.ndarray
    tilt_deg: np.ndarray  # vs standing neutral
    drop_left_deg: np.ndarray
    drop_right_deg: np.ndarray
    rotation_deg: np.ndarray  # stride range
    cadence: np.ndarray  # steps/min (gait) or rpm
    speed_mps: np.ndarray
    grade: np.ndarray  # fraction
    heart_rate_bpm: np.ndarray
    distance_m: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray

    def __len__(self) -> int:
        return len(self.t_start)

    @property
    def pace_s_per_km(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.speed_mps > 0.3, 1000.0 / self.speed_mps, np.nan)

    def columns(self) -> dict[str, np.ndarray]:
        out = dict(self.__dict__)
        out["pace_s_per_km"] = self.pace_s_per_km
        return out


def watch_at(watch: WatchStream, channel: np.ndarray | None, t_watch: np.ndarray) -> np.ndarray:
    """A watch channel at watch times, linear between records, NaN in pauses and outside the file."""
    if channel is None:
        return np.full(len(t_watch), np.nan)
    ts = watch.timestamp
    ok = np.isfinite(channel)
    ts_ok, ch = ts[ok], channel[ok]
    if len(ts_ok) < 2:
        return np.full(len(t_watch), np.nan)
    out = np.interp(t_watch, ts_ok, ch)
    j = np.clip(np.searchsorted(ts_ok, t_watch), 1, len(ts_ok) - 1)
    gap = ts_ok[j] - ts_ok[j - 1]
    out[(gap > MAX_GAP_S) | (t_watch < ts_ok[0] - 1.0) | (t_watch > ts_ok[-1] + 1.0)] = np.nan
    return out


def stride_table(analysis, watch: WatchStream, offset_s: float, session_start_unix: float) -> StridesWithWatch:
    """The pod's cycles (host.analysis.SessionAnalysis.cycles) with the watch's values at each one. What the
    session could not decide is NaN, not guessed: the tilt without the direction, the drops per side without
    the sides of the cycle's gait (host.gait.sides)."""
    c = analysis.cycles
    t0 = float(analysis.rec.t[0])
    ts, te = c.t_start - t0, c.t_end - t0
    mid_watch = session_start_unix + 0.5 * (ts + te) + offset_s
    grade = record_grade(watch.distance_m, watch.altitude_m) if watch.distance_m is not None and \
        watch.altitude_m is not None else None
    with np.errstate(divide="ignore", invalid="ignore"):
        dur = te - ts
        gait = np.isin(c.activity, ("walking", "running"))
        cadence = np.where(gait, 120.0 / dur, np.nan)
    if not gait.all():  # riding windows: the watch's own crank cadence
        cadence = np.where(gait, cadence, watch_at(watch, watch.cadence, mid_watch))
    signed = analysis.alignment.direction_known
    sided = np.array([analysis.sides_known(a) for a in c.activity], bool)
    return StridesWithWatch(
        ts, te, np.asarray(c.activity), np.degrees(c.tilt) if signed else np.full(len(ts), np.nan),
        np.where(sided, np.degrees(c.drop_left), np.nan), np.where(sided, np.degrees(c.drop_right), np.nan),
        np.degrees(c.rot_range), cadence, watch_at(watch, watch.speed_mps, mid_watch),
        watch_at(watch, grade, mid_watch), watch_at(watch, watch.heart_rate_bpm, mid_watch),
        watch_at(watch, watch.distance_m, mid_watch), watch_at(watch, watch.lat_deg, mid_watch),
        watch_at(watch, watch.lon_deg, mid_watch))


@dataclass
class Band:
    label: str
    strides: int
    speed_mps: float
    tilt_deg: float
    drop_deg: float  # mean of left and right drop
    cadence: float
    grade_pct: float

    def to_record(self) -> dict:
        return {k: (round(float(v), 3) if isinstance(v, (float, np.floating)) else v) for k, v in self.__dict__.items()}


def _band(label: str, s: StridesWithWatch, m: np.ndarray) -> Band:
    drop = 0.5 * (s.drop_left_deg[m] + s.drop_right_deg[m])
    return Band(label, int(m.sum()), float(np.nanmedian(s.speed_mps[m])), float(np.nanmedian(s.tilt_deg[m])),
                float(np.nanmedian(drop)) if np.isfinite(drop).any() else float("nan"),
                float(np.nanmedian(s.cadence[m])), float(100 * np.nanmedian(s.grade[m])))


def grade_bands(s: StridesWithWatch, activity: str) -> dict[str, Band]:
    base = (s.activity == activity) & np.isfinite(s.grade) & np.isfinite(s.tilt_deg)
    masks = {"uphill": base & (s.grade > GRADE_BAND), "level": base & (np.abs(s.grade) <= GRADE_BAND),
             "downhill": base & (s.grade < -GRADE_BAND)}
    return {k: _band(k, s, m) for k, m in masks.items() if m.sum() >= MIN_BAND_STRIDES}


def pace_bands(s: StridesWithWatch, activity: str) -> list[Band]:
    level = ((s.activity == activity) & np.isfinite(s.speed_mps) & (s.speed_mps > 0.5) & np.isfinite(s.tilt_deg)
             & (~np.isfinite(s.grade) | (np.abs(s.grade) <= GRADE_BAND)))
    if not level.any():
        return []
    k = np.full(len(level), -1)
    k[level] = np.floor(s.speed_mps[level] / PACE_BIN_MPS).astype(int)  # only where the watch had a speed
    out = []
    for b in np.unique(k[level]):
        m = level & (k == b)
        if m.sum() >= MIN_BAND_STRIDES:
            out.append(_band(f"{format_pace(1000 / ((b + 0.5) * PACE_BIN_MPS))} /km", s, m))
    return out


def pace_threshold(bands: list[Band], threshold_deg: float) -> float | None:
    """Speed (m/s) above which the band-median tilt stays above `threshold_deg` (module docstring)."""
    if len(bands) < 2:
        return None
    v = np.array([b.speed_mps for b in bands])
    tilt = np.array([b.tilt_deg for b in bands])
    order = np.argsort(v)
    v, tilt = v[order], tilt[order]
    above = tilt > threshold_deg
    if above.all() or not above[-1]:
        return None
    first = len(above) - int(np.argmin(above[::-1]))  # start of the run of bands above, at the fast end
    if first == 0:
        return None
    a, b = first - 1, first
    return float(v[a] + (threshold_deg - tilt[a]) * (v[b] - v[a]) / (tilt[b] - tilt[a]))


def tilt_at_pace(s: StridesWithWatch, activity: str, pace_s_per_km: float) -> tuple[float, int]:
    """Median tilt of the level strides within MATCH_PACE_S_PER_KM of a pace, and how many there were."""
    p = s.pace_s_per_km
    m = ((s.activity == activity) & (np.abs(p - pace_s_per_km) <= MATCH_PACE_S_PER_KM) & np.isfinite(s.tilt_deg)
         & (~np.isfinite(s.grade) | (np.abs(s.grade) <= GRADE_BAND)))
    return (float(np.median(s.tilt_deg[m])) if m.any() else float("nan")), int(m.sum())


def format_pace(s_per_km: float | None) -> str:
    if s_per_km is None or not np.isfinite(s_per_km):
        return "–"
    m, s = divmod(int(round(s_per_km)), 60)
    return f"{m}:{s:02d}"
