"""The bow frame's heading error, bounded by the reps' one-signed hip drop (docs/drills.md, "Angles").

The standing drills take the body's left axis from one bow: left = up_stand × up_bow. A bow with a
sideways lean of r turns that axis about the vertical by ψ ≈ atan(sin r cos b / sin b) (b: the bow's
depth): 3° of lean in a 25° bow is 6°. A rep that hinges θ about the true left axis then reads
obliquity - sin ψ sin θ on top of what the pelvis did, on both sides alike: exactly what one side's hip
dropping more looks like.

What the pelvis does on each side is one-signed: standing on the left leg the kickstand (right) hip
sinks and the left side is up (obliquity = +drop, drop >= 0); on the right leg obliquity = -drop. So per
rep u = obliquity / sin θ = h + side · drop / sin θ with h = -sin ψ (in degrees, as u): every left rep's
u is at least h, every right rep's at most h, and h lies in [high quantile of the right reps' u, low
quantile of the left reps' u]. While the bow's own frame (h = 0) lies inside that interval it stays (a
real asymmetry only widens the interval on the worse side's end, so it is never erased). Outside, the bow
is shown wrong by at least the distance to the nearer bound, and h is the mean of the bow's error as it
is known to spread (a sideways lean of LEAN_SD_DEG in a bow of the measured depth) over what the interval
allows: a symmetric person's interval is narrow and this is near its middle. Live, this can be decided
only once both sides are done: the per-rep numbers of the live guidance use the bow's frame; the result
(file, store, report) is re-measured in the corrected frame when the session ends.
"""
from __future__ import annotations

import numpy as np

from .frame import euler_zxy

HINGE_MIN_DEG = 15.0  # a rep hinging less says little about the heading (u = obliquity / sin θ blows up)
MIN_REPS_PER_SIDE = 3
BOUND_QUANTILE = 0.1  # robust low / high end of a side's u: one mis-measured rep does not set the bound
LEAN_SD_DEG = 2.0  # a person bowing from the hips leans sideways by a few degrees (the bow is not guided)
DEEP_BOW_DEG = 45.0  # from here on the bow's heading is known at least as well as its lean (cot bow <= 1)


def heading_bounds(left: list[tuple[float, float]],
                   right: list[tuple[float, float]]) -> tuple[float, float] | None:
    """(low, high) bounds of h = -sin ψ (deg) from the reps' (hinge θ, obliquity) at the top, deg; None when
    a side has too few hinging reps, or the sides contradict each other (the bounds cross: the sides
    themselves are in doubt)."""
    u_l = _u(left)
    u_r = _u(right)
    if len(u_l) < MIN_REPS_PER_SIDE or len(u_r) < MIN_REPS_PER_SIDE:
        return None
    low, high = float(np.quantile(u_r, 1.0 - BOUND_QUANTILE)), float(np.quantile(u_l, BOUND_QUANTILE))
    if low > high:
        return None
    return low, high


def heading_sd_deg(bow_deg: float) -> float:
    """How far the bow's heading is known, deg (1 sd, as h = -sin ψ): a sideways lean of LEAN_SD_DEG turns
    the bow's left axis by atan(tan lean / tan bow)."""
    return float(np.degrees(np.sin(np.arctan(np.tan(np.radians(LEAN_SD_DEG))
                                             / np.tan(np.radians(max(bow_deg, 1.0)))))))


def heading_error_deg(bounds: tuple[float, float] | None, bow_deg: float) -> float:
    """The heading error ψ (deg) to take out of the bow's frame (`bow_deg`: the bow's depth): the mean of h
    over the bounds under the bow's own spread (`heading_sd_deg`). A bow shallower than DEEP_BOW_DEG knows
    its heading less well than the lean itself: its frame stays while h = 0 lies inside the bounds (with that
    wide a spread the mean would follow an asymmetric person's wide bound and erase part of the asymmetry)."""
    if bounds is None:
        return 0.0
    if bow_deg < DEEP_BOW_DEG and bounds[0] <= 0.0 <= bounds[1]:
        return 0.0
    # imported here only: the engine stays light to import
    from scipy.stats import truncnorm

    sd = heading_sd_deg(bow_deg)
    h = float(truncnorm.mean(bounds[0] / sd, bounds[1] / sd, loc=0.0, scale=sd))
    if not np.isfinite(h):  # far out in the tail: the nearer bound
        h = bounds[0] if bounds[0] > 0.0 else bounds[1]
    return float(-np.degrees(np.arcsin(np.clip(np.radians(h), -1.0, 1.0))))


def _u(reps: list[tuple[float, float]]) -> np.ndarray:
    return np.array([obl / np.sin(np.radians(th)) for th, obl in reps if th >= HINGE_MIN_DEG])


def reframe(angles_deg: np.ndarray, psi_deg: float) -> np.ndarray:
    """(N, 3) tilt, obliquity, rotation (deg) measured in a frame turned ψ about the vertical from the
    body's, in the body's frame: R = Rz(-ψ) R_measured Rz(ψ)."""
    a = np.radians(np.atleast_2d(np.asarray(angles_deg, float)))
    c, s = np.cos(np.radians(psi_deg)), np.sin(np.radians(psi_deg))
    rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    out = np.empty_like(a)
    for k, (tilt, obl, rot) in enumerate(a):
        r = _rz(rot) @ _rx(obl) @ _ry(tilt)
        rot2, obl2, tilt2 = euler_zxy(rz.T @ r @ rz)
        out[k] = (tilt2, obl2, rot2)
    return np.degrees(out)


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
