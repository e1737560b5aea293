"""Filter designs, made once, and a zero-phase filter that reuses them. The gait code filters the same few
bands thousands of times (the live step detector reruns every 0.15 s): designing the filter anew each time
cost a third of its CPU, and scipy's sosfiltfilt re-solving the filter's steady state on every call
(sosfilt_zi) another sixth."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, cheby1, sosfilt, sosfilt_zi


@lru_cache(maxsize=64)
def butter_sos(order: int, cutoff, rate_hz: float, btype: str = "low") -> np.ndarray:
    """Butterworth second-order sections (cutoff in Hz; a (lo, hi) tuple for band filters)."""
    return butter(order, cutoff, btype=btype, fs=rate_hz, output="sos")


@lru_cache(maxsize=16)
def _decimation_sos(q: int) -> np.ndarray:
    return cheby1(8, 0.05, 0.8 / q, output="sos")  # scipy.signal.decimate's default IIR anti-alias filter


_steady_states: dict[bytes, np.ndarray] = {}


def _steady_state(sos: np.ndarray) -> np.ndarray:
    key = sos.tobytes()
    zi = _steady_states.get(key)
    if zi is None:
        zi = _steady_states[key] = sosfilt_zi(sos)
    return zi


def filtfilt(sos: np.ndarray, x: np.ndarray, axis: int = 0, padlen: int | None = None) -> np.ndarray:
    """scipy.signal.sosfiltfilt(sos, x, axis=axis, padlen=padlen) with its defaults (odd extension, the
    filter started in its steady state), the same numbers, but the steady state solved once per design."""
    x = np.asarray(x, float)
    x = np.moveaxis(x, axis, 0)
    if padlen is None:
        ntaps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
        padlen = 3 * ntaps
    if padlen >= len(x):
        raise ValueError(f"the signal ({len(x)} samples) must be longer than padlen ({padlen})")
    if padlen > 0:  # odd extension: the signal mirrored about its end values
        ext = np.concatenate([2 * x[:1] - x[padlen:0:-1], x, 2 * x[-1:] - x[-2 : -padlen - 2 : -1]])
    else:
        ext = x
    zi = _steady_state(sos).reshape((len(sos), 2) + (1,) * (x.ndim - 1))
    y, _ = sosfilt(sos, ext, axis=0, zi=zi * ext[:1])
    y, _ = sosfilt(sos, y[::-1], axis=0, zi=zi * y[-1:])
    y = y[::-1]
    if padlen > 0:
        y = y[padlen:-padlen]
    return np.moveaxis(y, 0, axis)


def decimate(x: np.ndarray, q: int) -> np.ndarray:
    """Same result as scipy.signal.decimate(x, q, zero_phase=True) along axis 0."""
    return filtfilt(_decimation_sos(q), x, axis=0)[::q]
