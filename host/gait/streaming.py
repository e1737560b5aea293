"""Causal step detection for the live view, with bounded latency.

The post-session detector runs every HOP_S on the last WINDOW_S of samples (the data up to now, nothing
later), and each contact is reported once, at the first run where it is at least DELAY_S old: by then the
trunk's loading response and the sway that tells its side (±0.3 s) are in the window. Latency is thus
DELAY_S to DELAY_S + HOP_S (≤ MAX_LATENCY_S); a contact first found later than that is not reported, so
what the live view shows never changes afterwards. Each window also gets its own activity segmentation,
so a rider's rock or a still wearer gives no steps here either.

A detector primed with the stream's recent past (the samples before the live view started) also hands out the
contacts it finds there, once each and marked `before_start`: they are not shown (nothing before the start is),
but a readout over the last few steps (the cadence) has them from its first contact on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .body_frame import LevelSignals, level_signals
from .contacts import detect_in_level_signals
from .lever_arm import level_signals_at_centre
from .sequence import MIN_STEP_S

WINDOW_S = 6.0  # a 4-s rhythm window plus room; ~10 walking steps for the wearer's templates
# The level signals are filtered with the window continued past now by the mirror image of its last
# CONTINUATION_S, then cut back to the window. The vertical comes from the 0.3-Hz low-passed accelerometer
# (host.gait.body_frame), whose zero-phase filter otherwise pivots on the window's last sample, a step's 1-3 g or a
# flight: the vertical then leaned 10-35° over the last 0.6 s, where every contact is reported, and the fore-aft
# braking leaked into it (virtual runners at 5 m/s: late-flight pulses taken for the foot strike, contacts 70 ms
# early). A mirror holds the recent mean. The detector sees only measured samples: fed the mirrored steps
# themselves, it read their sides backwards (a step mirrored in time sways the other way).
CONTINUATION_S = 1.5
HOP_S = 0.15
DELAY_S = 0.3
MAX_LATENCY_S = 0.5
# A reported step is at least this share of the window's median step: even a marked limp's short step is over ~0.75
# of it, a bump within the step (simulated walking: at 0.6 of it, 0.3 s after the contact) is not
MIN_STEP_SHARE = 0.65
RUN_GAP_FACTOR = 1.6  # a step this much longer than the window's median step: a pause or a missed contact


@dataclass
class LiveContact:
    t: float  # contact time, s on the stream's clock
    left: bool
    reported_at: float  # stream time when it was reported
    side_known: bool = True  # the window's side cue agreed with its labels (host.gait.sides); else `left` is a guess
    before_start: bool = False  # from the primed past (module docstring): not to be shown

    @property
    def latency_s(self) -> float:
        return self.reported_at - self.t


class StreamingStepDetector:
    """Feed samples as they arrive; get each initial contact once, DELAY_S..MAX_LATENCY_S after it."""

    def __init__(self, rate_hz: float, sensor_to_pelvis: np.ndarray | None = None, t0: float = 0.0):
        if rate_hz <= 0:
            raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.sensor_to_pelvis = sensor_to_pelvis
        self.t0 = t0
        self._window = int(round(WINDOW_S * rate_hz))
        self._hop = max(1, int(round(HOP_S * rate_hz)))
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))
        self._count = 0  # samples received so far
        self._since_run = 0
        self._last_reported = -np.inf
        self._started_at = -np.inf  # the last primed sample's time
        self._last_earlier = -np.inf  # the newest contact handed out from before it

    def update(self, acc: np.ndarray, gyr: np.ndarray) -> list[LiveContact]:
        """Append (M, 3) new samples (m/s², rad/s, sensor axes); returns the contacts reported now."""
        acc = np.atleast_2d(np.asarray(acc, float))
        gyr = np.atleast_2d(np.asarray(gyr, float))
        if acc.shape != gyr.shape or acc.shape[1] != 3:
            raise ValueError(f"acc {acc.shape} and gyr {gyr.shape} must both be (M, 3)")
        out: list[LiveContact] = []
        # process in hop-sized pieces so the detector runs at the same instants however samples arrive
        i = 0
        while i < len(acc):
            take = min(len(acc) - i, self._hop - self._since_run)
            self._append(acc[i : i + take], gyr[i : i + take])
            i += take
            self._since_run += take
            if self._since_run >= self._hop:
                self._since_run = 0
                out.extend(self._run())
        return out

    def prime(self, acc: np.ndarray, gyr: np.ndarray) -> None:
        """Samples from before the detector started (the stream's recent past, contiguous, starting at `t0`):
        they fill the window, so the first contacts from now on are found with the strides before them in view
        (without, the first ~2 s of contacts after a calibration had their sides wrong: the window held too few
        steps). Nothing before now is reported as a contact: the first contact after now is. The contacts before
        now come as `before_start` ones, in time order and before the first reported one."""
        self._append(np.atleast_2d(np.asarray(acc, float)), np.atleast_2d(np.asarray(gyr, float)))
        self._started_at = self.t0 + (self._count - 1) / self.rate_hz
        self._last_reported = self._started_at - MIN_STEP_S

    def _append(self, acc: np.ndarray, gyr: np.ndarray) -> None:
        self._acc = np.vstack([self._acc, acc])[-self._window :]
        self._gyr = np.vstack([self._gyr, gyr])[-self._window :]
        self._count += len(acc)

    def _run(self) -> list[LiveContact]:
        n = len(self._acc)
        if n < int(2.0 * self.rate_hz):
            return []
        first = self._count - n  # sample number of the window's first sample
        now = self.t0 + (self._count - 1) / self.rate_hz
        pod, centre = self._level_signals()
        ic = detect_in_level_signals(pod, t0=self.t0 + first / self.rate_hz, centre=centre, recording_ends=False)
        # the newest contact has no step after it in the window yet, so nothing in the sequence model keeps a
        # bump within the step from being taken for it: a step this much shorter than the window's is not one
        typical = float(np.median(np.diff(ic.t))) if len(ic.t) >= 4 else 0.0
        shortest = max(MIN_STEP_S, MIN_STEP_SHARE * typical)
        out = []
        sides = window_majority_sides(ic.t, ic.left)
        known = ic.sides is None or ic.sides.known
        for t, left in zip(ic.t, sides):
            age = now - t
            if age < DELAY_S:
                continue
            if t <= self._started_at:  # found in the primed past
                if t > self._last_earlier + shortest:
                    out.append(LiveContact(float(t), bool(left), now, known, before_start=True))
                    self._last_earlier = float(t)
            elif age < MAX_LATENCY_S and t > max(self._last_reported, self._last_earlier) + shortest:
                out.append(LiveContact(float(t), bool(left), now, known))
                self._last_reported = float(t)
        return out

    def _level_signals(self) -> tuple[LevelSignals, LevelSignals | None]:
        """The window's level signals at the pod and at the pelvis' centre (None where the window's flights cannot
        place it), filtered with the window continued by its mirror image (CONTINUATION_S) and cut back to the
        window: the detector itself sees only what was measured."""
        n = len(self._acc)
        m = min(n - 1, int(round(CONTINUATION_S * self.rate_hz)))
        acc = np.vstack([self._acc, self._acc[-2 : -m - 2 : -1]])
        gyr = np.vstack([self._gyr, self._gyr[-2 : -m - 2 : -1]])
        pod = level_signals(acc, gyr, self.rate_hz, self.sensor_to_pelvis)
        centre = level_signals_at_centre(acc, gyr, pod, self.sensor_to_pelvis)
        return _cut(pod, n), None if centre is None else _cut(centre, n)


def _cut(sig: LevelSignals, n: int) -> LevelSignals:
    """The first n samples: the window without its mirrored continuation."""
    return LevelSignals(sig.rate_hz, sig.acc[:n], sig.gyr[:n], sig.vertical_wide[:n],
                        None if sig.up is None else sig.up[:n])


def window_majority_sides(t: np.ndarray, left: np.ndarray) -> np.ndarray:
    """The sides of a window's contacts, each from the majority of its run of alternating steps: feet alternate,
    so every contact's own side call is a vote on the run's phase. The newest contacts, whose stride is not over
    yet, get the side the older ones agree on."""
    t, left = np.asarray(t, float), np.asarray(left, bool)
    out = left.copy()
    if len(t) < 3:
        return out
    steps = np.diff(t)
    median = float(np.median(steps))
    breaks = np.flatnonzero(steps > RUN_GAP_FACTOR * median) + 1  # a pause or a missed step starts a new run
    for run in np.split(np.arange(len(t)), breaks):
        parity = np.arange(len(run)) % 2
        phase = left[run] ^ parity.astype(bool)  # True: the run's even contacts are left feet
        votes = int(phase.sum())
        if 2 * votes != len(run):
            out[run] = (2 * votes > len(run)) ^ parity.astype(bool)
    return out


def stream_contacts(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, sensor_to_pelvis: np.ndarray | None = None,
                    t0: float = 0.0, chunk: int = 10) -> list[LiveContact]:
    """A recording played through the streaming detector in chunks of `chunk` samples (as BLE frames come)."""
    det = StreamingStepDetector(rate_hz, sensor_to_pelvis, t0)
    out: list[LiveContact] = []
    for i in range(0, len(acc), chunk):
        out.extend(det.update(acc[i : i + chunk], gyr[i : i + chunk]))
    return out
