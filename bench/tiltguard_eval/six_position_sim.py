"""The guided six-position accelerometer calibration done on the simulator's pod lying on a table."""
from __future__ import annotations

import numpy as np
from tiltguard.calibration.accel_six_position import guided_six_position
from tiltguard.host.simulator.poses import MOVE_S, SimulatedPosePod


def six_position_on_table(pod: SimulatedPosePod, still_s: float = 3.0):
    """The guided six-position calibration done by a simulated user who turns the pod as asked and lets it
    settle before recording (what `tiltguard calibrate --sim` does over the link, here sample by sample)."""
    k = 0

    def record_still(seconds: float):
        nonlocal k
        settle = int((MOVE_S + 0.5) * pod.rate_hz)  # the turn (it starts at the next sample) and letting go
        rows = np.array([pod.sample(j) for j in range(k, k + settle + int(seconds * pod.rate_hz))])[settle:]
        k += settle + len(rows)
        return rows[:, :3], rows[:, 3:]

    return guided_six_position(record_still, still_s, ask=pod.place, say=lambda _msg: None)
