"""Which way along the pelvis' fore-aft axis is forward on an indoor trainer, where nobody travels.

The usual sign is the speed gained when setting off from the stand (calibration.alignment). Seated with the
hands on the bars the pelvis sits tipped forward of its standing neutral, a forward hinge held for the whole
ride, and as it tips forward the measured vertical moves towards the pelvis' back. The steps' evidence (a
treadmill) needs the foot contacts, so it is a later stage: host.gait.direction.
Each answers +1 (the axis points forward), -1 (backward) or 0 (cannot tell: ask, or wait for more steps).
Every cue that took part, its sign and its strength are kept with the decision (`DirectionDecision`), which the
alignment carries and the session's stored summary keeps (host.analysis.session_summary).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .axes import unit

# How many steps the steps' evidence (host.gait.direction) needs, and over how much of a bout it looks: the
# alignment's advice and the live calibration's wait use them.
BRAKING_MIN_STEPS = 20
BRAKING_WINDOW_S = 120.0
# Seated on a road, gravel, mountain or trainer bike the pelvis sits ~10-30 deg anterior of standing; an
# upright city bike may not, and a sit-up-and-beg posture can even roll it back: below this, no guess.
MIN_SADDLE_TILT_DEG = 8.0
STRONG_T = 4.0  # a step cue this consistent over the steps decides on its own ...
CONFLICT_T = 2.0  # ... unless another cue points the other way at least this consistently


@dataclass
class DirectionCue:
    name: str  # "loading brakes", "loading-braking coupling", "speed gained", "hip hinge", "saddle posture"
    sign: int  # +1: the axis points forward, -1: backward, 0: says nothing
    strength: float  # t over the steps (speed gained: m/s; saddle posture: degrees)
    detail: str = ""
    decisive: float = STRONG_T  # from this strength the cue decides on its own ...
    conflicting: float = CONFLICT_T  # ... and from this one it vetoes a decision the other way

    def to_record(self) -> dict:
        return {"cue": self.name, "sign": self.sign, "strength": round(float(self.strength), 2), "detail": self.detail,
                "decisive_from": self.decisive}


@dataclass
class DirectionDecision:
    sign: int  # +1 / -1 / 0 (unclear: no guess)
    cues: list[DirectionCue] = field(default_factory=list)
    reason: str = ""

    def to_record(self) -> dict:
        return {"sign": self.sign, "reason": self.reason, "cues": [c.to_record() for c in self.cues]}

    def along_forward(self) -> "DirectionDecision":
        """The same decision with every cue's sign taken along the forward axis it chose (+1: the cue agrees;
        sign +1: decided), as it is kept with the alignment; an undecided one stays along the axis found."""
        if self.sign == 0:
            return self
        cues = [replace(c, sign=c.sign * self.sign) for c in self.cues]
        return DirectionDecision(1, cues, self.reason)


def decide(cues: list[DirectionCue]) -> DirectionDecision:
    """A sign wins when a cue decides for it (strength >= its `decisive`) and no cue vetoes it (a cue the
    other way with strength >= its `conflicting`); exactly one sign must win, otherwise no guess."""
    shown = ", ".join(f"{c.name} {'+' if c.sign > 0 else '-' if c.sign < 0 else ''}{c.strength:.1f}" for c in cues)
    winners = []
    for sign in (1, -1):
        pro = [c for c in cues if c.sign == sign and c.strength >= c.decisive]
        vetoed = any(c.sign == -sign and c.strength >= c.conflicting for c in cues)
        if pro and not vetoed:
            winners.append((sign, pro))
    if len(winners) == 1:
        sign, pro = winners[0]
        return DirectionDecision(sign, cues, "decided by " + ", ".join(c.name for c in pro))
    if any(c.sign and c.strength >= c.decisive for c in cues):
        return DirectionDecision(0, cues, f"the cues disagree ({shown})")
    return DirectionDecision(0, cues, f"no cue is strong enough ({shown or 'no cue'})")


def saddle_cue(acc: np.ndarray, up_sensor: np.ndarray, axis_sensor: np.ndarray, bout: tuple[int, int]) -> DirectionCue:
    """How far the ride's posture (the bout) is tipped from the stand's vertical `up_sensor` along the axis:
    seated on a bike the pelvis sits tipped forward (decisive from MIN_SADDLE_TILT_DEG)."""
    a, b = bout
    up_ride = unit(np.asarray(acc, float)[a:b].mean(axis=0))  # the pedal strokes average out
    tipped = float(np.dot(unit(up_sensor) - up_ride, unit(axis_sensor)))  # ≈ sin(forward tip angle)
    deg = float(np.degrees(np.arcsin(np.clip(abs(tipped), 0.0, 1.0))))
    return DirectionCue("saddle posture", int(np.sign(tipped)), deg,
                        f"the ride's posture tipped {deg:.0f} deg along the axis",
                        decisive=MIN_SADDLE_TILT_DEG, conflicting=MIN_SADDLE_TILT_DEG)
