"""Post-session report and history (issue 9) on real simulated sessions in a real SQLite store.

Sessions: a short easy run (the wearer's earlier session, for "your usual"), a 45-minute run whose tilt creeps
up, and a 20-minute ride. Each is simulated, written as a raw CSV, imported into the store (which analyses it on
close), then reported. The browser tests render the pages in headless Chromium and skip, saying so, where
Chromium is absent (README's test command installs it where it can: tests/install-browser.sh).
"""
from __future__ import annotations

import csv
import html as html_lib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from tiltguard.host.rawcsv import write_raw
from tiltguard.host.report.build import rnd
from tiltguard.host.report.chromium import find_chromium, run_headless
from tiltguard.host.report.write import (
    write_history,
    write_report,
    write_report_for_recording,
)
from tiltguard.host.simulator import simulate
from tiltguard.host.store import SessionStore

SESSIONS = {"easy": ("easy-run-neutral", 5.0), "run": ("run-fatigue-creep", 45.0), "ride": ("ride-fatigue", 20.0)}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """{'store', 'ids', 'paths', 'truth'} with every session stored, analysed and reported (oldest first)."""
    root = tmp_path_factory.mktemp("report")
    store = SessionStore(root / "sessions.sqlite3")
    ids, paths, truth = {}, {}, {}
    for key, (scenario, minutes) in SESSIONS.items():
        rec, truth[key] = simulate(scenario, minutes=minutes, rate_hz=200, seed=3)
        write_raw(root / f"{key}.csv", rec)
        ids[key] = store.import_csv(root / f"{key}.csv")
        paths[key] = write_report(store, ids[key], root / key)
    yield {"store": store, "ids": ids, "paths": paths, "truth": truth, "root": root}
    store.close()


class _DataFields(HTMLParser):
    """Every <data value data-key> of a page with its visible text; every <img> with its attributes."""

    def __init__(self):
        super().__init__()
        self.fields, self.images, self.headings = [], [], []
        self._open = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "data":
            self._open = [a.get("data-key"), a.get("value"), ""]
        elif tag == "img":
            self.images.append(a)
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data

    def handle_endtag(self, tag):
        if tag == "data" and self._open is not None:
            self.fields.append(tuple(self._open))
            self._open = None


def _parse(html_path: Path) -> _DataFields:
    p = _DataFields()
    p.feed(html_path.read_text(encoding="utf-8"))
    return p


def _lookup(data, path):
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


@pytest.mark.parametrize("key", ["run", "ride"])
def test_numbers_in_html_equal_json_and_store(reports, key):
    paths, store, sid = reports["paths"][key], reports["store"], reports["ids"][key]
    report = json.loads(paths.json.read_text())
    page = _parse(paths.html)
    assert len(page.fields) > 10
    for path, value, text in page.fields:
        expected = _lookup(report, path)
        if expected is None:
            assert value == "" and text == "–", path
            continue
        assert float(value) == expected, path
        shown = float(text.replace("−", "-"))
        decimals = len(text.split(".")[1]) if "." in text else 0
        assert shown == round(expected, decimals), (path, text, expected)
    shown_paths = {p for p, _, _ in page.fields}
    for metric in report["metrics"]:  # every metric of the table is on the page, from the JSON
        assert f"metrics.{metric}.value" in shown_paths
    # the store holds the very same dict, and the numbers it keeps for every session agree with it
    assert store.analyses(sid)["report"] == report
    stored = store.analyses(sid)["pelvis"]
    row = stored[report["summary"]["activity"]]
    m = report["metrics"]
    tilt_key = "saddle_tilt_deg" if key == "ride" else "mean_tilt_deg"
    assert m[tilt_key]["value"] == rnd(row["tilt_mean_deg"], 1)
    assert m["moving_min"]["value"] == rnd(row["minutes"], 1)
    if key == "run":
        assert m["cadence_spm"]["value"] == rnd(row["cadence_spm"], 1)
        assert m["drop_left_deg"]["value"] == rnd(row["drop_left_deg"], 1)
        assert m["drop_right_deg"]["value"] == rnd(row["drop_right_deg"], 1)
        assert m["anterior_tilt_min"]["value"] == rnd(stored["anterior_tilt_min"], 1)
    flags = [f for f in store.flags(sid) if f[0] != "data_gap"]
    assert [f["type"] for f in report["flags"]] == [f[0] for f in flags]
    for f, (_, start, end, _, _) in zip(report["flags"], flags):
        assert f["start_min"] == rnd(start / 60, 1) and f["end_min"] == rnd(end / 60, 1)


def test_run_report_tells_the_creep(reports):
    report = reports["paths"]["run"].report
    s = report["summary"]
    assert s["activity"] == "running" and s["duration_min"] == 45.0
    # the simulated runner tilts more and more anterior (+6 deg over 40 min): flagged, fitted, headlined
    types = {f["type"] for f in report["flags"]}
    assert {"sustained_anterior_tilt", "tilt_creep"} <= types
    assert re.match(r"Anterior tilt sustained for \d+ of 45 min, ", s["headline"])
    flagged = report["metrics"]["anterior_tilt_min"]["value"]
    assert f"for {round(flagged)} of 45 min" in s["headline"]
    assert 3.0 <= report["trend"]["rise_deg"] <= 9.0
    assert report["metrics"]["tilt_creep_deg"]["value"] == report["trend"]["rise_deg"]
    # cadence within 2 % of the simulator's truth
    truth = reports["truth"]["run"]
    running = truth.activity == 2
    assert report["metrics"]["cadence_spm"]["value"] == pytest.approx(np.median(truth.cadence_spm[running]), rel=0.02)
    # two or three pieces of advice, each with a reason; drills say how (dose and steps)
    assert 2 <= len(report["advice"]) <= 3 and all(a["reason"] for a in report["advice"])
    assert report["advice_closing"] and "does not diagnose" in report["advice_closing"][0]["text"]
    assert report["drills"] and all(d["dose"] and len(d["steps"]) >= 2 for d in report["drills"])
    assert [f["id"] for f in report["figures"]] == ["tilt", "trend", "cadence", "curves", "distributions"]
    # "your usual": the easy run before it is the only earlier run
    easy = reports["paths"]["easy"].report["metrics"]
    m = report["metrics"]["mean_tilt_deg"]
    assert m["history_sessions"] == 1 and m["history_median"] == easy["mean_tilt_deg"]["value"]
    assert m["value"] > m["history_median"] + 1.0  # this run tilted more than the easy one
    assert reports["paths"]["easy"].report["metrics"]["mean_tilt_deg"]["history_sessions"] == 0
    lit = report["metrics"]["drop_left_deg"]["literature"]
    assert lit["refs"] == ["Bramah 2018"] and "Bramah 2018" in report["references"]


def test_ride_report(reports):
    paths = reports["paths"]["ride"]
    report = paths.report
    assert report["summary"]["activity"] == "riding"
    assert report["metrics"]["pedal_cadence_rpm"]["value"] == pytest.approx(88, abs=6)
    # the simulated rider rolls forward and rocks more as the ride goes on
    assert report["metrics"]["ride_tilt_drift_deg_per_h"]["value"] > 3.0
    assert report["metrics"]["rock_growth_pct"]["value"] > 10.0
    assert [f["id"] for f in report["figures"]] == ["tilt", "cadence", "ride", "distributions"]
    assert "anterior_tilt_min" not in report["metrics"]  # meaningless on a saddle
    with open(paths.rides_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == report["rides"]["count"] > 100
    rpm = np.array([float(r["cadence_rpm"]) for r in rows if r["cadence_rpm"]])
    assert np.median(rpm) == pytest.approx(report["metrics"]["pedal_cadence_rpm"]["value"], abs=2)


def test_stride_csv_matches_the_report(reports):
    paths = reports["paths"]["run"]
    with open(paths.strides_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == paths.report["strides"]["count"] > 3000
    running = [r for r in rows if r["activity"] == "running"]
    stride = np.array([float(r["stride_s"]) for r in running])
    cadence = np.array([float(r["cadence_spm"]) for r in running])
    # cadence (0.1 spm) agrees with the stride time as written (1 ms)
    assert np.all(np.abs(cadence - 120 / stride) <= 0.05 + 120 * 0.0005 / stride**2)
    # the last stretch is flagged, the first minutes are not
    assert "sustained_anterior_tilt" in running[-50]["flags"] and running[50]["flags"] == ""
    tilt = np.array([float(r["tilt_mean_deg"]) for r in running])
    assert tilt[-300:].mean() - tilt[300:600].mean() > 3.0


def test_page_structure_and_alt_texts(reports):
    for key in ("run", "ride"):
        page = _parse(reports["paths"][key].html)
        html = reports["paths"][key].html.read_text()
        assert '<html lang="en">' in html and 'name="viewport"' in html
        assert page.headings[0] == 1 and page.headings.count(1) == 1
        assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:]))  # no skipped level
        assert len(page.images) == len(reports["paths"][key].report["figures"])
        for img in page.images:
            assert img["src"].startswith("data:image/svg+xml;base64,")  # self-contained: nothing fetched
            assert len(img["alt"]) > 40 and re.search(r"\d", img["alt"])  # says what the data show
        assert not re.search(r'(src|href)="(https?:)?//', html)


def test_history(reports, tmp_path, capsys):
    from tiltguard.host.cli import main

    store = reports["store"]
    paths = write_history(store, tmp_path)
    history = json.loads(paths.json.read_text())
    by_id = {s["id"]: s for s in history["sessions"]}
    assert set(by_id) == set(reports["ids"].values())
    for key, sid in reports["ids"].items():
        metrics = reports["paths"][key].report["metrics"]
        for col in history["columns"]:
            assert by_id[sid][col] == (metrics[col]["value"] if col in metrics else None)
    page = _parse(paths.html)
    for path, value, text in page.fields:
        expected = _lookup(history, path)
        assert (value == "" and expected is None) or float(value) == expected
    assert page.images and all(len(i["alt"]) > 40 for i in page.images)
    rc = main(["history", "--db", str(store.path), "-o", str(tmp_path / "cli")])
    out = capsys.readouterr().out
    assert rc == 0 and f"{reports['ids']['run']:>4}  " in out and "running" in out and "riding" in out


def test_report_of_a_raw_csv_file_and_bad_input(reports, tmp_path, capsys):
    from tiltguard.host.cli import main

    rc = main(["report", str(reports["root"] / "easy.csv"), "-o", str(tmp_path / "easy")])
    out = capsys.readouterr().out
    assert rc == 0 and "no sustained anterior tilt" in out
    report = json.loads((tmp_path / "easy" / "report.json").read_text())
    assert report["session"]["id"] is None and report["summary"]["activity"] == "running"
    # same recording, same numbers as the stored copy of it
    assert report["metrics"] == {k: v | {"history_median": None, "history_sessions": 0}
                                 for k, v in reports["paths"]["easy"].report["metrics"].items()}
    assert main(["report", "12345", "--db", str(reports["store"].path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no session 12345" in err[0]


# ---------------------------------------------------------------------------------------------- Chromium
PROBE = r"""
<script>
window.addEventListener('load', () => {
  const out = {innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
               scrollHeight: document.documentElement.scrollHeight, sections: {}};
  out.images = [...document.images].map(i => ({alt: i.alt, natural: i.naturalWidth,
                                               shown: Math.round(i.getBoundingClientRect().width)}));
  for (const s of document.querySelectorAll('main > section')) {
    const r = s.getBoundingClientRect(); out.sections[s.id] = [Math.round(r.top + scrollY), Math.round(r.height)];
  }
  const rgb = s => s.match(/[\d.]+/g).map(Number);
  const lum = c => { const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 :
                                                       Math.pow((x + 0.055) / 1.055, 2.4); });
                     return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const background = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
                               if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };
  let worst = 99, worstText = '', minFont = 99; const wide = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode; if (!n.textContent.trim()) continue;
    const el = n.parentElement, st = getComputedStyle(el), r = el.getBoundingClientRect();
    if (st.display === 'none' || st.visibility === 'hidden' || r.width === 0 || r.right <= 0) continue;
    if (r.right > window.innerWidth + 1) wide.push(n.textContent.trim().slice(0, 30));
    const a = lum(rgb(st.color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst) { worst = ratio; worstText = n.textContent.trim().slice(0, 40); }
    minFont = Math.min(minFont, parseFloat(st.fontSize));
  }
  Object.assign(out, {minContrast: worst, worstText, minFontPx: minFont, overflowing: wide.slice(0, 5)});
  const text = JSON.stringify(out);
  document.body.setAttribute('data-probe', text);
  if (window.parent !== window) window.parent.postMessage(text, '*');
});
</script>
"""
PHONE_WIDTH = 375  # CSS px (iPhone-class phone); headless windows are at least 500 px, so the page sits in an iframe
PHONE_FRAME = """<!doctype html><html><body style="margin:0">
<iframe src="probe.html" width="{w}" height="812" style="border:0;display:block"></iframe>
<script>addEventListener('message', e => document.body.setAttribute('data-probe', e.data));</script>
</body></html>"""


@pytest.fixture(scope="module")
def chromium():
    exe = find_chromium()
    if exe is None:
        pytest.skip("Chromium not found (apt-get install chromium, or TILTGUARD_CHROMIUM; README's test command installs it where it can): "
                    "browser rendering not checked")
    return exe


def _probe(html: Path, out_dir: Path, width: int) -> dict:
    """Load a copy of the page with the probe script in headless Chromium, at `width` CSS px."""
    (out_dir / "probe.html").write_text(html.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                                        encoding="utf-8")
    target = out_dir / "probe.html"
    window = width
    if width < 500:
        (out_dir / "phone.html").write_text(PHONE_FRAME.format(w=width))
        target, window = out_dir / "phone.html", 500
    dom = run_headless([f"--window-size={window},900", "--virtual-time-budget=10000", "--dump-dom",
                        target.as_uri()]).stdout
    m = re.search(r'data-probe="([^"]*)"', dom)
    assert m, "the probe did not run"
    return json.loads(html_lib.unescape(m.group(1)))


def _screenshot(url: str, png: Path, width: int, height: int) -> Path:
    run_headless([f"--window-size={width},{height}", "--virtual-time-budget=10000", f"--screenshot={png}", url])
    assert png.exists(), f"Chromium wrote no screenshot {png}"
    return png


def _check_png(png: Path, min_colours: int = 40):
    from PIL import Image

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = np.asarray(Image.open(png).convert("RGB"))
    lum = img.mean(axis=2)
    assert (lum < 200).mean() > 0.02, f"{png.name} is (nearly) blank"
    assert len(np.unique(img.reshape(-1, 3), axis=0)) >= min_colours, f"{png.name} has too few colours"
    return img


@pytest.mark.parametrize("key", ["run", "ride"])
def test_renders_in_headless_chromium(reports, chromium, key, tmp_path):
    html = reports["paths"][key].html
    desk = _probe(html, tmp_path, 1280)
    assert all(i["natural"] > 0 for i in desk["images"]), "an embedded figure did not decode"
    assert desk["scrollWidth"] <= desk["innerWidth"]
    assert desk["minContrast"] >= 4.5, desk["worstText"]  # WCAG AA for body text
    # full-page screenshot, cut into the top of the page and the plots section
    from PIL import Image

    full = _screenshot(html.as_uri(), tmp_path / "full.png", 1280, desk["scrollHeight"])
    img = Image.open(full)
    img.crop((0, 0, 1280, 900)).save(tmp_path / "top.png")
    top, height = desk["sections"]["plots"]
    img.crop((0, top, 1280, top + min(height, 1600))).save(tmp_path / "plots.png")
    top_px = _check_png(tmp_path / "top.png")
    plots_px = _check_png(tmp_path / "plots.png", min_colours=100)
    # the figures' blue (#0072B2) is in the plots, and the two shots differ
    assert (np.abs(plots_px.astype(int) - [0, 114, 178]).sum(axis=2) < 30).sum() > 500
    assert top_px.shape == plots_px.shape[:1] + top_px.shape[1:] or not np.array_equal(top_px, plots_px[:900])


@pytest.mark.parametrize("key", ["run", "ride"])
def test_usable_on_a_phone(reports, chromium, key, tmp_path):
    html = reports["paths"][key].html
    phone = _probe(html, tmp_path, PHONE_WIDTH)
    assert phone["innerWidth"] == PHONE_WIDTH
    assert phone["scrollWidth"] <= PHONE_WIDTH, "the page scrolls sideways on a phone"
    assert not phone["overflowing"], phone["overflowing"]
    assert all(0 < i["shown"] <= PHONE_WIDTH for i in phone["images"])  # figures shrink to the screen
    assert phone["minContrast"] >= 4.5 and phone["minFontPx"] >= 12
    shot = _screenshot((tmp_path / "phone.html").as_uri(), tmp_path / "phone_raw.png", 500, 812)
    from PIL import Image

    Image.open(shot).crop((0, 0, PHONE_WIDTH, 812)).save(tmp_path / "phone.png")
    _check_png(tmp_path / "phone.png")


def test_pdf_from_the_same_html(reports, chromium, tmp_path):
    from tiltguard.host.report.pdf import write_pdf

    paths = reports["paths"]["ride"]
    pdf, how = write_pdf(paths.html, tmp_path / "report.pdf", paths.report, [])
    data = pdf.read_bytes()
    assert how == "chromium"
    assert data[:5] == b"%PDF-" and len(data) > 20_000
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 2


def test_pdf_without_a_browser_from_the_figures(reports, tmp_path, monkeypatch):
    monkeypatch.setenv("TILTGUARD_CHROMIUM", str(tmp_path / "no-such-browser"))
    rec = reports["store"].recording(reports["ids"]["easy"])
    paths = write_report_for_recording(rec, tmp_path, fmt="pdf", label="easy.csv")
    data = paths.pdf.read_bytes()
    assert paths.pdf_by == "matplotlib" and data[:5] == b"%PDF-"
    # a text page plus one page per figure
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1 + len(paths.report["figures"])
