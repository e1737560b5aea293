"""The pod's buzzer follows a guided test or drill (issue 20): with the phone in a pocket, the set is felt.

One short pulse per counted rep, so the count can be followed pulse by pulse; the other moments each have a
pattern of a shape of its own (lengths and counts that a rep's pulse never makes, so none is mistaken for a
rep): the hold is long enough (lower now), a form fault starts, the set is done, switch sides. The engine's
events (host.drills.DrillEvent) decide; the patterns go to the pod through host.link.buzz.PodBuzzer.
"""
from __future__ import annotations

from collections.abc import Iterable

from tiltguard.host.drills import DrillEvent, DrillSpec

REP = (80,)  # one short pulse
HOLD_REACHED = (250, 150, 250)  # two medium: lower now
FAULT = (60, 60, 60, 60, 60)  # three quick: check your form
SET_DONE = (700,)  # one long: rest
SWITCH_SIDES = (400, 150, 120, 150, 400)  # long, short, long: rest, then the other side

PATTERNS = {"rep": REP, "hold reached": HOLD_REACHED, "fault": FAULT, "set done": SET_DONE,
            "switch sides": SWITCH_SIDES}


def buzz_for(event: DrillEvent, spec: DrillSpec) -> tuple[str, tuple[int, ...]] | None:
    """(what, pattern) the pod buzzes for an engine event, or None (prompts and cues without a buzz)."""
    if event.kind == "rep":
        return f"rep {event.data.get('count', '')}".strip(), REP
    if event.kind == "lower":  # the engine's "Lower slowly": the target hold has been held
        return "hold reached", HOLD_REACHED
    if event.kind == "fault_start":
        return f"fault: {event.data.get('fault', '')}", FAULT
    if event.kind == "set_end":  # a set per side, left first: every set ends with the other side next
        return ("switch sides", SWITCH_SIDES) if spec.sides == "per_set" else ("set done", SET_DONE)
    return None


class DrillBuzz:
    """A listener for the guidance window's events: each one that has a buzz is sent to the pod."""

    def __init__(self, buzzer, spec: DrillSpec) -> None:
        self.buzzer = buzzer  # host.link.buzz.PodBuzzer (or anything with buzz(pattern, what))
        self.spec = spec
        self.asked: list[tuple[float, str]] = []  # (engine time, what) of every buzz asked for
        self._holding = False  # a hold began in this rep
        self._hold_buzzed = False  # this rep's hold reached has been buzzed

    def __call__(self, events: Iterable[DrillEvent]) -> None:
        for e in events:
            b = buzz_for(e, self.spec)
            # the hold reached: at most once per rep, and only for a hold begun in this rep (the engine may say
            # "hold" again right after "lower" while still at the top, and that one's "lower" then comes after
            # the rep was counted)
            if e.kind in ("rep", "set_start", "set_end", "set_dropped"):
                self._holding = self._hold_buzzed = False
            elif e.kind == "hold" and not self._hold_buzzed:
                self._holding = True
            elif e.kind == "lower":
                if not self._holding or self._hold_buzzed:
                    continue
                self._holding, self._hold_buzzed = False, True
            if b is not None:
                self.asked.append((e.t, b[0]))
                self.buzzer.buzz(b[1], b[0])
