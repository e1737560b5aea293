"""Split a gait signal into what repeats every step and what alternates between left and right steps.

Walking and running repeat every stride, and the two steps of a stride mirror each other: what the body
does the same way at each foot (braking and propulsion, fore-aft; pitching, about the left-right axis) repeats
every step, while what it does towards the stance side (sway, left-right; rolling about the forward axis)
flips sign from one step to the next. With the step period T:
    even(t) = (x(t) + x(t + T)) / 2   (repeats every step)
    odd(t)  = (x(t) − x(t + T)) / 2   (alternates)
so the horizontal acceleration's step-repeating part points fore-aft, and the horizontal angular rate's
alternating part points fore-aft too (obliquity rocks about the forward axis once per stride, tilt twice).
This holds at every speed and stride length, unlike the major axis of the raw horizontal acceleration,
which a fast runner's sway can turn by 20-30° (virtual sacral IMUs of Hamner & Delp's runners at 5 m/s).
"""
from __future__ import annotations

import numpy as np

STEP_RANGE_S = (0.25, 1.6)  # running to slow walking; a stride is found too, its first peak is the step
STEP_PEAK_SHARE = 0.6  # the step peak of the autocorrelation is at least this share of the best peak


def step_period_samples(vertical: np.ndarray, rate_hz: float) -> int | None:
    """The step period (samples) from the autocorrelation of the vertical acceleration: its first clear peak
    in STEP_RANGE_S (the stride's peak is as high, but later). None if there is no peak."""
    v = np.asarray(vertical, float) - np.mean(vertical)
    n = len(v)
    lo, hi = int(STEP_RANGE_S[0] * rate_hz), min(int(STEP_RANGE_S[1] * rate_hz), n - 1)
    if hi - lo < 3 or not np.any(v):
        return None
    spectrum = np.fft.rfft(v, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    seg = acf[lo:hi] / acf[0]
    peaks = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    if not len(peaks) or seg[peaks].max() <= 0:
        return None
    first = peaks[np.argmax(seg[peaks] >= STEP_PEAK_SHARE * seg[peaks].max())]
    return int(lo + first)


def repeating_minus_alternating(x: np.ndarray, period: int) -> np.ndarray:
    """Covariance of the step-repeating part of `x` (N, d) minus that of its alternating part (d, d):
    its major eigenvector is the direction along which `x` repeats every step."""
    x = np.asarray(x, float)
    even = 0.5 * (x[:-period] + x[period:])
    odd = 0.5 * (x[:-period] - x[period:])
    return np.cov(even.T) - np.cov(odd.T)
