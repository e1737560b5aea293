"""Direction of travel along the strides: pelvic rotation stays relative to it through sharp corners.

Before the steps are known, the heading is the 0.2-Hz zero-phase low-pass of yaw (host.pelvis.angles): it
keeps the stride swing out, but a street corner (90° in 2–3 s) passes through it late and smeared, and for
a few seconds rotation reads part of the turn (up to ~5° on a simulated 30°/s corner).

Once the initial contacts are known, the pelvis' rotation swing is periodic over each stride (left step +
right step), so the mean yaw over exactly one local stride removes the swing and all its harmonics while a
turn at a steady rate passes unchanged (a centred mean keeps straight lines).

What the stride mean still carries from stride to stride is the pelvis' own yaw wobble: a runner's pelvis
points a few degrees left on one stride and right on the next (±2° at ~0.7 Hz on the treadmill runners of
Hamner & Delp 2013), while the body's direction of travel, carried by its momentum, cannot swing at stride
rate. That wobble is rotation against the travel, so on straight stretches the heading is the stride mean
low-passed at 0.3 Hz (STRAIGHT_HZ). Only in a turn does the travel change fast (a street corner: 30-45°/s
for 2-3 s, which 0.3 Hz would smear by up to 2°): where the 1-Hz heading turns faster than TURN_RATE
(ramping in over TURN_RATE to twice it, widened by TURN_MARGIN_S either side), the 1-Hz heading is used.
Outside the walking/running stretches (standing, riding, other) the low-pass heading stays, blended in over
a second at each end so rotation never jumps.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from tiltguard.host.pelvis.lean import stride_lean
from tiltguard.host.signal.filters import butter_sos, filtfilt
from tiltguard.host.signal.windows import centred_mean

STEP_RANGE_S = (0.25, 1.2)  # 50–240 steps/min: a longer gap ends the stretch
BLEND_S = 1.0  # from the low-pass heading to the stride heading at the ends of a stretch
SMOOTH_HZ = 1.0  # in turns: evens out what the stride mean leaves; a 2-s corner passes
STRAIGHT_HZ = 0.3  # between turns: the stride-to-stride yaw wobble stays in rotation
TURN_RATE = np.radians(12.0)  # rad/s: faster than a treadmill runner's wobble (~7°/s), slower than a corner
TURN_MARGIN_S = 2.0  # a turn's entry and exit: where its rate builds up or dies away, and the 0.3-Hz smear
MIN_STEPS = 3  # a stretch needs at least one full stride plus a step to know its period


def _stretches(contacts: np.ndarray, rate_hz: float) -> list[np.ndarray]:
    """Runs of contacts (sample indices, sorted) whose every step lies in STEP_RANGE_S."""
    steps = np.diff(contacts) / rate_hz
    ok = (steps >= STEP_RANGE_S[0]) & (steps <= STEP_RANGE_S[1])
    edges = np.diff(np.r_[0, ok.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # steps a..b-1 -> contacts a..b
    return [contacts[a : b + 1] for a, b in zip(starts, ends) if b - a >= MIN_STEPS]


def stride_windows(n: int, rate_hz: float, contact_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weight, width) per sample: how much a one-stride mean counts (1 inside a walking/running stretch found
    from the contacts, blended to 0 over BLEND_S at its ends) and that stride's length in samples."""
    weight, width = np.zeros(n), np.ones(n)
    contacts = np.sort(np.asarray(contact_index, float))
    contacts = contacts[(contacts >= 0) & (contacts <= n - 1)]
    if n < 30 or len(contacts) < MIN_STEPS + 1:
        return weight, width
    i = np.arange(n, dtype=float)
    blend = BLEND_S * rate_hz
    for c in _stretches(contacts, rate_hz):
        w = np.clip(np.minimum(i - (c[0] - blend), (c[-1] + blend) - i) / blend, 0.0, 1.0)
        mine = w > weight
        width[mine] = np.interp(i[mine], c[1:-1], c[2:] - c[:-2])  # the stride around each sample
        weight[mine] = w[mine]
    return weight, np.where(weight > 0, width, 1.0)


def stride_heading(yaw: np.ndarray, lowpass_heading: np.ndarray, rate_hz: float,
                   windows: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Heading (rad) from unwrapped `yaw`: the one-stride mean along walking/running stretches (`windows`:
    `stride_windows` of the contacts), `lowpass_heading` elsewhere. NaN yaw (a stretch with unknown mounting)
    stays NaN."""
    yaw = np.asarray(yaw, float)
    n = len(yaw)
    heading = np.asarray(lowpass_heading, float).copy()
    weight, width = windows
    if not weight.any():
        return heading
    i = np.arange(n, dtype=float)
    finite = np.isfinite(yaw)
    filled = np.interp(i, i[finite], yaw[finite]) if finite.any() else yaw
    along = centred_mean(filled, width)
    # A stride mean rounds a corner off by T²/24 times the turn's angular acceleration (~1° on a sharp street
    # corner); the same mean one stride either side measures that curvature and takes it back out.
    curvature = np.interp(i + width, i, along) - 2.0 * along + np.interp(i - width, i, along)
    along -= curvature / 24.0
    along = _travel(along, rate_hz)
    out = weight * along + (1.0 - weight) * np.where(np.isfinite(heading), heading, 0.0)
    return np.where(finite, out, np.nan)


def _travel(along: np.ndarray, rate_hz: float) -> np.ndarray:
    """The direction of travel from the stride-mean yaw: 1-Hz in turns, STRAIGHT_HZ between them."""
    turning = filtfilt(butter_sos(2, min(SMOOTH_HZ, 0.4 * rate_hz), rate_hz), along)
    straight = filtfilt(butter_sos(2, min(STRAIGHT_HZ, 0.4 * rate_hz), rate_hz), along)
    rate = np.abs(np.gradient(turning)) * rate_hz
    weight = np.clip(rate / TURN_RATE - 1.0, 0.0, 1.0)
    margin = max(1, round(TURN_MARGIN_S * rate_hz))
    weight = maximum_filter1d(weight, 2 * margin + 1, mode="nearest")
    weight = uniform_filter1d(weight, margin, mode="nearest")  # no step where a turn starts or ends
    return weight * turning + (1.0 - weight) * straight


def follow_strides(angles, rate_hz: float, contact_index: np.ndarray):
    """The same PelvicAngles with heading and rotation taken relative to the stride-averaged direction of
    travel, and the lean into turns (if known) re-taken over whole strides, obliquity with it (tilt
    unchanged)."""
    yaw = angles.heading + angles.rotation
    windows = stride_windows(len(yaw), rate_hz, contact_index)  # (contact_index: fractional sample indices)
    heading = stride_heading(yaw, angles.heading, rate_hz, windows)
    out = replace(angles, heading=heading, rotation=yaw - heading)
    if angles.lean_force is not None and angles.lean is not None:
        lean = stride_lean(angles.lean_force, angles.lean, *windows, rate_hz)
        out = replace(out, lean=lean, obliquity=angles.obliquity - angles.lean + lean)
    return out
