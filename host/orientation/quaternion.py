"""Vectorised unit-quaternion helpers, scalar-first [w, x, y, z], Hamilton product.

A quaternion q 'sensor -> earth' rotates sensor-frame vectors into the earth frame: v_E = q ⊗ v_S ⊗ q*.
All functions take (N, 4)/(N, 3) arrays (or single rows) and never loop in Python.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    w1, x1, y1, z1 = np.moveaxis(a, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=-1,
    )


def conjugate(q: np.ndarray) -> np.ndarray:
    return np.asarray(q, float) * np.array([1.0, -1.0, -1.0, -1.0])


def normalize(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, float)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """q ⊗ v ⊗ q* for unit q (vector part formula, no temporaries of shape (N, 4))."""
    q = np.asarray(q, float)
    v = np.asarray(v, float)
    w, x, y, z = np.moveaxis(q, -1, 0)
    vx, vy, vz = np.moveaxis(v, -1, 0)
    # t = 2 u × v; result v + w t + u × t, written out (np.cross is ~5× slower on long arrays)
    tx = 2.0 * (y * vz - z * vy)
    ty = 2.0 * (z * vx - x * vz)
    tz = 2.0 * (x * vy - y * vx)
    return np.stack([vx + w * tx + (y * tz - z * ty),
                     vy + w * ty + (z * tx - x * tz),
                     vz + w * tz + (x * ty - y * tx)], axis=-1)


def from_axis_angle(axis, angle_rad) -> np.ndarray:
    axis = np.asarray(axis, float)
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    half = 0.5 * np.asarray(angle_rad, float)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (…, 3, 3) with R @ v_sensor = v_earth."""
    w, x, y, z = np.moveaxis(normalize(q), -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def from_matrix(R: np.ndarray) -> np.ndarray:
    """Inverse of to_matrix (scipy does the numerically careful branch selection)."""
    xyzw = Rotation.from_matrix(np.asarray(R, float)).as_quat()
    return np.concatenate([xyzw[..., 3:], xyzw[..., :3]], axis=-1)


def tilt_to_vertical(v: np.ndarray) -> np.ndarray:
    """Smallest rotation (no heading part) taking direction v onto +z; v need not be unit."""
    v = np.asarray(v, float)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    w = np.sqrt(np.clip((v[..., 2] + 1.0) / 2.0, 1e-12, None))
    return np.stack([w, 0.5 * v[..., 1] / w, -0.5 * v[..., 0] / w, np.zeros_like(w)], axis=-1)
