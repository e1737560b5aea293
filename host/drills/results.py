"""What a drill session produced: sets, reps, holds, faults, and the left-vs-right comparison.

Times are in the recording's clock (s); angles in degrees (this is the user-facing edge: the numbers go to
the JSON file, the store, the report and the live counter as they are).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .catalogue import DrillSpec

JSON_SCHEMA = "tiltguard-drill/1"


@dataclass
class RepResult:
    start_s: float
    top_s: float
    end_s: float
    side: str | None  # "left", "right" or None
    hold_s: float  # time held still at the top
    tilt_deg: float  # each angle at the top, against the set's starting posture
    obliquity_deg: float
    rotation_deg: float
    peak_deg: float  # the counted movement's excursion (primary)
    range_deg: float | None = None  # two-way drills: out-and-back range of the primary angle
    faults: list[str] = field(default_factory=list)
    fault_values_deg: dict[str, float] = field(default_factory=dict)  # largest excursion in each fault's direction
    partial: bool = False  # clearly smaller than the set's other reps
    too_fast: bool = False

    def angles(self) -> dict[str, float]:
        return {"tilt": self.tilt_deg, "obliquity": self.obliquity_deg, "rotation": self.rotation_deg}


@dataclass
class SetResult:
    start_s: float
    end_s: float
    side: str | None
    position: str
    reps: list[RepResult] = field(default_factory=list)


@dataclass
class SideComparison:
    metric: str
    left_deg: float | None
    right_deg: float | None
    difference_deg: float | None  # left - right
    smallest_real_deg: float  # differences below this are not called an asymmetry
    verdict: str  # "left worse", "right worse", "no clear difference", "not enough reps"
    text: str


@dataclass
class DrillResult:
    drill: str
    kind: str
    tolerances_deg: dict[str, float]
    sets: list[SetResult] = field(default_factory=list)
    sides: SideComparison | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def reps(self) -> list[RepResult]:
        return [r for s in self.sets for r in s.reps]

    def to_json(self) -> dict:
        d = {"schema": JSON_SCHEMA, **asdict(self)}
        return _finite(d)


def _finite(x):
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    if isinstance(x, float):
        return round(x, 3) if math.isfinite(x) else None
    return x


def side_value(spec: DrillSpec, rep: RepResult) -> float | None:
    m = spec.side_metric
    if m is None:
        return None
    if spec.two_way and rep.range_deg is not None:
        return rep.range_deg
    v = rep.angles()[m.angle]
    return abs(v) if m.sign == 0 else m.sign * v


def compare_sides(spec: DrillSpec, reps: list[RepResult]) -> SideComparison | None:
    """Left against right on the drill's side metric. A difference is called only if it is larger than the
    drill's smallest real difference (how much one rep differs from the next in a steady person) and than what
    this person's own rep-to-rep scatter makes by chance (`_noise_limit`): a 1-degree difference is not an
    asymmetry."""
    m = spec.side_metric
    if m is None or spec.sides == "none":
        return None
    left = [v for r in reps if r.side == "left" and (v := side_value(spec, r)) is not None]
    right = [v for r in reps if r.side == "right" and (v := side_value(spec, r)) is not None]
    if not left or not right:
        return SideComparison(m.label, _mean(left), _mean(right), None, m.smallest_real_deg, "not enough reps",
                              f"{m.label}: needs reps on both sides")
    ml, mr = _mean(left), _mean(right)
    diff = ml - mr
    threshold = max(m.smallest_real_deg, _noise_limit(left, right))
    if abs(diff) < threshold:
        verdict = "no clear difference"
        text = (f"{m.label}: left {ml:.1f}°, right {mr:.1f}° — a difference under {threshold:.1f}° is within "
                "rep-to-rep variation, not an asymmetry")
    else:
        worse_left = (diff > 0) == m.higher_is_worse
        verdict = "left worse" if worse_left else "right worse"
        more_less = "more" if diff > 0 else "less"
        text = (f"{m.label}: left {abs(diff):.1f}° {more_less} than right ({ml:.1f}° vs {mr:.1f}°); "
                f"the {'left' if worse_left else 'right'} side is the weaker one")
    return SideComparison(m.label, ml, mr, diff, threshold, verdict, text)


def _noise_limit(left: list[float], right: list[float]) -> float:
    """The largest left-right difference the rep-to-rep scatter alone makes in 1 person in 40 (two-sided
    95 %): the reps' scatter within a side (pooled over both sides), through the standard error of the
    difference of the two means, times Student's t for the degrees of freedom there are (2 reps a side: t =
    4.3, not 2: two reps say little about the scatter)."""
    n_l, n_r = len(left), len(right)
    dof = n_l + n_r - 2
    if dof < 1:  # one rep a side: no scatter of this person's to go by, the drill's own repeatability only
        return 0.0
    pooled = ((n_l - 1) * _var(left) + (n_r - 1) * _var(right)) / dof
    # imported here only: the results module stays light to import
    from scipy.stats import t as student_t

    return float(student_t.ppf(0.975, dof)) * math.sqrt(pooled * (1.0 / n_l + 1.0 / n_r))


def _mean(v: list[float]) -> float | None:
    return sum(v) / len(v) if v else None


def _var(v: list[float]) -> float:
    if len(v) < 2:
        return 0.0
    mu = sum(v) / len(v)
    return sum((x - mu) ** 2 for x in v) / (len(v) - 1)
