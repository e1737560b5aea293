"""Guided calibration for the live view: a 5-s neutral stand gives the pelvis' up axis, then the first
walking/running (or pedalling) bout gives its forward axis, both with the same checks as the
post-session calibration (calibration.alignment), so a stand that moved is refused with the reason.

Everything counts in stream time (samples received), so the countdown is right for a device that runs
faster than real time, and a stalled link simply pauses it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calibration.alignment import (BOUT_MIN_S, Alignment, alignment_from_axes, check_upright, first_bout,
                                   first_rocking_bout, forward_from_pedalling, forward_from_walking,
                                   mean_vertical, stand_vertical)
from calibration.errors import CalibrationRejected, DirectionUnclear
from calibration.forward_sign import BRAKING_WINDOW_S

STAND_S = 5.0
FORWARD_BOUT_S = 6.0  # seconds of the first bout to wait for: enough strides for a clear fore-aft axis
RIDE_BOUT_S = 12.0  # pedalling has no steps; its rock axis needs a few more crank revolutions
MAX_WAIT_S = 120.0  # after the stand, give up waiting for a bout (and say so)
CHECK_EVERY_S = 0.5
BRAKING_RETRY_S = 5.0  # on a treadmill the foot strikes decide the direction: look again this often (~50 ms)


@dataclass
class CalibrationEvent:
    kind: str  # 'stand_ok', 'stand_rejected', 'forward_ok', 'forward_rejected', 'moving_ok' (no stand)
    message: str
    t: float  # stream time
    alignment: Alignment | None = None


class LiveCalibration:
    """States: idle -> stand (counting down) -> forward (waiting for the first bout) -> done."""

    def __init__(self, rate_hz: float, stand_s: float = STAND_S) -> None:
        self.rate_hz = float(rate_hz)
        self.stand_n = int(round(stand_s * rate_hz))
        self.state = "idle"
        self.alignment: Alignment | None = None
        self.up: np.ndarray | None = None
        self._acc: list[np.ndarray] = []
        self._gyr: list[np.ndarray] = []
        self._quat: list[np.ndarray] = []
        self._n = 0
        self._since_check = 0
        self._braking_next = 0  # sample count at which the foot strikes may be asked again

    # ------------------------------------------------------------------ control
    def start_stand(self) -> None:
        """Begin (or repeat) the neutral stand with the next sample."""
        self.state = "stand"
        self.up = None
        self._clear()

    def _clear(self) -> None:
        self._acc, self._gyr, self._quat, self._n, self._since_check = [], [], [], 0, 0
        self._braking_next = 0

    @property
    def stand_progress(self) -> float:
        """0..1 of the stand collected (1 once it is over)."""
        if self.state == "stand":
            return min(1.0, self._n / self.stand_n)
        return 1.0 if self.state in ("forward", "done") else 0.0

    @property
    def seconds_left(self) -> float:
        return max(0.0, (self.stand_n - self._n) / self.rate_hz) if self.state == "stand" else 0.0

    # ------------------------------------------------------------------ samples
    def feed(self, acc: np.ndarray, gyr: np.ndarray, quat: np.ndarray, t_now: float) -> list[CalibrationEvent]:
        if self.state not in ("stand", "forward"):
            return []
        self._acc.append(acc)
        self._gyr.append(gyr)
        self._quat.append(quat)
        self._n += len(acc)
        self._since_check += len(acc)
        if self.state == "stand":
            return self._stand(t_now) if self._n >= self.stand_n else []
        if self._since_check < CHECK_EVERY_S * self.rate_hz:
            return []
        self._since_check = 0
        return self._forward(t_now)

    def _joined(self):
        acc, gyr, quat = (np.concatenate(x) for x in (self._acc, self._gyr, self._quat))
        self._acc, self._gyr, self._quat = [acc], [gyr], [quat]
        return acc, gyr, quat

    def _stand(self, t_now: float) -> list[CalibrationEvent]:
        acc, gyr, quat = self._joined()
        n = self.stand_n
        try:
            self.up = stand_vertical(acc[:n], gyr[:n], self.rate_hz)
        except CalibrationRejected as exc:
            self.state = "idle"
            self._clear()
            return [CalibrationEvent("stand_rejected", str(exc), t_now)]
        self.state = "forward"
        return [CalibrationEvent("stand_ok", "Neutral captured. Now set off walking or running: the first "
                                 "strides set the forward direction.", t_now)]

    def _forward(self, t_now: float) -> list[CalibrationEvent]:
        acc, gyr, quat = self._joined()
        n, rate = len(acc), self.rate_hz
        try:
            walking, alignment = self._try_walking(acc, gyr, quat, n)
            if not walking:
                alignment = self._try_pedalling(acc, gyr, quat)
        except CalibrationRejected as exc:
            self.state = "idle"
            self._clear()
            return [CalibrationEvent("forward_rejected", f"{exc}. Repeat the neutral stand.", t_now)]
        if alignment is None:
            if n - self.stand_n > MAX_WAIT_S * rate:
                self.state = "idle"
                self._clear()
                return [CalibrationEvent("forward_rejected", f"no walking, running or pedalling in the "
                                         f"{MAX_WAIT_S:.0f} s after the stand. Repeat the neutral stand.", t_now)]
            return []
        self.alignment = alignment
        self.state = "done"
        self._clear()
        return [CalibrationEvent("forward_ok", f"Calibrated: forward direction from {alignment.forward_source}.",
                                 t_now, alignment)]

    def _try_walking(self, acc, gyr, quat, n) -> tuple[bool, Alignment | None]:
        """(a walking/running bout has begun, the alignment once enough of it is in). On a treadmill no speed
        is gained, so the foot strikes must tell forward from backward: wait for enough of them."""
        rate = self.rate_hz
        try:
            a, b = first_bout(acc, rate, start=self.stand_n)
        except CalibrationRejected:
            return False, None
        # wait for enough of the bout (or its end, if it was short but over)
        if b - a < FORWARD_BOUT_S * rate and b > n - rate:
            return True, None
        check_upright(self.up, mean_vertical(quat[a:b]))
        ongoing = b > n - rate and b - a < BRAKING_WINDOW_S * rate
        steps_due = n >= self._braking_next or not ongoing
        if steps_due:
            self._braking_next = n + int(BRAKING_RETRY_S * rate)
        try:
            forward = forward_from_walking(acc, quat, rate, self.up, (a, b), gyr=gyr if steps_due else None)
        except DirectionUnclear:
            if ongoing:
                return True, None  # still going: more steps may tell
            raise
        return True, alignment_from_axes(self.up, forward, "walking")

    def _try_pedalling(self, acc, gyr, quat) -> Alignment | None:
        rate = self.rate_hz
        try:
            a, b = first_rocking_bout(gyr, rate, start=self.stand_n)
        except CalibrationRejected:
            return None
        if b - a < max(RIDE_BOUT_S, BOUT_MIN_S) * rate:
            return None  # walking rocks the pelvis too: only a long rock without steps is a ride
        return alignment_from_axes(self.up, forward_from_pedalling(acc, gyr, quat, rate, self.up, (a, b)),
                                   "pedalling")
