"""`--format pdf`: the HTML printed by headless Chromium where there is one, else a PDF made from the same
figures and the same report dict with matplotlib (a text page, then one page per figure). Either way the
numbers are the report dict's."""
from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from .chromium import find_chromium, html_to_pdf
from .html import format_number

A4 = (8.27, 11.69)  # inches
WRAP = 95  # characters per line at 9 pt on A4 with margins


def write_pdf(html_path: Path, pdf_path: Path, report: dict, figures: list) -> tuple[Path, str]:
    """(path, how): how = 'chromium' or 'matplotlib'."""
    if find_chromium() is not None:
        return html_to_pdf(html_path, pdf_path), "chromium"
    return pdf_from_figures(report, figures, pdf_path), "matplotlib"


def _summary_lines(r: dict) -> list[tuple[str, str]]:
    """(style, text) lines of the text page: 'h' heading, 'b' bold, '' plain."""
    s = r["summary"]
    out = [("h", f"{s['activity_label']} of {round(s['duration_min'] or 0)} min  ·  {r['session']['label']}"
            + (f"  ·  {r['session']['started_at']}" if r["session"].get("started_at") else "")), ("", "")]
    out += [("b", line) for line in textwrap.wrap(s["headline"], WRAP)] + [("", "")]
    if r["advice"]:
        out.append(("h", "What matters most"))
        for k, a in enumerate(r["advice"], 1):
            out += [("", line) for line in textwrap.wrap(f"{k}. {a['text']}", WRAP)]
            out += [("", "   " + line) for line in textwrap.wrap(f"Why: {a['reason']}", WRAP - 3)]
        out.append(("", ""))
    if r["flags"]:
        out.append(("h", "Flagged intervals"))
        for f in r["flags"]:
            out.append(("", f"{f['label']}: minute {format_number(f['start_min'], 1)} to "
                            f"{format_number(f['end_min'], 1)}, mean {format_number(f['mean'], 1)}, "
                            f"peak {format_number(f['peak'], 1)}"))
        out.append(("", ""))
    out.append(("h", "Metrics (this session · your usual · typical range)"))
    for m in r["metrics"].values():
        usual = "–" if m["history_median"] is None else format_number(m["history_median"], m["decimals"])
        lit = m["literature"]["text"] + f" ({'; '.join(m['literature']['refs'])})" if m["literature"] else ""
        line = f"{m['label']}: {format_number(m['value'], m['decimals'])} {m['unit']} · {usual} · {lit}".rstrip(" ·")
        out += [("", line) for line in textwrap.wrap(line, WRAP)]
    for a in r.get("advice_closing", []):
        out += [("", "")] + [("", line) for line in textwrap.wrap(a["text"], WRAP)]
    return out


def pdf_from_figures(report: dict, figures: list, pdf_path: Path) -> Path:
    lines = _summary_lines(report)
    per_page = 62
    with PdfPages(pdf_path, metadata={"Title": f"Tiltguard report: {report['session']['label']}",
                                      "Creator": "Tiltguard"}) as pdf:
        for start in range(0, len(lines), per_page):
            page = Figure(figsize=A4)
            y = 0.95
            for style, text in lines[start:start + per_page]:
                page.text(0.07, y, text, fontsize=12 if style == "h" else 9,
                          fontweight="bold" if style in ("h", "b") else "normal", va="top")
                y -= 0.0145 if style != "h" else 0.02
            pdf.savefig(page)
        for f in figures:
            if f.figure is not None:
                f.figure.suptitle(f.title, fontsize=11)
                pdf.savefig(f.figure, bbox_inches="tight")
    return pdf_path
