"""Orientation from accelerometer + gyroscope, live (causal) and post-session."""
from .estimate import MODES, OrientationResult, estimate_orientation
from .streaming import OrientationStream

__all__ = ["MODES", "OrientationResult", "OrientationStream", "estimate_orientation"]
