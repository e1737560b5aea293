"""Scoring detected flags against true intervals by overlap (for the bench and the tests)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FlagScore:
    true_positives: int = 0  # detected flags that overlap a true interval of their type
    detected: int = 0
    found: int = 0  # true intervals overlapped by a detection of their type
    truths: int = 0
    onset_delays_s: list = field(default_factory=list)  # detected start - true start, per found interval

    def add(self, other: "FlagScore") -> None:
        self.true_positives += other.true_positives
        self.detected += other.detected
        self.found += other.found
        self.truths += other.truths
        self.onset_delays_s += other.onset_delays_s

    @property
    def precision(self) -> float:
        return self.true_positives / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.truths if self.truths else 1.0

    @property
    def onset_delay_median_s(self) -> float:
        return float(np.median(self.onset_delays_s)) if self.onset_delays_s else float("nan")


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score_intervals(detected: list[tuple[float, float]], truth: list[tuple[float, float]],
                    onsets: list[float] | None = None) -> FlagScore:
    """`onsets`: the time each detection counts as its onset (default: its start), e.g. the live engine's
    decision time minus the rule's minimum duration."""
    onsets = onsets if onsets is not None else [d[0] for d in detected]
    s = FlagScore(detected=len(detected), truths=len(truth))
    s.true_positives = sum(any(_overlaps(d, t) for t in truth) for d in detected)
    for t in truth:
        hits = [o for d, o in zip(detected, onsets) if _overlaps(d, t)]
        if hits:
            s.found += 1
            s.onset_delays_s.append(min(hits) - t[0])
    return s
