"""Ground truth that comes with every simulated recording, and the truth-side definitions built on it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.frames import quat_wxyz, rotation_from_wxyz

# What "sustained anterior tilt" means in the truth: the stride-averaged tilt stays this far above the
# wearer's standing neutral for at least this long while walking or running (the flag engine's defaults,
# host/flags/settings.py, are the same numbers: tests/test_flags.py pins them).
SUSTAINED_TILT_THRESHOLD_DEG = 5.0
SUSTAINED_TILT_MIN_S = 30.0
SUSTAINED_TILT_MERGE_S = 30.0
SMOOTHING_S = 10.0  # ~15 strides: what "the stride-averaged tilt" means over a sustained stretch


@dataclass
class Truth:
    """Per-sample truth at the true sampling instants (radians, metres, seconds)."""

    t: np.ndarray  # (N,) true sampling instants
    quat_pelvis: np.ndarray  # (N, 4) w x y z, R_earth<-pelvis
    quat_mount: np.ndarray  # (N, 4) w x y z, R_pelvis<-sensor (changes only if the pod is re-clipped)
    tilt: np.ndarray  # absolute pelvic tilt, anterior > 0
    tilt_mean: np.ndarray  # stride-averaged absolute tilt (the slow part, no within-stride swing)
    obliquity: np.ndarray  # left side up > 0, against the body's lean into turns (the earth's horizontal
    # when not turning); relative to the earth: obliquity - lean
    lean: np.ndarray  # the whole body's lean into a turn, left > 0: atan(centripetal / g)
    rotation: np.ndarray  # pelvis turned left > 0, relative to the direction of travel
    heading: np.ndarray  # direction of travel, rad from the initial one (left > 0)
    acc_earth: np.ndarray  # (N, 3) sacrum acceleration, earth frame, m/s²
    vel_earth: np.ndarray  # (N, 3) sacrum velocity, earth frame, m/s
    clean_acc: np.ndarray  # (N, 3) specific force the sensor would read without errors
    clean_gyr: np.ndarray  # (N, 3) angular rate the sensor would read without errors
    gyro_bias: np.ndarray  # (N, 3) true gyro bias, rad/s
    activity: np.ndarray  # (N,) int8 code into ACTIVITIES
    cadence_spm: np.ndarray  # (N,) steps/min while walking/running, else 0
    pedal_rpm: np.ndarray  # (N,) crank rpm while riding, else 0
    ic_times: np.ndarray  # initial contacts, true time, s
    ic_sides: np.ndarray  # 'L' / 'R'
    neutral_tilt: float  # absolute standing tilt, rad
    segments: list[dict]  # the timed scenario segments: kind, start_s, end_s and knobs
    # the chip's accelerometer errors (raw = true · scale + bias), so a six-position calibration of the same
    # chip can be simulated (host.simulator.poses.SimulatedPosePod(chip_acc=...))
    acc_bias: np.ndarray | None = None  # (3,) m/s²
    acc_scale: np.ndarray | None = None  # (3,)

    @property
    def tilt_rel(self) -> np.ndarray:
        """Tilt relative to the wearer's standing neutral."""
        return self.tilt - self.neutral_tilt

    @property
    def activity_names(self) -> np.ndarray:
        return np.asarray(ACTIVITIES)[self.activity]

    def pelvis_rotation(self):
        return rotation_from_wxyz(self.quat_pelvis)

    def sensor_rotation(self):
        """R_earth<-sensor = R_earth<-pelvis · R_pelvis<-sensor."""
        return self.pelvis_rotation() * rotation_from_wxyz(self.quat_mount.astype(float))

    @property
    def quat_sensor(self) -> np.ndarray:
        return quat_wxyz(self.sensor_rotation())

    def sustained_tilt_intervals(
        self,
        threshold_deg: float = SUSTAINED_TILT_THRESHOLD_DEG,
        min_duration_s: float = SUSTAINED_TILT_MIN_S,
        merge_gap_s: float = SUSTAINED_TILT_MERGE_S,
    ) -> list[tuple[float, float]]:
        """Intervals (start, end) in s where the stride-averaged tilt, smoothed over SMOOTHING_S, is above
        neutral + threshold for at least `min_duration_s` while walking or running. Dips shorter than
        `merge_gap_s` (wander around the threshold as the tilt creeps past it) do not split an interval."""
        gait = np.isin(self.activity, (ACTIVITIES.index("walking"), ACTIVITIES.index("running")))
        rate = (len(self.t) - 1) / (self.t[-1] - self.t[0])
        smoothed = uniform_filter1d(self.tilt_mean.astype(float), max(1, int(SMOOTHING_S * rate)), mode="nearest")
        above = gait & (smoothed - self.neutral_tilt > np.radians(threshold_deg))
        merged: list[tuple[float, float]] = []
        for a, b in _runs(self.t, above):
            if merged and a - merged[-1][1] < merge_gap_s:
                merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        return [(a, b) for a, b in merged if b - a >= min_duration_s]


def _runs(t: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) times of the True runs of `mask`."""
    edges = np.diff(mask.astype(np.int8), prepend=0, append=0)
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0] - 1
    return [(float(t[a]), float(t[b])) for a, b in zip(starts, ends)]
