"""Other orientation filters, kept selectable for comparison (bench/orientation.py, `method=`).

Each returns sensor -> earth quaternions [w, x, y, z] in a z-up earth frame, so all are scored alike.
Pitfalls handled here: `ahrs` EKF expects the accelerometer along gravity (the negated specific force);
`imufusion` 1.3.x ignores the convention argument of its settings constructor (set the property afterwards)
and wants deg/s and g.
"""
from __future__ import annotations

import numpy as np

GRAVITY = 9.80665


def madgwick(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, gain: float | None = None) -> np.ndarray:
    from ahrs.filters import Madgwick

    kwargs = {"frequency": rate_hz}
    if gain is not None:
        kwargs["gain"] = gain
    return np.asarray(Madgwick(gyr=gyr, acc=acc, **kwargs).Q, float)


def mahony(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    from ahrs.filters import Mahony

    return np.asarray(Mahony(gyr=gyr, acc=acc, frequency=rate_hz).Q, float)


def ekf(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    from ahrs.filters import EKF
    from tiltguard.host.orientation.quaternion import tilt_to_vertical

    # ENU keeps z up like the rest of the project; the EKF's gravity reference wants acc along gravity.
    # Its own start-up guess from that negated vector can come out upside down, so start it level from
    # the first 0.1 s of specific force instead.
    acc = np.asarray(acc, float)
    q0 = tilt_to_vertical(acc[: max(1, int(0.1 * rate_hz))].mean(axis=0))
    return np.asarray(EKF(gyr=gyr, acc=-acc, frequency=rate_hz, frame="ENU", q0=q0).Q, float)


def imufusion_ahrs(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    import imufusion

    settings = imufusion.AhrsSettings()
    settings.convention = imufusion.CONVENTION_NWU  # z up; heading convention is irrelevant for 6D
    settings.sample_rate = rate_hz
    ahrs = imufusion.Ahrs()
    ahrs.set_settings(settings)
    ahrs.set_sample_period(1.0 / rate_hz)
    gyr_dps = np.degrees(np.asarray(gyr, float))
    acc_g = np.asarray(acc, float) / GRAVITY
    out = np.empty((len(acc_g), 4))
    update = ahrs.update_no_magnetometer
    for i in range(len(acc_g)):
        update(gyr_dps[i], acc_g[i])
        out[i] = ahrs.get_quaternion()
    return out
