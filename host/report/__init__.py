"""Post-session report and history (issue 9).

Entry points, in host.report.write (the live app calls `write_report` when a session stops; docs/report.md):

    write_report(store, session_id, out_dir, fmt="html", analysis=None, profile=None) -> ReportPaths
    write_report_for_recording(rec, out_dir, fmt="html", store=None, label=None) -> ReportPaths
    write_history(store, out_dir, analyse_missing=False) -> HistoryPaths

One source of truth: build_report() makes one dict of every number; it becomes report.json, the store's
'report' analysis of the session, and (through the template) the HTML.
"""
