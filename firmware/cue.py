"""Pelvic tilt relative to the standing neutral, and the on-device cue for sustained anterior tilt.

Tilt follows the project convention (Baker 2001 order, tilt about the pelvis +y/left axis, > 0 anterior).
With earth-up u expressed in the pelvis frame, a tilt θ gives u = (-sin θ, ·, cos θ); so relative to the
neutral pose, θ = atan2(-u·f0, u·u0) where u0 is up at neutral and f0 the pelvis forward axis, both in the
sensor frame. f0 = left × u0, with `left` the sensor axis that points to the wearer's left when the unit
is clipped as docs/hardware.md shows (configurable for other mountings).
"""
import math

DEG = 57.29577951308232


def _norm(v):
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)


def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


class Neutral:
    """The standing neutral: up and forward axes in the sensor frame."""

    def __init__(self, up, left=(0.0, 1.0, 0.0)):
        u0 = _norm(up)
        lft = _norm(left)
        lft = _norm((lft[0] - _dot(lft, u0) * u0[0], lft[1] - _dot(lft, u0) * u0[1], lft[2] - _dot(lft, u0) * u0[2]))
        self.up = u0
        self.forward = _norm(_cross(lft, u0))

    def tilt_deg(self, up_now):
        """Anterior (+) / posterior (-) tilt relative to neutral, degrees."""
        return math.atan2(-_dot(up_now, self.forward), _dot(up_now, self.up)) * DEG


class TiltCue:
    """Buzz when the smoothed tilt stays above threshold for hold_s; again at most every repeat_s.

    Smoothing (first-order, tau_s) removes the stride-frequency oscillation of the pelvis so that the cue
    follows the posture, not each step. Hysteresis of 1° avoids chattering at the threshold.
    """

    def __init__(self, threshold_deg=10.0, hold_s=20.0, tau_s=2.0, repeat_s=60.0, enabled=True):
        self.threshold_deg = threshold_deg
        self.hold_s = hold_s
        self.tau_s = tau_s
        self.repeat_s = repeat_s
        self.enabled = enabled
        self.smoothed = None
        self.above_s = 0.0
        self.since_cue_s = repeat_s
        self.active = False

    def update(self, tilt_deg, dt):
        """Feed one tilt value; returns 1 when a cue starts, -1 when the posture recovers, else 0."""
        if self.smoothed is None:
            self.smoothed = tilt_deg
        else:
            a = dt / (self.tau_s + dt)
            self.smoothed += a * (tilt_deg - self.smoothed)
        self.since_cue_s += dt
        if not self.enabled:
            return 0
        if self.smoothed > self.threshold_deg:
            self.above_s += dt
        elif self.smoothed < self.threshold_deg - 1.0:
            self.above_s = 0.0
            if self.active:
                self.active = False
                return -1
        if self.above_s >= self.hold_s and self.since_cue_s >= self.repeat_s:
            self.since_cue_s = 0.0
            self.active = True
            return 1
        return 0
