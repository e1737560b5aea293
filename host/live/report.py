"""After Stop: write the session's report, if the report package offers an entry point.

The report is built by host/report; this module only calls its `write_report(store, session_id, out_dir,
profile=)` and returns the HTML file. Without it (or when it fails) the live view opens nothing and says
where the session is. Reports go next to the session database, in reports/session-N/.
"""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def write_session_report(db_path: str | None, session_id: int, out_dir: str | Path | None = None,
                         profile=None) -> Path | None:
    """Path of the report file written for the session, or None when there is no report writer."""
    try:
        from tiltguard.host.report.write import write_report
    except ImportError:
        return None
    # the report stack (matplotlib) loads at Stop, not with the window
    from tiltguard.host.store import SessionStore

    out = Path(out_dir) if out_dir else Path(db_path).with_name("reports") / f"session-{session_id}"
    out.mkdir(parents=True, exist_ok=True)
    try:
        with SessionStore(db_path) as store:
            written = write_report(store, session_id, out, profile=profile)
    except Exception:  # noqa: BLE001 - a report problem must not lose the session or close the app
        log.exception("report for session %s failed", session_id)
        return None
    html = getattr(written, "html", written)  # host.report.ReportPaths, or a plain path
    return Path(html) if html is not None else None
