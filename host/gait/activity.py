"""Activity segmentation of a session from the sacrum IMU alone: still, walking, running, riding, other.

Every HOP_S the last FEATURE_WINDOW_S around that instant is described by
  movement    RMS of the gravity-free acceleration and of the angular rate (still vs moving),
  posture     the pelvis' tilt and obliquity from the slow vertical (upright vs bent over / lying),
  load        RMS of the vertical acceleration: feet on the ground load the trunk every step, a saddle
              carries it (a seated rider's sacrum moves millimetres vertically, a walker's centimetres),
  flight      share of samples whose vertical specific force is under FLIGHT_SPECIFIC_FORCE_G: running
              is the gait with a flight phase (free fall between steps); walking always has a foot down,
  rhythm      regularity of the stepping rhythm (vertical + medio-lateral autocorrelation, rhythm.py) and
              of the pelvic rock (roll-rate autocorrelation): pedalling rocks the pelvis once per crank
              revolution without foot strikes.
Each hop gets a label by these physical rules (no trained model), the labels are smoothed by a majority
vote over SMOOTH_S, and stretches shorter than an activity's minimum are absorbed by their neighbours.

Bouts are runs of one moving activity. A stop (still or other: a crossing, tying a shoe) of at most
MAX_PAUSE_S between two bouts of the same activity joins them into one bout with a pause, so a run with a
stop stays one run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.samples import GRAVITY

from .body_frame import LevelSignals, level_signals
from .rhythm import StridePeriod, stride_period

STILL, WALKING, RUNNING, RIDING, OTHER = (ACTIVITIES.index(n) for n in ("still", "walking", "running", "riding", "other"))

HOP_S = 0.25
FEATURE_WINDOW_S = 2.0  # two strides of a slow walk, three crank revolutions at 90 rpm
STILL_ACC_RMS = 0.35  # m/s²: standing sway and sensor noise stay below, the slowest walk is ~1
STILL_GYR_RMS = 0.12  # rad/s (7 deg/s): postural sway vs any pedalling rock or step
# Trunk vertical RMS: walking 0.5-3 m/s² (slow daily-life walking of the Mobilise-D recordings from 0.45),
# running 4+; a seated rider's sacrum moves a few millimetres (~0.5 m/s² at 90 rpm).
STEP_LOAD_RMS = 0.4
# Pedalling: the saddle carries the trunk, so no braking/propulsion every step (a walker's fore-aft RMS
# stays above ~0.4 m/s² even in slow daily walking) and little vertical load.
RIDE_MAX_FORE_AFT_RMS = 0.35
RIDE_MAX_LOAD_RMS = 1.5
FLIGHT_SPECIFIC_FORCE_G = 0.3  # vertical specific force under this: (nearly) free fall, no foot down
RUNNING_FLIGHT_SHARE = 0.06  # running spends 30-50 % of the time in flight; walking none
MIN_RHYTHM = 0.3  # autocorrelation at the period: rhythmic movement (rhythm.MIN_REGULARITY)
MIN_ROCK_RATE_RMS = 0.04  # rad/s: a pedalling rock of ±1° at 60 rpm
UPRIGHT_TILT_DEG = (-50.0, 45.0)  # standing, sitting, a saddle (drops ~35-40 deg absolute); beyond: bent over, lying
UPRIGHT_OBLIQUITY_DEG = 30.0
SMOOTH_S = 2.0
MIN_SPAN_S = {STILL: 2.0, WALKING: 4.0, RUNNING: 4.0, RIDING: 10.0, OTHER: 2.0}
MAX_PAUSE_S = 90.0  # a stop this long or shorter inside a bout is a pause, not the bout's end
MOVING = (WALKING, RUNNING, RIDING)


@dataclass
class Bout:
    activity: str  # 'walking', 'running' or 'riding'
    start_s: float
    end_s: float
    pauses: list[tuple[float, float]] = field(default_factory=list)  # stops inside the bout

    @property
    def moving_s(self) -> float:
        return self.end_s - self.start_s - sum(b - a for a, b in self.pauses)


@dataclass
class ActivitySegments:
    t: np.ndarray  # (N,) sample times, s
    codes: np.ndarray  # (N,) int8 into host.activities.ACTIVITIES
    bouts: list[Bout]

    @property
    def names(self) -> np.ndarray:
        return np.asarray(ACTIVITIES)[self.codes]

    def mask(self, *activities: str) -> np.ndarray:
        return np.isin(self.codes, [ACTIVITIES.index(a) for a in activities])

    def bouts_of(self, *activities: str) -> list[Bout]:
        return [b for b in self.bouts if b.activity in activities]


@dataclass
class Features:
    """One row per hop (HOP_S apart, centred windows)."""

    t: np.ndarray  # hop centres, s from the first sample
    acc_rms: np.ndarray
    gyr_rms: np.ndarray
    load_rms: np.ndarray
    fore_aft_rms: np.ndarray
    flight_share: np.ndarray
    tilt_deg: np.ndarray
    obliquity_deg: np.ndarray
    step_rhythm: np.ndarray
    rock_rhythm: np.ndarray
    rock_rate_rms: np.ndarray


def _window_means(x: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    """Mean of x over [c − half, c + half) for each centre index (clipped at the ends)."""
    c = np.concatenate([[0.0], np.cumsum(x, dtype=float)])
    lo = np.clip(centres - half, 0, len(x))
    hi = np.clip(centres + half, 0, len(x))
    return (c[hi] - c[lo]) / np.maximum(hi - lo, 1)


def _rhythm_at(r: StridePeriod, times: np.ndarray) -> np.ndarray:
    if len(r.t) == 0:
        return np.zeros(len(times))
    reg = np.where(np.isfinite(r.period_s), r.regularity, 0.0)
    return np.interp(times, r.t, reg)


def activity_features(sig: LevelSignals, rhythm: StridePeriod | None = None) -> Features:
    fs = sig.rate_hz
    n = len(sig.acc)
    hop = max(1, int(round(HOP_S * fs)))
    centres = np.arange(hop // 2, n, hop)
    half = max(1, int(FEATURE_WINDOW_S * fs / 2))
    acc2 = (sig.acc**2).sum(axis=1)
    gyr2 = (sig.gyr**2).sum(axis=1)
    flight = sig.vertical + GRAVITY < FLIGHT_SPECIFIC_FORCE_G * GRAVITY
    up = sig.up if sig.up is not None else np.tile([0.0, 0.0, 1.0], (n, 1))
    u = up[centres]
    times = centres / fs
    if rhythm is None:
        rhythm = stride_period(sig.vertical, sig.acc[:, 1], fs)
    roll = sig.gyr[:, 0]
    rock = stride_period(roll, roll, fs)
    return Features(
        t=times,
        acc_rms=np.sqrt(_window_means(acc2, centres, half)),
        gyr_rms=np.sqrt(_window_means(gyr2, centres, half)),
        load_rms=np.sqrt(_window_means(sig.vertical**2, centres, half)),
        fore_aft_rms=np.sqrt(_window_means(sig.acc[:, 0] ** 2, centres, half)),
        flight_share=_window_means(flight.astype(float), centres, half),
        tilt_deg=np.degrees(np.arctan2(-u[:, 0], u[:, 2])),  # anterior > 0: forward axis tips down
        obliquity_deg=np.degrees(np.arcsin(np.clip(u[:, 1], -1.0, 1.0))),
        step_rhythm=_rhythm_at(rhythm, times),
        rock_rhythm=_rhythm_at(rock, times),
        rock_rate_rms=np.sqrt(_window_means(roll**2, centres, half)),
    )


def classify_hops(f: Features) -> np.ndarray:
    """Per-hop label by the physical rules of the module docstring."""
    upright = ((f.tilt_deg >= UPRIGHT_TILT_DEG[0]) & (f.tilt_deg <= UPRIGHT_TILT_DEG[1])
               & (np.abs(f.obliquity_deg) <= UPRIGHT_OBLIQUITY_DEG))
    moving = (f.acc_rms >= STILL_ACC_RMS) | (f.gyr_rms >= STILL_GYR_RMS)
    pedalling = ((f.rock_rhythm >= MIN_RHYTHM) & (f.rock_rate_rms >= MIN_ROCK_RATE_RMS)
                 & (f.fore_aft_rms < RIDE_MAX_FORE_AFT_RMS) & (f.load_rms < RIDE_MAX_LOAD_RMS))
    on_foot = ~pedalling & (f.load_rms >= STEP_LOAD_RMS)
    running = on_foot & (f.flight_share >= RUNNING_FLIGHT_SHARE) & (f.step_rhythm >= MIN_RHYTHM)
    out = np.full(len(f.t), OTHER, dtype=np.int8)  # moving, but neither on foot nor pedalling; or bent over
    out[~moving & upright] = STILL
    out[moving & upright & pedalling] = RIDING
    out[moving & upright & on_foot] = WALKING
    out[moving & upright & running] = RUNNING
    return out


def _majority(labels: np.ndarray, width: int) -> np.ndarray:
    """Most frequent label in a centred window of `width` hops (ties keep the current label)."""
    if width <= 1 or len(labels) == 0:
        return labels
    k = len(ACTIVITIES)
    onehot = np.zeros((len(labels), k))
    onehot[np.arange(len(labels)), labels] = 1.0
    c = np.vstack([np.zeros((1, k)), np.cumsum(onehot, axis=0)])
    idx = np.arange(len(labels))
    lo = np.clip(idx - width // 2, 0, len(labels))
    hi = np.clip(idx + width // 2 + 1, 0, len(labels))
    counts = c[hi] - c[lo]
    counts[idx, labels] += 0.5  # tie-break towards the current label
    return np.argmax(counts, axis=1).astype(np.int8)


def _runs(labels: np.ndarray) -> list[list[int]]:
    """[label, first, last + 1] of every run of equal labels."""
    if len(labels) == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.r_[0, edges]
    ends = np.r_[edges, len(labels)]
    return [[int(labels[a]), int(a), int(b)] for a, b in zip(starts, ends)]


def _absorb_short(labels: np.ndarray, hop_s: float) -> np.ndarray:
    """Runs shorter than their activity's minimum take the label of the longer neighbour, shortest first."""
    runs = _runs(labels)
    while len(runs) > 1:
        short = [i for i, (lab, a, b) in enumerate(runs) if (b - a) * hop_s < MIN_SPAN_S[lab]]
        if not short:
            break
        i = min(short, key=lambda j: runs[j][2] - runs[j][1])
        left = runs[i - 1] if i > 0 else None
        right = runs[i + 1] if i + 1 < len(runs) else None
        nb = max((r for r in (left, right) if r is not None), key=lambda r: r[2] - r[1])
        runs[i][0] = nb[0]
        merged = []  # merge equal neighbours
        for r in runs:
            if merged and merged[-1][0] == r[0]:
                merged[-1][2] = r[2]
            else:
                merged.append(r)
        runs = merged
    out = np.empty_like(labels)
    for lab, a, b in runs:
        out[a:b] = lab
    return out


def bouts_from_labels(times: np.ndarray, labels: np.ndarray, hop_s: float) -> list[Bout]:
    """Bouts of moving activities from per-hop labels; short stops between equal bouts become pauses."""
    bouts: list[Bout] = []
    pending_stop: tuple[float, float] | None = None
    for lab, a, b in _runs(labels):
        start, end = float(times[a] - hop_s / 2), float(times[b - 1] + hop_s / 2)
        if lab not in MOVING:
            pending_stop = (start, end) if pending_stop is None else (pending_stop[0], end)
            continue
        name = ACTIVITIES[lab]
        if (bouts and bouts[-1].activity == name and pending_stop is not None
                and pending_stop[1] - pending_stop[0] <= MAX_PAUSE_S):
            bouts[-1].pauses.append(pending_stop)
            bouts[-1].end_s = end
        elif bouts and bouts[-1].activity == name and pending_stop is None:
            bouts[-1].end_s = end
        else:
            bouts.append(Bout(name, start, end))
        pending_stop = None
    return bouts


def segment_level_signals(sig: LevelSignals, t0: float = 0.0, rhythm: StridePeriod | None = None) -> ActivitySegments:
    n = len(sig.acc)
    f = activity_features(sig, rhythm)
    labels = classify_hops(f)
    labels = _majority(labels, int(round(SMOOTH_S / HOP_S)))
    labels = _absorb_short(labels, HOP_S)
    hop = max(1, int(round(HOP_S * sig.rate_hz)))
    codes = labels[np.minimum(np.arange(n) // hop, len(labels) - 1)] if len(labels) else np.zeros(n, np.int8)
    t = t0 + np.arange(n) / sig.rate_hz
    bouts = bouts_from_labels(t0 + f.t, labels, HOP_S)
    return ActivitySegments(t, codes.astype(np.int8), bouts)


def segment_activity(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, t0: float = 0.0,
                     sensor_to_pelvis: np.ndarray | None = None) -> ActivitySegments:
    """Per-sample activity codes and bouts of a whole recording. acc m/s², gyr rad/s in sensor axes;
    `sensor_to_pelvis` from the mounting calibration (posture is read relative to it)."""
    return segment_level_signals(level_signals(acc, gyr, rate_hz, sensor_to_pelvis), t0)
