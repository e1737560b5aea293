"""Smooth building blocks with exact derivatives.

The simulator must be physically consistent: the gyroscope is the exact derivative of the orientation
and the accelerometer the exact second derivative of the position. So every slow quantity (speed,
heading, mean tilt, gait amplitudes, cadence) is a C²-smooth function whose first and second
derivatives are known exactly. We get that by evaluating each quantity on a dense knot grid and fitting
a cubic spline through it; value and derivatives then come from the same piecewise polynomial.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

KNOT_SPACING_S = 0.1  # 15+ knots across the shortest (1.5 s) transition, 7 per stride-scale (0.7 s) wobble


@dataclass
class Smooth:
    """A signal and its first two time derivatives, sampled at the simulation instants."""

    v: np.ndarray
    d1: np.ndarray
    d2: np.ndarray

    def __add__(self, other: "Smooth") -> "Smooth":
        return Smooth(self.v + other.v, self.d1 + other.d1, self.d2 + other.d2)

    def scaled(self, k: float) -> "Smooth":
        return Smooth(self.v * k, self.d1 * k, self.d2 * k)

    def times(self, other: "Smooth") -> "Smooth":
        """Product rule, up to the second derivative."""
        return Smooth(
            self.v * other.v,
            self.d1 * other.v + self.v * other.d1,
            self.d2 * other.v + 2 * self.d1 * other.d1 + self.v * other.d2,
        )


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Quintic smoothstep: 0 below 0, 1 above 1, C² in between (zero slope and curvature at the ends)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (x * (6 * x - 15) + 10)


def piecewise_smooth(t: np.ndarray, starts: np.ndarray, values: np.ndarray, ramps: np.ndarray) -> np.ndarray:
    """Piecewise-constant `values` (one per segment starting at `starts`), blended over `ramps` seconds
    centred on each boundary with a smoothstep. Evaluated at `t` (the knot grid)."""
    out = np.full_like(t, values[0], dtype=float)
    for start, prev, new, ramp in zip(starts[1:], values[:-1], values[1:], ramps[1:]):
        if new != prev:
            out += (new - prev) * smoothstep((t - start) / ramp + 0.5)
    return out


def _smoothstep_integral(x: np.ndarray) -> np.ndarray:
    """Antiderivative of `smoothstep`, zero for x <= 0."""
    inner = np.clip(x, 0.0, 1.0)
    return inner**4 * (inner * (inner - 3) + 2.5) + np.maximum(x - 1.0, 0.0)


def smooth_ramp(t: np.ndarray, start: float, end: float, corner: float = 20.0) -> np.ndarray:
    """0 before `start`, 1 after `end`, linear in between with C²-rounded corners `corner` s wide
    (used for tilt creep: a steady drift that neither jumps in nor stops abruptly)."""
    span = max(end - start, 1e-9)
    corner = min(corner, span)
    rise = _smoothstep_integral((t - start) / corner + 0.5) - _smoothstep_integral((t - end) / corner + 0.5)
    return rise * corner / span


class KnotGrid:
    """The knot grid covering a simulation, and spline fitting onto arbitrary evaluation instants."""

    def __init__(self, duration_s: float, spacing_s: float = KNOT_SPACING_S):
        n = int(np.ceil((duration_s + 2.0) / spacing_s)) + 1
        # One second of margin either side so jittered samples never fall outside the grid.
        self.t = -1.0 + spacing_s * np.arange(n)

    def spline(self, values: np.ndarray) -> CubicSpline:
        return CubicSpline(self.t, values, bc_type="natural")

    def integral(self, rate_values: np.ndarray) -> np.ndarray:
        """Cumulative integral of a rate given on the knots (fourth-order accurate through the spline)."""
        return self.spline(rate_values).antiderivative()(self.t)


def evaluate(spline: CubicSpline, t: np.ndarray) -> Smooth:
    return Smooth(spline(t), spline(t, 1), spline(t, 2))


def smooth_noise(grid: KnotGrid, rng: np.random.Generator, sigma: float, correlation_s: float) -> np.ndarray:
    """Band-limited random values on the knot grid: Gaussian values every `correlation_s`, splined."""
    if sigma == 0.0:
        return np.zeros_like(grid.t)
    coarse_t = np.arange(grid.t[0], grid.t[-1] + correlation_s, correlation_s)
    coarse = rng.normal(0.0, sigma, size=len(coarse_t))
    return CubicSpline(coarse_t, coarse, bc_type="natural")(grid.t)
