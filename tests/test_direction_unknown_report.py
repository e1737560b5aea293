"""A session whose forward direction could not be decided: the report says so, with the cues, and shows only
what does not depend on which way the wearer faced (issue 19: never a confident reversed tilt)."""
import csv
import json

import pytest
from tiltguard.host.report.write import write_report_for_recording
from tiltguard.host.simulator import simulate


@pytest.fixture(scope="module")
def undecided(tmp_path_factory):
    rec, truth = simulate("treadmill-run", minutes=4, seed=4)
    cut = int(16 * rec.rate_hz)  # the stand, then 6 s on the belt: too few steps to tell forward from back
    short = type(rec)(rec.t[:cut], rec.acc[:cut], rec.gyr[:cut], rec.rate_hz, meta=rec.meta)
    out = tmp_path_factory.mktemp("report")
    return write_report_for_recording(short, out, label="belt.csv"), truth


def test_the_report_marks_direction_unknown_with_the_reason_and_withholds_signed_metrics(undecided):
    paths, _ = undecided
    report = json.loads(paths.json.read_text())
    s = report["summary"]
    assert "keep going" in s["direction_unknown"]
    assert s["direction"]["sign"] == 0 and s["direction"]["cues"]
    for key in ("mean_tilt_deg", "drop_left_deg", "drop_right_deg", "anterior_tilt_min", "step_time_asymmetry_pct"):
        assert key not in report["metrics"]
    assert all(f["type"] in ("rotation_variability", "ride_rock_growth") for f in report["flags"])
    html = paths.html.read_text()
    assert 'id="direction-unknown"' in html and "Direction unknown." in html
    assert "keep going" in html
    with open(paths.strides_csv) as fh:  # signs and sides left empty, ranges kept
        strides = list(csv.DictReader(fh))
    assert strides and all(r["tilt_mean_deg"] == r["drop_left_deg"] == "" and r["tilt_range_deg"] for r in strides)
