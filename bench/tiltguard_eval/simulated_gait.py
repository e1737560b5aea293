"""Reference gait events from the simulator's truth, for the bench and tests."""
from __future__ import annotations

import numpy as np
from tiltguard.host.frames import rotation_from_wxyz
from tiltguard.host.gait.cadence import cadence_spm

GAIT_KINDS = ("walk", "run")


def sensor_to_pelvis_matrix(truth) -> np.ndarray:
    """(N, 3, 3) R_pelvis<-sensor per sample (what the mounting calibration would provide)."""
    return rotation_from_wxyz(np.asarray(truth.quat_mount, dtype=float)).as_matrix()


def scored_bouts(truth) -> list[tuple[float, float, np.ndarray, np.ndarray, float]]:
    """(start_s, end_s, ic_s, ic_left, cadence_spm) per walking/running segment of the truth; cadence is the
    truth's contacts through the same estimator the detectors' contacts go through."""
    ic = np.asarray(truth.ic_times, dtype=float)
    left = np.asarray(truth.ic_sides) == "L"
    out = []
    for seg in truth.segments:
        if seg["kind"] not in GAIT_KINDS:
            continue
        k = (ic >= seg["start_s"]) & (ic <= seg["end_s"])
        if k.sum() < 3:
            continue
        out.append((float(seg["start_s"]), float(seg["end_s"]), ic[k], left[k], cadence_spm(ic[k])))
    return out
