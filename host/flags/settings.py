"""Thresholds of every flag, and the wearer's profile. One set, used by the live and the post-session
engine alike. The defaults and their rationale are in docs/flags.md."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

# Sustained anterior tilt: the stride-averaged tilt stays this far above the wearer's standing neutral for
# at least this long while walking or running (the simulator's truth uses the same definition; a test pins it).
SUSTAINED_TILT_THRESHOLD_DEG = 5.0
SUSTAINED_TILT_MIN_S = 30.0


@dataclass(frozen=True)
class FlagSettings:
    # Sustained anterior tilt: stride-averaged tilt above neutral + threshold for min_s.
    tilt_threshold_deg: float = SUSTAINED_TILT_THRESHOLD_DEG
    tilt_min_s: float = SUSTAINED_TILT_MIN_S
    tilt_hysteresis_deg: float = 1.0  # ends only once below threshold - hysteresis ...
    tilt_smoothing_s: float = 10.0  # trailing average over ~15 strides before comparing
    end_hold_s: float = 30.0  # ... for this long (so a few upright strides do not end it); also the longest dip
    #                           tolerated while a pattern builds up (a slow creep wanders across the threshold)
    max_pause_s: float = 60.0  # a stop longer than this ends whatever was building up
    # Tilt creep: mean tilt rising versus the session's own early minutes (fatigue).
    creep_warmup_s: float = 120.0  # first minutes of moving are warm-up, not baseline
    creep_baseline_s: float = 180.0
    creep_window_s: float = 180.0
    creep_threshold_deg: float = 3.0
    creep_hysteresis_deg: float = 1.0
    creep_min_s: float = 300.0  # a lasting rise: a few minutes of strong tilt is the other flag
    # Excess contralateral pelvic drop (Bramah 2018: injured runners ~7.5 deg vs ~5.5 deg healthy).
    drop_threshold_deg: float = 8.0
    drop_window_s: float = 30.0
    drop_min_s: float = 60.0
    drop_hysteresis_deg: float = 1.0
    # Rotation: left/right imbalance of the pelvis's mean rotation, and stride-to-stride variability.
    rotation_imbalance_deg: float = 3.0
    rotation_cv_threshold: float = 0.20
    rotation_window_s: float = 60.0
    rotation_min_s: float = 60.0
    # Riding: forward roll of the pelvis and growth of the rock versus the ride's early minutes.
    ride_warmup_s: float = 120.0
    ride_baseline_s: float = 300.0
    ride_window_s: float = 300.0
    ride_roll_threshold_deg: float = 3.0
    ride_rock_growth: float = 0.35  # +35 % rock amplitude
    ride_min_s: float = 420.0  # fatigue lasts; a 5-min spell in the drops (a 5-min window median) is riding
    ride_rock_min_s: float = 300.0
    ongoing_every_s: float = 30.0  # live engine: an 'ongoing' event this often while a flag holds

    @classmethod
    def from_dict(cls, values: dict) -> "FlagSettings":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown flag setting(s): {', '.join(sorted(unknown))}")
        return cls(**values)


@dataclass
class UserProfile:
    """What the wearer tells us, and what calibration learned about them."""

    name: str = "runner"
    neutral_tilt_deg: float | None = None  # absolute standing tilt, if measured
    sore_side: str | None = None  # 'left' / 'right' hamstring or hip that hurts, for side-specific advice
    sore_hamstring: bool = False
    units: str = "metric"  # 'metric' or 'imperial' at the user-facing edge
    flag_overrides: dict = field(default_factory=dict)  # per-user thresholds, e.g. {"tilt_threshold_deg": 6}

    def settings(self) -> FlagSettings:
        return FlagSettings.from_dict(self.flag_overrides)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "UserProfile":
        data = json.loads(Path(path).read_text())
        if data.get("sore_side") not in (None, "left", "right"):
            raise ValueError(f"sore_side must be 'left' or 'right', not {data['sore_side']!r}")
        profile = cls(**data)
        profile.settings()  # validate the overrides now, not mid-run
        return profile
