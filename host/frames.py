"""Frames and the pelvic angle convention shared by the simulator and the analysis.

Pelvis frame: x forward, y left, z up. Earth frame: z up (x, y horizontal).
Pelvic orientation follows Baker 2001's rotation-obliquity-tilt order:

    R_earth<-pelvis = Rz(yaw) · Rx(obliquity) · Ry(tilt)

with yaw = heading of travel + pelvic rotation. Right-hand rule about each axis gives:
tilt > 0 anterior (the forward axis tips down), obliquity > 0 left side up (right side dropped),
rotation > 0 pelvis turned to the left (right side forward).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

EULER_SEQ = "ZXY"  # scipy: upper case = intrinsic, R = Rz · Rx · Ry


def rotation_from_angles(yaw, obliquity, tilt) -> Rotation:
    """R_earth<-pelvis = Rz(yaw) Rx(obliquity) Ry(tilt) from angles in rad (arrays or scalars).

    Written out as the product of the three half-angle quaternions: same result as
    Rotation.from_euler("ZXY", ...), several times faster on long arrays."""
    yaw, obliquity, tilt = np.broadcast_arrays(*(np.asarray(x, dtype=float) * 0.5 for x in (yaw, obliquity, tilt)))
    ca, sa = np.cos(yaw), np.sin(yaw)
    cb, sb = np.cos(obliquity), np.sin(obliquity)
    cc, sc = np.cos(tilt), np.sin(tilt)
    xyzw = np.stack(
        [cc * ca * sb - sa * cb * sc, ca * cb * sc + cc * sa * sb, cc * sa * cb + ca * sb * sc, ca * cb * cc - sa * sb * sc],
        axis=-1,
    )
    return Rotation.from_quat(xyzw)


def angles_from_rotation(rot: Rotation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(yaw, obliquity, tilt) in rad from R_earth<-pelvis; inverse of `rotation_from_angles`."""
    e = rot.as_euler(EULER_SEQ)
    return e[..., 0], e[..., 1], e[..., 2]


def body_rate_zxy(a, da, b, db, c, dc) -> np.ndarray:
    """Angular velocity, in the rotated (body) frame, of R = Rz(a) Rx(b) Ry(c) given the angle rates."""
    sb, cb = np.sin(b), np.cos(b)
    sc, cc = np.sin(c), np.cos(c)
    return np.stack(
        [cc * db - sc * cb * da, sb * da + dc, sc * db + cc * cb * da],
        axis=-1,
    )


def quat_wxyz(rot: Rotation) -> np.ndarray:
    """Quaternion(s) as [w, x, y, z] (scipy stores x, y, z, w)."""
    q = rot.as_quat()
    return np.concatenate([q[..., 3:], q[..., :3]], axis=-1)


def rotation_from_wxyz(q: np.ndarray) -> Rotation:
    q = np.asarray(q, dtype=float)
    return Rotation.from_quat(np.concatenate([q[..., 1:], q[..., :1]], axis=-1))


def quat_multiply(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product p ⊗ q of [x, y, z, w] quaternion arrays (scipy's order), vectorised."""
    px, py, pz, pw = np.moveaxis(p, -1, 0)
    qx, qy, qz, qw = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
            pw * qw - px * qx - py * qy - pz * qz,
        ],
        axis=-1,
    )
