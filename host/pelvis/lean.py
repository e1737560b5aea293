"""The body's lean into a turn, so that pelvic drop is measured against it and not against the horizon.

On a track bend or a street corner a runner leans in by atan(centripetal / g) — 3–4° at interval pace on a
400-m track, ~10° in a sharp corner — so that gravity and the centripetal force pass through the feet; a rider
leans with the bike. The pelvis leans with the body. That lean is not pelvic drop: measured against the earth's
horizontal it would read as a larger drop on the inside and a smaller one on the outside, every bend, the
same side each lap (up to 2 × 3.7° between the sides at 4.8 m/s on a track; the simulated track session's median
drops in the bends read 6.3° / 4.0° for a true 5° / 5° — the size of the differences Bramah 2018 reports between
injured and healthy runners).

The stride-averaged specific force points along the apparent vertical (gravity plus the travel acceleration);
its angle in the frontal plane of the direction of travel is the lean (left > 0). Taken in the orientation
filter's own earth frame, an inclination error of the filter shows equally in the obliquity and in the lean
and cancels in obliquity + lean: the result does not depend on how well the filter kept the centripetal
force out of its vertical. Running straight the lean is ~0 and obliquity is unchanged.

The stride's lateral sway (~1 m/s² at the stride frequency) must not count: before the steps are known a
0.3-Hz low-pass removes it and keeps turns, which last seconds; once they are, the mean over one whole stride
(host.pelvis.heading.follow_strides post-session, the last stride live) cancels it exactly and follows a
3-s corner.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi, sosfiltfilt
from tiltguard.host.orientation import quaternion as Q
from tiltguard.host.samples import GRAVITY
from tiltguard.host.signal.windows import centred_mean, window_mean

LEAN_CUTOFF_HZ = 0.3  # turns last seconds; walking strides are ≥ 0.75 Hz
# Live: a 4th-order causal low-pass, so that the stride's sway (≥ 0.8 Hz) is cut as well as by the
# zero-phase 2nd-order filter post-session (which runs twice); its price is ~1.5 s of lag in a bend's entry.
LIVE_ORDER = 4
STRIDE_SMOOTH_HZ = 1.0  # after a one-stride mean: a 3-s corner passes, stride-to-stride variation does not


def about_travel(force_earth: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """(N, 2) earth-frame specific force seen about the direction of travel: [left of travel, up], m/s²."""
    heading = np.asarray(heading, float)
    lateral = -np.sin(heading) * force_earth[:, 0] + np.cos(heading) * force_earth[:, 1]
    return np.column_stack([lateral, force_earth[:, 2]])


def travel_frame_force(q_earth_sensor: np.ndarray, acc: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """The sensor's specific force (`acc`, sensor axes) about the direction of travel (what the lean is taken
    from); `heading` in the same earth frame as the quaternions."""
    return about_travel(Q.rotate(np.asarray(q_earth_sensor, float), np.asarray(acc, float)), heading)


def lean_of(force: np.ndarray) -> np.ndarray:
    """Lean (rad, left > 0) of an averaged [left, up] specific force."""
    return np.arctan2(force[:, 0], force[:, 1])


def turn_lean(force: np.ndarray, rate_hz: float) -> np.ndarray:
    """Lean of every sample from `travel_frame_force`, zero-phase low-passed (post-session, before the steps
    are known)."""
    if len(force) > 30:
        force = sosfiltfilt(butter(2, LEAN_CUTOFF_HZ, fs=rate_hz, output="sos"), force, axis=0)
    else:  # too short to filter: the mean
        force = np.broadcast_to(force.mean(axis=0), force.shape)
    return lean_of(force)


def stride_lean(force: np.ndarray, lowpass_lean: np.ndarray, weight: np.ndarray, width: np.ndarray,
                rate_hz: float) -> np.ndarray:
    """Lean from the force's mean over one stride centred on each sample where `weight` > 0 (stepping: the
    stride windows of host.pelvis.heading), blended into `lowpass_lean` elsewhere. A whole stride cancels the
    sway exactly and follows a 3-s street corner, which the 0.3-Hz low-pass smears (obliquity in simulated
    corners 0.63° -> 0.17° RMSE)."""
    mean = np.column_stack([centred_mean(force[:, j], width) for j in range(2)])
    if len(mean) > 30:  # evens out what the stride mean leaves (stride-to-stride variation), as the heading's
        mean = sosfiltfilt(butter(2, STRIDE_SMOOTH_HZ, fs=rate_hz, output="sos"), mean, axis=0)
    return weight * lean_of(mean) + (1.0 - weight) * lowpass_lean


class CausalTurnLean:
    """The same lean, sample by sample, for the live view (state kept across blocks): the specific force in the
    earth frame, low-passed (4th order, 0.3 Hz), or while stepping its mean over the last stride (a whole stride
    cancels the sway, and it lags half a stride rather than the low-pass's ~1.5 s: street corners are over in
    3 s), then seen about the current direction of travel. The live stride length is the recent strides', not
    this one's, so the stride mean leaks some sway (a fast runner's: the virtual runners at 5 m/s read 0.5° too
    much per-stride obliquity range); a causal 1-Hz low-pass after it, as post-session, evens that out (0.07°)
    for ~0.3 s more lag in a bend (simulated street corners: per-stride range error 0.33° -> 0.44°). (Tried: the stride mean only where the heading turns > 5°/s over the last second, the
    low-pass elsewhere: straights 0.12°, but the track 0.24 -> 0.34° and street corners 0.66 -> 0.86°, the
    low-pass lagging each bend's entry and exit.)"""

    def __init__(self, rate_hz: float, max_stride_s: float = 2.4):
        self._sos = butter(LIVE_ORDER, LEAN_CUTOFF_HZ, fs=rate_hz, output="sos")
        self._zi: np.ndarray | None = None
        self._history = np.zeros((0, 3))
        self._keep = int(np.ceil(max_stride_s * rate_hz)) + 2
        # after the stride mean, as post-session: evens out what a stride length from the recent strides leaks
        self._smooth_sos = butter(2, STRIDE_SMOOTH_HZ, fs=rate_hz, output="sos")
        self._smooth_zi: np.ndarray | None = None

    def update(self, q_earth_sensor: np.ndarray, acc: np.ndarray, heading: np.ndarray,
               stride_samples: float | None = None, weight: np.ndarray | float = 0.0) -> np.ndarray:
        """Lean of the new samples; `weight` (per sample, 0..1) blends the stride mean (over `stride_samples`)
        in against the low-pass."""
        force = Q.rotate(np.atleast_2d(q_earth_sensor), np.atleast_2d(np.asarray(acc, float)))
        heading = np.asarray(heading, float)
        if self._zi is None:  # no past: start from the force of a body that is not turning (gravity, no lean).
            # Not the first sample's: running, that is anything from 0 (flight) to 3 g with a lateral kick, and
            # the low-pass would hold it for seconds (obliquity 40-70° off after a live calibration on the run)
            self._zi = sosfilt_zi(self._sos)[:, :, None] * np.array([0.0, 0.0, GRAVITY])[None, None, :]
        low, self._zi = sosfilt(self._sos, force, axis=0, zi=self._zi)
        x = np.vstack([self._history, force])
        self._history = x[-self._keep:]
        lean = lean_of(about_travel(low, heading))
        if stride_samples is None or len(x) < stride_samples + len(force) + 1 or np.all(np.asarray(weight) == 0):
            self._smooth_zi = None
            return lean
        k = np.arange(len(x) - len(force), len(x), dtype=float)
        stride_mean = np.column_stack([window_mean(x[:, j], k - stride_samples, k) for j in range(3)])
        if self._smooth_zi is None:
            self._smooth_zi = sosfilt_zi(self._smooth_sos)[:, :, None] * stride_mean[0][None, None, :]
        stride_mean, self._smooth_zi = sosfilt(self._smooth_sos, stride_mean, axis=0, zi=self._smooth_zi)
        return weight * lean_of(about_travel(stride_mean, heading)) + (1.0 - weight) * lean
