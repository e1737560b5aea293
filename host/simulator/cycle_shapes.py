"""Within-cycle shapes of the pelvis's motion, one set per activity, as truncated Fourier series.

The cycle phase θ runs 0..2π over a stride (left initial contact at θ = 0, right at θ = π) or over a
crank revolution when riding. Each channel's shape is defined on a grid, then kept as its first
HARMONICS Fourier coefficients: smooth, periodic and cheap to differentiate exactly.

Channels (unit amplitude; the simulator scales them):
  tilt      peak-to-peak 1, twice per stride (peaks around toe-off, Schache 2000 / Novacheck 1998)
  obliquity swing-side drop: + (left up) during left stance, - during right stance, peak 1
  rotation  once per stride; the stepping leg's side is forward at its contact (peak 1)
  vertical  peak-to-peak 1; lowest in mid-stance for running, highest in mid-stance for walking
  forward   velocity fluctuation, braking after contact then propulsion (peak 1)
  lateral   side-to-side sway towards the stance leg (peak 1)
"""
from __future__ import annotations

import numpy as np

HARMONICS = 12
CHANNELS = ("tilt", "obliquity", "rotation", "vertical", "forward", "lateral")
_GRID = np.linspace(0.0, 2 * np.pi, 720, endpoint=False)


def _bump(theta: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Smooth periodic bump (von Mises shape) peaking at 1."""
    return np.exp((np.cos(theta - centre) - 1.0) / width**2)


# Swing-side drop peaks in the stance leg's mid-stance: (share of the stride after contact, bump width).
DROP_TIMING = {"run": (0.12, 0.45), "walk": (0.17, 0.6)}


def _drop(theta: np.ndarray, kind: str, drop_asymmetry: float) -> np.ndarray:
    """Obliquity over a stride: the right side drops in left stance (+), the left in right stance (-);
    the right drop is 1 + a/2 and the left 1 - a/2."""
    centre, width = DROP_TIMING[kind]
    peak = centre * 2 * np.pi
    return (1 + drop_asymmetry / 2) * _bump(theta, peak, width) - (1 - drop_asymmetry / 2) * _bump(
        theta, np.pi + peak, width)


def _fourier(samples: np.ndarray) -> np.ndarray:
    """Complex coefficients c_k (k = 1..HARMONICS) with shape(θ) - mean = Re Σ c_k e^{ikθ}."""
    spectrum = np.fft.rfft(samples) * 2.0 / len(samples)  # X_k = Σ x_j e^{-ikθ_j}, so c_k = 2 X_k / M
    coeffs = spectrum[1 : HARMONICS + 1].copy()
    # Round-off leaves ~1e-300 in harmonics a shape lacks; denormals make matrix products 20x slower.
    coeffs.real[np.abs(coeffs.real) < 1e-12] = 0.0
    coeffs.imag[np.abs(coeffs.imag) < 1e-12] = 0.0
    return coeffs


def _stance_windows(theta: np.ndarray, duty: float) -> tuple[np.ndarray, np.ndarray]:
    """Phase within the left and right stance, 0..1, or NaN outside (duty = stance share of a step)."""
    step = np.pi
    left = theta / (step * duty)
    right = (theta - step) / (step * duty)
    return np.where((left >= 0) & (left < 1), left, np.nan), np.where((right >= 0) & (right < 1), right, np.nan)


def gait_shapes(kind: str, drop_asymmetry: float = 0.0) -> np.ndarray:
    """(HARMONICS, len(CHANNELS)) complex coefficients for 'walk', 'run' or 'ride'."""
    th = _GRID
    if kind == "run":
        duty = 0.68  # stance share of a step (~0.24 s of 0.35 s at an easy pace)
        left, right = _stance_windows(th, duty)
        # Vertical: a half-sine support force in each stance, free fall in flight.
        force = np.nan_to_num(np.sin(np.pi * left)) + np.nan_to_num(np.sin(np.pi * right))
        acc = force / force.mean() - 1.0  # specific force minus gravity, in units of g (shape only)
        coeff = _fourier(acc)
        k = np.arange(1, HARMONICS + 1)
        vert = np.real(np.exp(1j * np.outer(th, k)) @ (-coeff / k**2))  # integrate twice in θ
        braking = np.nan_to_num(-np.sin(2 * np.pi * left)) + np.nan_to_num(-np.sin(2 * np.pi * right))
        fwd_vel = np.cumsum(braking) * (th[1] - th[0])
        shapes = {
            "tilt": np.cos(2 * th - 0.8 * np.pi),
            "obliquity": _drop(th, kind, drop_asymmetry),
            "rotation": -np.cos(th - 0.05 * 2 * np.pi),
            "vertical": vert,
            "forward": fwd_vel,
            "lateral": np.sin(th),  # over the stance foot: left at left mid-stance
        }
    elif kind == "walk":
        shapes = {
            "tilt": np.cos(2 * th - 0.9 * np.pi),
            "obliquity": _drop(th, kind, drop_asymmetry),
            "rotation": -np.cos(th),
            "vertical": -np.cos(2 * th - 0.1),  # inverted pendulum: low at double support
            "forward": np.cos(2 * th - 0.25),  # fastest just after contact, slowest in mid-stance
            "lateral": np.sin(th - 0.3),
        }
    elif kind == "ride":
        shapes = {
            "tilt": np.cos(2 * th),
            "obliquity": np.sin(th),  # pelvic rock, once per crank revolution
            "rotation": np.sin(th - 0.5),
            "vertical": np.cos(2 * th),
            "forward": np.cos(2 * th),
            "lateral": np.sin(th),
        }
    else:
        raise ValueError(f"no cycle shape for activity {kind!r}")
    peaks = {"tilt": "pp", "vertical": "pp"}
    cols = []
    for name in CHANNELS:
        x = shapes[name] - shapes[name].mean()
        if peaks.get(name) == "pp":
            x = x / (x.max() - x.min())
        elif name != "obliquity":  # obliquity keeps its asymmetric peaks (1 +- a/2)
            x = x / np.abs(x).max()
        cols.append(_fourier(x))
    return np.stack(cols, axis=1)


def obliquity_offset(kind: str, drop_asymmetry: float) -> float:
    """Stride-mean of the obliquity shape (per unit drop). An asymmetric drop leaves the pelvis lower on
    one side on average; the Fourier series (k >= 1) cannot carry that, so it is added separately."""
    return float(_drop(_GRID, kind, drop_asymmetry).mean()) if kind in DROP_TIMING else 0.0


def harmonic_basis(theta: np.ndarray) -> np.ndarray:
    """(n, 2·HARMONICS) real basis [cos kθ | sin kθ] for `evaluate_shapes`."""
    k_theta = np.outer(theta, np.arange(1, HARMONICS + 1))
    return np.concatenate([np.cos(k_theta), np.sin(k_theta)], axis=1)


def evaluate_shapes(coeffs: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shape value and its first two θ-derivatives for all channels, as three (n, channels) arrays.

    With c_k = a_k + i b_k the shape is Re Σ c_k e^{ikθ} = Σ a_k cos kθ - b_k sin kθ; each θ-derivative
    multiplies c_k by ik. One real matrix product does all channels and derivatives at once.
    """
    k = np.arange(1, HARMONICS + 1)[:, None]
    stacked = np.concatenate([coeffs, 1j * k * coeffs, -(k**2) * coeffs], axis=1)
    out = basis @ np.concatenate([stacked.real, -stacked.imag], axis=0)
    m = coeffs.shape[1]
    return out[:, :m], out[:, m : 2 * m], out[:, 2 * m :]


def min_curvature(coeffs: np.ndarray, channel: str) -> float:
    """Most negative d²shape/dθ² of a channel over the cycle."""
    basis = harmonic_basis(np.linspace(0.0, 2 * np.pi, 1440, endpoint=False))
    return float(evaluate_shapes(coeffs, basis)[2][:, CHANNELS.index(channel)].min())
