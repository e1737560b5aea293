"""What a real MEMS IMU does to the true signals: bias, drift, temperature, noise, scale, gyro axis
misalignment, clipping, int16 quantisation and sampling-instant jitter."""
from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline
from tiltguard.host.samples import GRAVITY
from tiltguard.host.simulator.scenarios import SensorErrors

INT16_FULL_SCALE = 32768
AMBIENT_C = 24.0
WARMUP_TAU_S = 240.0  # the pod warms against the body over a few minutes


class SensorErrorModel:
    """One sensor's error realisation over a recording; `apply` works chunk by chunk."""

    def __init__(self, errors: SensorErrors, duration_s: float, rng: np.random.Generator):
        self.e = errors
        self.rng = rng
        deg = np.pi / 180
        self.gyro_bias0 = rng.normal(0.0, errors.gyro_bias_dps * deg, 3)
        # Slow wander: Gaussian values every 2 minutes, splined (no jumps, no unbounded random walk).
        knots = np.arange(-120.0, duration_s + 240.0, 120.0)
        self.gyro_wander = CubicSpline(knots, rng.normal(0.0, errors.gyro_drift_dps * deg, (len(knots), 3)))
        self.gyro_tempco = rng.normal(0.0, errors.gyro_tempco_dps_per_c * deg, 3)
        self.acc_bias = rng.normal(0.0, errors.acc_bias_mg * 1e-3 * GRAVITY, 3)
        self.acc_scale = 1.0 + rng.normal(0.0, errors.acc_scale_pct / 100.0, 3)
        # gyro sensitivity and axis misalignment: a turn about one axis leaks a little into the others
        self.gyro_matrix = np.eye(3) + np.diag(rng.normal(0.0, errors.gyro_scale_pct / 100.0, 3))
        off = ~np.eye(3, dtype=bool)
        self.gyro_matrix[off] += rng.normal(0.0, errors.gyro_cross_axis_pct / 100.0, 6)

    def sampling_instants(self, t_nominal: np.ndarray) -> np.ndarray:
        """True instants at which the chip sampled (the device stamps the nominal ones)."""
        if self.e.jitter_us == 0:
            return t_nominal.copy()
        return t_nominal + self.rng.normal(0.0, self.e.jitter_us * 1e-6, t_nominal.shape)

    def temperature(self, t: np.ndarray) -> np.ndarray:
        return AMBIENT_C + self.e.warmup_c * (1.0 - np.exp(-np.maximum(t, 0.0) / WARMUP_TAU_S))

    def gyro_bias(self, t: np.ndarray) -> np.ndarray:
        """True gyro bias (rad/s) at t: constant + wander + temperature coefficient."""
        warm = (self.temperature(t) - AMBIENT_C)[:, None]
        return self.gyro_bias0 + self.gyro_wander(t) + warm * self.gyro_tempco

    def apply(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float):
        """Measured (acc m/s², gyr rad/s, temperature °C) from the clean signals at instants t."""
        e = self.e
        sqrt_rate = np.sqrt(rate_hz / 2.0)  # noise density over the Nyquist band
        gyr_noise = e.gyro_noise_dps_rthz * np.pi / 180 * sqrt_rate
        acc_noise = e.acc_noise_ug_rthz * 1e-6 * GRAVITY * sqrt_rate
        gyr_m = gyr @ self.gyro_matrix.T + self.gyro_bias(t) + self.rng.normal(0.0, gyr_noise, gyr.shape)
        acc_m = acc * self.acc_scale + self.acc_bias + self.rng.normal(0.0, acc_noise, acc.shape)
        acc_m = _digitise(acc_m, e.acc_range_g * GRAVITY, e.quantise)
        gyr_m = _digitise(gyr_m, e.gyro_range_dps * np.pi / 180, e.quantise)
        return acc_m, gyr_m, self.temperature(t)


def _digitise(x: np.ndarray, full_scale: float, quantise: bool) -> np.ndarray:
    """Clip to the chip's range and, if asked, round to its int16 steps."""
    if not quantise:
        return np.clip(x, -full_scale, full_scale)
    lsb = full_scale / INT16_FULL_SCALE
    return np.clip(np.round(x / lsb), -INT16_FULL_SCALE, INT16_FULL_SCALE - 1) * lsb
