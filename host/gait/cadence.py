"""Step and stride timing from initial contacts: cadence, step/stride times, step-time asymmetry.

A stride (contact to the next-but-one contact) counts only if it is part of the ongoing rhythm: both its
steps longer than MIN_STEP_S and the stride shorter than PAUSE_FACTOR × the median stride of its
neighbourhood (not a stop at a crossing or a missed contact). Strides, not steps, are compared because
asymmetric gait alternates short and long steps.
Cadence is the mean over strides of 120 / stride time, as Mobilise-D reports it, so a single long or missed
step does not drag it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sequence import MIN_STEP_S

PAUSE_FACTOR = 1.5  # a stride 50 % longer than its neighbours' holds a pause or a missed contact
NEIGHBOURS = 5  # strides either side for the local median


@dataclass
class StepTiming:
    """One row per interval between consecutive contacts (K − 1 rows for K contacts)."""

    start_s: np.ndarray  # contact that starts the step
    step_s: np.ndarray  # step time
    ends_left: np.ndarray  # bool: the step ends with a left contact (a "left step")
    regular: np.ndarray  # bool: inside a regular stride (not a pause / missed contact)
    stride_s: np.ndarray  # (K − 2,) stride time from contact i to i + 2
    stride_regular: np.ndarray  # (K − 2,) bool


def _regular_strides(dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stride = dt[:-1] + dt[1:]
    if len(stride) == 0:
        return stride, np.zeros(0, bool)
    local = np.array([np.median(stride[max(0, i - NEIGHBOURS) : i + NEIGHBOURS + 1]) for i in range(len(stride))])
    ok = (dt[:-1] >= MIN_STEP_S) & (dt[1:] >= MIN_STEP_S) & (stride <= PAUSE_FACTOR * local)
    return stride, ok


def step_timing(ic_t: np.ndarray, ic_left: np.ndarray | None = None) -> StepTiming:
    t = np.asarray(ic_t, dtype=float)
    left = np.zeros(len(t), bool) if ic_left is None else np.asarray(ic_left, bool)
    dt = np.diff(t)
    stride, stride_ok = _regular_strides(dt)
    regular = np.zeros(len(dt), bool)
    regular[:-1] |= stride_ok
    regular[1:] |= stride_ok
    return StepTiming(t[:-1], dt, left[1:], regular, stride, stride_ok)


def cadence_spm(ic_t: np.ndarray) -> float:
    """Mean over regular strides of 120 / stride time (steps/min); NaN with fewer than two regular steps in a row."""
    timing = step_timing(ic_t)
    strides = timing.stride_s[timing.stride_regular]
    return float(np.mean(120.0 / strides)) if len(strides) else float("nan")


def step_time_asymmetry(ic_t: np.ndarray, ic_left: np.ndarray) -> float:
    """|left − right| / mean of the mean left and right step times (0 = symmetric); NaN if a side is missing."""
    timing = step_timing(ic_t, ic_left)
    lefts = timing.step_s[timing.regular & timing.ends_left]
    rights = timing.step_s[timing.regular & ~timing.ends_left]
    if len(lefts) == 0 or len(rights) == 0:
        return float("nan")
    ml, mr = lefts.mean(), rights.mean()
    return float(abs(ml - mr) / (0.5 * (ml + mr)))
