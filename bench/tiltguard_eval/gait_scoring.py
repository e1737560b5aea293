"""Scoring detected initial contacts against reference ones.

Matching follows the Mobilise-D convention: a detected and a reference contact match when each is the
other's nearest neighbour and they are at most `tolerance_s` apart; every other detection is a false
positive and every other reference contact a false negative.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tiltguard.host.gait.stride_stream import CadenceReadout, RecentCadence


def _nearest(sorted_times: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of the nearest element of `sorted_times` for each query (ties go to the earlier one)."""
    pos = np.clip(np.searchsorted(sorted_times, queries), 1, len(sorted_times) - 1)
    before, after = sorted_times[pos - 1], sorted_times[pos]
    return np.where(np.abs(queries - before) <= np.abs(after - queries), pos - 1, pos)


def match_contacts(detected_s, reference_s, tolerance_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (into detected, into reference) of mutually nearest contacts within the tolerance."""
    det = np.asarray(detected_s, dtype=float)
    ref = np.asarray(reference_s, dtype=float)
    if len(det) == 0 or len(ref) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    det_order, ref_order = np.argsort(det, kind="stable"), np.argsort(ref, kind="stable")
    det_sorted, ref_sorted = det[det_order], ref[ref_order]
    if len(ref_sorted) == 1:
        ref_of_det = np.zeros(len(det_sorted), int)
    else:
        ref_of_det = _nearest(ref_sorted, det_sorted)
    if len(det_sorted) == 1:
        det_of_ref = np.zeros(len(ref_sorted), int)
    else:
        det_of_ref = _nearest(det_sorted, ref_sorted)
    d_idx = np.arange(len(det_sorted))
    mutual = det_of_ref[ref_of_det] == d_idx
    close = np.abs(det_sorted - ref_sorted[ref_of_det]) <= tolerance_s + 1e-9
    keep = mutual & close
    return det_order[d_idx[keep]], ref_order[ref_of_det[keep]]


@dataclass
class ContactScore:
    """Counts and errors accumulated over any number of bouts."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors_s: list = field(default_factory=list)  # detected − reference, per true positive
    side_correct: int = 0
    side_scored: int = 0  # true positives where both sides are known

    def add(self, detected_s, reference_s, tolerance_s, detected_left=None, reference_left=None) -> None:
        det_i, ref_i = match_contacts(detected_s, reference_s, tolerance_s)
        self.tp += len(det_i)
        self.fp += len(detected_s) - len(det_i)
        self.fn += len(reference_s) - len(ref_i)
        self.errors_s.extend((np.asarray(detected_s)[det_i] - np.asarray(reference_s)[ref_i]).tolist())
        if detected_left is not None and reference_left is not None:
            dl = np.asarray(detected_left)[det_i]
            rl = np.asarray(reference_left)[ref_i]
            known = ~np.isnan(dl.astype(float))
            self.side_scored += int(known.sum())
            self.side_correct += int((dl[known].astype(bool) == rl[known].astype(bool)).sum())

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else float("nan")

    @property
    def median_abs_error_s(self) -> float:
        return float(np.median(np.abs(self.errors_s))) if self.errors_s else float("nan")

    @property
    def laterality_accuracy(self) -> float:
        return self.side_correct / self.side_scored if self.side_scored else float("nan")


def contacts_in_window(times_s, start_s: float, end_s: float) -> np.ndarray:
    """Indices of contacts inside [start_s, end_s]."""
    t = np.asarray(times_s, dtype=float)
    return np.flatnonzero((t >= start_s) & (t <= end_s))


def true_readout(reference_s: np.ndarray, since_s: float, t_s: float, tolerance_s: float) -> CadenceReadout | None:
    """The live cadence readout (host.gait.stride_stream.RecentCadence) that the reference contacts give over the
    steps of a product readout: those within `tolerance_s` of [since_s, t_s], fed in order; None if they give none."""
    ref = np.asarray(reference_s, dtype=float)
    rule, readout = RecentCadence(), None
    for t in ref[(ref >= since_s - tolerance_s) & (ref <= t_s + tolerance_s)]:
        readout = rule.add(float(t))
    return readout


def alternate_sides(ic_s: np.ndarray) -> np.ndarray | None:
    """Feet alternate: the force plate's every other contact is one foot (which one is unknown, and need not
    be: the balance error is judged on the same split), or None where a step is missing (a gap)."""
    steps = np.diff(ic_s)
    if len(steps) < 4 or np.any(steps > 1.5 * np.median(steps)):
        return None
    return np.arange(len(ic_s)) % 2 == 0
