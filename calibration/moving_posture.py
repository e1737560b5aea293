"""The live view without a stand: if the wearer never calibrates (no N, or the session was started on the
run), align to how they move once a minute of walking or running is in, as the post-session analysis does
for a session without a stand (calibration.alignment, `stand=None`): up = the mean posture over that minute,
forward = the bout's fore-aft axis signed by the foot strikes. Angles are then relative to the moving posture
(`neutral_from="first bout"`): the rules that need a standing neutral stay silent until a stand is done.
"""
from __future__ import annotations

import numpy as np
from tiltguard.calibration.alignment import (
    Alignment,
    StepSign,
    calibrate_from_session,
    first_bout,
)
from tiltguard.calibration.errors import CalibrationRejected

AFTER_S = 60.0  # of one walking/running bout
KEEP_S = 150.0  # samples kept while waiting (the bout's first minute plus the steps that sign it)
TRY_EVERY_S = 5.0  # one try costs ~50 ms (the contact detector over up to two minutes)


class MovingPostureAlignment:
    def __init__(self, rate_hz: float, step_sign: StepSign | None = None) -> None:
        self.rate_hz = float(rate_hz)
        self.step_sign = step_sign  # the steps' evidence of direction, from the live pipeline
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._n = 0
        self._next_try = int(AFTER_S * rate_hz)

    def feed(self, acc: np.ndarray, gyr: np.ndarray, quat: np.ndarray) -> Alignment | None:
        """The alignment once it can be made, else None."""
        self._blocks.append((np.array(acc), np.array(gyr), np.array(quat)))
        self._n += len(acc)
        keep = int(KEEP_S * self.rate_hz)
        while len(self._blocks) > 1 and self._n - len(self._blocks[0][0]) >= keep:
            self._n -= len(self._blocks.pop(0)[0])
        if self._n < self._next_try:
            return None
        self._next_try = self._n + int(TRY_EVERY_S * self.rate_hz)
        acc, gyr, quat = (np.concatenate(x) for x in zip(*self._blocks))
        self._blocks = [(acc, gyr, quat)]
        try:
            a, b = first_bout(acc, self.rate_hz)
            if b - a < AFTER_S * self.rate_hz:
                return None
            return calibrate_from_session(acc, gyr, self.rate_hz, None, quat=quat, step_sign=self.step_sign)
        except CalibrationRejected:
            return None  # not yet (no long bout, a ride, the steps do not tell yet): keep waiting
