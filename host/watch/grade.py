"""Grade (rise over run) from the watch's altitude and distance.

Altitude is resampled onto a 1-m distance grid (records while stopped, where the distance does not grow,
are averaged into one), smoothed with a Gaussian of SMOOTH_M (15 m) standard deviation along the distance,
and differentiated. 15 m keeps a 100-m climb's grade (the edges are blurred over ~±30 m) while averaging a
barometer's 0.1-0.3 m noise down to ~0.1 % of grade; GPS-only altitude (metres of noise) needs longer
stretches: `grade_over` gives the grade over any distance, e.g. the 100-m segments the bench scores.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

SMOOTH_M = 15.0
GRID_M = 1.0


def altitude_profile(distance_m: np.ndarray, altitude_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distance grid, smoothed altitude) from the records (NaNs dropped)."""
    ok = np.isfinite(distance_m) & np.isfinite(altitude_m)
    d, z = distance_m[ok], altitude_m[ok]
    if len(d) < 3 or np.ptp(d) < 3 * GRID_M:
        return np.array([]), np.array([])
    order = np.argsort(d, kind="stable")
    d, z = d[order], z[order]
    ud, inv = np.unique(np.round(d / GRID_M).astype(np.int64), return_inverse=True)
    zm = np.bincount(inv, z) / np.bincount(inv)
    grid = np.arange(ud[0], ud[-1] + 1) * GRID_M
    zg = np.interp(grid, ud * GRID_M, zm)
    return grid, gaussian_filter1d(zg, SMOOTH_M / GRID_M, mode="nearest")


def record_grade(distance_m: np.ndarray, altitude_m: np.ndarray) -> np.ndarray:
    """Grade (fraction, uphill > 0) at each record; NaN where altitude or distance is missing."""
    grid, z = altitude_profile(distance_m, altitude_m)
    if len(grid) == 0:
        return np.full(len(distance_m), np.nan)
    g = np.gradient(z, grid)
    out = np.interp(distance_m, grid, g)
    out[~np.isfinite(distance_m) | ~np.isfinite(altitude_m)] = np.nan
    return out


def grade_over(distance_m: np.ndarray, altitude_m: np.ndarray, starts_m: np.ndarray, length_m: float) -> np.ndarray:
    """Mean grade over [start, start + length] of the smoothed profile, for each start (watch distance)."""
    grid, z = altitude_profile(distance_m, altitude_m)
    if len(grid) == 0:
        return np.full(len(starts_m), np.nan)
    return (np.interp(starts_m + length_m, grid, z) - np.interp(starts_m, grid, z)) / length_m
