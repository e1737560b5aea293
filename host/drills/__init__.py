"""Guided tests and drills measured by the pod (docs/drills.md).

    from tiltguard.host.drills import DRILLS, analyse_recording
    result = analyse_recording(rec, "glute-bridge")

One engine for the live guidance and the offline analysis: `DrillTracker` takes samples block by block
(causal), `analyse_recording` feeds a whole recording through it.
"""
from __future__ import annotations

from .catalogue import DRILLS, DrillSpec, FaultSpec, get_drill
from .results import DrillResult, RepResult, SetResult, compare_sides
from .tracker import DrillEvent, DrillTracker, analyse_recording

__all__ = [
    "DRILLS", "DrillEvent", "DrillResult", "DrillSpec", "DrillTracker", "FaultSpec", "RepResult", "SetResult",
    "analyse_recording", "compare_sides", "get_drill",
]
