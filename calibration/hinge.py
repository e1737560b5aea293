"""Forward axis from a forward hip hinge after the neutral stand: the other way to finish the calibration,
for when the first strides cannot (a treadmill session before enough foot strikes, a trainer ride, drills on
the spot) or should not be waited for (the live view right after the stand).

Bending forward from the hips tips the pelvis forward, so the measured vertical moves towards the pelvis' back:
forward ∝ up_stand − up_hinge, whatever way the pod sits. Gravity alone cannot tell that from tipping the
pelvis *back*, which sitting down does (a posterior tilt of 20–40°): taken for a hinge it would flip forward
and backward and with them the sign of every tilt. The two differ in how far the sacrum goes down on the way:
a hinge lowers it by ~0.05–0.15 m (hips back, knees soft), sitting by ~0.4 m. So the drop is measured (the
vertical acceleration integrated twice between the two still moments) and a posture reached by a drop of more
than MAX_DROP_M is refused.

The direction accuracy depends on how straight the bend is: a 3° sideways lean in a 45° hinge turns the forward
axis by atan(sin 3° / sin 45°) ≈ 4°, where the first strides give it within ~1–2°. So post-session the strides
give the axis and the hinge only decides its sign when nothing else can.
"""
from __future__ import annotations

import numpy as np
from tiltguard.host.orientation import quaternion as Q
from tiltguard.host.signal.stillness import still_mask, true_runs

from .axes import horizontal_unit, unit
from .errors import CalibrationRejected
from .still import GRAVITY

MIN_HINGE_DEG = 15.0  # a smaller bend leaves the forward direction to the noise and the sway
MAX_HINGE_DEG = 100.0  # beyond it the wearer is lying or upside down, not hinging
HOLD_S = 1.5  # the bend is held still this long
WINDOW_S = 0.5  # stillness is judged over windows this long
MAX_DROP_M = 0.25  # a hinge lowers the sacrum ~0.05-0.15 m, sitting down ~0.4 m
MAX_TRANSITION_S = 5.0  # from the last still upright moment to the hold


def forward_from_hinge(acc_stand: np.ndarray, acc_hinge: np.ndarray, up_sensor: np.ndarray) -> np.ndarray:
    """Pelvis forward axis (sensor axes) from a still forward hip hinge after the stand: as the pelvis tips
    forward, the measured vertical moves towards the pelvis' back, so forward ∝ up_stand − up_hinge."""
    u0 = unit(np.asarray(acc_stand, float).mean(axis=0))
    u1 = unit(np.asarray(acc_hinge, float).mean(axis=0))
    angle = np.degrees(np.arccos(np.clip(np.dot(u0, u1), -1, 1)))
    if angle < MIN_HINGE_DEG:
        raise CalibrationRejected(
            f"the forward hinge tipped the pelvis only {angle:.0f} deg (need {MIN_HINGE_DEG:.0f}); bend further "
            "forward from the hips, back straight")
    return horizontal_unit(u0 - u1, up_sensor)


def sacrum_drop(acc: np.ndarray, quat: np.ndarray, rate_hz: float) -> float:
    """How far (m, down > 0) the sacrum went between the first and the last sample, both still: the vertical
    acceleration integrated twice, the velocity brought back to zero at the end (a linear correction: what is
    left of a small bias or inclination error)."""
    vertical = Q.rotate(np.asarray(quat, float), np.asarray(acc, float))[:, 2] - GRAVITY
    dt = 1.0 / rate_hz
    v = np.cumsum(vertical) * dt
    v -= np.linspace(0.0, 1.0, len(v)) * v[-1]
    return float(-np.sum(v) * dt)


def find_held_hinge(acc: np.ndarray, gyr: np.ndarray, quat: np.ndarray, rate_hz: float, up_sensor: np.ndarray,
                    start: int, stop: int) -> tuple[int, int] | None:
    """(first, end) samples of the first forward hinge held still for HOLD_S between `start` and `stop`, or
    None. Raises CalibrationRejected if the held posture was reached by sitting down (the sacrum dropped more
    than MAX_DROP_M); the message says so."""
    acc = np.asarray(acc, float)[start:stop]
    gyr = np.asarray(gyr, float)[start:stop]
    w = max(2, int(WINDOW_S * rate_hz))
    if len(acc) < HOLD_S * rate_hz + w:
        return None
    still = still_mask(acc, gyr, rate_hz, window_s=WINDOW_S)
    angle = np.degrees(np.arccos(np.clip(unit(acc) @ unit(up_sensor), -1.0, 1.0)))
    holds = true_runs(still & (angle >= MIN_HINGE_DEG) & (angle <= MAX_HINGE_DEG), int(HOLD_S * rate_hz))
    if not holds:
        return None
    a, b = holds[0]
    # the way in: from the last still, upright moment (within MAX_TRANSITION_S) to the hold
    upright = np.flatnonzero(still[:a] & (angle[:a] < MIN_HINGE_DEG / 2))
    first = max(upright[-1] if len(upright) else 0, a - int(MAX_TRANSITION_S * rate_hz), 0)
    drop = sacrum_drop(acc[first:a + 1], np.asarray(quat, float)[start + first:start + a + 1], rate_hz)
    if drop > MAX_DROP_M:
        raise CalibrationRejected(
            f"that was sitting down or squatting, not a hip hinge (the pelvis went {drop * 100:.0f} cm down, a "
            f"hinge lowers it less than {MAX_DROP_M * 100:.0f} cm); stand, then bend forward from the hips")
    return start + a, start + b


def forward_from_held_hinge(acc: np.ndarray, gyr: np.ndarray, quat: np.ndarray, rate_hz: float,
                            stand: tuple[int, int], up_sensor: np.ndarray, stop: int) -> np.ndarray | None:
    """Forward axis (sensor axes) from the first hinge held between the stand's end and `stop`, or None if
    there was none (a sit-down is not one: post-session nobody is there to be told, so it is just not used)."""
    try:
        hold = find_held_hinge(acc, gyr, quat, rate_hz, up_sensor, stand[1], stop)
    except CalibrationRejected:
        return None
    if hold is None:
        return None
    return forward_from_hinge(np.asarray(acc)[stand[0]:stand[1]], np.asarray(acc)[hold[0]:hold[1]], up_sensor)
