"""The rule set: how each flag turns the stream of stride/ride records into one number per record, which
the shared Sustain state machine then holds against its thresholds. Values are in user units (degrees,
ratios) because they end up as the flag's evidence."""
from __future__ import annotations

from collections import deque

import numpy as np
from tiltguard.host.gait.cycles import Cycle

from .settings import FlagSettings
from .sustain import Episode, Sustain

GAIT = ("walking", "running")


class TrailingWindow:
    """Cycles of the last `span_s` seconds (by record end time)."""

    def __init__(self, span_s: float):
        self.span_s = span_s
        self.items: deque = deque()

    def add(self, t: float, value) -> None:
        self.items.append((t, value))
        while self.items and self.items[0][0] < t - self.span_s:
            self.items.popleft()

    def values(self) -> np.ndarray:
        return np.array([v for _, v in self.items], dtype=float)

    def covers(self, fraction: float = 0.6) -> bool:
        """Enough history in the window to trust its statistic."""
        return len(self.items) > 1 and self.items[-1][0] - self.items[0][0] >= fraction * self.span_s


class Baseline:
    """The session's own early level of a quantity, after a warm-up, accumulated over moving time."""

    def __init__(self, warmup_s: float, span_s: float):
        self.warmup_s, self.span_s = warmup_s, span_s
        self.moving_s = 0.0
        self.samples: list[float] = []

    def add(self, duration: float, value: float) -> None:
        if self.warmup_s <= self.moving_s < self.warmup_s + self.span_s and np.isfinite(value):
            self.samples.append(value)
        self.moving_s += duration

    @property
    def ready(self) -> bool:
        return self.moving_s >= self.warmup_s + self.span_s and len(self.samples) > 0

    @property
    def value(self) -> float:
        return float(np.median(self.samples))


class Rule:
    """A flag type: which activities it watches, its value per record, its thresholds."""

    name = ""
    activities: tuple[str, ...] = GAIT
    unit = "deg"
    needs_neutral = False  # its threshold is an angle relative to the standing neutral (not a change)
    needs_direction = True  # its value has a sign or a side: meaningless while forward is unknown
    needs_sides = False  # it names the side (left or right foot's stance): meaningless while the feet are unknown

    def __init__(self, s: FlagSettings, on: float, off: float, min_s: float):
        self.s = s
        self.sustain = Sustain(on, off, min_s, s.end_hold_s, s.max_pause_s)

    def value(self, r: Cycle) -> float:
        raise NotImplementedError

    def evidence(self, ep: Episode) -> dict:
        return {"threshold": self.sustain.on_level, "release_below": self.sustain.off_level,
                "sustained_for_s": round(ep.decided_at - ep.start, 1), "peak": round(ep.peak, 2),
                "mean": round(ep.mean, 2), "unit": self.unit}


class SustainedAnteriorTilt(Rule):
    name = "sustained_anterior_tilt"
    needs_neutral = True

    def __init__(self, s: FlagSettings):
        super().__init__(s, s.tilt_threshold_deg, s.tilt_threshold_deg - s.tilt_hysteresis_deg, s.tilt_min_s)
        self.window = TrailingWindow(s.tilt_smoothing_s)

    def value(self, r: Cycle) -> float:
        self.window.add(r.t_end, np.degrees(r.tilt))
        return float(self.window.values().mean())


class DriftFromBaseline(Rule):
    """A quantity drifting away from the session's own early level (after a warm-up): the trailing
    window's median minus the baseline, or its ratio to it less one (relative=True)."""

    baseline_label = "baseline_tilt_deg"
    relative = False

    def __init__(self, s: FlagSettings, on: float, off: float, min_s: float, warmup_s: float, baseline_s: float,
                 window_s: float):
        super().__init__(s, on, off, min_s)
        self.baseline = Baseline(warmup_s, baseline_s)
        self.window = TrailingWindow(window_s)

    def quantity(self, r: Cycle) -> float:
        return np.degrees(r.tilt)

    def value(self, r: Cycle) -> float:
        x = self.quantity(r)
        self.baseline.add(r.t_end - r.t_start, x)
        self.window.add(r.t_end, x)
        if not self.baseline.ready or not self.window.covers():
            return np.nan
        now = float(np.median(self.window.values()))
        return now / self.baseline.value - 1.0 if self.relative else now - self.baseline.value

    def evidence(self, ep: Episode) -> dict:
        return {**super().evidence(ep), self.baseline_label: round(self.baseline.value, 2)}


class TiltCreep(DriftFromBaseline):
    name = "tilt_creep"

    def __init__(self, s: FlagSettings):
        super().__init__(s, s.creep_threshold_deg, s.creep_threshold_deg - s.creep_hysteresis_deg, s.creep_min_s,
                         s.creep_warmup_s, s.creep_baseline_s, s.creep_window_s)


class ExcessPelvicDrop(Rule):
    name = "excess_pelvic_drop"
    needs_sides = True

    def __init__(self, s: FlagSettings):
        super().__init__(s, s.drop_threshold_deg, s.drop_threshold_deg - s.drop_hysteresis_deg, s.drop_min_s)
        self.window = TrailingWindow(s.drop_window_s)
        self.side = None

    def value(self, r: Cycle) -> float:
        self.window.add(r.t_end, (np.degrees(r.drop_left), np.degrees(r.drop_right)))
        drops = np.median(self.window.values(), axis=0)
        self.side = "left" if drops[0] > drops[1] else "right"
        return float(drops.max())

    def evidence(self, ep: Episode) -> dict:
        drops = np.median(self.window.values(), axis=0)
        return {**super().evidence(ep), "side_that_drops": self.side,
                "drop_left_deg": round(float(drops[0]), 2), "drop_right_deg": round(float(drops[1]), 2)}


class RotationVariability(Rule):
    """Poor rotational control: the pelvis's rotation swing changes a lot from stride to stride."""

    name = "rotation_variability"
    unit = "coefficient of variation"
    needs_direction = False  # a swing's size and its variability: the same either way round

    def __init__(self, s: FlagSettings):
        super().__init__(s, s.rotation_cv_threshold, 0.8 * s.rotation_cv_threshold, s.rotation_min_s)
        self.window = TrailingWindow(s.rotation_window_s)

    def value(self, r: Cycle) -> float:
        self.window.add(r.t_end, r.rot_range)
        if not self.window.covers(0.5):
            return np.nan
        v = self.window.values()
        return float(v.std() / v.mean())


class RideForwardRoll(DriftFromBaseline):
    name = "ride_forward_roll"
    activities = ("riding",)

    def __init__(self, s: FlagSettings):
        super().__init__(s, s.ride_roll_threshold_deg, s.ride_roll_threshold_deg - 1.0, s.ride_min_s,
                         s.ride_warmup_s, s.ride_baseline_s, s.ride_window_s)


class RideRockGrowth(DriftFromBaseline):
    name = "ride_rock_growth"
    activities = ("riding",)
    unit = "fraction above the early rock"
    baseline_label = "baseline_rock_deg"
    relative = True
    needs_direction = False  # a swing's size and its variability: the same either way round

    def __init__(self, s: FlagSettings):
        super().__init__(s, s.ride_rock_growth, 0.7 * s.ride_rock_growth, s.ride_rock_min_s,
                         s.ride_warmup_s, s.ride_baseline_s, s.ride_window_s)

    def quantity(self, r: Cycle) -> float:
        return np.degrees(r.rock)


RULES = (SustainedAnteriorTilt, TiltCreep, ExcessPelvicDrop, RotationVariability, RideForwardRoll, RideRockGrowth)
FLAG_TYPES = tuple(r.name for r in RULES)
