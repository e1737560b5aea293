"""The body frame of a drill from gravity alone (no magnetometer: a floor full of steel and cables).

Standing still gives the body's up axis in the sensor frame. A second, known posture gives the left axis:
lying face down (prone, hands and knees) or bowing forward from the hips turns the pelvis forward about
its left axis, lying on the back turns it backward about the same axis, so that axis is perpendicular to
both gravity directions: left = ±(up_stand × up_other). Forward = left × up. The result does not depend on
how the pod is clipped on (any way round), only on the person being level side to side in both postures
(a few degrees of roll there tilt the axes by as much, and leak sin(roll) of one angle into another).
"""
from __future__ import annotations

import numpy as np

MIN_SEPARATION_DEG = 12.0  # below this the cross product is too short to give a direction


def body_from_sensor(up_stand: np.ndarray, up_other: np.ndarray, turned_forward: bool) -> np.ndarray:
    """R_body<-sensor (3x3: rows are the body's x, y, z axes in sensor coordinates).

    `up_stand`, `up_other`: earth-up in sensor coordinates standing and in the second posture;
    `turned_forward`: the second posture is the pelvis turned forward (face down, a bow), else backward."""
    z = _unit(up_stand)
    cross = np.cross(z, _unit(up_other))
    sep = np.degrees(np.arcsin(min(1.0, float(np.linalg.norm(cross)))))
    if sep < MIN_SEPARATION_DEG:
        raise ValueError(f"the two postures differ by {sep:.0f}°; need at least {MIN_SEPARATION_DEG:.0f}°")
    # turning forward about +y moves earth-up (in body coordinates) from +z towards -x: z × (-x) = -y
    y = (-1.0 if turned_forward else 1.0) * cross / np.linalg.norm(cross)
    x = np.cross(y, z)
    return np.vstack([x, y, z])


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = float(np.dot(_unit(a), _unit(b)))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def euler_zxy(r: np.ndarray) -> tuple[float, float, float]:
    """(rotation, obliquity, tilt) in rad of R = Rz(rotation) Rx(obliquity) Ry(tilt) (host.frames order)."""
    obliquity = float(np.arcsin(np.clip(r[2, 1], -1.0, 1.0)))
    tilt = float(np.arctan2(-r[2, 0], r[2, 2]))
    rotation = float(np.arctan2(-r[0, 1], r[1, 1]))
    return rotation, obliquity, tilt


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """[w x y z] -> 3x3 rotation matrix."""
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)
