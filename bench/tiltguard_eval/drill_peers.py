"""Peer rep counters for bench/drills.py: the generic single-IMU counters the literature uses, given each set's
window (they have no set detection of their own, so they get the true set windows; on rest windows they show
how many false reps they would count).

- peak: low-pass + peak picking (the RecoFit-style counter): the gyro integrated to an angle, high-passed to
  remove drift, low-passed at 1 Hz, projected on its first principal component; peaks at least 35 % as
  prominent as the window's largest and 0.6 s apart.
- autocorr: the same principal signal's autocorrelation gives the rep period; reps = window / period.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt


def principal_angle(gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    ang = np.cumsum(gyr, axis=0) / rate_hz
    ang = sosfiltfilt(butter(2, [0.05, 1.0], btype="band", fs=rate_hz, output="sos"), ang, axis=0)
    ang = ang - ang.mean(axis=0)
    _, _, vt = np.linalg.svd(ang, full_matrices=False)
    x = ang @ vt[0]
    return x if abs(x.max()) >= abs(x.min()) else -x


def peak_count(gyr: np.ndarray, rate_hz: float) -> int:
    if len(gyr) < 3 * rate_hz:
        return 0
    x = principal_angle(gyr, rate_hz)
    peaks, props = find_peaks(x, prominence=0.0, distance=int(0.6 * rate_hz))
    if len(peaks) == 0:
        return 0
    prom = props["prominences"]
    return int((prom >= 0.35 * prom.max()).sum()) if prom.max() > np.radians(1.5) else 0


def autocorr_count(gyr: np.ndarray, rate_hz: float) -> int:
    if len(gyr) < 3 * rate_hz:
        return 0
    x = principal_angle(gyr, rate_hz)
    if np.ptp(x) < np.radians(1.5):
        return 0
    x = x - x.mean()
    ac = np.correlate(x, x, mode="full")[len(x) - 1:]
    ac = ac / ac[0]
    lo = int(0.8 * rate_hz)
    peaks, _ = find_peaks(ac[lo:], height=0.2)
    if len(peaks) == 0:
        return 1
    period = (peaks[0] + lo) / rate_hz
    return int(round(len(x) / rate_hz / period))


PEERS = {"peak": peak_count, "autocorr": autocorr_count}
