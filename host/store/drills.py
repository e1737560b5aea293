"""Drill and test results, stored with their session (analysis kind 'drill:<name>', the JSON of
docs/drills.md), and read back per drill for the history and the report's advice."""
from __future__ import annotations

DRILL_KIND_PREFIX = "drill:"


def save_drill_result(store, session_id: int, result: dict) -> None:
    """`result`: host.drills.DrillResult.to_json() (one drill per session and name; a redo replaces it)."""
    store.save_analysis(session_id, DRILL_KIND_PREFIX + result["drill"], result)


def drill_results(store, drill: str | None = None) -> list[tuple[object, dict]]:
    """(SessionInfo, result) of every stored drill result (of one drill if given), oldest first."""
    out = []
    for info in store.sessions():
        for kind, result in store.analyses(info.id).items():
            if kind.startswith(DRILL_KIND_PREFIX) and (drill is None or kind == DRILL_KIND_PREFIX + drill):
                out.append((info, result))
    out.sort(key=lambda x: x[0].started_at)
    return out
