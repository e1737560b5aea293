"""Means over fractional-sample windows: a mean over exactly one stride (142.5 samples at 200 Hz) cancels the
stride's swing and all its harmonics."""
from __future__ import annotations

import numpy as np


def window_mean(x: np.ndarray, lo, hi) -> np.ndarray:
    """Mean of x between fractional sample positions lo and hi (arrays or scalars), each window cut to the
    signal; where a window is empty, the value at lo.

    The samples are joined by straight lines and integrated (cumulative trapezoid), so a window need not span
    a whole number of samples (a stride of 0.7125 s is 142.5 samples at 200 Hz) and a mean over exactly one
    stride cancels the stride's swing.
    """
    x = np.asarray(x, float)
    n = len(x)
    i = np.arange(n, dtype=float)
    integral = np.concatenate([[0.0], np.cumsum(0.5 * (x[1:] + x[:-1]))])
    lo = np.clip(lo, 0, n - 1)
    hi = np.clip(hi, 0, n - 1)
    span = hi - lo
    mean = (np.interp(hi, i, integral) - np.interp(lo, i, integral)) / np.where(span > 0, span, 1.0)
    return np.where(span > 0, mean, np.interp(lo, i, x))


def centred_mean(x: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Mean of x over a window of `width` samples (fractional, per sample) centred on each sample."""
    x = np.asarray(x, float)
    if len(x) < 2:
        return x.copy()
    i = np.arange(len(x), dtype=float)
    return window_mean(x, i - 0.5 * width, i + 0.5 * width)
