"""Filter designs, made once. The gait code filters the same few bands thousands of times (the live step
detector reruns every 0.15 s); designing the filter anew each time cost a third of its CPU."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, cheby1, sosfiltfilt


@lru_cache(maxsize=64)
def butter_sos(order: int, cutoff, rate_hz: float, btype: str = "low") -> np.ndarray:
    """Butterworth second-order sections (cutoff in Hz; a (lo, hi) tuple for band filters)."""
    return butter(order, cutoff, btype=btype, fs=rate_hz, output="sos")


@lru_cache(maxsize=16)
def _decimation_sos(q: int) -> np.ndarray:
    return cheby1(8, 0.05, 0.8 / q, output="sos")  # scipy.signal.decimate's default IIR anti-alias filter


def decimate(x: np.ndarray, q: int) -> np.ndarray:
    """Same result as scipy.signal.decimate(x, q, zero_phase=True) along axis 0."""
    return sosfiltfilt(_decimation_sos(q), x, axis=0)[::q]
