"""Find the wearer's neutral stand at the start of a session: the first 5 still, upright-enough seconds."""
from __future__ import annotations

import numpy as np
from tiltguard.host.signal.stillness import MAX_ACC_STD, MAX_GYR_STD

from .errors import CalibrationRejected
from .still import GRAVITY

SEARCH_S = 60.0  # the stand is asked for at the start; look no further
STAND_S = 5.0
STEP_S = 0.5


def find_neutral_stand(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, search_s: float = SEARCH_S,
                       stand_s: float = STAND_S) -> tuple[int, int]:
    """(first, end) sample indices of the first still window of `stand_s` within the first `search_s`."""
    n = int(round(stand_s * rate_hz))
    step = max(1, int(STEP_S * rate_hz))
    last = min(len(acc), int(search_s * rate_hz)) - n
    for a in range(0, max(last, 0) + 1, step):
        w_acc, w_gyr = acc[a : a + n], gyr[a : a + n]
        if len(w_acc) < n:
            break
        if (w_gyr.std(axis=0).max() <= MAX_GYR_STD and w_acc.std(axis=0).max() <= MAX_ACC_STD
                and abs(np.linalg.norm(w_acc.mean(axis=0)) - GRAVITY) < 0.1 * GRAVITY):
            return a, a + n
    raise CalibrationRejected(
        f"no {stand_s:.0f}-s still stand in the first {search_s:.0f} s: start each session standing tall and "
        f"still for {stand_s:.0f} s")
