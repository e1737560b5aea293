"""Live orientation: feed blocks of samples as they arrive, get one quaternion per sample back.

Equivalent to estimate_orientation(..., mode="causal", travel=...) on the concatenated stream (tested), with
zero added latency: each output depends only on samples up to its own.
"""
from __future__ import annotations

import numpy as np
from vqf import VQF

from .estimate import _as_imu_arrays, vqf_params
from .travel_stream import TravelStream


BIAS_SIGMA_DEG_S = 0.1  # a 5-s stand's mean rate is good to a few hundredths of a °/s; VQF refines from there


class OrientationStream:
    def __init__(self, rate_hz: float, gyro_bias: np.ndarray | None = None, travel: bool = False):
        self._travel = TravelStream(rate_hz) if travel else None

        self.rate_hz = float(rate_hz)
        self._filter = VQF(1.0 / self.rate_hz, **vqf_params())
        # a measured bias is taken off the samples before the filter (host.orientation.estimate: VQF clips its
        # own estimate at 2°/s per axis); the filter's estimate is what remains
        self._bias = np.zeros(3) if gyro_bias is None else np.asarray(gyro_bias, float).copy()
        self.samples_seen = 0

    def update(self, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        """Quaternions (n, 4) for the n new samples (n may be 1)."""
        acc = np.atleast_2d(acc)
        gyr = np.atleast_2d(gyr)
        acc, gyr = _as_imu_arrays(acc, gyr)
        gyr = np.ascontiguousarray(gyr - self._bias)
        if self._travel is not None:
            acc = self._travel.update(acc, gyr)
        out = self._filter.updateBatch(gyr, acc)["quat6D"]
        self.samples_seen += len(acc)
        return out

    def set_gyro_bias(self, bias: np.ndarray, sigma_deg_s: float = BIAS_SIGMA_DEG_S) -> None:
        """Take a measured gyro bias (rad/s, e.g. a still stand's mean rate): taken off every sample from now on,
        the filter's own estimate restarting from zero with `sigma_deg_s` of doubt."""
        self._bias = np.asarray(bias, float).copy()
        self._filter.setBiasEstimate(np.zeros(3), float(np.radians(sigma_deg_s)))
        if self._travel is not None:
            self._travel.gyro_bias_removed(float(np.radians(sigma_deg_s)))

    @property
    def gyro_bias(self) -> np.ndarray:
        return self._bias + np.asarray(self._filter.getBiasEstimate()[0], float)

    @property
    def at_rest(self) -> bool:
        return bool(self._filter.getRestDetected())
