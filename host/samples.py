"""Raw IMU samples as the host holds them: the hand-off point between the wire/file and the analysis.

Everything inside is SI: time in s, specific force in m/s² (+9.81 along the sensor's up axis at rest),
angular rate in rad/s, all in the *sensor* frame. Sensor-to-pelvis alignment happens later (calibration/).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GRAVITY = 9.80665  # m/s², standard gravity


@dataclass
class RawRecording:
    """A contiguous block of accelerometer + gyroscope samples from one sensor."""

    t: np.ndarray  # (N,) device time of each sample, s, strictly increasing
    acc: np.ndarray  # (N, 3) specific force, m/s², sensor frame
    gyr: np.ndarray  # (N, 3) angular rate, rad/s, sensor frame
    rate_hz: float  # nominal output data rate
    sensor_model: str = "unknown"
    temp_c: np.ndarray | None = None  # (N,) die temperature, °C, if the sensor reports it
    meta: dict = field(default_factory=dict)  # free-form notes: mounting, scenario, seed, firmware, ...

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=float)
        self.acc = np.asarray(self.acc, dtype=float)
        self.gyr = np.asarray(self.gyr, dtype=float)
        n = len(self.t)
        if self.acc.shape != (n, 3) or self.gyr.shape != (n, 3):
            raise ValueError(
                f"acc {self.acc.shape} and gyr {self.gyr.shape} must both be ({n}, 3) to match t"
            )
        if self.temp_c is not None:
            self.temp_c = np.asarray(self.temp_c, dtype=float)
            if self.temp_c.shape != (n,):
                raise ValueError(f"temp_c has shape {self.temp_c.shape}, expected ({n},)")

    def __len__(self) -> int:
        return len(self.t)

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self.t) > 1 else 0.0
