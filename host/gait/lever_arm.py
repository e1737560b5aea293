"""Where the pelvis' centre is from the pod, read from the running flights, and the specific force there.

Why: the pod sits on the back of the pelvis, wherever the waistband put it, and the pelvis pitches, rolls and
yaws with every step. At the pod the fore-aft acceleration therefore carries the pelvis' angular acceleration
times the pod's height above the pelvis' centre (20-50 rad/s² RMS in running, so ~2-5 m/s² at 10 cm: as much as
the braking itself). The running direction cues read braking, so on the virtual runners read 4-16 cm above the
sacrum one runner's cues turned against each other (no decision) and, 6 cm to the side as well, one came out
reversed (bench/running.py, docs/orientation.md).
The vertical carries the same terms: read there alone, a pod 5 cm below the sacrum lost one runner's steps and
one 12 cm above and 6 cm to the side read another's one foot 50 ms late, so the contact detector finds its steps
at the centre too (host.gait.contacts, docs/gait.md).

How: in a running flight the body is in free fall, so the centre of mass reads no specific force, and the
pelvis' centre moves close to it. On a rigid pelvis the pod's specific force is the centre's plus
alpha x r + omega x (omega x r), r the centre seen from the pod (sensor axes), omega the gyro's rate and
alpha its derivative. r is the least-squares fit of "the centre reads zero" over the flight samples; the
specific force is then carried to that point. On the virtual runners it lands 5-12 cm forward of the sacral
pod and 0-11 cm below it, the pelvis' middle; a pod moved 8 cm up moves the fit 7-8 cm, 6 cm to a side 4-5 cm.

Where it does not apply: no flights (walking, riding), no gyro (an accelerometer-only recording), a fit that
the flights do not pin down or that lands farther than a pelvis is wide: the pod's own reading is used.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt
from tiltguard.host.samples import GRAVITY

from .activity import FLIGHT_SPECIFIC_FORCE_G
from .body_frame import LevelSignals, level_signals

MIN_FLIGHT_S = 1.0  # of flight samples in all, for the fit to mean something (~10 running strides)
MAX_REACH_M = 0.3  # the pelvis' centre lies within this of a pod worn on the low back
MIN_ANGULAR_ACC = 5.0  # rad/s², RMS over the flights: below it the angular terms cannot pin the point down
ALPHA_CUTOFF_HZ = 30.0  # the gyro is differentiated below this (running's angular motion lies well under it)


def angular_acceleration(gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    """(N, 3) the gyro's rate differentiated, rad/s²."""
    sos = butter(2, min(ALPHA_CUTOFF_HZ, 0.4 * rate_hz), fs=rate_hz, output="sos")
    return np.gradient(sosfiltfilt(sos, gyr, axis=0), 1.0 / rate_hz, axis=0)


def carried(acc: np.ndarray, alpha: np.ndarray, gyr: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The specific force (N, 3) at the point r of the rigid body: acc + alpha x r + omega x (omega x r)."""
    return np.asarray(acc, float) + np.cross(alpha, r) + np.cross(gyr, np.cross(gyr, r))


@dataclass
class PelvisCentre:
    """The pelvis' centre seen from the pod, and the angular rates of the samples it was fitted on."""

    r: np.ndarray  # (3,) sensor axes, m
    alpha: np.ndarray  # (N, 3) angular acceleration of the recording
    gyr: np.ndarray  # (N, 3) its angular rate

    def specific_force(self, acc: np.ndarray) -> np.ndarray:
        """The specific force (N, 3) at the centre, from the pod's (the same N samples)."""
        return carried(acc, self.alpha, self.gyr, self.r)


def centre_from_flights(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, vertical: np.ndarray
                        ) -> PelvisCentre | None:
    """The point whose specific force is nearest zero over the flights, seen from the pod; None where it cannot
    be told (module docstring). `vertical`: the vertical acceleration, gravity removed."""
    acc, gyr = np.asarray(acc, float), np.asarray(gyr, float)
    flight = np.asarray(vertical) + GRAVITY < FLIGHT_SPECIFIC_FORCE_G * GRAVITY
    if flight.sum() < MIN_FLIGHT_S * rate_hz:
        return None
    alpha = angular_acceleration(gyr, rate_hz)
    w = _skew(gyr[flight])
    in_flight = _skew(alpha[flight]) + w @ w  # M with M @ r = alpha x r + omega x (omega x r)
    if np.sqrt(np.mean(np.sum(in_flight ** 2, axis=(1, 2))) / 2) < MIN_ANGULAR_ACC:  # ~|alpha| RMS
        return None  # no gyro, or hardly any rotation
    normal = np.einsum("nij,nik->jk", in_flight, in_flight)
    if np.linalg.cond(normal) > 1e4:
        return None
    r = -np.linalg.solve(normal, np.einsum("nij,ni->j", in_flight, acc[flight]))
    return PelvisCentre(r, alpha, gyr) if np.linalg.norm(r) <= MAX_REACH_M else None


def centre_and_its_signals(acc: np.ndarray, gyr: np.ndarray, sig: LevelSignals,
                           sensor_to_pelvis: np.ndarray | None = None
                           ) -> tuple[PelvisCentre | None, LevelSignals | None]:
    """The pelvis' centre and the level signals of the same samples there, or (None, None) where it cannot be
    told (`sig`: the pod's own, read with `sensor_to_pelvis`)."""
    centre = centre_from_flights(acc, gyr, sig.rate_hz, sig.vertical)
    if centre is None:
        return None, None
    return centre, level_signals(centre.specific_force(acc), gyr, sig.rate_hz, sensor_to_pelvis)


def level_signals_at_centre(acc: np.ndarray, gyr: np.ndarray, sig: LevelSignals,
                            sensor_to_pelvis: np.ndarray | None = None) -> LevelSignals | None:
    """The level signals of the same samples at the pelvis' centre, or None where it cannot be told."""
    return centre_and_its_signals(acc, gyr, sig, sensor_to_pelvis)[1]


def at_point(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, r: np.ndarray) -> np.ndarray:
    """The specific force (N, 3) at the point r (sensor axes, m) of the rigid body the pod is fixed to."""
    gyr = np.asarray(gyr, float)
    return carried(acc, angular_acceleration(gyr, rate_hz), gyr, np.asarray(r, float))


def _skew(v: np.ndarray) -> np.ndarray:
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    o = np.zeros_like(x)
    return np.stack([np.stack([o, -z, y], -1), np.stack([z, o, -x], -1), np.stack([-y, x, o], -1)], -2)
