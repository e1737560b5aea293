"""Which foot is which: the side cues of a lower-back IMU and the session's decision on them.

The cues (one per gait, each > 0 for a left contact):
- walking: the medio-lateral sway. The trunk accelerates towards the new stance foot before its contact and
  away from it after (Zijlstra & Hof 2003; McCamley 2012 reads the same sway from the yaw rate).
- running: the pelvis' roll at mid-stance. The swing side drops (the left side is up in a left stance; Schache
  2000, Bramah 2018). At the sacrum, 10-20 cm from the hips, the medio-lateral acceleration of a runner is
  dominated by the pelvis' roll and yaw, not by the body's sway, and points the other way (virtual sacral IMU
  from real running kinematics: 0 % of sides right from it; every session right from the roll at mid-stance,
  bench/running.py). The angular rate is the same everywhere on the pelvis.

The contact detector (host.gait.contacts) labels its confident steps by the sign of the cue, learns a left and
a right step template from them and labels every step by template and alternation. Those labels alternate
whatever the cue says: fed a cue of pure noise, the detector still returns perfectly alternating steps, left
and right by a coin's throw (virtual runners: side accuracy 1.0 or 0.0). So the decision asks the cue, over
the labelled steps, whether it points the way of the labels: its t value (mean over the steps of the cue
signed by the label, over its standard error). Noise gives |t| ~ 1; a weak cue (noise three times its
spread) over a minute of running still gives t 3-6 and the right sides; real walking (mobgap, 10-step bouts)
7-24; the virtual runners 65-230. Below SIDE_STRONG_T, or the cue against the labels, the sides are unknown
for that gait: the analysis withholds what the sides decide (drop per side, contact-time balance, step-time
asymmetry) and says why, as it does for an unknown direction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import uniform_filter1d

from .body_frame import LevelSignals

SIDE_WINDOW_S = 0.3  # the sway before and after a walking contact
ROLL_DETREND_S = 2.0  # the roll rate's slow part (gyro bias, turning) is removed before it becomes a roll angle
RUNNING_STEP_GUESS_S = 0.35  # where the rhythm is not known yet
SIDE_STRONG_T = 4.0  # as a direction cue's (calibration.forward_sign.STRONG_T): noise gives |t| ~ 1
MIN_SIDE_STEPS = 6  # fewer labelled steps of a gait: its cue is not judged (it has no side metrics to speak of)
CUE_NAMES = {"running": "pelvis roll at mid-stance", "walking": "medio-lateral sway"}


def filled_step_periods(step_s: np.ndarray) -> np.ndarray:
    """Step periods with the unknown ones (NaN: no rhythm found yet) set to the median of the known ones."""
    step_s = np.asarray(step_s, float)
    fallback = float(np.nanmedian(step_s)) if np.isfinite(step_s).any() else RUNNING_STEP_GUESS_S
    return np.where(np.isfinite(step_s), step_s, fallback)


def lateral_side_score(sig: LevelSignals, idx: np.ndarray) -> np.ndarray:
    """> 0 for a left contact: leftward ML acceleration before it, rightward after."""
    w = max(1, int(SIDE_WINDOW_S * sig.rate_hz))
    c = np.concatenate([[0.0], np.cumsum(sig.acc[:, 1])])
    n = len(sig.acc)
    lo, hi = np.maximum(idx - w, 0), np.minimum(idx + w, n)
    before = (c[idx] - c[lo]) / np.maximum(idx - lo, 1)
    after = (c[hi] - c[idx]) / np.maximum(hi - idx, 1)
    return before - after


def roll_side_score(sig: LevelSignals, idx: np.ndarray, step_s: np.ndarray) -> np.ndarray:
    """> 0 for a left contact in running: at mid-stance (the peak of the vertical acceleration within half a
    step of the loading pulse `idx`) the pelvis sits left side up, the right, swing side dropped, against its
    mean over the stride around it. An extreme of the roll angle read at a landmark of the stance itself needs
    no exact contact time: on the virtual runners (no impact, onsets tens of ms late) and the simulator it
    holds for contact times shifted by -40..+60 ms, where the roll rate just after the contact turns within
    ~0.1 s. `step_s`: the step period at each contact (NaN: the median of the others, else a guess)."""
    fs = sig.rate_hz
    n = len(sig.gyr)
    w = np.maximum(2, np.round(filled_step_periods(step_s) * fs).astype(int))
    rate = sig.gyr[:, 0] - uniform_filter1d(sig.gyr[:, 0], max(1, int(ROLL_DETREND_S * fs)), mode="nearest")
    angle = np.cumsum(rate) / fs
    c = np.concatenate([[0.0], np.cumsum(angle)])
    out = np.zeros(len(idx))
    for k, (i, wk) in enumerate(zip(np.clip(np.asarray(idx, int), 0, n - 1), w)):
        p = i + int(np.argmax(sig.vertical[i: min(n, i + max(2, wk // 2))]))
        lo, hi = max(0, p - wk), min(n, p + wk)
        out[k] = angle[p] - (c[hi] - c[lo]) / max(hi - lo, 1)
    return out


def side_score(sig: LevelSignals, idx: np.ndarray, step_s: np.ndarray, running: np.ndarray | None) -> np.ndarray:
    """> 0 for a left contact: the pelvis' roll where the wearer runs (`running`, per sample), else the
    medio-lateral sway. `idx`: the steps (sample numbers)."""
    idx = np.asarray(idx, int)
    score = lateral_side_score(sig, idx)
    if running is not None and len(idx):
        run = running[np.clip(idx, 0, len(running) - 1)]
        if run.any():
            score[run] = roll_side_score(sig, idx[run], filled_step_periods(step_s)[run])
    return score


@dataclass
class SideCue:
    """One gait's side cue over the session's labelled steps of that gait."""

    gait: str  # "running" or "walking"
    steps: int
    agreement: float  # share of the steps whose cue points to the side they were given
    strength: float  # t of the cue signed by the labels (> 0: it agrees with them)
    silent: bool = False  # the cue read nothing at all (no gyro, or no medio-lateral axis)

    @property
    def name(self) -> str:
        return CUE_NAMES[self.gait]

    @property
    def decides(self) -> bool:
        return self.strength >= SIDE_STRONG_T

    def to_record(self) -> dict:
        return {"gait": self.gait, "cue": self.name, "steps": self.steps, "agreement": round(self.agreement, 3),
                "strength": round(self.strength, 1), "decisive_from": SIDE_STRONG_T, "silent": self.silent}


@dataclass
class SideDecision:
    """Per gait, whether the session's left and right labels can be trusted, with the cue that says so."""

    cues: list[SideCue] = field(default_factory=list)

    def known_for(self, gait: str) -> bool:
        """True when the gait's cue decides; a gait with too few steps to judge has nothing side-dependent."""
        cue = self._cue(gait)
        return cue is None or cue.decides

    @property
    def known(self) -> bool:
        return all(c.decides for c in self.cues)

    def why_unknown(self, gait: str | None = None) -> str:
        """Why the sides of `gait` (None: of any gait) are unknown; "" when they are known."""
        weak = [c for c in self.cues if not c.decides and gait in (None, c.gait)]
        return "; ".join(f"{c.gait}: the {c.name} reads nothing (no gyro or no medio-lateral axis)" if c.silent else
                         f"{c.gait}: the {c.name} is too weak to tell the feet apart ({c.steps} steps, "
                         f"{100 * c.agreement:.0f} % agree, strength {c.strength:.1f} < {SIDE_STRONG_T:g})"
                         for c in weak)

    def _cue(self, gait: str) -> SideCue | None:
        return next((c for c in self.cues if c.gait == gait), None)

    def to_record(self) -> dict:
        return {"known": self.known, "cues": [c.to_record() for c in self.cues], "reason": self.why_unknown()}


def decide_sides(score: np.ndarray, left: np.ndarray, running: np.ndarray) -> SideDecision:
    """The decision on labelled steps: `score` the side cue at each step (side_score), `left` its label,
    `running` whether it is a running step (else walking's cue)."""
    score, left, running = np.asarray(score, float), np.asarray(left, bool), np.asarray(running, bool)
    cues = []
    for gait, mine in (("running", running), ("walking", ~running)):
        signed = (score * np.where(left, 1.0, -1.0))[mine]
        if len(signed) < MIN_SIDE_STEPS:
            continue
        spread = float(signed.std(ddof=1))
        t = float(signed.mean() / (spread / np.sqrt(len(signed)))) if spread > 0 else 0.0
        cues.append(SideCue(gait, len(signed), float(np.mean(signed > 0)), t, silent=not np.any(signed)))
    return SideDecision(cues)
