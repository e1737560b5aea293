"""The step-symmetry split (host.signal.step_symmetry) on a hand-made gait signal with known parts."""
import numpy as np
from tiltguard.host.signal.step_symmetry import repeating_minus_alternating, step_period_samples

RATE = 200.0


def _gait(step_s: float, seconds: float = 20.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, 1 / RATE)
    step = 2 * np.pi * t / step_s
    vertical = 8.0 * np.sin(step) + 2.0 * np.sin(2 * step) + rng.normal(0, 0.5, len(t))
    fore_aft = 3.0 * np.sin(step + 0.7)  # repeats every step
    sway = 5.0 * np.sin(step / 2)  # once per stride: flips sign from one step to the next
    return vertical, fore_aft, sway


def test_the_step_period_is_the_first_clear_peak_not_the_stride():
    for step_s in (0.3, 0.55, 0.9):
        vertical, _, _ = _gait(step_s)
        assert abs(step_period_samples(vertical, RATE) - step_s * RATE) <= 2


def test_no_rhythm_gives_no_period():
    assert step_period_samples(np.zeros(2000), RATE) is None


def test_the_repeating_direction_is_fore_aft_even_when_the_sway_is_larger():
    vertical, fore_aft, sway = _gait(0.33)
    theta = np.radians(35.0)  # the level frame's x is 35 deg off the true forward axis
    x = np.cos(theta) * fore_aft - np.sin(theta) * sway
    y = np.sin(theta) * fore_aft + np.cos(theta) * sway
    horizontal = np.column_stack([x, y])
    major = np.linalg.eigh(np.cov(horizontal.T))[1][:, -1]  # the raw major axis follows the sway
    evals, evecs = np.linalg.eigh(repeating_minus_alternating(horizontal, step_period_samples(vertical, RATE)))
    axis = evecs[:, np.argmax(evals)]
    truth = np.array([np.cos(theta), np.sin(theta)])
    assert np.degrees(np.arccos(abs(axis @ truth))) < 2.0
    assert np.degrees(np.arccos(abs(major @ truth))) > 45.0
