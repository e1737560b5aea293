"""Optional accelerometer calibration: bias and per-axis scale from six (or more) still poses.

Model: true specific force f = S · (raw − b), S = diag(s); at rest |f| = g. The fit is the axis-aligned
ellipsoid through the pose means (nonlinear least squares, scipy), which needs no precise poses — only
that every axis has pointed up and down once. The guided routine walks a user through the six poses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import least_squares

from .errors import CalibrationRejected
from .still import GRAVITY, check_still

POSES = ("+x up", "-x up", "+y up", "-y up", "+z up", "-z up")
MIN_AXIS_COVERAGE = 0.7  # every axis must have seen at least ±0.7 g in some pose
# A consumer MEMS accelerometer is off by up to ~100 mg and ~3 % after soldering; far beyond that the poses
# were wrong or the data is not in m/s² (e.g. g), and applying such a fit would do harm.
MAX_BIAS = 2.0  # m/s² (≈ 200 mg)
MAX_SCALE_ERROR = 0.10


@dataclass
class AccelCalibration:
    bias: np.ndarray  # m/s², subtracted from the raw reading
    scale: np.ndarray  # multiplies (raw − bias)
    residual_rms: float  # m/s², |f| − g over the poses after the fit
    pose_means: np.ndarray | None = None  # (K, 3) m/s², what the fit saw (kept so it can be redone)
    gyro_at_rest: np.ndarray | None = None  # rad/s, mean rate over the still poses (the bias that day)

    def apply(self, acc: np.ndarray) -> np.ndarray:
        return (np.asarray(acc, float) - self.bias) * self.scale

    def to_record(self) -> dict:
        rec = {"bias": self.bias.tolist(), "scale": self.scale.tolist(), "residual_rms": self.residual_rms}
        if self.pose_means is not None:
            rec["pose_means"] = np.asarray(self.pose_means).tolist()
        if self.gyro_at_rest is not None:
            rec["gyro_at_rest"] = np.asarray(self.gyro_at_rest).tolist()
        return rec

    @classmethod
    def from_record(cls, rec: dict) -> "AccelCalibration":
        def arr(key):
            return None if rec.get(key) is None else np.asarray(rec[key], float)

        return cls(arr("bias"), arr("scale"), float(rec["residual_rms"]), arr("pose_means"), arr("gyro_at_rest"))


def fit_ellipsoid(pose_means: np.ndarray, gravity: float = GRAVITY) -> AccelCalibration:
    """Bias and scale from still-pose mean readings (K, 3), K ≥ 6, covering ± every axis."""
    m = np.asarray(pose_means, float)
    if m.ndim != 2 or m.shape[1] != 3 or len(m) < 6:
        raise CalibrationRejected(f"need at least 6 still poses of 3 axes, got {m.shape}")
    norm = float(np.median(np.linalg.norm(m, axis=1)))
    if not 0.5 * gravity < norm < 1.5 * gravity:
        raise CalibrationRejected(f"the still poses read {norm:.3g} in magnitude, not about {gravity:.2f} m/s²: "
                                  "are the readings in m/s²?")
    for axis, name in enumerate("xyz"):
        if m[:, axis].max() < MIN_AXIS_COVERAGE * gravity or m[:, axis].min() > -MIN_AXIS_COVERAGE * gravity:
            raise CalibrationRejected(f"the poses never pointed the {name} axis straight up and down")

    def residual(p):
        return np.linalg.norm((m - p[:3]) * p[3:], axis=1) - gravity

    fit = least_squares(residual, np.r_[np.zeros(3), np.ones(3)])
    bias, scale = fit.x[:3], fit.x[3:]
    if np.abs(bias).max() > MAX_BIAS or np.abs(scale - 1.0).max() > MAX_SCALE_ERROR:
        raise CalibrationRejected(
            f"implausible fit (bias {np.round(bias, 2)} m/s², scale {np.round(scale, 3)}): were the readings in "
            f"m/s² and every pose still and as asked?")
    return AccelCalibration(bias, scale, float(np.sqrt(np.mean(fit.fun**2))), m)


def pose_prompt(pose: str) -> str:
    return f"Place the pod with its {pose} (axes as printed on the case), let go, press Enter"


def guided_six_position(record_still: Callable[[float], tuple[np.ndarray, np.ndarray]],
                        seconds: float = 3.0,
                        ask: Callable[[str], object] | None = None,
                        say: Callable[[str], None] = print) -> AccelCalibration:
    """Walk the user through the six poses: `ask(pose)` asks for one (default: a prompt, Enter to go on),
    `record_still(seconds)` returns the (acc, gyr) block recorded once the pod lies still.

    A pose that moved, or is not the pose asked for, is asked for again.
    """
    ask = ask or (lambda pose: input(pose_prompt(pose)))
    means: list[np.ndarray] = []
    gyro: list[np.ndarray] = []
    for pose in POSES:
        while True:
            ask(pose)
            acc, gyr = record_still(seconds)
            try:
                check_still(acc, gyr, f"pose '{pose}'")
            except CalibrationRejected as exc:
                say(str(exc))
                continue
            mean = np.asarray(acc, float).mean(axis=0)
            axis = int(np.argmax(np.abs(mean)))
            want_axis, want_sign = "xyz".index(pose[1]), 1.0 if pose[0] == "+" else -1.0
            if axis != want_axis or np.sign(mean[axis]) != want_sign:
                say(f"that looked like '{'+' if mean[axis] > 0 else '-'}{'xyz'[axis]} up', not '{pose}'; try again")
                continue
            means.append(mean)
            gyro.append(np.asarray(gyr, float).mean(axis=0))
            say(f"  {pose}: ok ({np.linalg.norm(mean):.3f} m/s²)")
            break
    cal = fit_ellipsoid(np.array(means))
    cal.gyro_at_rest = np.mean(gyro, axis=0)
    say(f"accelerometer bias {np.round(cal.bias, 3)} m/s², scale {np.round(cal.scale, 4)}, "
        f"residual {cal.residual_rms:.3f} m/s²")
    return cal
