"""A watch's FIT file with a pod session (issue 22, docs/watch.md): read, align, grade, pace threshold,
the store, `import-activity`, `export --fit/--csv`, and the report's watch section in headless Chromium.

The watch files are written by fit-tool (an independent FIT encoder) from the simulator's watch stream
(host.simulator.watch): GPS noise, 1-s records, auto-pause, manual pauses; the truth comes with it.
"""
from __future__ import annotations

import csv
import html as html_lib
import json
import re

import numpy as np
import pytest
from garmin_fit_sdk import Decoder, Stream
from tiltguard.host.analysis import analyse_recording
from tiltguard.host.cli import main
from tiltguard.host.rawcsv import write_raw
from tiltguard.host.report.chromium import find_chromium, run_headless
from tiltguard.host.simulator import simulate
from tiltguard.host.simulator.watch import simulate_watch, true_segment_grade
from tiltguard.host.store import SessionStore
from tiltguard.host.watch.align import AlignmentRefused, align_watch, session_counter
from tiltguard.host.watch.fit_export import RECORD_FIELDS, encode_fit, seconds_table
from tiltguard.host.watch.fit_read import WatchFileError, read_fit
from tiltguard.host.watch.grade import altitude_profile
from tiltguard.host.watch.merge import pace_bands, pace_threshold, stride_table
from tiltguard_eval.watch_fit import sim_watch_to_fit

START = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC: the pod session's first sample
THRESHOLD_MPS = 1000 / 270  # the pace scenarios' documented threshold, 4:30 /km (host/simulator/scenarios.py)


def _session(name, activity, seed=1, minutes=None):
    rec, truth = simulate(name, minutes=minutes, rate_hz=100, seed=seed)
    return rec, truth, analyse_recording(rec), activity


@pytest.fixture(scope="module")
def sessions():
    return {
        "run": _session("easy-run-neutral", "running", minutes=6),
        "ride": _session("ride-rolling", "riding", minutes=17),
        "intervals": _session("track-intervals", "running"),
        "pauses": _session("run-turns-stops", "running", minutes=8),
        "hills": _session("run-rolling-hills", "running"),
        "ladder": _session("run-pace-ladder", "running"),
    }


def _fit_of(truth, offset_s, seed=1, **kw) -> bytes:
    return sim_watch_to_fit(simulate_watch(truth, START, offset_s=offset_s, seed=seed, **kw))


def test_reader_round_trips_a_watch_file():
    rec, truth = simulate("run-turns-stops", minutes=8, rate_hz=100, seed=3)
    w = simulate_watch(truth, START, offset_s=12.4, seed=3, manual_pauses=((100.0, 130.0),))
    s = read_fit(sim_watch_to_fit(w))
    assert s.sport == "running" and len(s) == len(w)
    np.testing.assert_array_equal(s.timestamp, w.timestamp)
    np.testing.assert_allclose(s.lat_deg, w.lat_deg, atol=1e-6)  # semicircles: ~1 cm
    np.testing.assert_allclose(s.distance_m, w.distance_m, atol=0.006)  # FIT: 1 cm
    np.testing.assert_allclose(s.speed_mps, w.speed_mps, atol=6e-4)  # FIT: 1 mm/s
    np.testing.assert_allclose(s.altitude_m, w.altitude_m, atol=0.11)  # FIT: 0.2 m
    np.testing.assert_allclose(s.cadence, w.cadence, atol=0.02)  # strides/min + 1/128 back to steps/min
    np.testing.assert_array_equal(s.heart_rate_bpm, w.heart_rate_bpm)
    # the stand at the crossing (auto-pause) and the 30-s manual pause are timer stop/start pairs
    assert len(s.pauses) == len(w.pauses) >= 2
    assert any(b - a >= 30 for a, b in s.pauses)
    assert [(lap["start"], lap["end"]) for lap in s.laps] == w.laps
    blob = s.to_bytes()
    back = type(s).from_bytes(blob)
    np.testing.assert_array_equal(back.cadence, s.cadence)
    assert back.laps == s.laps and back.pauses == s.pauses


def test_bad_files_are_refused_in_one_line(tmp_path):
    with pytest.raises(WatchFileError, match="not a FIT file"):
        read_fit(b"hello, this is a GPX file" * 10)
    rec, truth = simulate("walk-easy", minutes=2, rate_hz=100)
    data = bytearray(_fit_of(truth, 0.0))
    data[200] ^= 0xFF
    with pytest.raises(WatchFileError, match="damaged"):
        read_fit(bytes(data))
    with pytest.raises(WatchFileError, match="cannot read"):
        read_fit(tmp_path / "missing.fit")


@pytest.mark.parametrize("key, offset, pauses", [
    ("run", 3.37, ()), ("run", -41.8, ()), ("ride", 7.61, ()), ("intervals", -2.45, ()),
    ("pauses", 5.73, ((150.0, 185.0),)),
])
def test_alignment_recovers_the_offset(sessions, key, offset, pauses):
    rec, truth, a, activity = sessions[key]
    watch = read_fit(_fit_of(truth, offset, manual_pauses=pauses))
    for shift in (900.0, None):  # a live session's clock, and a synced one whose start is unknown
        al = align_watch(watch, session_counter(a, activity), START, rec.duration_s, activity, max_shift_s=shift)
        assert abs(al.offset_s - offset) < 0.5, (key, al)
        assert 0 < al.sd_s < 0.5 and al.correlation > 0.9
        assert abs(al.offset_s - offset) < 4 * al.sd_s + 0.05  # the uncertainty is honest


def test_mismatching_files_are_refused(sessions):
    rec, truth, a, activity = sessions["run"]
    counter = session_counter(a, activity)
    # another day's file: the clocks say so
    day_before = read_fit(sim_watch_to_fit(simulate_watch(truth, START - 86400, offset_s=0.0, seed=1)))
    with pytest.raises(AlignmentRefused, match="do not overlap"):
        align_watch(day_before, counter, START, rec.duration_s, activity, max_shift_s=900.0)
    # the same routine on another day, with no clock to tell: the stride-to-stride wobble does not match
    _, other_truth = simulate("easy-run-neutral", minutes=6, rate_hz=100, seed=9)
    other = read_fit(_fit_of(other_truth, 0.0, seed=9))
    with pytest.raises(AlignmentRefused, match="another day"):
        align_watch(other, counter, START, rec.duration_s, activity, max_shift_s=None)
    # another activity: a ride file for a run, and a different run in the same hour
    ride = read_fit(_fit_of(sessions["ride"][1], 0.0))
    with pytest.raises(AlignmentRefused, match="cycling activity"):
        align_watch(ride, counter, START, rec.duration_s, activity, max_shift_s=900.0)
    hills = read_fit(_fit_of(sessions["hills"][1], 0.0))
    with pytest.raises(AlignmentRefused, match="another"):
        align_watch(hills, counter, START, rec.duration_s, activity, max_shift_s=900.0)


def test_grade_within_one_percent_over_100_m(sessions):
    rec, truth, a, activity = sessions["hills"]
    for seed in (1, 2):
        w = simulate_watch(truth, START, offset_s=0.0, seed=seed)
        s = read_fit(sim_watch_to_fit(w))
        edges, true_grade = true_segment_grade(w)
        assert np.ptp(true_grade) > 0.1  # the route really climbs and descends (±6 %)
        a0 = np.interp(edges, w.true_distance_m, s.distance_m)  # the same stretch in the watch's distance
        a1 = np.interp(edges + 100.0, w.true_distance_m, s.distance_m)
        grid, z = altitude_profile(s.distance_m, s.altitude_m)
        est = (np.interp(a1, grid, z) - np.interp(a0, grid, z)) / (a1 - a0)
        rms = float(np.sqrt(np.mean((est - true_grade) ** 2)))
        assert rms < 0.01, f"grade RMS {100 * rms:.2f} % over {len(edges)} segments"


@pytest.mark.parametrize("key", ["ladder", "hills"])
def test_pace_threshold_within_10_s_per_km(sessions, key):
    rec, truth, a, activity = sessions[key]
    s = read_fit(_fit_of(truth, 1.5))
    al = align_watch(s, session_counter(a, activity), START, rec.duration_s, activity, max_shift_s=900.0)
    st = stride_table(a, s, al.offset_s, START)
    thr = pace_threshold(pace_bands(st, activity), 5.0)
    assert thr is not None
    assert abs(1000 / thr - 1000 / THRESHOLD_MPS) < 10.0, f"{1000 / thr:.1f} s/km vs 270"


def test_exported_fit_passes_the_sdk_decoder_and_round_trips_every_developer_field(sessions):
    rec, truth, a, activity = sessions["hills"]
    s = read_fit(_fit_of(truth, 2.0))
    st = stride_table(a, s, 2.0, START)
    sec = seconds_table(a, st, START, s, 2.0)
    t0 = float(rec.t[0])
    flags = [(f.start - t0, f.end - t0, f.type) for f in a.flags] or [(100.0, 160.0, "test_span")]
    data = encode_fit(sec, flags, activity)
    dec = Decoder(Stream.from_byte_array(bytearray(data)))
    assert dec.is_fit() and dec.check_integrity()
    msgs, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    names = {d["field_name"] for d in msgs["field_description_mesgs"]}
    assert {f.name for f in RECORD_FIELDS} | {"tiltguard_flag"} <= names
    records = msgs["record_mesgs"]
    assert len(records) == len(sec["t_s"])
    cols = {0: "tilt_deg", 1: "drop_left_deg", 2: "drop_right_deg", 3: "rotation_range_deg", 4: "cadence"}
    for key, col in cols.items():
        want = sec[col]
        got = np.array([r.get("developer_fields", {}).get(key, np.nan) for r in records], float)
        assert np.isfinite(want).sum() > 0.8 * len(want)
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
        np.testing.assert_allclose(got[np.isfinite(got)], want[np.isfinite(want)], rtol=1e-6, atol=1e-5)  # float32
    laps = msgs["lap_mesgs"]
    assert sum(lap["developer_fields"][5] for lap in laps) >= 1  # each flagged span is a lap
    assert abs(sum(lap["total_elapsed_time"] for lap in laps) - (sec["t_s"][-1] - sec["t_s"][0] + 1)) < 1.0
    # the watch's channels ride along on the watch's clock
    np.testing.assert_allclose([r["distance"] for r in records[100:110]], sec["distance_m"][100:110], atol=0.01)
    # and the project's own reader reads the export back as an activity
    again = read_fit(data)
    assert again.sport == "running" and len(again) == len(records)


# ---------------------------------------------------------------------- the store, the commands, the report
@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("watch")
    rec, truth = simulate("run-rolling-hills", rate_hz=100, seed=4)
    write_raw(tmp / "run.csv", rec)
    db = tmp / "s.db"
    with SessionStore(db) as store:
        sid = store.import_csv(tmp / "run.csv")
        start = store.session(sid).started_at
    w = simulate_watch(truth, start, offset_s=-6.2, seed=4)
    (tmp / "watch.fit").write_bytes(sim_watch_to_fit(w))
    return {"tmp": tmp, "db": str(db), "sid": sid, "watch": w}


def test_import_activity_and_export(stored, capsys):
    tmp, db, sid = stored["tmp"], stored["db"], stored["sid"]
    assert main(["import-activity", str(tmp / "watch.fit"), str(sid), "--db", db]) == 0
    out = capsys.readouterr().out
    m = re.search(r"clock is ([+-][\d.]+) ± ([\d.]+) s", out)
    assert m and abs(float(m.group(1)) + 6.2) < 0.5, out
    assert "downhill" in out and "short, quick steps" in out  # bands and the advice they give
    thr = re.search(r"sustained faster than (\d):(\d\d) /km", out)
    assert thr and abs(60 * int(thr.group(1)) + int(thr.group(2)) - 270) <= 10, out
    with SessionStore(db) as store:
        blob, al = store.watch(sid)
        assert abs(al["offset_s"] + 6.2) < 0.5 and al["origin"].endswith("watch.fit")
        assert store.analyses(sid)["watch"]["pace_threshold"].startswith("4:")
    assert main(["export", str(sid), "--fit", "--csv", "-o", str(tmp / "out.fit"), "--db", db]) == 0
    msgs, errors = Decoder(Stream.from_byte_array(bytearray((tmp / "out.fit").read_bytes()))).read()
    assert errors == [] and len(msgs["record_mesgs"]) > 900
    assert any("heart_rate" in r for r in msgs["record_mesgs"])  # carries the watch's records too
    with open(tmp / "out.strides.csv") as f:
        rows = list(csv.DictReader(f))
    paced = [r for r in rows if r["pace_s_per_km"]]
    assert len(paced) > 0.8 * len(rows) and 200 < float(paced[len(paced) // 2]["pace_s_per_km"]) < 400
    with open(tmp / "out.seconds.csv") as f:
        secs = list(csv.DictReader(f))
    assert len(secs) == len(msgs["record_mesgs"]) and secs[300]["tilt_deg"] and secs[300]["speed_mps"]


def test_import_activity_refuses_with_one_line_and_keeps_the_session(stored, tmp_path, capsys):
    db, sid = stored["db"], stored["sid"]
    _, other = simulate("run-rolling-hills", rate_hz=100, seed=11)
    (tmp_path / "other.fit").write_bytes(_fit_of(other, 0.0, seed=11))
    (tmp_path / "junk.fit").write_bytes(b"not a fit file at all" * 20)
    for name in ("other.fit", "junk.fit"):
        capsys.readouterr()
        assert main(["import-activity", str(tmp_path / name), str(sid), "--db", db]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("tiltguard import-activity: error:") and "\n" not in err and "Traceback" not in err
    with SessionStore(db) as store:
        assert store.session(sid).id == sid
        assert store.watch(sid) is not None  # the earlier, matching file is still there (test above)


PROBE = """<script>
window.addEventListener('load', () => {
  const figs = [...document.querySelectorAll('figure[id^="fig-watch-"]')].map(f => {
    const img = f.querySelector('img'); const r = img.getBoundingClientRect();
    return {id: f.id, natural: img.naturalWidth, w: r.width, h: r.height};
  });
  const laps = document.querySelectorAll('#laps tbody tr').length;
  document.body.setAttribute('data-probe', JSON.stringify({figs, laps,
    threshold: (document.getElementById('pace-threshold') || {}).textContent || null}));
});
</script>"""


def test_report_pace_and_grade_figures_in_headless_chromium(stored, tmp_path):
    if find_chromium() is None:
        pytest.skip("Chromium not found (apt-get install chromium, or TILTGUARD_CHROMIUM): rendering not checked")
    from tiltguard.host.report.write import write_report

    with SessionStore(stored["db"]) as store:
        if store.watch(stored["sid"]) is None:
            pytest.skip("needs test_import_activity_and_export's merge")
        paths = write_report(store, stored["sid"], tmp_path / "report")
    report = json.loads(paths.json.read_text())
    assert report["watch"]["pace_threshold"].startswith("4:")
    assert {"watch-pace", "watch-grade", "watch-route"} <= {f["id"] for f in report["figures"]}
    page = paths.html.read_text(encoding="utf-8")
    (tmp_path / "probe.html").write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = run_headless(["--window-size=1280,900", "--virtual-time-budget=10000", "--dump-dom",
                        (tmp_path / "probe.html").as_uri()]).stdout
    m = re.search(r'data-probe="([^"]*)"', dom)
    assert m, "the probe did not run"
    probe = json.loads(html_lib.unescape(m.group(1)))
    figs = {f["id"]: f for f in probe["figs"]}
    assert set(figs) == {"fig-watch-pace", "fig-watch-grade", "fig-watch-route"}
    assert all(f["natural"] > 100 and f["w"] > 100 and f["h"] > 100 for f in figs.values()), figs
    assert probe["laps"] == len(report["watch"]["laps"]) >= 2
    assert "4:3" in probe["threshold"] or "4:2" in probe["threshold"]
    # the route's colours: strides over the threshold (vermillion) and in range (green) both drawn
    from PIL import Image

    png = tmp_path / "route.png"
    route_only = f"<html><body style='margin:0'><img src='{_route_uri(page)}'></body></html>"
    (tmp_path / "route.html").write_text(route_only)
    run_headless(["--window-size=900,900", "--virtual-time-budget=5000", f"--screenshot={png}",
                  (tmp_path / "route.html").as_uri()])
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    red = (np.abs(img - [0xD5, 0x5E, 0x00]).sum(axis=2) < 40).sum()
    green = (np.abs(img - [0x00, 0x9E, 0x73]).sum(axis=2) < 60).sum()
    assert red > 200 and green > 200, (red, green)


def _route_uri(page: str) -> str:
    m = re.search(r'<figure id="fig-watch-route">\s*<img src="([^"]+)"', page)
    assert m
    return m.group(1)


def test_history_compares_tilt_at_the_same_pace(stored, tmp_path, capsys):
    """Two sessions with watch files, one of them last month: the history's pace-matched table shows each
    month's tilt at 5:00 /km, the numbers each session's own merge stored."""
    import sqlite3

    from tiltguard.host.report.write import write_history

    db = stored["db"]
    rec, truth = simulate("run-pace-ladder", rate_hz=100, seed=5)
    write_raw(tmp_path / "ladder.csv", rec)
    with SessionStore(db) as store:
        if store.watch(stored["sid"]) is None:
            pytest.skip("needs test_import_activity_and_export's merge")
        sid = store.import_csv(tmp_path / "ladder.csv")
        start = store.session(sid).started_at
    (tmp_path / "ladder.fit").write_bytes(sim_watch_to_fit(simulate_watch(truth, start, offset_s=3.0, seed=5)))
    assert main(["import-activity", str(tmp_path / "ladder.fit"), str(sid), "--db", db]) == 0
    import datetime as dt

    now = dt.datetime.fromtimestamp(start)
    last_month = (now.replace(day=1) - dt.timedelta(days=1)).replace(day=15, hour=9)
    with sqlite3.connect(db) as conn:  # the ladder was run the month before the hills
        conn.execute("UPDATE sessions SET started_at = ? WHERE id = ?", (last_month.timestamp(), sid))
    with SessionStore(db) as store:
        this = store.analyses(stored["sid"])["watch"]["tilt_at_pace"]
        last = store.analyses(sid)["watch"]["tilt_at_pace"]
        paths = write_history(store, tmp_path / "history")
    h = json.loads(paths.json.read_text())
    common = set(this) & set(last)
    assert "5:00" in common
    for pace in common:
        row = h["pace_matched"]["compare"][pace]
        assert row["this_month"] == round(this[pace]["tilt_deg"], 1)
        assert row["last_month"] == round(last[pace]["tilt_deg"], 1)
    # the ladder's tilt at 5:00 /km is below the 5-deg threshold in both (3.3 m/s: 2.7 deg in the scenario)
    assert 0.5 < h["pace_matched"]["compare"]["5:00"]["last_month"] < 5.0
    page = paths.html.read_text(encoding="utf-8")
    assert 'id="pace-matched"' in page and 'id="fig-pace-matched"' in page
