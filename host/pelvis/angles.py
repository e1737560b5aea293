"""Pelvic angles from the sensor's orientation and the sensor-to-pelvis alignment.

Baker 2001 rotation–obliquity–tilt order: R_earth<-pelvis = Rz(yaw)·Rx(obliquity)·Ry(tilt), pelvis x forward,
y left, z up; tilt > 0 anterior, obliquity > 0 left side up, rotation > 0 pelvis turned left.
yaw = heading of travel + rotation: here the heading is the slow part of yaw (zero-phase low-pass well below
the stride frequency), so turns and slow heading drift of a 6D filter drop out and the per-stride oscillation
stays in `rotation`. Once the steps are known, host.pelvis.heading re-takes the heading along the strides,
which also keeps sharp corners out of rotation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation
from tiltguard.host.orientation import quaternion as Q
from tiltguard.host.pelvis.lean import travel_frame_force, turn_lean

HEADING_CUTOFF_HZ = 0.2  # walking strides ≥ 0.8 Hz, running ≥ 1.2 Hz: their rotation swing stays intact
# Absolute standing pelvic tilt in healthy adults: 11 ± 4 deg (Levine & Whittle 1996, ASIS–PSIS line).
NEUTRAL_TILT_POP_MEAN_DEG = 11.0
NEUTRAL_TILT_POP_SD_DEG = 4.0


@dataclass
class PelvicAngles:
    """Per-sample pelvic angles in rad (degrees only at the user-facing edge)."""

    tilt: np.ndarray  # relative to standing neutral, anterior > 0
    obliquity: np.ndarray  # relative to neutral, left side up > 0, against the body's lean into turns
    rotation: np.ndarray  # relative to the direction of travel, left > 0
    heading: np.ndarray  # direction of travel (slow part of yaw, or its mean along the strides), rad, arbitrary origin in 6D
    tilt_abs: np.ndarray  # absolute tilt estimate: neutral tilt + relative tilt
    tilt_abs_sd: float  # 1-sigma uncertainty of tilt_abs, rad (from the neutral's uncertainty)
    lean: np.ndarray | None = None  # the body's lean into turns, left > 0 (host.pelvis.lean); None if not known
    lean_force: np.ndarray | None = None  # (N, 2) [left, up] specific force the lean is taken from, m/s²


def euler_zxy(q_earth_pelvis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(yaw, obliquity, tilt) of R = Rz(yaw)·Rx(obliquity)·Ry(tilt) from [w x y z] quaternions."""
    q = np.asarray(q_earth_pelvis, float)
    e = Rotation.from_quat(np.concatenate([q[..., 1:], q[..., :1]], axis=-1)).as_euler("ZXY")
    return e[..., 0], e[..., 1], e[..., 2]


def pelvis_quaternion(q_earth_sensor: np.ndarray, R_pelvis_sensor: np.ndarray) -> np.ndarray:
    """R_earth<-pelvis = R_earth<-sensor · R_sensor<-pelvis."""
    q_ps = Q.from_matrix(np.asarray(R_pelvis_sensor, float))
    return Q.multiply(q_earth_sensor, Q.conjugate(q_ps))


def split_heading(yaw: np.ndarray, rate_hz: float, cutoff_hz: float = HEADING_CUTOFF_HZ):
    """(heading, rotation): heading = zero-phase low-pass of the unwrapped yaw, rotation = yaw − heading."""
    unwrapped = np.unwrap(yaw)
    if len(yaw) < 30:  # too short to filter: treat the mean as the heading
        heading = np.full_like(unwrapped, unwrapped.mean())
    else:
        sos = butter(2, cutoff_hz, fs=rate_hz, output="sos")
        heading = sosfiltfilt(sos, unwrapped)
    return heading, unwrapped - heading


def pelvic_angles(q_earth_sensor: np.ndarray, R_pelvis_sensor: np.ndarray, rate_hz: float,
                  neutral_tilt_deg: float | None = None, neutral_tilt_sd_deg: float | None = None,
                  acc: np.ndarray | None = None) -> PelvicAngles:
    """Angles of every sample. `neutral_tilt_deg` is the wearer's absolute standing tilt if measured
    (e.g. by a clinician with an inclinometer); otherwise the population value and its spread are used.
    With the accelerometer (`acc`, sensor frame, m/s²) obliquity is taken against the body's lean into turns
    (host.pelvis.lean); without it, against the earth's horizontal."""
    yaw, obliquity, tilt = euler_zxy(pelvis_quaternion(q_earth_sensor, R_pelvis_sensor))
    heading, rotation = split_heading(yaw, rate_hz)
    lean = force = None
    if acc is not None:
        force = travel_frame_force(q_earth_sensor, acc, heading)
        lean = turn_lean(force, rate_hz)  # along the strides once they are known (host.pelvis.heading)
        obliquity = obliquity + lean
    if neutral_tilt_deg is None:
        neutral_tilt_deg, neutral_tilt_sd_deg = NEUTRAL_TILT_POP_MEAN_DEG, NEUTRAL_TILT_POP_SD_DEG
    sd = np.radians(neutral_tilt_sd_deg if neutral_tilt_sd_deg is not None else 1.0)
    return PelvicAngles(tilt, obliquity, rotation, heading, tilt + np.radians(neutral_tilt_deg), float(sd), lean,
                        force)


def per_stride_ranges(angle: np.ndarray, stride_starts: np.ndarray) -> np.ndarray:
    """Peak-to-peak of `angle` inside every stride [stride_starts[i], stride_starts[i+1])."""
    s = np.asarray(stride_starts, int)
    return np.array([np.ptp(angle[a:b]) for a, b in zip(s[:-1], s[1:]) if b > a])
