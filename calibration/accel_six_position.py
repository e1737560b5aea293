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


@dataclass
class AccelCalibration:
    bias: np.ndarray  # m/s², subtracted from the raw reading
    scale: np.ndarray  # multiplies (raw − bias)
    residual_rms: float  # m/s², |f| − g over the poses after the fit

    def apply(self, acc: np.ndarray) -> np.ndarray:
        return (np.asarray(acc, float) - self.bias) * self.scale


def fit_ellipsoid(pose_means: np.ndarray, gravity: float = GRAVITY) -> AccelCalibration:
    """Bias and scale from still-pose mean readings (K, 3), K ≥ 6, covering ± every axis."""
    m = np.asarray(pose_means, float)
    if m.ndim != 2 or m.shape[1] != 3 or len(m) < 6:
        raise CalibrationRejected(f"need at least 6 still poses of 3 axes, got {m.shape}")
    for axis, name in enumerate("xyz"):
        if m[:, axis].max() < MIN_AXIS_COVERAGE * gravity or m[:, axis].min() > -MIN_AXIS_COVERAGE * gravity:
            raise CalibrationRejected(f"the poses never pointed the {name} axis straight up and down")

    def residual(p):
        return np.linalg.norm((m - p[:3]) * p[3:], axis=1) - gravity

    fit = least_squares(residual, np.r_[np.zeros(3), np.ones(3)])
    return AccelCalibration(fit.x[:3], fit.x[3:], float(np.sqrt(np.mean(fit.fun**2))))


def guided_six_position(record_still: Callable[[float], tuple[np.ndarray, np.ndarray]],
                        seconds: float = 3.0,
                        ask: Callable[[str], str] = input,
                        say: Callable[[str], None] = print) -> AccelCalibration:
    """Walk the user through the six poses (CLI): `record_still(seconds)` returns (acc, gyr) blocks.

    A pose that moved, or repeats an earlier pose, is asked for again.
    """
    means: list[np.ndarray] = []
    for pose in POSES:
        while True:
            ask(f"Place the pod with its {pose} (label side as printed), let go, press Enter")
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
            say(f"  {pose}: ok ({np.linalg.norm(mean):.3f} m/s²)")
            break
    cal = fit_ellipsoid(np.array(means))
    say(f"accelerometer bias {np.round(cal.bias, 3)} m/s², scale {np.round(cal.scale, 4)}, "
        f"residual {cal.residual_rms:.3f} m/s²")
    return cal
