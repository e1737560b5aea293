"""Two engines, one rule set.

LiveFlagEngine takes records one at a time as strides finish and emits start / ongoing / end events as soon
as a rule decides (a flag starts `min_s` after its pattern began, on the record that completes it).
detect_flags is the post-session engine: it replays a finished session's records through the very same
rules, so on a finished session both give the same flags by construction, not by tuning.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tiltguard.host.gait.cycles import Cycle, CycleTable

from .rules import RULES, Rule
from .settings import FlagSettings


@dataclass
class Flag:
    type: str
    start: float  # s, when the pattern began
    end: float | None  # s; None while it still holds (live)
    decided_at: float  # s, when the rule had enough evidence (live start event)
    peak: float
    mean: float
    activity: str
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FlagEvent:
    kind: str  # 'start', 'ongoing' or 'end'
    flag: Flag
    t: float  # session time the event was emitted


class LiveFlagEngine:
    def __init__(self, settings: FlagSettings | None = None, neutral: bool = True, direction: bool = True,
                 unsided: tuple[str, ...] = ()):
        """`neutral=False`: the angles are not relative to a standing neutral (the session had no stand), so
        the rules whose thresholds are angles from neutral stay silent. `direction=False`: which way is forward
        is unknown, so the rules that read a sign or a side stay silent. `unsided`: the activities whose left and
        right feet cannot be told apart (host.gait.sides): the rules that name a side skip their cycles."""
        self.settings = settings or FlagSettings()
        self.neutral = neutral
        self.unsided = tuple(unsided)
        self.rules: list[Rule] = [cls(self.settings) for cls in RULES
                                  if (neutral or not cls.needs_neutral) and (direction or not cls.needs_direction)]
        self.open: dict[str, Flag] = {}
        self.last_ongoing: dict[str, float] = {}
        self.flags: list[Flag] = []
        self.last_t = 0.0

    def feed(self, r: Cycle, sided: bool = True) -> list[FlagEvent]:
        """One finished stride or ride window; `sided=False`: its feet are a guess (live: the step detector's
        side cue did not agree with its labels), so the rules that name a side skip it."""
        events = []
        self.last_t = r.t_end
        for rule in self.rules:
            if r.activity not in rule.activities or (rule.needs_sides and (not sided or r.activity in self.unsided)):
                continue
            kind, ep = rule.sustain.update(r.t_end, rule.value(r))
            events += self._handle(rule, kind, ep, r.t_end, r.activity)
            flag = self.open.get(rule.name)
            if flag and kind is None and r.t_end - self.last_ongoing[rule.name] >= self.settings.ongoing_every_s:
                self._refresh(flag, rule.sustain.episode)
                self.last_ongoing[rule.name] = r.t_end
                events.append(FlagEvent("ongoing", flag, r.t_end))
        return events

    def finish(self) -> list[FlagEvent]:
        """The session is over: close every flag that still holds."""
        events = []
        for rule in self.rules:
            kind, ep = rule.sustain.finish(self.last_t)
            events += self._handle(rule, kind, ep, self.last_t, None)
        return events

    def _handle(self, rule: Rule, kind, ep, t: float, activity) -> list[FlagEvent]:
        if kind == "start":
            flag = Flag(rule.name, ep.start, None, ep.decided_at, ep.peak, ep.mean, activity, rule.evidence(ep))
            self.open[rule.name] = flag
            self.last_ongoing[rule.name] = t
            return [FlagEvent("start", flag, t)]
        if kind == "end":
            flag = self.open.pop(rule.name)
            self._refresh(flag, ep)
            flag.end = ep.end
            self.flags.append(flag)
            return [FlagEvent("end", flag, t)]
        return []

    @staticmethod
    def _refresh(flag: Flag, ep) -> None:
        if ep is not None:
            flag.peak, flag.mean = ep.peak, ep.mean
            flag.evidence.update(peak=round(ep.peak, 2), mean=round(ep.mean, 2))


def detect_flags(table: CycleTable, settings: FlagSettings | None = None, neutral: bool = True,
                 direction: bool = True, unsided: tuple[str, ...] = ()) -> list[Flag]:
    """Post-session flags of a finished session, in start order (`neutral`, `direction`, `unsided` as for
    LiveFlagEngine)."""
    engine = LiveFlagEngine(settings, neutral, direction, unsided)
    for r in table.cycles():
        engine.feed(r)
    engine.finish()
    return sorted(engine.flags, key=lambda f: (f.start, f.type))
