"""Pelvic tilt, obliquity and rotation (Baker 2001 order) from orientation and alignment."""
from .angles import (
           PelvicAngles,
           euler_zxy,
           pelvic_angles,
           pelvis_quaternion,
           per_stride_ranges,
           split_heading,
)
from .session import analyse_session, summary

__all__ = ["PelvicAngles", "analyse_session", "euler_zxy", "pelvic_angles", "pelvis_quaternion",
           "per_stride_ranges", "split_heading", "summary"]
