"""Writing the post-session report and the history: the entry points below (the package docstring lists them)."""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from tiltguard.host.analysis import analyse_recording, stored_recording
from tiltguard.host.flags import UserProfile
from tiltguard.host.report.build import build_report
from tiltguard.host.report.drill_page import attach_last_checks
from tiltguard.host.report.figures import render_figures
from tiltguard.host.report.history import (
    REPORT_KIND,
    collect_history,
    history_figures,
    history_medians,
)
from tiltguard.host.report.html import render_history_html, render_report_html
from tiltguard.host.report.pdf import write_pdf
from tiltguard.host.report.session_data import derive
from tiltguard.host.report.stride_csv import write_ride_csv, write_stride_csv
from tiltguard.host.report.watch_history import pace_matched_figure, pace_matched_history
from tiltguard.host.report.watch_page import watch_section

FORMATS = ("html", "pdf")


@dataclass
class ReportPaths:
    html: Path
    json: Path
    strides_csv: Path
    rides_csv: Path | None = None
    pdf: Path | None = None
    pdf_by: str | None = None  # 'chromium' (the HTML printed) or 'matplotlib' (figures + text, no browser)
    report: dict = field(default_factory=dict, repr=False)  # the numbers (same as the JSON file)
    timings_s: dict = field(default_factory=dict)  # per stage, for bench/report.py


@dataclass
class HistoryPaths:
    html: Path
    json: Path
    sessions: int


def write_report(store, session_id: int, out_dir: str | Path, fmt: str = "html", analysis=None,
                 profile: UserProfile | None = None) -> ReportPaths:
    """Analyse a stored session (or use `analysis`, a host.analysis.SessionAnalysis of it, if the caller
    has one) and write report.html, report.json and strides.csv (+ rides.csv, report.pdf) into out_dir.
    The report's numbers are also saved in the store as analysis kind 'report' (history reads them)."""
    info = store.session(session_id)
    timings: dict = {}
    t = time.perf_counter()
    rec = None
    if analysis is None:
        rec = stored_recording(store, session_id)
        timings["load_s"] = time.perf_counter() - t
    session = dict(session_entry(info), restarts=restart_note(store, session_id))
    return _write(rec, analysis, out_dir, fmt, profile, session, store,
                  lambda main: history_medians(store, session_id, main, before=info.started_at), timings,
                  save=lambda report: store.save_analysis(session_id, REPORT_KIND, report))


def session_entry(info) -> dict:
    """What the report says about a stored session (host.store.SessionInfo)."""
    return {"id": info.id, "source": f"{info.source} session", "label": f"Session {info.id}",
            "started_at": dt.datetime.fromtimestamp(info.started_at).strftime("%Y-%m-%d %H:%M"),
            "device": info.device_name, "sensor": info.sensor, "rate_hz": info.rate_hz,
            # a flash log read with damaged blocks: which byte ranges were lost (host/store/sync.py keeps the raw copy)
            "log_damage": (info.meta or {}).get("problem") if info.source == "flash" else None}


def restart_note(store, session_id: int) -> str | None:
    """The pod restarted mid-session (host/store/analysis.py 'link' segments): when, and the time without data."""
    link = store.analyses(session_id).get("link", {})
    segs = link.get("segments") or []
    if not link.get("restarts") or len(segs) < 2:
        return None
    at = ", ".join(f"at {s['start_s'] / 60:.1f} min ({s['gap_before_s']:.1f} s without data)" for s in segs[1:]
                   if s.get("start_s") is not None)
    return f"{link['restarts']} restart(s) of the pod: {at}; the recording went on after each"


def write_report_for_recording(rec, out_dir: str | Path, fmt: str = "html", store=None, label: str | None = None,
                               profile: UserProfile | None = None, analysis=None) -> ReportPaths:
    """Report of a recording that is not in the store (a raw CSV file); history from `store` if given."""
    session = {"id": None, "source": "raw CSV file", "label": label or "Recording", "started_at": None,
               "device": None, "sensor": rec.sensor_model, "rate_hz": rec.rate_hz}
    history = (lambda main: history_medians(store, None, main)) if store is not None else (lambda main: {})
    return _write(rec, analysis, out_dir, fmt, profile, session, store, history, {}, save=None)


def _write(rec, analysis, out_dir, fmt, profile, session, store, history_for, timings, save) -> ReportPaths:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    profile = profile or UserProfile()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    if analysis is None:
        analysis = analyse_recording(rec, mode="post", settings=profile.settings())
        timings["analyse_s"] = time.perf_counter() - t
    t = time.perf_counter()
    products = derive(analysis)
    session.update(samples=len(analysis.rec), rate_hz=analysis.rec.rate_hz)
    report = build_report(products, session, history_for(products.main_activity), profile)
    attach_last_checks(report, store)  # the advice's tests as the wearer last did them (docs/drills.md)
    timings["derive_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    figures = render_figures(products, report)
    # a merged watch file (tiltguard import-activity): tilt against pace and grade, the route, the laps
    watch, watch_figs = watch_section(store, session.get("id"), products, profile.settings().tilt_threshold_deg)
    if watch is not None:
        report["watch"] = watch
        figures += watch_figs
    report["figures"] = [{"id": f.id, "title": f.title, "alt": f.alt} for f in figures]
    timings["figures_s"] = time.perf_counter() - t
    t = time.perf_counter()
    paths = ReportPaths(out / "report.html", out / "report.json", out / "strides.csv", report=report,
                        timings_s=timings)
    paths.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    paths.html.write_text(render_report_html(report, figures), encoding="utf-8")
    write_stride_csv(products, paths.strides_csv)
    if products.rides:
        paths.rides_csv = out / "rides.csv"
        write_ride_csv(products, paths.rides_csv)
    if save is not None:
        save(report)
    timings["write_s"] = time.perf_counter() - t
    if fmt == "pdf":
        t = time.perf_counter()
        paths.pdf, paths.pdf_by = write_pdf(paths.html, out / "report.pdf", report, figures)
        timings["pdf_s"] = time.perf_counter() - t
    return paths


def write_history(store, out_dir: str | Path, analyse_missing: bool = False) -> HistoryPaths:
    """history.html + history.json of every session with a saved report; with analyse_missing, sessions
    that have none are analysed first (their report numbers are saved, no files are written for them)."""
    if analyse_missing:
        analyse_unreported(store)
    history = collect_history(store)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = history_figures(history)
    # pace-matched trends, from the sessions with a merged watch file (host.report.watch_history)
    matched = pace_matched_history(store)
    if matched:
        history["pace_matched"] = matched
        figures += [f for f in [pace_matched_figure(matched)] if f is not None]
    history["figures"] = [{"id": f.id, "title": f.title, "alt": f.alt} for f in figures]
    paths = HistoryPaths(out / "history.html", out / "history.json", len(history["sessions"]))
    paths.json.write_text(json.dumps(history, indent=1, ensure_ascii=False))
    paths.html.write_text(render_history_html(history, figures), encoding="utf-8")
    return paths


def analyse_unreported(store, profile: UserProfile | None = None) -> list[int]:
    """Compute and save the report numbers of every closed session that has none yet (oldest first, so each
    one's "your usual" column sees the sessions before it)."""
    profile = profile or UserProfile()
    done = []
    for info in store.sessions():
        have = store.analyses(info.id)
        if info.state == "recording" or REPORT_KIND in have or "error" in have.get("pelvis", {}):
            continue
        try:
            analysis = analyse_recording(stored_recording(store, info.id), settings=profile.settings())
        except ValueError:
            continue  # e.g. a ride without a stand: nothing to report, the session stays as it is
        products = derive(analysis)
        report = build_report(products, session_entry(info), history_medians(store, info.id, products.main_activity,
                                                                 before=info.started_at), profile)
        store.save_analysis(info.id, REPORT_KIND, report)
        done.append(info.id)
    return done


__all__ = ["FORMATS", "HistoryPaths", "ReportPaths", "analyse_unreported", "build_report", "write_history",
           "write_report", "write_report_for_recording"]
