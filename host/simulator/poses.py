"""A simulated pod on a table, turned by a simulated user into the pose asked for (the six-position
accelerometer calibration, `tiltguard calibrate --sim`).

`place(pose)` starts a 2-s turn into the pose ("+x up" ... "-z up", as calibration.accel_six_position
names them) on a surface that is not quite level, about a random heading; `sample(k)` gives the chip's
k-th sample (m/s², rad/s) with the same sensor errors as the simulated runs (host.simulator.sensor_errors),
so the fit can be checked against the pod's true accelerometer bias and scale (`true_acc_bias`,
`true_acc_scale`). `sample` runs on the device's thread, `place` on the user's: one attribute hands over.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation
from tiltguard.host.samples import GRAVITY
from tiltguard.host.simulator.scenarios import SensorErrors
from tiltguard.host.simulator.sensor_errors import SensorErrorModel

MOVE_S = 2.0  # a hand turns the pod over in about two seconds
SURFACE_TILT_DEG = 2.0  # 1-sigma: a table or shelf is rarely level
HORIZON_S = 6 * 3600.0  # the error model's wander is drawn this far ahead


def pose_rotation(pose: str, rng: np.random.Generator | None = None) -> Rotation:
    """Sensor -> earth rotation that points the named sensor axis up (plus an unlevel surface and a random
    heading if `rng` is given)."""
    up_in_sensor = np.zeros(3)
    up_in_sensor["xyz".index(pose[1])] = {"+": 1.0, "-": -1.0}[pose[0]]
    r, _ = Rotation.align_vectors([[0.0, 0.0, 1.0]], [up_in_sensor])  # takes that sensor axis onto earth up
    if rng is None:
        return r
    level = Rotation.from_rotvec(np.r_[rng.normal(0.0, np.radians(SURFACE_TILT_DEG), 2), 0.0])
    heading = Rotation.from_euler("z", rng.uniform(-np.pi, np.pi))
    return level * heading * r


class SimulatedPosePod:
    def __init__(self, rate_hz: float = 200.0, seed: int = 0, errors: SensorErrors | None = None,
                 chip_acc: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """`chip_acc` = (bias, scale) of the accelerometer of a simulated run (Truth.acc_bias, acc_scale):
        the pod on the table is then the same chip that was worn."""
        self.rate_hz = float(rate_hz)
        self.rng = np.random.default_rng(seed)
        self.errors = SensorErrorModel(errors or SensorErrors(), HORIZON_S, self.rng)
        if chip_acc is not None:
            self.errors.acc_bias = np.array(chip_acc[0], float)
            self.errors.acc_scale = np.array(chip_acc[1], float)
        self.true_acc_bias = self.errors.acc_bias.copy()
        self.true_acc_scale = self.errors.acc_scale.copy()
        self._from = self._to = pose_rotation("+z up", self.rng)  # lying flat, label up
        self._move_k0: int | None = None
        self._request: str | None = None
        self.pose = "+z up"

    def place(self, pose: str) -> None:
        """The user turns the pod into `pose` (takes MOVE_S from the next sample)."""
        self._request = pose

    def sample(self, k: int) -> list[float]:
        if self._request is not None:
            self._from, self._to = self._at(k), pose_rotation(self._request, self.rng)
            self.pose, self._request, self._move_k0 = self._request, None, k
        rot, omega = self._at(k), np.zeros(3)
        if self._move_k0 is not None:
            u = (k - self._move_k0) / (MOVE_S * self.rate_hz)
            if u < 1.0:
                # a smooth turn about one body axis: s(u) = 3u² - 2u³, rate = s'(u) * angle / MOVE_S
                rotvec = (self._from.inv() * self._to).as_rotvec()
                omega = rotvec * 6.0 * u * (1.0 - u) / MOVE_S
        f_sensor = rot.inv().apply([0.0, 0.0, GRAVITY])  # at rest the chip feels gravity's reaction, up
        t = np.array([k / self.rate_hz])
        acc, gyr, _ = self.errors.apply(t, f_sensor[None, :], omega[None, :], self.rate_hz)
        return [*acc[0], *gyr[0]]

    def _at(self, k: int) -> Rotation:
        if self._move_k0 is None:
            return self._to
        u = min(1.0, (k - self._move_k0) / (MOVE_S * self.rate_hz))
        s = 3.0 * u * u - 2.0 * u ** 3
        return self._from * Rotation.from_rotvec(s * (self._from.inv() * self._to).as_rotvec())
