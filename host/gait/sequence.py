"""Choosing the step sequence among candidate events (dynamic programming, as in beat tracking).

Every candidate k has a salience s_k in [0, 1]. A chosen sequence scores
    Σ (s_k − threshold) − Σ rhythm_weight · min(log²(Δt / step period), PAUSE_COST) − Σ same-side penalty,
so a weak candidate is kept when it sits where the rhythm expects a step, and a strong one between two
steps is dropped because it would halve two intervals. Where no rhythm is known, intervals cost nothing
and the salience threshold alone decides. Gaps longer than MAX_STEP_S are pauses and cost PAUSE_COST.
"""
from __future__ import annotations

import numpy as np

MIN_STEP_S = 0.2  # 300 steps/min: faster than any sprint cadence
MAX_STEP_S = 2.0  # slower than this is a pause, not a step
PAUSE_COST = 0.7  # = log²(2.3): an interval 2.3× off the rhythm costs as much as a pause


def select_steps(
    t: np.ndarray,
    salience: np.ndarray,
    step_period: np.ndarray,
    threshold: float,
    rhythm_weight: float,
    left: np.ndarray | None = None,
    same_side_penalty: float = 0.0,
) -> np.ndarray:
    """Indices (ascending) of the best-scoring candidate subset; `t` ascending."""
    n = len(t)
    if n == 0:
        return np.zeros(0, int)
    best = np.zeros(n)
    prev = np.full(n, -1)
    run_best = np.zeros(n)  # best score of any sequence ending at or before k
    run_arg = np.full(n, -1)
    starts = np.searchsorted(t, t - MAX_STEP_S, side="left")
    ends = np.searchsorted(t, t - MIN_STEP_S, side="right")  # predecessors are j < ends[k]
    log_p = np.log(step_period)
    gain = salience - threshold
    for k in range(n):
        score, arg = gain[k], -1
        e = ends[k]
        if e > 0 and run_arg[e - 1] >= 0 and run_best[e - 1] - rhythm_weight * PAUSE_COST > 0:
            score, arg = gain[k] + run_best[e - 1] - rhythm_weight * PAUSE_COST, run_arg[e - 1]
        s = starts[k]
        if e > s:
            j = np.arange(s, e)
            if np.isfinite(log_p[k]):
                pen = rhythm_weight * np.minimum((np.log(t[k] - t[j]) - log_p[k]) ** 2, PAUSE_COST)
            else:
                pen = np.zeros(len(j))
            if left is not None:
                pen = pen + same_side_penalty * (left[j] == left[k])
            cand = best[j] - pen
            i = int(np.argmax(cand))
            if gain[k] + cand[i] > score:
                score, arg = gain[k] + cand[i], int(j[i])
        best[k], prev[k] = score, arg
        if k > 0 and run_best[k - 1] >= score:
            run_best[k], run_arg[k] = run_best[k - 1], run_arg[k - 1]
        else:
            run_best[k], run_arg[k] = score, k
    chosen = []
    k = run_arg[-1] if run_best[-1] > 0 else -1
    while k >= 0:
        chosen.append(k)
        k = prev[k]
    return np.array(chosen[::-1], dtype=int)
