"""Directions in the sensor's axes: unit vectors, the level part of a direction, and the pelvis frame that an
up and a forward direction make. Shared by the alignment, the forward-sign rules and the hinge."""
from __future__ import annotations

import numpy as np

from .errors import CalibrationRejected


def unit(v) -> np.ndarray:
    """v / |v| (along the last axis)."""
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def horizontal_unit(v: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The part of `v` square to `up`, unit length; refused if `v` is (nearly) along `up`."""
    up = unit(up)
    h = np.asarray(v, float) - np.dot(v, up) * up
    n = np.linalg.norm(h)
    if n < 1e-6:
        raise CalibrationRejected("the forward direction is parallel to the vertical; repeat the calibration")
    return h / n


def pelvis_frame(up_sensor: np.ndarray, forward_sensor: np.ndarray) -> np.ndarray:
    """R_pelvis<-sensor (rows x forward, y left, z up) from up and a forward direction (made level)."""
    z = unit(up_sensor)
    x = horizontal_unit(forward_sensor, z)
    return np.vstack([x, np.cross(z, x), z])
