"""Every orientation filter the benches compare, behind one call: the product's own (tiltguard) and its peers
(plain VQF and offlineVQF, ahrs Madgwick / Mahony / EKF, imufusion), each run as published."""
from __future__ import annotations

from tiltguard.host.orientation.estimate import (
    TILTGUARD,
    OrientationResult,
    _as_imu_arrays,
    estimate_orientation,
)
from vqf import VQF, offlineVQF

from . import orientation_peers as peers

PEER_METHODS = {
    "vqf": ("causal",),
    "offline_vqf": ("post",),
    "madgwick": ("causal",),
    "mahony": ("causal",),
    "ekf": ("causal",),
    "imufusion": ("causal",),
}
METHODS = (TILTGUARD, *PEER_METHODS)


def run_filter(acc, gyr, rate_hz: float, mode: str = "post", method: str = TILTGUARD) -> OrientationResult:
    """Orientation of every sample by `method` in `mode` ('causal' or 'post')."""
    if method == TILTGUARD:
        return estimate_orientation(acc, gyr, rate_hz, mode=mode)
    if method not in PEER_METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if mode not in PEER_METHODS[method]:
        raise ValueError(f"method {method!r} only runs in mode {PEER_METHODS[method][0]!r}")
    acc, gyr = _as_imu_arrays(acc, gyr)
    if method == "vqf":
        out = VQF(1.0 / rate_hz).updateBatch(gyr, acc)
        return OrientationResult(out["quat6D"], method, mode, out["bias"], out["restDetected"])
    if method == "offline_vqf":
        out = offlineVQF(gyr, acc, None, 1.0 / rate_hz)
        return OrientationResult(out["quat6D"], method, mode, out["bias"], out["restDetected"])
    filt = {"madgwick": peers.madgwick, "mahony": peers.mahony, "ekf": peers.ekf,
            "imufusion": peers.imufusion_ahrs}[method]
    return OrientationResult(filt(acc, gyr, rate_hz), method, mode)
