"""Flags (sustained anterior tilt and the other risk patterns) and the advice that goes with them."""
from tiltguard.host.gait.cycles import Cycle, CycleTable, ride_cycles, stride_cycles

from .engine import Flag, FlagEvent, LiveFlagEngine, detect_flags
from .rules import FLAG_TYPES
from .settings import FlagSettings, UserProfile

__all__ = ["FLAG_TYPES", "Flag", "FlagEvent", "FlagSettings", "LiveFlagEngine", "Cycle", "CycleTable",
           "UserProfile", "detect_flags", "ride_cycles", "stride_cycles"]
