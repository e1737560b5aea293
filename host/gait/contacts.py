"""Initial contacts (foot strikes) with side, from a lower-back IMU, post-session mode.

1. Candidates: peaks of the vertical jerk. At initial contact the trunk stops falling and is pushed up, so
   vertical acceleration rises steeply (Zijlstra & Hof 2003; the loading response).
2. First pass: candidates salient relative to the last 2 s, chosen by the rhythm-aware sequence model
   (sequence.py) with the stride period of rhythm.py.
3. Side of the confident first-pass steps from the medio-lateral acceleration: the trunk accelerates
   towards the new stance foot before its contact and away from it after (mediolateral CoM sway).
4. A left and a right multi-channel template (acc and gyro, ±0.25 s) averaged over those steps: this
   wearer's own step shapes. Normalised cross-correlation with them finds the weak steps (a stiff or
   shuffling leg) and tells each step's side far better than any single-sample sign rule.
5. Sequence model again on the template matches, now also preferring alternating sides.
6. Timing: the half-maximum point on the rising edge of the nearest vertical-jerk pulse — the onset of
   loading rather than its steepest part.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import find_peaks, oaconvolve

from .body_frame import LevelSignals, level_signals
from .rhythm import stride_period
from .sequence import select_steps

MIN_CANDIDATE_GAP_S = 0.12
JERK_FLOOR = 10.0  # m/s³: what counts as a step while standing still (sensor noise + sway stay below)
CONTEXT_S = 2.0  # salience is relative to the strongest jerk in this window
FIRST_PASS_THRESHOLD = 0.3
CONFIDENT_SALIENCE = 0.5
TEMPLATE_HALF_S = 0.25  # about half a fast walking step, the shape of one loading response
GYRO_WEIGHT = 3.0  # (m/s²)/(rad/s): puts typical trunk angular rates on the scale of its accelerations
MIN_TEMPLATE_ENERGY = 0.4  # window/template energy ratio under which a match is discounted
MATCH_THRESHOLD = 0.45
RHYTHM_WEIGHT = 0.5
SAME_SIDE_PENALTY = 0.2
MIN_TEMPLATE_STEPS = 4
SIDE_WINDOW_S = 0.3
TIMING_SEARCH_S = 0.06
ONSET_FRACTION = 0.5


@dataclass
class InitialContacts:
    t: np.ndarray  # (K,) s, same clock as the input
    left: np.ndarray  # (K,) bool
    confidence: np.ndarray  # (K,) template match in [0, 1]

    def __len__(self) -> int:
        return len(self.t)


def _vertical_jerk(sig: LevelSignals) -> np.ndarray:
    return np.gradient(sig.vertical) * sig.rate_hz


def _first_pass(sig: LevelSignals, jerk: np.ndarray, step_period_at) -> tuple[np.ndarray, np.ndarray]:
    fs = sig.rate_hz
    context = maximum_filter1d(np.maximum(jerk, 0.0), max(1, int(CONTEXT_S * fs)))
    cand, _ = find_peaks(jerk, distance=max(1, int(MIN_CANDIDATE_GAP_S * fs)), height=0.3 * JERK_FLOOR)
    salience = np.minimum(jerk[cand] / np.maximum(context[cand], JERK_FLOOR), 1.0)
    chosen = select_steps(cand / fs, salience, step_period_at(cand / fs), FIRST_PASS_THRESHOLD, RHYTHM_WEIGHT)
    return cand[chosen], salience[chosen]


def lateral_side_score(sig: LevelSignals, idx: np.ndarray) -> np.ndarray:
    """> 0 for a left contact: leftward ML acceleration before it, rightward after."""
    w = max(1, int(SIDE_WINDOW_S * sig.rate_hz))
    c = np.concatenate([[0.0], np.cumsum(sig.acc[:, 1])])
    n = len(sig.acc)
    lo, hi = np.maximum(idx - w, 0), np.minimum(idx + w, n)
    before = (c[idx] - c[lo]) / np.maximum(idx - lo, 1)
    after = (c[hi] - c[idx]) / np.maximum(hi - idx, 1)
    return before - after


def _features(sig: LevelSignals) -> np.ndarray:
    return np.hstack([sig.acc, GYRO_WEIGHT * sig.gyr])


def _templates(x: np.ndarray, idx: np.ndarray, left: np.ndarray, half: int) -> dict[bool, np.ndarray]:
    inside = (idx - half >= 0) & (idx + half < len(x))
    out = {}
    for side in (True, False):
        sel = idx[inside & (left == side)]
        if len(sel) >= MIN_TEMPLATE_STEPS:
            out[side] = np.mean([x[i - half : i + half + 1] for i in sel], axis=0)
    if len(out) == 1:  # too few steps of one side (e.g. a short bout): mirror the other side's template
        side, tpl = next(iter(out.items()))
        mirrored = tpl.copy()
        mirrored[:, [1, 3, 5]] *= -1  # lateral acc, roll and yaw rate change sign between sides
        out[not side] = mirrored
    return out


def template_match(x: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of every centred window of x with the template, energy-discounted."""
    m = len(template)
    half = m // 2
    tpl = template - template.mean(axis=0)
    tpl_norm = np.sqrt((tpl**2).sum())
    num = sum(oaconvolve(x[:, c], tpl[::-1, c], mode="valid") for c in range(x.shape[1]))
    c1 = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    c2 = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x**2]), axis=0)
    s1, s2 = c1[m:] - c1[:-m], c2[m:] - c2[:-m]
    energy = np.sqrt(np.maximum((s2 - s1**2 / m).sum(axis=1), 1e-12))
    r = num / (energy * tpl_norm) * np.minimum(1.0, energy / tpl_norm / MIN_TEMPLATE_ENERGY)
    out = np.full(len(x), -1.0)
    out[half : half + len(r)] = r
    return out


def _onset_times(jerk: np.ndarray, idx: np.ndarray, fs: float) -> np.ndarray:
    """Half-maximum crossing on the rising edge of the jerk pulse nearest each index (fractional samples)."""
    w = max(1, int(TIMING_SEARCH_S * fs))
    back = max(1, int(0.15 * fs))
    out = np.empty(len(idx))
    for k, i in enumerate(idx):
        lo, hi = max(i - w, 1), min(i + w + 1, len(jerk) - 1)
        p = lo + int(np.argmax(jerk[lo:hi]))
        level = ONSET_FRACTION * jerk[p]
        q = p
        while q > 1 and jerk[q - 1] > level and p - q < back:
            q -= 1
        y0, y1 = jerk[q - 1], jerk[q]
        out[k] = q - 1 + (level - y0) / (y1 - y0) if y1 > y0 and y0 <= level else float(q)
    return out


def detect_initial_contacts(
    acc: np.ndarray,
    gyr: np.ndarray,
    rate_hz: float,
    t0: float = 0.0,
    sensor_to_pelvis: np.ndarray | None = None,
) -> InitialContacts:
    """Initial contacts of a whole recording (post-session). acc m/s², gyr rad/s, sensor frame; the
    returned times are t0 + sample index / rate_hz."""
    sig = level_signals(acc, gyr, rate_hz, sensor_to_pelvis)
    return detect_in_level_signals(sig, t0)


def detect_in_level_signals(sig: LevelSignals, t0: float = 0.0) -> InitialContacts:
    fs = sig.rate_hz
    jerk = _vertical_jerk(sig)
    rhythm = stride_period(sig.vertical, sig.acc[:, 1], fs)
    first, salience = _first_pass(sig, jerk, rhythm.step_period_at)
    empty = InitialContacts(np.zeros(0), np.zeros(0, bool), np.zeros(0))
    confident = first[salience >= CONFIDENT_SALIENCE]
    if len(confident) < MIN_TEMPLATE_STEPS:
        if len(first) == 0:
            return empty
        t = t0 + _onset_times(jerk, first, fs) / fs
        return InitialContacts(t, lateral_side_score(sig, first) > 0, salience)

    x = _features(sig)
    half = int(TEMPLATE_HALF_S * fs)
    templates = _templates(x, confident, lateral_side_score(sig, confident) > 0, half)
    if not templates:
        return empty
    match_left = template_match(x, templates[True])
    match_right = template_match(x, templates[False])
    match = np.maximum(match_left, match_right)
    cand, _ = find_peaks(match, distance=max(1, int(MIN_CANDIDATE_GAP_S * fs)), height=0.1)
    is_left = match_left[cand] >= match_right[cand]
    chosen = select_steps(
        cand / fs, np.clip(match[cand], 0.0, 1.0), rhythm.step_period_at(cand / fs),
        MATCH_THRESHOLD, RHYTHM_WEIGHT, is_left, SAME_SIDE_PENALTY,
    )
    idx = cand[chosen]
    t = t0 + _onset_times(jerk, idx, fs) / fs
    return InitialContacts(t, is_left[chosen], np.clip(match[idx], 0.0, 1.0))
