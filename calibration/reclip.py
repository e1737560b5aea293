"""Notice when the pod was taken off and clipped back on differently (e.g. during a stop).

A standing wearer's pelvis keeps its inclination from one stop to the next within a few degrees, so the
direction of gravity in the sensor's axes is the same at every still stand. If it moves by more than
RECLIP_DEG between two stands, the pod itself was moved: the analysis starts a new mounting period there,
with the later stand as its neutral.
"""
from __future__ import annotations

import numpy as np
from tiltguard.host.signal.stillness import true_runs

RECLIP_DEG = 6.0  # standing posture repeats within ~2-3 deg; a re-clipped pod moves far more
MIN_STILL_S = 5.0


def still_stands(still: np.ndarray, rate_hz: float, min_s: float = MIN_STILL_S) -> list[tuple[int, int]]:
    """(first, end) samples of every still stretch at least `min_s` long."""
    return true_runs(still, int(np.ceil(min_s * rate_hz)))


def mounting_periods(acc: np.ndarray, still: np.ndarray, rate_hz: float) -> list[tuple[int, int]]:
    """Sample ranges [start, end) each worn with one mounting; a new one starts at the stand where the
    sensor's gravity direction moved by more than RECLIP_DEG since the previous stand."""
    stands = still_stands(still, rate_hz)
    starts = [0]
    previous = None
    for a, b in stands:
        g = acc[a:b].mean(axis=0)
        g = g / np.linalg.norm(g)
        if previous is not None and np.degrees(np.arccos(np.clip(g @ previous, -1, 1))) > RECLIP_DEG:
            starts.append(a)
        previous = g
    return list(zip(starts, starts[1:] + [len(acc)]))
