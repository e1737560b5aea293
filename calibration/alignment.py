"""Sensor-to-pelvis alignment: which sensor direction is the pelvis' up, forward and left.

1. A ~5-s stand in the wearer's neutral posture gives the vertical (mean specific force points up).
2. The forward axis comes from the first walking/running bout (direction of travel in the horizontal plane)
   or from a forward hip hinge (the vertical tips backwards in the pelvis frame when the pelvis tips forward).
   Where there is no travel to tell forward from backward (a treadmill), the steps tell it: every foot
   strike brakes the body, so the fore-aft acceleration just after each initial contact points backwards.
   That evidence needs the foot contacts, a later stage (host.gait.direction): the pipeline hands it in
   as `step_sign`; without it a treadmill bout is DirectionUnclear.
   On an indoor trainer the saddle posture tells it: seated on a bike the pelvis is tipped forward of its
   standing neutral (hands on the bars), which is a forward hinge held for the whole ride.
Nothing is assumed about how the pod sits, so it may be tilted, sideways or upside down.

The result R_pelvis<-sensor defines the *neutral* pelvis frame: pelvic angles computed with it are relative
to the wearer's standing neutral.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from scipy.signal import butter, sosfiltfilt
from tiltguard.host.orientation import estimate_orientation
from tiltguard.host.orientation import quaternion as Q
from tiltguard.host.signal.step_symmetry import repeating_minus_alternating, step_period_samples
from tiltguard.host.signal.stillness import true_runs

from .axes import horizontal_unit, pelvis_frame, unit
from .errors import CalibrationRejected, DirectionUnclear
from .forward_sign import (
    BRAKING_MIN_STEPS,
    DirectionCue,
    DirectionDecision,
    decide,
    saddle_cue,
)
from .hinge import forward_from_held_hinge
from .still import GRAVITY, check_still

MIN_STAND_S = 4.5  # the issue asks for a 5-s stand; allow a little slack at the edges
MAX_UPRIGHT_DEVIATION_DEG = 30.0  # stand vs. walking posture: sitting/lying/bent-over differ by more
MIN_INITIATION_DV = 0.3  # m/s of horizontal speed gained when setting off, to tell forward from back ...
# ... but only a clear start vetoes the steps: a treadmill belt starting under the wearer, or stepping onto it,
# moves the sacrum by a few tenths of a m/s either way (the virtual treadmill sessions: -0.4..+0.5 m/s)
MIN_CONFLICTING_DV = 1.0
# A step cue this many times its decisive strength (t >= 16 for the running cues: every step of 20 s the same way)
# is evidence no 3-s speed estimate can match
OVERWHELMING_STEP_CUE = 4.0
BOUT_ACC_STD = 1.0  # m/s², moving std of |acc| above which the wearer is walking/running
BOUT_MIN_S = 2.0
RIDE_MIN_S = 12.0  # pedalling has no steps: its rock must go on for a few crank revolutions to count as a ride
BOUT_GYR_RMS = np.radians(4.0)  # rad/s: seated pedalling rocks the pelvis at ~5-15 deg/s, a still stand < 1
# An uncalibrated consumer accelerometer reads up to ~60 mg (3 sigma bias) and 1.5 % scale off; beyond 10 % the
# wearer was not standing still on the ground (or the sensor needs its 6-position calibration).
MAX_NORM_DEVIATION = 0.10


# step_sign(acc, gyr, rate_hz, up_sensor, axis_sensor, bout) -> DirectionDecision: the steps' evidence of which
# way `axis_sensor` points (host.gait.direction.direction_from_steps), handed in by the pipeline.
StepSign = Callable[[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray, tuple], DirectionDecision]


@dataclass
class Alignment:
    R_pelvis_sensor: np.ndarray  # (3, 3): v_pelvis = R @ v_sensor
    up_sensor: np.ndarray  # pelvis z (up at neutral) in sensor axes
    forward_sensor: np.ndarray  # pelvis x in sensor axes
    forward_source: str  # "walking", "pedalling", "hinge", or "walking/pedalling, signed by the hinge"
    neutral_from: str = "stand"  # "stand", or "first bout": no stand, angles relative to the moving posture
    direction: DirectionDecision | None = None  # which way is forward: the decision, its cues and strengths

    withheld: str = ""  # why the direction is unknown ("" when it is known): the angles' signs mean nothing

    @property
    def has_neutral(self) -> bool:
        return self.neutral_from == "stand"

    @property
    def direction_known(self) -> bool:
        return not self.withheld

    def to_record(self) -> dict:
        return {"R_pelvis_sensor": self.R_pelvis_sensor, "up_sensor": self.up_sensor,
                "forward_sensor": self.forward_sensor, "forward_source": self.forward_source,
                "neutral_from": self.neutral_from, "withheld": self.withheld,
                "direction": self.direction.to_record() if self.direction is not None else None}

    @classmethod
    def from_record(cls, rec: dict) -> "Alignment":
        return cls(np.asarray(rec["R_pelvis_sensor"], float), np.asarray(rec["up_sensor"], float),
                   np.asarray(rec["forward_sensor"], float), rec["forward_source"], rec.get("neutral_from", "stand"),
                   withheld=rec.get("withheld", ""))


def stand_vertical(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    """Pelvis 'up' in sensor axes from the neutral stand; rejects a stand that moved, is short or not 1 g."""
    seconds = len(acc) / rate_hz
    if seconds < MIN_STAND_S:
        raise CalibrationRejected(f"the neutral stand lasted {seconds:.1f} s; stand still for 5 s")
    rep = check_still(acc, gyr, "the neutral stand")
    if abs(rep.acc_norm - GRAVITY) > MAX_NORM_DEVIATION * GRAVITY:
        raise CalibrationRejected(
            f"the stand read {rep.acc_norm:.2f} m/s² instead of about {GRAVITY:.2f}: the wearer was moving "
            "(lift, vehicle) or the accelerometer needs its 6-position calibration")
    return unit(np.asarray(acc, float).mean(axis=0))


def mean_vertical(quat: np.ndarray) -> np.ndarray:
    """Earth's up in sensor axes, averaged over these sensor->earth orientations (a posture), unit length."""
    return unit(Q.rotate(Q.conjugate(quat), np.broadcast_to([0.0, 0.0, 1.0], (len(quat), 3))).mean(axis=0))


def check_upright(up_sensor: np.ndarray, gait_up_sensor: np.ndarray) -> float:
    """Angle (deg) between the stand's vertical and the mean vertical while walking/running (both in sensor
    axes). A neutral stand is within a few degrees of the gait posture; sitting, lying or bending is not."""
    angle = float(np.degrees(np.arccos(np.clip(np.dot(unit(up_sensor), unit(gait_up_sensor)), -1, 1))))
    if angle > MAX_UPRIGHT_DEVIATION_DEG:
        raise CalibrationRejected(
            f"the neutral stand was not upright: the pelvis was {angle:.0f} deg away from its walking posture "
            f"(limit {MAX_UPRIGHT_DEVIATION_DEG:.0f}); stand tall, look ahead, and repeat")
    return angle


def first_bout(acc: np.ndarray, rate_hz: float, start: int = 0) -> tuple[int, int]:
    """(first, last) sample of the first walking/running bout at or after `start`, from the 1-s moving
    standard deviation of |acc|; raises CalibrationRejected if there is none."""
    norm = np.linalg.norm(np.asarray(acc, float)[start:], axis=1)
    w = max(2, int(rate_hz))
    kernel = np.ones(w) / w
    mean = np.convolve(norm, kernel, mode="same")
    std = np.sqrt(np.maximum(np.convolve(norm**2, kernel, mode="same") - mean**2, 0))
    bouts = true_runs(std > BOUT_ACC_STD, int(BOUT_MIN_S * rate_hz))
    if not bouts:
        raise CalibrationRejected("no walking or running bout found after the stand; walk or run for a while")
    return start + bouts[0][0], start + bouts[0][1]


def walking_direction(acc: np.ndarray, quat: np.ndarray, rate_hz: float, up_sensor: np.ndarray,
                      bout: tuple[int, int], window_s: float = 20.0, gyr: np.ndarray | None = None,
                      from_rest: bool = True, step_sign: StepSign | None = None
                      ) -> tuple[np.ndarray, DirectionDecision]:
    """Pelvis forward axis (sensor axes) from the direction of travel of the first bout, and the decision
    on its sign.

    `quat` is the sensor->earth orientation (any heading). Axis: the direction along which the horizontal
    acceleration repeats every step and the horizontal angular rate alternates (step_axis: braking and
    propulsion are fore-aft, sway and the pelvis' roll alternate sides); sign: the horizontal speed
    gained when setting off from the stand, and (with `gyr` and `step_sign` given) the steps' evidence
    (host.gait.direction): one decisive cue and none against it (calibration.forward_sign.decide), else
    DirectionUnclear. Both are in the earth frame of `quat`, then brought into sensor axes sample by sample
    (this averages out the per-stride pelvic rotation). `from_rest=False`: the recording starts in motion,
    the orientation is still settling at the bout's start and the speed gained there means nothing, so only
    the steps count.
    """
    def from_steps(axis_sensor):
        return None if gyr is None or step_sign is None else step_sign(acc, gyr, rate_hz, up_sensor, axis_sensor, bout)

    return _forward_from_bout(acc, acc, quat, rate_hz, up_sensor, bout, (0.5, 6.0), window_s,
                              "start the first walk or run from the stand, not mid-stride; on a treadmill, "
                              f"keep going for at least {BRAKING_MIN_STEPS} steps", from_steps, from_rest,
                              steps=True, steps_gyr=gyr)


def pedalling_direction(acc: np.ndarray, gyr: np.ndarray, quat: np.ndarray, rate_hz: float, up_sensor: np.ndarray,
                        bout: tuple[int, int], window_s: float = 20.0) -> tuple[np.ndarray, DirectionDecision]:
    """Pelvis forward axis (sensor axes) on a bike, where there are no steps: seated pedalling rocks the
    pelvis about its forward axis (obliquity), so the major horizontal principal direction of the
    crank-frequency angular rate is the forward axis; its sign from the speed gained when setting off and
    the saddle posture (the pelvis tipped forward of its standing neutral; decisive alone on a trainer)."""
    def from_posture(axis_sensor):
        return saddle_cue(acc, up_sensor, axis_sensor, bout)

    return _forward_from_bout(acc, gyr, quat, rate_hz, up_sensor, bout, (0.5, 4.0), window_s,
                              "start the first ride (or walk) from the stand; on a trainer, ride with your hands "
                              "on the bars (or walk a few steps first)", from_posture)


STEP_AXIS_BAND_HZ = (0.5, 8.0)  # the step and stride rhythms and their first harmonics


def step_axis(acc_e: np.ndarray, gyr_e: np.ndarray | None, rate_hz: float) -> np.ndarray | None:
    """The fore-aft axis (earth horizontal, either sign) of a walking or running stretch from the symmetry of
    its steps (host.signal.step_symmetry): the horizontal acceleration's step-repeating part and, with the
    gyro, the horizontal angular rate's alternating part; each normalised by its own variance, so neither
    sensor's units outweigh the other. None without a step rhythm."""
    sos = butter(2, STEP_AXIS_BAND_HZ, btype="band", fs=rate_hz, output="sos")
    acc_e = sosfiltfilt(sos, acc_e, axis=0)
    period = step_period_samples(acc_e[:, 2], rate_hz)
    if period is None or len(acc_e) < 4 * period:
        return None
    horizontal = acc_e[:, :2]
    C = repeating_minus_alternating(horizontal, period) / np.trace(np.cov(horizontal.T))
    if gyr_e is not None:
        rate = sosfiltfilt(sos, gyr_e[:, :2], axis=0)
        spread = np.trace(np.cov(rate.T))
        if spread > 0:
            C = C - repeating_minus_alternating(rate, period) / spread
    evals, evecs = np.linalg.eigh(C)
    return evecs[:, np.argmax(evals)]


def _forward_from_bout(acc, axis_signal, quat, rate_hz, up_sensor, bout, band_hz, window_s, advice,
                       evidence=None, from_rest: bool = True, steps: bool = False, steps_gyr=None
                       ) -> tuple[np.ndarray, DirectionDecision]:
    """The forward axis from the first bout: for steps (`steps=True`), from their symmetry (step_axis, with
    the gyro `steps_gyr` if given); otherwise, or without a step rhythm, the major horizontal principal
    direction of `axis_signal` (acceleration or angular rate, sensor axes) in `band_hz`; brought into sensor
    axes sample by sample
    (averaging out the per-stride rotation), and signed by the cues: the horizontal speed gained in the
    first 3 s and `evidence(axis in sensor axes)` (a DirectionDecision of the steps, a DirectionCue of the
    posture, or None)."""
    a, b = bout
    b = min(b, a + int(window_s * rate_hz))
    lead = int(1.0 * rate_hz)  # the bout detector fires a little after the first step or stroke
    s0 = max(0, a - lead)
    axis = None
    if steps:  # their symmetry tells fore-aft from the sway
        gyr_e = None if steps_gyr is None else Q.rotate(quat[a:b], np.asarray(steps_gyr, float)[a:b])
        axis = step_axis(Q.rotate(quat[a:b], np.asarray(acc, float)[a:b]), gyr_e, rate_hz)
    if axis is None:  # pedalling, or no step rhythm: the major axis of the signal in the band
        signal_e = Q.rotate(quat[s0:b], np.asarray(axis_signal, float)[s0:b])[:, :2]
        band = sosfiltfilt(butter(2, band_hz, btype="band", fs=rate_hz, output="sos"), signal_e[lead:], axis=0)
        evals, evecs = np.linalg.eigh(np.cov(band.T))
        axis = evecs[:, np.argmax(evals)]
    acc_e = Q.rotate(quat[s0:b], np.asarray(acc, float)[s0:b])[:, :2]
    dv = acc_e[: int(3.0 * rate_hz) + lead].sum(axis=0) / rate_hz
    gained = float(np.dot(dv, axis))
    axis_s = horizontal_unit(Q.rotate(Q.conjugate(quat[a:b]), np.broadcast_to(np.r_[axis, 0.0], (b - a, 3)))
                              .mean(axis=0), up_sensor)
    more = evidence(axis_s) if evidence is not None else None
    others = [more] if isinstance(more, DirectionCue) else more.cues if more is not None else []
    cues = []
    if from_rest:
        # two independent step cues agreeing over the whole bout, or one that is overwhelming with none decisive
        # against it, outrank a 3-s speed estimate, which a treadmill belt or a still-settling orientation can
        # fake (virtual treadmill sessions, live: 1-2.5 m/s: a 5° tilt error integrated over 3 s)
        steps = [] if isinstance(more, DirectionCue) else others
        decisive = [c for c in steps if c.strength >= c.decisive]
        overwhelming = [c for c in decisive if c.strength >= OVERWHELMING_STEP_CUE * c.decisive]
        outranked = (len({c.sign for c in decisive}) == 1
                     and (len(decisive) >= 2 or (overwhelming and len({c.sign for c in steps if c.sign}) == 1)))
        cues.append(DirectionCue("speed gained", int(np.sign(gained)), abs(gained),
                                 f"{gained:+.2f} m/s along the axis in the first 3 s", decisive=MIN_INITIATION_DV,
                                 conflicting=float("inf") if outranked else MIN_CONFLICTING_DV))
    cues += others
    decision = decide(cues)
    if decision.sign == 0:
        if more is not None and not isinstance(more, DirectionCue) and not more.cues:
            decision.reason += f"; steps: {more.reason}"
        raise DirectionUnclear(f"could not tell forward from backward ({decision.reason}): {advice}", axis=axis_s,
                               decision=decision, up=up_sensor)
    return axis_s * decision.sign, decision.along_forward()


NO_STAND_POSTURE_S = 60.0  # of the first bout: its mean posture is the reference without a stand


def _calibrate_from_first_bout(acc, gyr, rate_hz, quat, step_sign) -> Alignment:
    try:
        bout = first_bout(acc, rate_hz)
    except CalibrationRejected:
        first_rocking_bout(gyr, rate_hz)  # raises if there is no ride either
        # a ride already under way: neither the speed gained (the orientation is still settling) nor the
        # saddle posture (no stand to compare with) can tell forward from backward
        raise DirectionUnclear("a ride without a 5-s still stand first: could not tell forward from backward; "
                               "stand still for 5 s before you set off") from None
    a, b = bout
    up = mean_vertical(quat[a:min(b, a + int(NO_STAND_POSTURE_S * rate_hz))])
    try:
        fwd, decision = walking_direction(acc, quat, rate_hz, up, bout, gyr=gyr, from_rest=False, step_sign=step_sign)
    except DirectionUnclear as unclear:
        unclear.neutral_from = "first bout"
        raise
    return replace(alignment_from_axes(up, fwd, "walking"), neutral_from="first bout", direction=decision)


NEVER_WORN_AFTER_S = 60.0  # a short recording that only holds the stand is not evidence of a pod left lying


def _never_moved(acc: np.ndarray, gyr: np.ndarray) -> bool:
    """Nothing in the recording is more than a person shifting their weight: a pod lying on a table, in a bag
    left alone, or worn by someone who only stood or sat."""
    if len(acc) == 0:
        return True
    turned = np.abs(np.asarray(gyr, float) - np.median(gyr, axis=0)).max()
    jolted = np.abs(np.linalg.norm(acc, axis=1) - GRAVITY).max()
    return bool(turned < np.radians(30.0) and jolted < 0.3 * GRAVITY)


def first_rocking_bout(gyr: np.ndarray, rate_hz: float, start: int = 0) -> tuple[int, int]:
    """(first, last) sample of the first stretch of steady pelvic rotation (pedalling) after `start`, at least
    RIDE_MIN_S long: walking, a bend or a fidget rocks the pelvis too, but not for that long without steps."""
    rate = np.linalg.norm(np.asarray(gyr, float)[start:], axis=1)
    w = max(2, int(rate_hz))
    rms = np.sqrt(np.convolve(rate**2, np.ones(w) / w, mode="same"))
    bouts = true_runs(rms > BOUT_GYR_RMS, int(RIDE_MIN_S * rate_hz))
    if not bouts:
        raise CalibrationRejected("no walking, running or pedalling found after the stand")
    return start + bouts[0][0], start + bouts[0][1]


def alignment_from_axes(up_sensor: np.ndarray, forward_sensor: np.ndarray, source: str) -> Alignment:
    R = pelvis_frame(up_sensor, forward_sensor)
    return Alignment(R, R[2], R[0], source)


def calibrate_from_session(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, stand: tuple[int, int] | None,
                           quat: np.ndarray | None = None, step_sign: StepSign | None = None) -> Alignment:
    """Alignment from a session that starts with the neutral stand (samples stand[0]:stand[1]) and then
    sets off walking or running. `quat` (sensor->earth) is computed in post mode if not given.

    `stand=None` (the wearer set off without standing still): the pelvis' mean posture over the first bout
    stands in for the neutral (`neutral_from="first bout"`), so angles are relative to how they moved, not
    to how they stand; the forward axis comes from the bout as usual. `step_sign`: the steps' evidence of
    direction for a bout that gains no speed (a treadmill), from the pipeline."""
    acc = np.asarray(acc, float)
    gyr = np.asarray(gyr, float)
    if quat is None:
        quat = estimate_orientation(acc, gyr, rate_hz, mode="post", travel=True).quat
    if stand is None:
        return _calibrate_from_first_bout(acc, gyr, rate_hz, quat, step_sign)
    up = stand_vertical(acc[stand[0]:stand[1]], gyr[stand[0]:stand[1]], rate_hz)

    def hinged(first: int) -> np.ndarray | None:
        return forward_from_held_hinge(acc, gyr, quat, rate_hz, stand, up, first)

    try:
        bout = first_bout(acc, rate_hz, start=stand[1])
    except CalibrationRejected:
        # No steps after the stand: a ride. The saddle posture differs from standing, so no upright check.
        try:
            bout = first_rocking_bout(gyr, rate_hz, start=stand[1])
        except CalibrationRejected:
            forward = hinged(len(acc))  # drills on the spot: a hinge is all there is
            if forward is not None:
                return alignment_from_axes(up, forward, "hinge")
            if len(acc) - stand[1] >= NEVER_WORN_AFTER_S * rate_hz and _never_moved(acc[stand[1]:], gyr[stand[1]:]):
                minutes = (len(acc) - stand[1]) / rate_hz / 60
                raise CalibrationRejected(f"the pod hardly moved in the {minutes:.1f} min after the stand: was it "
                                          "worn? Clip it to the waistband over the sacrum") from None
            raise
        return _from_bout_or_hinge(up, "pedalling", lambda: pedalling_direction(acc, gyr, quat, rate_hz, up, bout),
                                   lambda: hinged(bout[0]))
    a, b = bout
    check_upright(up, mean_vertical(quat[a:b]))
    return _from_bout_or_hinge(up, "walking", lambda: walking_direction(acc, quat, rate_hz, up, bout, gyr=gyr,
                                                                             step_sign=step_sign),
                               lambda: hinged(a))


def _from_bout_or_hinge(up: np.ndarray, source: str, from_bout, from_hinge) -> Alignment:
    """The bout's forward axis (more exact than a bend: calibration/hinge.py), signed by a hip hinge held
    before it where there was one (`from_hinge()`, None if not): a good hinge is the wearer showing which way
    is forward, so it outranks every cue of the bout; without one, by the bout's own cues."""
    hinge_forward = from_hinge()
    try:
        forward, decision = from_bout()
    except DirectionUnclear as unclear:
        if hinge_forward is None or unclear.axis is None:
            raise
        forward, decision = unclear.axis, unclear.decision
    if hinge_forward is None:
        return replace(alignment_from_axes(up, forward, source), direction=decision)
    turned = np.dot(forward, hinge_forward) < 0  # the bout's cues were taken along `forward`
    agrees = decision is not None and decision.sign != 0 and not turned
    hinge = DirectionCue("hip hinge", 1, 1.0, "a held forward hip hinge before the bout", decisive=0.5)
    bout_cues = [replace(c, sign=-c.sign) if turned else c for c in (decision.cues if decision is not None else [])]
    cues = bout_cues + [hinge]
    reason = ("the hip hinge and the bout agree" if agrees else
              "signed by the hip hinge" + (f" (the bout: {decision.reason})" if decision is not None else ""))
    return replace(signed_by_hinge(up, forward, hinge_forward, source), direction=DirectionDecision(1, cues, reason))


def direction_withheld(unclear: DirectionUnclear) -> Alignment:
    """The alignment of a session whose cues could not tell forward from backward: the fore-aft axis and the
    vertical are known, the sign is not. Angles computed with it are right in size (ranges, variability) and
    unknown in sign, and the sides of the contacts are unknown: the analysis withholds every metric that
    depends on them and says why. Re-raises `unclear` when not even the axis is known."""
    if unclear.axis is None or unclear.up is None:
        raise unclear
    return replace(alignment_from_axes(unclear.up, unclear.axis, "direction unknown"),
                   neutral_from=unclear.neutral_from,
                   direction=unclear.decision, withheld=str(unclear))


def signed_by_hinge(up: np.ndarray, axis: np.ndarray, hinge_forward: np.ndarray, source: str) -> Alignment:
    """A bout's fore-aft `axis` (either sign), pointed the way a hip hinge's forward axis points."""
    return alignment_from_axes(up, axis * np.sign(np.dot(axis, hinge_forward)), f"{source}, signed by the hinge")
