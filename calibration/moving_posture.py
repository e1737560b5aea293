"""The live view without a stand: if the wearer never calibrates (no N, or the session was started on the
run), align to how they move, as the post-session analysis does for a session without a stand
(calibration.alignment, `stand=None`): up = the mean posture over the bout, forward = the bout's fore-aft axis
signed by the steps. Angles are then relative to the moving posture (`neutral_from="first bout"`): the rules
that need a standing neutral stay silent until a stand is done.

Two stages. As soon as EARLY_S of a bout are in and the steps decide the direction with the usual rules (one
decisive cue, none against: host.gait.direction), the view aligns: a runner who started the pod on the run
sees tilt and cadence within seconds (real treadmill running decides in 3-4 s, bench/running.py). Once the bout
has lasted a minute, the alignment is taken again from that minute: a steadier neutral and forward axis, the
direction re-decided on many more steps. Nothing is shown while the steps cannot decide (walking needs
calibration.forward_sign.BRAKING_MIN_STEPS steps for its one cue).
"""
from __future__ import annotations

import numpy as np
from tiltguard.calibration.alignment import (
    NO_STAND_POSTURE_S,
    Alignment,
    StepSign,
    calibrate_from_session,
    first_bout,
)
from tiltguard.calibration.errors import CalibrationRejected

EARLY_S = 2.5  # of a bout before the first alignment is tried (~7 running steps)
AFTER_S = NO_STAND_POSTURE_S  # of the bout: the final alignment, from its first minute
KEEP_S = 150.0  # samples kept while waiting (the bout's first minute plus the steps that sign it)
# one try costs up to ~50 ms (the contact detector over up to two minutes): often while the buffer is short
TRY_EVERY_S = 0.5
TRY_EVERY_LONG_S = 5.0
SHORT_BUFFER_S = 20.0


class MovingPostureAlignment:
    def __init__(self, rate_hz: float, step_sign: StepSign | None = None) -> None:
        self.rate_hz = float(rate_hz)
        self.step_sign = step_sign  # the steps' evidence of direction, from the live pipeline
        self.early: Alignment | None = None  # from the bout's first seconds
        self.final: Alignment | None = None  # from its first minute (then nothing more is tried)
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._n = 0
        self._next_try = int(EARLY_S * rate_hz)

    @property
    def done(self) -> bool:
        return self.final is not None

    def feed(self, acc: np.ndarray, gyr: np.ndarray, quat: np.ndarray) -> Alignment | None:
        """A new alignment when one is made (the early one, then the final one), else None."""
        if self.done:
            return None
        rate = self.rate_hz
        self._blocks.append((np.array(acc), np.array(gyr), np.array(quat)))
        self._n += len(acc)
        keep = int(KEEP_S * rate)
        while len(self._blocks) > 1 and self._n - len(self._blocks[0][0]) >= keep:
            self._n -= len(self._blocks.pop(0)[0])
        if self._n < self._next_try:
            return None
        every = TRY_EVERY_S if self._n < SHORT_BUFFER_S * rate else TRY_EVERY_LONG_S
        self._next_try = self._n + int(every * rate)
        acc, gyr, quat = (np.concatenate(x) for x in zip(*self._blocks))
        self._blocks = [(acc, gyr, quat)]
        try:
            a, b = first_bout(acc, rate)
            final = b - a >= AFTER_S * rate
            if self.early is not None and not final:
                return None  # aligned already: wait for the minute
            if b - a < EARLY_S * rate:
                return None
            alignment = calibrate_from_session(acc, gyr, rate, None, quat=quat, step_sign=self.step_sign)
        except CalibrationRejected:
            if self.early is not None and self._n >= keep:
                self.final = self.early  # the minute could not improve on it: keep the early alignment
            return None  # not yet (no bout long enough, a ride, the steps do not tell yet): keep waiting
        if final:
            self.final = alignment
            self._blocks = []
        else:
            self.early = alignment
            self._next_try = self._n + int(TRY_EVERY_LONG_S * rate)
        return alignment
