"""Local stride period from the autocorrelation of trunk acceleration (Moe-Nilssen & Helbostad 2004).

Vertical acceleration repeats every step, medio-lateral acceleration only every stride (it changes sign
between left and right steps), so the mean of their normalised autocorrelations peaks at the stride lag and
not at the step lag — also for asymmetric gait where one step is much weaker than the other.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from tiltguard.host.signal.filters import decimate

WINDOW_S = 4.0  # at least two strides of the slowest walking
HOP_S = 0.5
STRIDE_RANGE_S = (0.5, 2.4)  # 50-240 steps/min
ANALYSIS_RATE_HZ = 50.0  # period resolution of 20 ms is plenty for a prior on step timing
MIN_REGULARITY = 0.3  # below this the signal is not periodic enough to trust its period
NEAR_BEST = 0.8  # a very regular gait repeats at 2, 3... strides too: take the shortest lag this close to the best
# (0.85 took two strides for one where consecutive strides differ and every second one repeats: a treadmill runner
# of ../shared/data/running/virtual at 5 m/s, 0.83 at one stride and 0.99 at two; tests/test_gait.py)


@dataclass
class StridePeriod:
    t: np.ndarray  # window centres, s from the first sample
    period_s: np.ndarray  # stride period, NaN where the gait is not regular enough
    regularity: np.ndarray  # autocorrelation at that lag (1 = identical strides)

    def step_period_at(self, times_s: np.ndarray) -> np.ndarray:
        """Half the stride period, interpolated; NaN where no rhythm is found."""
        if len(self.t) == 0:
            return np.full(len(times_s), np.nan)
        return np.interp(times_s, self.t, self.period_s / 2.0)


def _windowed_acf(x: np.ndarray, win: int, hop: int, max_lag: int) -> np.ndarray:
    """Unbiased, normalised autocorrelation (lags 0..max_lag) of each window, shape (n_windows, max_lag+1)."""
    frames = sliding_window_view(x, win)[::hop]
    out = np.empty((len(frames), max_lag + 1))
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    for a in range(0, len(frames), 2048):  # batches keep memory small for hour-long sessions
        f = frames[a : a + 2048]
        f = f - f.mean(axis=1, keepdims=True)
        spec = np.fft.rfft(f, nfft, axis=1)
        ac = np.fft.irfft(spec * np.conj(spec), nfft, axis=1)[:, : max_lag + 1]
        ac *= win / (win - np.arange(max_lag + 1))
        energy = ac[:, :1]
        out[a : a + 2048] = np.where(energy > 1e-12, ac / np.maximum(energy, 1e-12), 0.0)
    return out


def stride_period(vertical: np.ndarray, lateral: np.ndarray, rate_hz: float) -> StridePeriod:
    factor = max(1, int(rate_hz // ANALYSIS_RATE_HZ))
    fs = rate_hz / factor
    if factor > 1 and len(vertical) > 30 * factor:
        vertical = decimate(vertical, factor)
        lateral = decimate(lateral, factor)
    elif factor > 1:
        vertical, lateral = vertical[::factor], lateral[::factor]
    win, hop = int(WINDOW_S * fs), max(1, int(HOP_S * fs))
    lo, hi = int(STRIDE_RANGE_S[0] * fs), int(STRIDE_RANGE_S[1] * fs)
    if len(vertical) < win or win <= hi:
        return StridePeriod(np.zeros(0), np.zeros(0), np.zeros(0))
    acf = 0.5 * (_windowed_acf(vertical, win, hop, hi) + _windowed_acf(lateral, win, hop, hi))
    seg = acf[:, lo : hi + 1]
    # only true local maxima count (an edge of the lag range is not a period)
    is_peak = np.zeros_like(seg, dtype=bool)
    is_peak[:, 1:-1] = (seg[:, 1:-1] > seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    masked = np.where(is_peak, seg, -np.inf)
    top = masked.max(axis=1, keepdims=True)
    best = np.argmax(masked >= NEAR_BEST * np.where(top > 0, top, np.inf), axis=1)
    best = np.where(np.isfinite(top[:, 0]) & (top[:, 0] > 0), best, np.argmax(masked, axis=1))
    regularity = masked[np.arange(len(seg)), best]
    period = (lo + best) / fs
    ok = np.isfinite(regularity) & (regularity >= MIN_REGULARITY)
    centres = (np.arange(len(seg)) * hop + win / 2) / fs
    return StridePeriod(centres, np.where(ok, period, np.nan), np.where(np.isfinite(regularity), regularity, 0.0))
