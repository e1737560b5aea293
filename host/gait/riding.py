"""Riding (seated pedalling): pedal cadence from the pelvic rock, rock and rotation ranges, saddle tilt.

Seated on a saddle the pelvis rocks once per crank revolution, dropping towards the downstroke side, so the
roll rate (angular rate about the forward axis) is a near-sinusoid at the crank frequency. Its phase,
from the analytic signal (Hilbert transform) of the roll rate band-passed around the ride's crank
frequency, advances 2π per revolution: cadence is phase advance over time, and revolutions start where
the phase crosses a multiple of 2π. Averaging the phase slope over a window gives the cadence to a
fraction of an rpm, far finer than a spectrum's bin width of 6 rpm over 10 s.

Per revolution: the peak-to-peak of obliquity (the rock) and rotation; per window: their means, and the
mean tilt relative to standing neutral (the saddle tilt). Drift: the least-squares slope of the window
tilts over the ride, and the change from the first to the last DRIFT_EDGE_S.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, hilbert, sosfiltfilt, welch

from .activity import ActivitySegments, Bout

CRANK_BAND_HZ = (0.4, 2.5)  # 24-150 rpm
BAND_AROUND_F0 = (0.6, 1.6)  # pass band around the ride's crank frequency: cadence changes of -40/+60 %
WINDOW_S = 10.0
DRIFT_EDGE_S = 300.0
MIN_RIDE_S = 20.0
EDGE_TRIM_S = 2.0  # the Hilbert phase is unreliable this close to the ends of a ride


@dataclass
class Ride:
    """One riding bout. Angles in rad (relative to standing neutral), cadence in rpm, times in s."""

    start_s: float
    end_s: float
    cadence_rpm: float  # mean over the ride (revolutions / time)
    window_t: np.ndarray  # (W,) window centres
    window_rpm: np.ndarray  # (W,) cadence per window
    window_tilt: np.ndarray  # (W,) mean tilt per window (NaN without angles)
    window_rock: np.ndarray  # (W,) mean per-revolution obliquity range
    window_rotation: np.ndarray  # (W,) mean per-revolution rotation range
    revolutions: np.ndarray  # (R,) start time of every crank revolution
    rock_range: float  # mean per-revolution obliquity peak-to-peak
    rotation_range: float  # mean per-revolution rotation peak-to-peak
    saddle_tilt: float  # mean tilt over the ride
    tilt_drift_per_hour: float  # least-squares slope of the window tilts
    tilt_change: float  # mean tilt of the last DRIFT_EDGE_S minus that of the first


def crank_frequency(roll_rate: np.ndarray, rate_hz: float) -> float:
    """Dominant frequency (Hz) of the roll rate within CRANK_BAND_HZ (Welch spectrum, 0.05 Hz bins)."""
    nper = min(len(roll_rate), int(20 * rate_hz))
    f, p = welch(roll_rate, fs=rate_hz, nperseg=nper)
    band = (f >= CRANK_BAND_HZ[0]) & (f <= CRANK_BAND_HZ[1])
    if not band.any():
        return float("nan")
    return float(f[band][np.argmax(p[band])])


def pedal_phase(roll_rate: np.ndarray, rate_hz: float, f0: float | None = None) -> np.ndarray:
    """Unwrapped crank phase (rad) of every sample, from the band-passed roll rate."""
    if f0 is None:
        f0 = crank_frequency(roll_rate, rate_hz)
    lo, hi = BAND_AROUND_F0[0] * f0, min(BAND_AROUND_F0[1] * f0, 0.45 * rate_hz)
    sos = butter(2, [lo, hi], btype="band", fs=rate_hz, output="sos")
    x = sosfiltfilt(sos, roll_rate - roll_rate.mean())
    return np.unwrap(np.angle(hilbert(x)))


def cadence_rpm(roll_rate: np.ndarray, rate_hz: float) -> float:
    """Mean pedal cadence (rpm) over a stretch of seated pedalling, e.g. the live view's last 10 s:
    the crank phase's advance without the stretch's first and last EDGE_TRIM_S."""
    roll_rate = np.asarray(roll_rate, float)
    phase = pedal_phase(roll_rate, rate_hz)
    return _mean_rpm(np.arange(len(roll_rate)) / rate_hz, phase, rate_hz)


def _per_revolution_range(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    if len(starts) < 2:
        return np.zeros(0)
    s = np.asarray(starts, int)
    hi = np.maximum.reduceat(x, s[:-1])
    lo = np.minimum.reduceat(x, s[:-1])
    return (hi - lo)[: len(s) - 1]


def analyse_ride(t: np.ndarray, roll_rate: np.ndarray, rate_hz: float, bout: Bout,
                 tilt: np.ndarray | None = None, obliquity: np.ndarray | None = None,
                 rotation: np.ndarray | None = None) -> Ride | None:
    """Cadence, rock, rotation and tilt of one riding bout; per-sample inputs on the clock `t`."""
    a, b = np.searchsorted(t, [bout.start_s, bout.end_s])
    if (b - a) / rate_hz < MIN_RIDE_S:
        return None
    tt = t[a:b]
    phase = pedal_phase(roll_rate[a:b], rate_hz)
    # Revolutions start where the phase passes a multiple of 2π (the rock's rising zero crossing).
    rev = np.floor(phase / (2 * np.pi))
    starts = np.flatnonzero(np.diff(rev) > 0) + 1
    duration = tt[-1] - tt[0]
    edges = np.arange(tt[0], tt[-1] - 0.5 * WINDOW_S + 1e-9, WINDOW_S)
    w_lo = np.searchsorted(tt, edges)
    w_hi = np.searchsorted(tt, np.minimum(edges + WINDOW_S, tt[-1]))
    w_hi = np.maximum(w_hi, w_lo + 1)
    dphase = phase[np.minimum(w_hi, len(tt) - 1)] - phase[w_lo]
    dt = tt[np.minimum(w_hi, len(tt) - 1)] - tt[w_lo]
    window_rpm = 60.0 * dphase / (2 * np.pi) / np.maximum(dt, 1e-9)
    centres = 0.5 * (tt[w_lo] + tt[np.minimum(w_hi, len(tt) - 1)])

    nan = np.full(len(edges), np.nan)
    rock = rotation_range = np.zeros(0)
    w_tilt, w_rock, w_rot = nan, nan.copy(), nan.copy()
    if obliquity is not None and len(starts) >= 2:
        rock = _per_revolution_range(obliquity[a:b], starts)
        w_rock = _window_mean_of_events(tt[starts[:-1]], rock, edges)
    if rotation is not None and len(starts) >= 2:
        rotation_range = _per_revolution_range(rotation[a:b], starts)
        w_rot = _window_mean_of_events(tt[starts[:-1]], rotation_range, edges)
    saddle = drift = change = float("nan")
    if tilt is not None:
        c = np.concatenate([[0.0], np.cumsum(tilt[a:b], dtype=float)])
        w_tilt = (c[w_hi] - c[w_lo]) / (w_hi - w_lo)
        saddle = float(np.mean(tilt[a:b]))
        if len(edges) >= 2:
            drift = float(np.polyfit(centres - centres[0], w_tilt, 1)[0] * 3600.0)
        edge = min(DRIFT_EDGE_S, duration / 3)
        first = tilt[a:b][tt < tt[0] + edge]
        last = tilt[a:b][tt > tt[-1] - edge]
        change = float(last.mean() - first.mean())
    return Ride(
        start_s=float(tt[0]), end_s=float(tt[-1]),
        cadence_rpm=_mean_rpm(tt, phase, rate_hz),
        window_t=centres, window_rpm=window_rpm, window_tilt=w_tilt, window_rock=w_rock, window_rotation=w_rot,
        revolutions=tt[starts],
        rock_range=float(np.mean(rock)) if len(rock) else float("nan"),
        rotation_range=float(np.mean(rotation_range)) if len(rotation_range) else float("nan"),
        saddle_tilt=saddle, tilt_drift_per_hour=drift, tilt_change=change,
    )


def _mean_rpm(t: np.ndarray, phase: np.ndarray, rate_hz: float) -> float:
    """Phase advance over the ride without its first and last EDGE_TRIM_S (the analytic signal's ends)."""
    trim = int(EDGE_TRIM_S * rate_hz)
    if len(t) <= 4 * trim:
        trim = 0
    a, b = trim, len(t) - 1 - trim
    return float(60.0 * (phase[b] - phase[a]) / (2 * np.pi) / (t[b] - t[a]))


def _window_mean_of_events(event_t: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    win = np.searchsorted(edges, event_t, side="right") - 1
    ok = (win >= 0) & (win < len(edges))
    total = np.bincount(win[ok], values[ok], minlength=len(edges))
    count = np.bincount(win[ok], minlength=len(edges))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def analyse_rides(activity: ActivitySegments, roll_rate: np.ndarray, rate_hz: float,
                  tilt: np.ndarray | None = None, obliquity: np.ndarray | None = None,
                  rotation: np.ndarray | None = None) -> list[Ride]:
    """Every riding bout of a session (roll rate = LevelSignals.gyr[:, 0], rad/s)."""
    rides = []
    for bout in activity.bouts_of("riding"):
        ride = analyse_ride(activity.t, roll_rate, rate_hz, bout, tilt, obliquity, rotation)
        if ride is not None:
            rides.append(ride)
    return rides
