"""The wearer's travel acceleration, live: the causal counterpart of host.orientation.travel.

Same model as the post-session least squares (read that module's docstring first), run forwards as a Kalman
filter on the same 0.2-s cells: state = horizontal velocity v, this cell's travel acceleration a (in the
frame turning with the body; fresh each cell), the slow base's tilt error e (earth frame) and the
accelerometer bias b (sensor frame). A cell's horizontal specific force (causal 0.5-Hz low-pass) measures
(Rz(turn) − I)/dt · v + a + e + R·b; v = 0 at rest (VQF's, or the last second as still as a calibration
stand). The estimated dv/dt of the last finished cell is held
and removed from every new sample, so the output has no added latency; the estimate itself trails the
motion by about half a second (the cell and the low-pass), which the 3-s inclination low-pass of the main
filter hardly sees. Its part slower than two minutes is dropped, as in post mode (causal high-pass), and
0.2 m/s² is taken off its size: live, a small steady estimate is more often the base's error still being
learned than travel.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi
from tiltguard.host.signal.stillness import is_still
from vqf import VQF

from . import quaternion as Q
from .travel import (
    BASE_TAU_S,
    CELL_S,
    FORCE_LOWPASS_HZ,
    SIGMA_AT_REST,
    SIGMA_BASE_DRIFT,
    SIGMA_BIAS_DRIFT,
    SIGMA_FORCE,
    SIGMA_PRIOR,
    SIGMA_TRAVEL_ACC,
    UNOBSERVED_S,
)

V, A, E, B = slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 9)
SIGMA_START_SPEED = 5.0  # m/s: nothing is known about the speed when the stream starts
# Live, without the future (the next stop, the rest of the corner), travel accelerations below this cannot be
# told from the slow base error; they are left to VQF (0.2 m/s² ≈ 1.2° of tilt). Starts, stops and corners
# are 0.4-2 m/s².
LIVE_MIN_TRAVEL_ACC = 0.2


class TravelStream:
    """Feed blocks of samples (acc m/s², gyr rad/s, sensor frame); get the accelerometer back with the
    current travel-acceleration estimate removed."""

    def __init__(self, rate_hz: float):
        self.rate_hz = float(rate_hz)
        self._base = VQF(1.0 / self.rate_hz, tauAcc=BASE_TAU_S)
        self._step = max(1, round(CELL_S * self.rate_hz))
        self._dt = self._step / self.rate_hz
        self._sos = butter(2, FORCE_LOWPASS_HZ / (self.rate_hz / 2), output="sos")
        self._zi = np.zeros((self._sos.shape[0], 2, 3))  # force x, y and turn rate, starting from rest
        self._slow_sos = butter(2, 1.0 / UNOBSERVED_S / (0.5 / self._dt), output="sos")
        self._slow_zi = sosfilt_zi(self._slow_sos)[:, :, None] * np.zeros((1, 1, 2))
        self._recent = np.zeros((0, 6))  # the last second of acc and gyr
        self._second = max(2, round(self.rate_hz))
        self._cell = np.zeros(2 + 1 + 6)  # sums of force (2), turn (1), R rows (6)
        self._cell_n = 0
        self._cell_rest = True
        self._edge_at_rest = False  # this cell's start edge already had its zero-velocity update
        self.x = np.zeros(9)
        self.P = np.diag([SIGMA_START_SPEED**2] * 2 + [0.0] * 2 + [SIGMA_PRIOR**2] * 5)
        self.travel_earth = np.zeros(2)  # the held estimate, m/s² (earth frame, horizontal)

    def gyro_bias_removed(self, sigma_rad_s: float) -> None:
        """The gyro samples come with a measured bias taken off from now on: the base filter's own estimate
        restarts from zero with `sigma_rad_s` of doubt (host.orientation.streaming.set_gyro_bias)."""
        self._base.setBiasEstimate(np.zeros(3), float(sigma_rad_s))

    def update(self, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        acc = np.ascontiguousarray(acc, dtype=float)
        gyr = np.ascontiguousarray(gyr, dtype=float)
        base = self._base.updateBatch(gyr, acc)
        q = base["quat6D"]
        signals = np.column_stack([Q.rotate(q, acc)[:, :2], Q.rotate(q, gyr - base["bias"])[:, 2]])
        signals, self._zi = sosfilt(self._sos, signals, axis=0, zi=self._zi)
        R_rows = Q.to_matrix(q)[:, :2, :].reshape(-1, 6)
        rest = base["restDetected"].astype(bool)
        held = np.empty((len(acc), 3))
        held[:, 2] = 0.0
        i = 0
        while i < len(acc):  # samples up to the end of the current cell use the estimate held so far
            j = min(len(acc), i + self._step - self._cell_n)
            held[i:j, :2] = self.travel_earth
            self._cell[:3] += signals[i:j].sum(axis=0)
            self._cell[3:] += R_rows[i:j].sum(axis=0)
            self._cell_rest &= bool(rest[i:j].all())
            self._recent = np.vstack([self._recent, np.column_stack([acc[i:j], gyr[i:j]])])[-self._second:]
            self._cell_n += j - i
            if self._cell_n == self._step:
                self._cell_rest |= self._standing_still()
                self._finish_cell()
            i = j
        return acc - Q.rotate(Q.conjugate(q), held)

    def _standing_still(self) -> bool:
        """The calibration's stillness test over the last second (a person sways; VQF's rest misses that)."""
        return len(self._recent) == self._second and is_still(self._recent[:, :3], self._recent[:, 3:])

    def _finish_cell(self) -> None:
        n, dt = self._step, self._dt
        force = self._cell[:2] / n
        turn = self._cell[2] / self.rate_hz  # angle turned during the cell
        R_rows = (self._cell[3:] / n).reshape(2, 3)
        # this cell's travel acceleration: fresh, uncorrelated with the rest
        self.x[A] = 0.0
        self.P[A, :] = 0.0
        self.P[:, A] = 0.0
        self.P[A, A] = np.eye(2) * SIGMA_TRAVEL_ACC**2
        if self._cell_rest and not self._edge_at_rest:  # a rest after motion: its first edge is still
            self._measure(np.eye(9)[V], np.zeros(2), SIGMA_AT_REST)
        c, s = np.cos(turn), np.sin(turn)
        turn_matrix = np.array([[c, -s], [s, c]])
        H = np.zeros((2, 9))
        H[:, V] = (turn_matrix - np.eye(2)) / dt
        H[:, A] = np.eye(2)
        H[:, E] = np.eye(2)
        H[:, B] = R_rows
        self._measure(H, force, SIGMA_FORCE)
        self._measure(np.eye(9)[E], np.zeros(2), SIGMA_PRIOR)  # the base error stays within a few degrees
        dv_dt = H[:, V] @ self.x[V] + self.x[A]
        slow, self._slow_zi = sosfilt(self._slow_sos, dv_dt[None, :], axis=0, zi=self._slow_zi)
        travel = dv_dt - slow[0]
        size = float(np.hypot(*travel))
        self.travel_earth = travel * (max(0.0, size - LIVE_MIN_TRAVEL_ACC) / size if size > 0 else 0.0)
        # to the next cell edge: v turns with the body and takes this cell's acceleration
        F = np.eye(9)
        F[V, V] = turn_matrix
        F[V, A] = np.eye(2) * dt
        self.x = F @ self.x
        self.P = F @ self.P @ F.T
        self.P[E, E] += np.eye(2) * SIGMA_BASE_DRIFT**2 * dt
        self.P[B, B] += np.eye(3) * SIGMA_BIAS_DRIFT**2 * dt
        if self._cell_rest:  # ... and so is its last, which the next cell starts from
            self._measure(np.eye(9)[V], np.zeros(2), SIGMA_AT_REST)
        self._edge_at_rest = self._cell_rest
        self._cell[:] = 0.0
        self._cell_n = 0
        self._cell_rest = True

    def _measure(self, H: np.ndarray, z: np.ndarray, sigma: float) -> None:
        S = H @ self.P @ H.T + np.eye(len(z)) * sigma**2
        K = np.linalg.solve(S, H @ self.P).T
        self.x = self.x + K @ (z - H @ self.x)
        self.P = self.P - K @ H @ self.P
