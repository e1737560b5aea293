"""Causal pelvic angles for the live view, sample by sample.

Same definitions as host.pelvis.angles (Baker 2001 order, relative to the calibrated neutral pelvis
frame), except the heading, which post-session is taken with the future (a zero-phase low-pass, then the
mean yaw over each stride: host.pelvis.heading). Live, two causal headings run side by side:

* without steps (standing, riding, before the first strides): a 2nd-order Butterworth low-pass of the
  unwrapped yaw (0.2 Hz, state kept across blocks). Second order rather than one pole: at a running stride
  (~1.4 Hz) it lets ~2 % of the rotation swing into the heading instead of ~14 %. Its price is a lag of ~1 s:
  in a 30°/s street corner rotation would read up to ~35° of the turn;
* while stepping (the pipeline hands in the stride period from the live cadence): the mean yaw over the last
  stride, advanced by half a stride at the turn rate measured between the last two strides, when that is a
  turn's (a change of over 3° between strides, in full from 6°: a runner's yaw wanders by a few degrees from
  stride to stride running straight, and carried forward that wander read twice as large in the rotation,
  virtual treadmill runners live: per-stride rotation range error worst session 3.9° -> 1.9°). Both means span
  whole strides, so the swing and its harmonics cancel, and a turn at a steady rate is followed without lag.
  Between turns that stride heading is low-passed further (one pole, 0.15 Hz): the stride-to-stride wobble of
  the pelvis' yaw is rotation against a travel direction that cannot swing at stride rate (host.pelvis.heading;
  virtual treadmill runners: worst session 1.9° -> 1.1°). A turn (a change between strides over twice the
  wander, or a smaller one twice the same way, as in a bend) is followed at once; in its first stride the
  smoothed heading may trail by up to the runner's own wobble (simulated street corners: rotation within
  ~4.5° -> ~5.6° at worst there, per-stride range unchanged).

Switching between them is blended over a second so rotation never jumps.

Obliquity is taken against the body's lean into turns as post-session (host.pelvis.lean), with a causal
low-pass.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi
from tiltguard.host.orientation import quaternion as Q
from tiltguard.host.pelvis.angles import HEADING_CUTOFF_HZ, euler_zxy
from tiltguard.host.pelvis.lean import CausalTurnLean
from tiltguard.host.signal.windows import window_mean

MAX_STRIDE_S = 2.4  # the longest stride the step detector accepts (two 1.2-s steps)
WANDER_RAD = np.radians(3.0)  # stride-to-stride heading change below this is wander, above twice it a turn
BLEND_S = 1.0
STRAIGHT_HZ = 0.15  # one pole: lets ~20 % of a 0.7-Hz stride-to-stride wobble into the heading, not all of it
STRAIGHT_MAX_RAD = WANDER_RAD  # the straight-line heading never lags the stride heading by more (a turn's start)
WOBBLE_SPAN = 1.8  # nor by more than the wobble's amplitude: √2 x its RMS (a sine) about a heading keeping ~20 %
WOBBLE_MIN_RAD = np.radians(0.5)
WOBBLE_S = 10.0  # the wobble's RMS is averaged over ~10 s of running straight


SMALL_BLOCK = 64  # samples: below this a plain loop filters faster than scipy's call overhead (~0.1 ms)


def _sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy.signal.sosfilt(sos, x, zi=zi) for a 1-D block, the same arithmetic in the same order (direct form
    II transposed, as scipy's loop): the same numbers, without the call's overhead on a frame's 10 samples."""
    if len(x) > SMALL_BLOCK:
        return sosfilt(sos, x, zi=zi)
    y = [float(v) for v in x]
    zi_out = np.array(zi, dtype=float)
    for k, (b0, b1, b2, _, a1, a2) in enumerate(sos.tolist()):
        z0, z1 = float(zi_out[k, 0]), float(zi_out[k, 1])
        for n, x_n in enumerate(y):
            y_n = b0 * x_n + z0
            z0 = b1 * x_n - a1 * y_n + z1
            z1 = b2 * x_n - a2 * y_n
            y[n] = y_n
        zi_out[k, 0], zi_out[k, 1] = z0, z1
    return np.array(y), zi_out


class CausalPelvicAngles:
    def __init__(self, R_pelvis_sensor: np.ndarray, rate_hz: float, heading_cutoff_hz: float = HEADING_CUTOFF_HZ):
        self.R = np.asarray(R_pelvis_sensor, float)
        self.rate_hz = float(rate_hz)
        # host.pelvis.angles.pelvis_quaternion with the mounting converted once, not on every block
        self._q_sensor_pelvis = Q.conjugate(Q.from_matrix(self.R))
        self._sos = butter(2, heading_cutoff_hz, fs=rate_hz, output="sos")
        self._zi: np.ndarray | None = None
        self._last_yaw: float | None = None  # unwrapped
        self._history = np.zeros(0)  # the last 3 × MAX_STRIDE_S of unwrapped yaw
        self._keep = int(np.ceil(3 * MAX_STRIDE_S * rate_hz)) + 2
        self._stride: float | None = None  # samples
        self._last_stride: float | None = None
        self._weight = 0.0  # of the stride heading against the low-pass one
        self._straight: float | None = None  # the stride heading low-passed between turns (rad)
        self._straight_alpha = 1.0 - np.exp(-2.0 * np.pi * STRAIGHT_HZ / rate_hz)
        self._free: float | None = None
        self._wobble_var = 0.0  # mean square of the stride heading about the smoothed one, running straight (rad²)
        self._wobble_beta = 1.0 / (WOBBLE_S * rate_hz)
        self._lean = CausalTurnLean(rate_hz, MAX_STRIDE_S)

    def set_stride(self, seconds: float | None) -> None:
        """The current stride period (two steps), or None when not stepping."""
        ok = seconds is not None and 0 < seconds <= MAX_STRIDE_S
        self._stride = seconds * self.rate_hz if ok else None
        if ok:
            self._last_stride = self._stride

    def update(self, q_earth_sensor: np.ndarray, acc: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tilt, obliquity, rotation) in rad for a block of sensor->earth quaternions (n, 4). With the block's
        accelerometer samples (sensor frame, m/s²) obliquity is taken against the body's lean into turns."""
        q_earth_sensor = np.atleast_2d(q_earth_sensor)
        tilt, obliquity, yaw, heading, (stride, weight) = self._angles_and_heading(q_earth_sensor)
        if acc is not None:
            obliquity = obliquity + self._lean.update(q_earth_sensor, acc, heading, stride, weight)
        return tilt, obliquity, yaw - heading

    def _angles_and_heading(self, q_earth_sensor: np.ndarray):
        yaw, obliquity, tilt = euler_zxy(Q.multiply(q_earth_sensor, self._q_sensor_pelvis))
        prev = yaw[0] if self._last_yaw is None else self._last_yaw
        yaw = np.unwrap(np.r_[prev, yaw])[1:]  # continue the previous block's unwrapping
        if self._last_yaw is None:  # no past: start the heading at the current yaw, not at 0
            self._zi = sosfilt_zi(self._sos) * yaw[0]
        self._last_yaw = float(yaw[-1])
        heading, self._zi = _sosfilt(self._sos, yaw, self._zi)
        # after the steps stop, the last stride period keeps the stride heading going while it blends out
        stride = self._stride or (self._last_stride if self._weight > 0 else None)
        along = self._along_strides(yaw, stride)
        if along is None:
            self._weight = 0.0
            self._straight = self._free = None  # stepping again starts from the stride heading of then
            return tilt, obliquity, yaw, heading, (None, 0.0)
        target = 1.0 if self._stride is not None else 0.0
        ramp = self._weight + np.sign(target - self._weight) * np.arange(1, len(yaw) + 1) / (BLEND_S * self.rate_hz)
        w = np.clip(ramp, min(self._weight, target), max(self._weight, target))
        self._weight = float(w[-1])
        return tilt, obliquity, yaw, w * along + (1.0 - w) * heading, (stride, w)

    def _along_strides(self, yaw: np.ndarray, T: float | None) -> np.ndarray | None:
        """Stride heading of the new samples for a stride of T samples (None without T or 2 strides of
        history)."""
        x = np.r_[self._history, yaw]
        self._history = x[-self._keep:]
        if T is None or len(x) < 2 * T + len(yaw) + 1:
            return None
        ref = x[-1]  # keep the sums small: yaw keeps growing through turns
        k = np.arange(len(x) - len(yaw), len(x), dtype=float)  # positions of the new samples in x
        # the stride that ends at each new sample and the two before it (the oldest cut to the history it has)
        means = window_mean(x - ref, np.r_[k - T, k - 2 * T, k - 3 * T], np.r_[k, k - T, k - 2 * T])
        last, before, earlier = (means[i * len(k):(i + 1) * len(k)] + ref for i in range(3))
        # from the last stride's centre (half a stride ago) to now, at the turn rate between the last two strides;
        # a change of heading between strides smaller than a corner's (a runner's yaw wandering by a few degrees
        # from stride to stride, straight ahead) is not extrapolated: doubled, it would read as rotation
        turned, turned_before = last - before, before - earlier
        gain = np.clip((np.abs(turned) - WANDER_RAD) / WANDER_RAD, 0.0, 1.0)
        # a turn, for the straight-line smoothing: a corner's change of heading (over twice the wander), or a bend's
        # smaller one twice the same way (the wander swings back and forth from stride to stride)
        same_way = np.where(turned * turned_before > 0, np.minimum(np.abs(turned), np.abs(turned_before)), 0.0)
        turning = np.maximum(np.clip((np.abs(turned) - 2 * WANDER_RAD) / WANDER_RAD, 0.0, 1.0),
                             np.clip((same_way - WANDER_RAD / 2) / WANDER_RAD, 0.0, 1.0))
        return self._straighten(last + 0.5 * gain * turned, turning)

    def _straighten(self, along: np.ndarray, turning: np.ndarray) -> np.ndarray:
        """Between turns the stride heading is low-passed at STRAIGHT_HZ (one pole), so that the pelvis' yaw
        wobble from stride to stride stays in rotation (host.pelvis.heading: the travel cannot swing at stride
        rate); in a turn (`turning` > 0) it is followed at once."""
        if self._straight is None:
            self._straight = float(along[0])
        out = np.empty(len(along))
        if self._free is None:
            self._free = self._straight
        s, free, alpha = self._straight, self._free, self._straight_alpha
        beta, var = self._wobble_beta, self._wobble_var
        for n, (a, g) in enumerate(zip(along.tolist(), turning.tolist())):
            gain = max(alpha, g)
            s += gain * (a - s)
            free += gain * (a - free)  # the same smoothing, never held: the wobble is measured about it
            if g == 0.0:  # this runner's own wobble, running straight
                var += beta * ((a - free) ** 2 - var)
            # never further behind than the wobble: in a turn's first stride the smoothed heading would lag
            most = min(STRAIGHT_MAX_RAD, max(WOBBLE_MIN_RAD, WOBBLE_SPAN * var ** 0.5))
            s = min(max(s, a - most), a + most)
            out[n] = s
        self._straight, self._free, self._wobble_var = s, free, var
        return out
