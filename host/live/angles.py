"""Causal pelvic angles for the live view, sample by sample.

Same definitions as host.pelvis.angles (Baker 2001 order, relative to the calibrated neutral pelvis
frame), except the heading: the post-session split uses a zero-phase low-pass, which needs the future.
Here the heading is a causal 2nd-order Butterworth low-pass of the unwrapped yaw (cut-off 0.2 Hz, state
kept across blocks). Second order rather than one pole: at a running stride (~1.4 Hz) it lets ~2 % of the
rotation swing into the heading instead of ~14 %, so `rotation` keeps its amplitude; its price is a lag of
~1 s in turns, where rotation briefly reads part of the turn.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi

from host.orientation import quaternion as Q
from host.pelvis.angles import HEADING_CUTOFF_HZ, euler_zxy


class CausalPelvicAngles:
    def __init__(self, R_pelvis_sensor: np.ndarray, rate_hz: float, heading_cutoff_hz: float = HEADING_CUTOFF_HZ):
        self.R = np.asarray(R_pelvis_sensor, float)
        # host.pelvis.angles.pelvis_quaternion with the mounting converted once, not on every block
        self._q_sensor_pelvis = Q.conjugate(Q.from_matrix(self.R))
        self._sos = butter(2, heading_cutoff_hz, fs=rate_hz, output="sos")
        self._zi: np.ndarray | None = None
        self._last_yaw: float | None = None  # unwrapped

    def update(self, q_earth_sensor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tilt, obliquity, rotation) in rad for a block of sensor->earth quaternions (n, 4)."""
        yaw, obliquity, tilt = euler_zxy(Q.multiply(np.atleast_2d(q_earth_sensor), self._q_sensor_pelvis))
        prev = yaw[0] if self._last_yaw is None else self._last_yaw
        yaw = np.unwrap(np.r_[prev, yaw])[1:]  # continue the previous block's unwrapping
        if self._last_yaw is None:  # no past: start the heading at the current yaw, not at 0
            self._zi = sosfilt_zi(self._sos) * yaw[0]
        self._last_yaw = float(yaw[-1])
        heading, self._zi = sosfilt(self._sos, yaw, zi=self._zi)
        return tilt, obliquity, yaw - heading
