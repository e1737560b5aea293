"""The one state machine behind every flag: a value must stay above an 'on' level for a minimum time to
start a flag, and below a lower 'off' level for a hold time to end it (hysteresis, so it does not flicker).
Time only counts while records arrive; a pause longer than `max_pause_s` ends whatever was building up.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Episode:
    """A flag as it builds up and holds."""

    start: float
    values: list = field(default_factory=list)  # (time, value) while above the off level
    decided_at: float | None = None  # when it became sustained (the live engine's start event)
    end: float | None = None

    @property
    def peak(self) -> float:
        return float(max(v for _, v in self.values))

    @property
    def mean(self) -> float:
        return float(np.mean([v for _, v in self.values]))


class Sustain:
    def __init__(self, on_level: float, off_level: float, min_s: float, hold_s: float, max_pause_s: float):
        self.on_level, self.off_level = on_level, off_level
        self.min_s, self.hold_s, self.max_pause_s = min_s, hold_s, max_pause_s
        self.episode: Episode | None = None
        self.below_since: float | None = None
        self.last_t: float | None = None

    def update(self, t: float, value: float) -> tuple[str | None, Episode | None]:
        """Feed one value at time t (record end). Returns ('start'|'end'|None, the episode concerned)."""
        event = None, None
        if self.last_t is not None and t - self.last_t > self.max_pause_s:
            event = self._close(self.last_t)
        self.last_t = t
        if np.isnan(value):
            return event
        ep = self.episode
        if ep is None:
            if value > self.on_level:
                self.episode = Episode(start=t, values=[(t, value)])
            return event
        if ep.decided_at is None:
            # Building up: a dip below the on level shorter than hold_s is wander around the threshold
            # (a slow creep crosses it several times); a longer one means the pattern was not sustained.
            if value <= self.on_level:
                if self.below_since is None:
                    self.below_since = t
                elif t - self.below_since >= self.hold_s:
                    self.episode, self.below_since = None, None
                return event
            self.below_since = None
            ep.values.append((t, value))
            if t - ep.start >= self.min_s:
                ep.decided_at = t
                return "start", ep
            return event
        # Holding: ends after hold_s below the off level.
        if value < self.off_level:
            if self.below_since is None:
                self.below_since = t
            elif t - self.below_since >= self.hold_s:
                return self._close(self.below_since)
        else:
            self.below_since = None
            ep.values.append((t, value))
        return event

    def finish(self, t: float) -> tuple[str | None, Episode | None]:
        """End of the session: close a held episode at t (or where it went below)."""
        return self._close(self.below_since if self.below_since is not None else t)

    def _close(self, t: float) -> tuple[str | None, Episode | None]:
        ep, self.episode, self.below_since = self.episode, None, None
        if ep is None or ep.decided_at is None:
            return None, None
        ep.end = t
        return "end", ep
