"""Guided calibration for the live view: a 5-s neutral stand gives the pelvis' up axis, then a forward hip
hinge held for 1.5 s or the first walking/running (or pedalling) bout gives its forward axis, with the same
checks as the post-session calibration (calibration.alignment, calibration.hinge), so a stand that moved, or
a sit-down taken for a hinge, is refused with the reason. The hinge gives angles at once (before any steps;
on a treadmill or a trainer too), the strides a slightly more exact forward axis.

Everything counts in stream time (samples received), so the countdown is right for a device that runs
faster than real time, and a stalled link simply pauses it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from tiltguard.calibration.alignment import (
    Alignment,
    StepSign,
    alignment_from_axes,
    check_upright,
    first_bout,
    first_rocking_bout,
    mean_vertical,
    pedalling_direction,
    signed_by_hinge,
    stand_vertical,
    walking_direction,
)
from tiltguard.calibration.errors import CalibrationRejected, DirectionUnclear
from tiltguard.calibration.forward_sign import BRAKING_WINDOW_S, DirectionDecision
from tiltguard.calibration.hinge import find_held_hinge, forward_from_hinge
from tiltguard.calibration.reclip import RECLIP_DEG, still_stands
from tiltguard.host.signal.stillness import still_mask

STAND_S = 5.0
FORWARD_BOUT_S = 6.0  # seconds of the first bout to wait for: enough strides for a clear fore-aft axis
MAX_WAIT_S = 120.0  # after the stand, give up waiting for a bout (and say so)
CHECK_EVERY_S = 0.5
# After the calibration the steps keep being asked which way is forward, over windows of this length; the
# alignment is turned round only when two windows in a row decide against it (a pod clipped back on the other
# way round, a treadmill and then the road): one window's false alarm must not reverse a right session
RECLIP_WINDOW_S = 40.0  # the recent past searched for a still stand followed by a bout (the re-clip watch)
RECLIP_CHECK_S = 2.0
WATCH_S = 30.0
WATCH_MIN_BOUT_S = 15.0
WATCH_AGREEING_WINDOWS = 2
BRAKING_RETRY_S = 5.0  # on a treadmill the foot strikes decide the direction: look again this often (~50 ms)


@dataclass
class CalibrationEvent:
    kind: str  # 'stand_ok', 'stand_rejected', 'forward_ok', 'forward_rejected', 'hinge_rejected' (still
    # waiting), 'forward_refined' (after a hinge, the strides' axis), 'moving_ok' (no stand: the first
    # seconds of steps, then again the bout's first minute)
    message: str
    t: float  # stream time
    alignment: Alignment | None = None
    # the gyro's bias (rad/s, sensor axes): the mean angular rate of a still stand. The live orientation filter
    # takes it at once: its own estimate can take a minute to converge, and a bias of 1°/s about the tilt axis
    # holds the inclination ~3° off through its 3-s accelerometer correction (virtual runners, bench/running.py)
    gyro_bias: np.ndarray | None = None


def _degrees_between(u: np.ndarray, v: np.ndarray) -> float:
    u, v = np.asarray(u, float), np.asarray(v, float)
    return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1.0, 1.0))))


class LiveCalibration:
    """States: idle -> stand (counting down) -> forward (waiting for a hinge or the first bout) -> done; after a
    hinge: -> refine (angles already shown; the first bout then re-takes the forward axis, which a bend gives
    less exactly, and catches a backward lean taken for a hinge) -> done."""

    def __init__(self, rate_hz: float, stand_s: float = STAND_S, step_sign: StepSign | None = None) -> None:
        """`step_sign`: the steps' evidence of direction (host.gait.direction.direction_from_steps), handed
        in by the live pipeline; without it a treadmill bout stays unclear."""
        self.rate_hz = float(rate_hz)
        self.step_sign = step_sign
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
        self._hinge_refused = False  # a sit-down was refused (said once; waiting for a hinge or the strides)
        self._against = 0  # windows in a row whose steps decided against the current forward axis
        # after the calibration: (acc, gyr, quat) of the last RECLIP_WINDOW_S, which both watches read
        self._recent: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._since_reclip_check = 0
        self._since_direction_check = 0
        self._gait_up: np.ndarray | None = None  # the vertical in sensor axes while moving, with this mounting
        self._seen_stand_end_t: float | None = None  # stream time of the last stand already compared

    # ------------------------------------------------------------------ control
    def start_stand(self) -> None:
        """Begin (or repeat) the neutral stand with the next sample."""
        self.state = "stand"
        self.up = None
        self._clear()

    def _clear(self) -> None:
        self._acc, self._gyr, self._quat, self._n, self._since_check = [], [], [], 0, 0
        self._against = 0
        self._recent, self._since_reclip_check, self._since_direction_check = [], 0, 0
        self._braking_next = 0
        self._hinge_refused = False

    @property
    def stand_progress(self) -> float:
        """0..1 of the stand collected (1 once it is over)."""
        if self.state == "stand":
            return min(1.0, self._n / self.stand_n)
        return 1.0 if self.state in ("forward", "refine", "done") else 0.0

    @property
    def seconds_left(self) -> float:
        return max(0.0, (self.stand_n - self._n) / self.rate_hz) if self.state == "stand" else 0.0

    # ------------------------------------------------------------------ samples
    def feed(self, acc: np.ndarray, gyr: np.ndarray, quat: np.ndarray, t_now: float) -> list[CalibrationEvent]:
        if self.state in ("done", "moving"):  # moving: aligned without a stand (calibration.moving_posture)
            self._recent.append((acc, gyr, quat))
            self._since_reclip_check += len(acc)
            self._since_direction_check += len(acc)
            return self._watch_mounting(t_now) or self._watch_direction(t_now)
        if self.state not in ("stand", "forward", "refine"):
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
        return self._refine(t_now) if self.state == "refine" else self._forward(t_now)

    def _recent_samples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(acc, gyr, quat) of the last RECLIP_WINDOW_S, joined (and kept joined)."""
        keep = int(RECLIP_WINDOW_S * self.rate_hz)
        acc, gyr, quat = (np.concatenate(x)[-keep:] for x in zip(*self._recent))
        self._recent = [(acc, gyr, quat)]
        return acc, gyr, quat

    def _watch_mounting(self, t_now: float) -> list[CalibrationEvent]:
        """Notice a pod clipped back on differently at a stop, as the post-session analysis does
        (calibration.reclip: gravity in the sensor's axes moves by more than RECLIP_DEG). Both the stop's last
        still stand (against the neutral) and the moving vertical after it (against this mounting's, once
        FORWARD_BOUT_S of the bout are in) must have moved: a bend to tie a shoe is a still stand at another
        angle and a hill changes the moving posture, neither is a re-clip. Then the stand is the new neutral and
        the bout gives the forward axis, with the same rules as the calibration."""
        al = self.alignment
        rate = self.rate_hz
        if al is None or self.up is None or al.forward_source == "pedalling":
            return []
        if self._since_reclip_check < RECLIP_CHECK_S * rate:
            return []
        self._since_reclip_check = 0
        acc_r, gyr_r, quat_r = self._recent_samples()
        t0 = t_now - (len(acc_r) - 1) / rate
        stands = still_stands(still_mask(acc_r, gyr_r, rate), rate)
        after = stands[-1][1] if stands else 0
        if after > len(acc_r) - FORWARD_BOUT_S * rate:
            return []  # standing, or just set off: nothing to compare yet
        if self._gait_up is None:  # this mounting's moving vertical: from the first bout seen after the calibration
            try:
                a, b = first_bout(acc_r, rate, start=after)
            except CalibrationRejected:
                return []
            if b - a >= FORWARD_BOUT_S * rate:
                self._gait_up = mean_vertical(quat_r[a:b])
            return []
        if not stands:
            return []
        s0, s1 = stands[-1]
        stand_end_t = t0 + s1 / rate
        if self._seen_stand_end_t is not None and stand_end_t <= self._seen_stand_end_t + 0.5:
            return []  # this stop was compared already
        try:
            a, b = first_bout(acc_r, rate, start=s1)
        except CalibrationRejected:
            return []
        if b - a < FORWARD_BOUT_S * rate:
            return []  # wait for enough of the bout after the stop
        self._seen_stand_end_t = stand_end_t
        gait_up = mean_vertical(quat_r[a:b])
        moved = _degrees_between(gait_up, self._gait_up)
        n = min(s1 - s0, self.stand_n)
        stand_moved = _degrees_between(acc_r[s1 - n:s1].mean(axis=0), self.up)
        if moved <= RECLIP_DEG or stand_moved <= RECLIP_DEG:  # both moved, or the pod did not (a hill, a bend)
            return []
        try:  # the stop's last still stand (its last 5 s) is the new neutral
            up = stand_vertical(acc_r[s1 - n:s1], gyr_r[s1 - n:s1], rate)
            check_upright(up, gait_up)
            forward, decision = walking_direction(acc_r, quat_r, rate, up, (a, b), gyr=gyr_r, step_sign=self.step_sign)
        except CalibrationRejected as exc:
            return [CalibrationEvent("forward_rejected", f"The pod moved on the waistband ({moved:.0f}°) and could "
                                     f"not be re-calibrated: {exc}. Repeat the neutral stand.", t_now)]
        self.up, self._gait_up = up, gait_up
        self.alignment = replace(alignment_from_axes(up, forward, "walking"), direction=decision)
        return [CalibrationEvent("forward_refined", f"The pod moved on the waistband at the stop ({moved:.0f}°): "
                                 "the neutral is taken again from that stand, forward from the steps since.", t_now,
                                 self.alignment, gyro_bias=gyr_r[s1 - n:s1].mean(axis=0))]

    def _watch_direction(self, t_now: float) -> list[CalibrationEvent]:
        """Ask the steps of every WATCH_S window which way is forward, with the same rules as the calibration;
        turn the axis round after WATCH_AGREEING_WINDOWS windows in a row against it. A hip hinge is the wearer
        showing the way, so an alignment it signed is not second-guessed (a new stand and hinge re-calibrate)."""
        al = self.alignment
        if self.step_sign is None or al is None or "hinge" in al.forward_source or al.forward_source == "pedalling":
            self._since_direction_check = 0  # a window starts once there is something to watch
            return []
        window = self._since_direction_check  # WATCH_S < RECLIP_WINDOW_S: the window is in the recent samples
        if window < WATCH_S * self.rate_hz:
            return []
        self._since_direction_check = 0
        acc_w, gyr_w, _ = (x[-window:] for x in self._recent_samples())
        try:
            a, b = first_bout(acc_w, self.rate_hz)
        except CalibrationRejected:
            return []  # no steps in this window: nothing to say either way
        if b - a < WATCH_MIN_BOUT_S * self.rate_hz:
            return []
        decision = self.step_sign(acc_w, gyr_w, self.rate_hz, al.up_sensor, al.forward_sensor, (a, b))
        self._against = self._against + 1 if decision.sign < 0 else 0
        if self._against < WATCH_AGREEING_WINDOWS:
            return []
        self._against = 0
        turned = alignment_from_axes(al.up_sensor, -al.forward_sensor, al.forward_source)
        self.alignment = replace(turned, neutral_from=al.neutral_from,
                                 direction=DirectionDecision(1, [replace(c, sign=-c.sign) for c in decision.cues],
                                                             f"turned round mid-session: {decision.reason}"))
        return [CalibrationEvent("forward_refined", "The steps show that forward is now the other way round (was the "
                                 "pod clipped back on turned?): tilt and sides are turned round from now on.", t_now,
                                 self.alignment)]

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
        bias = gyr[:n].mean(axis=0)  # still, as stand_vertical checked
        # the hinge is the default step: a wearer showing which way is forward outranks every cue of the strides
        return [CalibrationEvent("stand_ok", "Neutral captured. Now hinge forward from the hips and hold for 2 s: "
                                 "that shows which way you face. (Setting off walking or running also works, "
                                 "but a treadmill needs many steps to tell.)", t_now, gyro_bias=bias)]

    def _forward(self, t_now: float) -> list[CalibrationEvent]:
        acc, gyr, quat = self._joined()
        n, rate = len(acc), self.rate_hz
        events = []
        try:
            alignment = self._try_hinge(acc, gyr, quat, n, events)
            if alignment is None:
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
                return [CalibrationEvent("forward_rejected", f"no hip hinge, walking, running or pedalling in "
                                         f"the {MAX_WAIT_S:.0f} s after the stand. Repeat the neutral stand.", t_now)]
            return [CalibrationEvent("hinge_rejected", f"{e}. Or set off walking or running.", t_now) for e in events]
        self.alignment = alignment
        if alignment.forward_source == "hinge":
            self.state = "refine"  # keep the samples: the first bout will check and refine the bend's axis
        else:
            self.state = "done"
            self._clear()
        return [CalibrationEvent("forward_ok", f"Calibrated: forward direction from {alignment.forward_source}.",
                                 t_now, alignment)]

    def _refine(self, t_now: float) -> list[CalibrationEvent]:
        """After a hinge: the first bout's forward axis (signed by its own evidence, else by the hinge) replaces
        the bend's. Nothing is said unless it changes something; a bout that cannot be used keeps the hinge's."""
        acc, gyr, quat = self._joined()
        n, rate = len(acc), self.rate_hz
        hinged = self.alignment.forward_sensor
        try:
            walking, alignment = self._try_walking(acc, gyr, quat, n, sign_hint=hinged)
        except CalibrationRejected:  # e.g. not upright: the hinge's axis stays
            alignment, gave_up = None, True
        else:
            gave_up = not walking and n - self.stand_n > MAX_WAIT_S * rate
        if alignment is not None or gave_up:
            self.state = "done"
            self._clear()
        if alignment is None:
            return []
        turned = float(np.degrees(np.arccos(np.clip(np.dot(alignment.forward_sensor, hinged), -1.0, 1.0))))
        self.alignment = alignment
        if turned > 90.0:
            message = ("The strides say forward is the other way: the bend was not a forward hinge (a lean back?). "
                       "Forward direction now from the strides.")
        else:
            message = f"Forward direction refined from the strides ({turned:.1f}° from the hinge's)."
        return [CalibrationEvent("forward_refined", message, t_now, alignment)]

    def _try_hinge(self, acc, gyr, quat, n, refusals: list[str]) -> Alignment | None:
        """The alignment from a forward hinge held before any bout; a sit-down is refused once (its reason
        goes to `refusals`), then the strides may still tell."""
        try:
            first = first_bout(acc, self.rate_hz, start=self.stand_n)[0]
        except CalibrationRejected:
            first = n
        try:
            hold = find_held_hinge(acc, gyr, quat, self.rate_hz, self.up, self.stand_n, first)
        except CalibrationRejected as exc:
            if not self._hinge_refused:
                self._hinge_refused = True
                refusals.append(str(exc))
            return None
        if hold is None:
            return None
        forward = forward_from_hinge(acc[:self.stand_n], acc[hold[0]:hold[1]], self.up)
        return alignment_from_axes(self.up, forward, "hinge")

    def _try_walking(self, acc, gyr, quat, n, sign_hint: np.ndarray | None = None
                     ) -> tuple[bool, Alignment | None]:
        """(a walking/running bout has begun, the alignment once enough of it is in). On a treadmill no speed
        is gained, so the foot strikes must tell forward from backward: wait for enough of them, or take the
        sign of `sign_hint` (a hinge's forward axis) if given."""
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
        if n < self._braking_next and ongoing:
            return True, None  # the speed gained alone can be faked (a treadmill belt): the steps have a say
        self._braking_next = n + int(BRAKING_RETRY_S * rate)
        try:
            forward, decision = walking_direction(acc, quat, rate, self.up, (a, b), gyr=gyr,
                                                  step_sign=self.step_sign)
        except DirectionUnclear as unclear:
            if sign_hint is not None and unclear.axis is not None:
                return True, signed_by_hinge(self.up, unclear.axis, sign_hint, "walking")
            if ongoing:
                return True, None  # still going: more steps may tell
            raise
        return True, replace(alignment_from_axes(self.up, forward, "walking"), direction=decision)

    def _try_pedalling(self, acc, gyr, quat) -> Alignment | None:
        rate = self.rate_hz
        try:
            a, b = first_rocking_bout(gyr, rate, start=self.stand_n)
        except CalibrationRejected:
            return None
        forward, decision = pedalling_direction(acc, gyr, quat, rate, self.up, (a, b))
        return replace(alignment_from_axes(self.up, forward, "pedalling"), direction=decision)
