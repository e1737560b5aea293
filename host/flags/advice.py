"""Advice from flags and context. The rules are data (advice.toml); this module only loads, checks and
selects them, and fills in the numbers (target cadence from the wearer's own, the side that drops)."""
from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tiltguard.host.activities import ACTIVITIES

from .engine import Flag
from .rules import FLAG_TYPES
from .settings import UserProfile

RULES_FILE = Path(__file__).with_name("advice.toml")
PHASES = ("during", "after")
PLACEHOLDERS = {"cadence", "target_low", "target_high", "side", "other_side", "side_first"}
# Heiderscheit 2011: +5 to +10 % step rate reduces hip and knee load.
CADENCE_RAISE = (0.05, 0.10)


@dataclass(frozen=True)
class AdviceRule:
    id: str
    when: str
    flags: tuple[str, ...]
    activity: tuple[str, ...]
    priority: int
    text: str
    reason: str
    refs: tuple[str, ...]
    profile: dict = field(default_factory=dict)


@dataclass
class Advice:
    id: str
    text: str
    reason: str
    refs: tuple[str, ...]
    priority: int
    because_of: tuple[str, ...]  # the flags that triggered it (empty: context only)


@dataclass
class AdviceContext:
    phase: str  # 'during' or 'after'
    activity: str  # the session's (or current) activity
    profile: UserProfile = field(default_factory=UserProfile)
    cadence_spm: float | None = None  # the wearer's cadence while flagged (or the session's)


class AdviceRulesError(ValueError):
    """advice.toml is malformed; the message names the rule and the problem."""


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> tuple[AdviceRule, ...]:
    data = tomllib.loads(Path(path).read_text())
    rules, seen = [], set()
    for raw in data.get("rule", []):
        rid = raw.get("id", "?")
        try:
            rule = AdviceRule(rid, raw["when"], tuple(raw["flags"]), tuple(raw["activity"]), int(raw["priority"]),
                              raw["text"], raw["reason"], tuple(raw["refs"]), dict(raw.get("profile", {})))
        except KeyError as exc:
            raise AdviceRulesError(f"advice rule {rid!r} lacks {exc.args[0]!r}") from None
        _check(rule, seen)
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules)


def _check(rule: AdviceRule, seen: set) -> None:
    problems = []
    if rule.id in seen:
        problems.append("duplicate id")
    if rule.when not in PHASES:
        problems.append(f"when must be one of {PHASES}")
    if unknown := set(rule.flags) - set(FLAG_TYPES):
        problems.append(f"unknown flags {sorted(unknown)}")
    if unknown := set(rule.activity) - set(ACTIVITIES):
        problems.append(f"unknown activities {sorted(unknown)}")
    if unknown := set(rule.profile) - {"sore_hamstring", "sore_side"}:
        problems.append(f"unknown profile conditions {sorted(unknown)}")
    names = {f for _, f, _, _ in string.Formatter().parse(rule.text) if f}
    if unknown := names - PLACEHOLDERS:
        problems.append(f"unknown placeholders {sorted(unknown)}")
    if not rule.reason.strip():
        problems.append("no reason")
    if problems:
        raise AdviceRulesError(f"advice rule {rule.id!r}: {'; '.join(problems)}")


def target_cadence(cadence_spm: float) -> tuple[int, int]:
    """The wearer's cadence raised by 5-10 %, in whole steps per minute."""
    return round(cadence_spm * (1 + CADENCE_RAISE[0])), round(cadence_spm * (1 + CADENCE_RAISE[1]))


def advise(flags: list[Flag], ctx: AdviceContext, rules: tuple[AdviceRule, ...] | None = None) -> list[Advice]:
    """The advice that applies, most important first."""
    raised = {f.type for f in flags}
    values = _placeholders(flags, ctx)
    out = []
    for rule in rules or load_rules():
        if rule.when != ctx.phase or ctx.activity not in rule.activity:
            continue
        if rule.flags and not raised & set(rule.flags):
            continue
        if not _profile_matches(rule.profile, ctx.profile):
            continue
        names = {f for _, f, _, _ in string.Formatter().parse(rule.text) if f}
        if any(values.get(n) is None for n in names):
            continue  # e.g. a cadence target without a measured cadence: say nothing rather than guess
        out.append(Advice(rule.id, rule.text.format(**values), rule.reason, rule.refs, rule.priority,
                          tuple(sorted(raised & set(rule.flags)))))
    return sorted(out, key=lambda a: (a.priority, a.id))


def _profile_matches(conditions: dict, profile: UserProfile) -> bool:
    for key, wanted in conditions.items():
        have = getattr(profile, key)
        if bool(have) != bool(wanted):
            return False
    return True


def _placeholders(flags: list[Flag], ctx: AdviceContext) -> dict:
    values: dict = {"cadence": None, "target_low": None, "target_high": None, "side": None, "other_side": None}
    if ctx.cadence_spm:
        values["cadence"] = round(ctx.cadence_spm)
        values["target_low"], values["target_high"] = target_cadence(ctx.cadence_spm)
    drops = [f for f in flags if f.type == "excess_pelvic_drop"]
    if drops:
        side = drops[0].evidence.get("side_that_drops")
        values["side"], values["other_side"] = side, {"left": "right", "right": "left"}.get(side)
    sore = ctx.profile.sore_side
    opposite = {"left": "right", "right": "left"}.get(sore or "")
    values["side_first"] = (f", starting with your {opposite} hip flexor (the side opposite your sore {sore} "
                            "hamstring)") if opposite else ""
    return values
