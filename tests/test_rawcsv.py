"""The raw-data CSV: written and read back exactly enough, and every bad file refused in one clear line."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
from tiltguard.host.rawcsv import RawFormatError, read_raw, write_raw
from tiltguard.host.simulator import simulate


@pytest.fixture(scope="module")
def recording():
    rec, _ = simulate("walk-to-run", minutes=3.5, rate_hz=200, seed=5)
    return rec


@pytest.fixture()
def written(tmp_path, recording):
    path = tmp_path / "run.csv"
    write_raw(path, recording)
    return path


def test_round_trip_keeps_samples_within_quantisation(written, recording):
    back = read_raw(written)
    assert len(back) == len(recording)
    assert back.rate_hz == recording.rate_hz and back.sensor_model == recording.sensor_model
    assert np.abs(back.t - recording.t).max() < 1e-6
    # 7 significant digits: far below the int16 step of a 16 g accelerometer (4.8e-3 m/s²).
    assert np.abs(back.acc - recording.acc).max() < 1e-5
    assert np.abs(back.gyr - recording.gyr).max() < 1e-6
    assert np.abs(back.temp_c - recording.temp_c).max() <= 0.005
    assert back.meta["scenario"] == "walk-to-run" and back.meta["mount"]["pitch_deg"] == -15.0


def test_header_documents_units_rate_and_sensor(written):
    head = written.read_text().splitlines()[:6]
    assert head[0] == "# tiltguard raw imu v1"
    assert "# rate_hz: 200" in head and "# sensor_model: sim-imu" in head
    assert "m/s^2" in head[3] and "rad/s" in head[3]
    assert head[5].startswith("t_s,acc_x_mps2")


def _rewrite(path, fn):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(fn(lines)) + "\n")


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda L: ["t,ax,ay,az"] + L[1:], "not a Tiltguard raw file"),
        (lambda L: L[:5] + ["t_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_radps,gyr_y_radps,gyr_z_radps,temp_c"] + L[6:], "in g"),
        (lambda L: L[:5] + [L[5].replace("radps", "dps")] + L[6:], "deg/s"),
        (lambda L: L[:5] + ["t_s,acc_x_mps2,acc_y_mps2,gyr_x_radps"] + L[6:], "expected t_s"),
        (lambda L: L[:1] + L[2:], "rate_hz"),
        (lambda L: L[:100] + [L[102]] + L[100:102] + L[103:], "time does not increase"),
        (lambda L: L[:100] + ["0.5,1,2,x,4,5,6,7"] + L[101:], "line 101"),
        (lambda L: L[:100] + [",".join(f if i != 2 else "nan" for i, f in enumerate(L[100].split(",")))] + L[101:],
         "NaN"),
        (lambda L: L[:6], "no samples"),
    ],
)
def test_bad_files_get_one_clear_line(written, damage, message):
    _rewrite(written, damage)
    with pytest.raises(RawFormatError, match=message) as exc:
        read_raw(written)
    assert "\n" not in str(exc.value) and str(written) in str(exc.value)


def _scale_columns(path, cols, factor):
    def fn(lines):
        out = lines[:6]
        for row in lines[6:]:
            v = row.split(",")
            for c in cols:
                v[c] = f"{float(v[c]) * factor:.7g}"
            out.append(",".join(v))
        return out
    _rewrite(path, fn)


def test_values_in_g_are_caught_even_with_the_right_column_names(written):
    _scale_columns(written, (1, 2, 3), 1 / 9.80665)
    with pytest.raises(RawFormatError, match="looks like it is in g"):
        read_raw(written)


def test_values_in_deg_per_s_are_caught_even_with_the_right_column_names(written):
    _scale_columns(written, (4, 5, 6), 180 / np.pi)
    with pytest.raises(RawFormatError, match="looks like deg/s"):
        read_raw(written)


def test_a_file_cut_off_mid_line_keeps_every_complete_row(written, recording):
    text = written.read_text()
    cut = text[: len(text) - 25]  # a crash while writing the last row
    written.write_text(cut)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = read_raw(written)
    assert any("cut off" in str(w.message) for w in caught)
    assert len(back) == len(recording) - 1
    assert back.meta["truncated"] is True
    assert np.abs(back.acc - recording.acc[:-1]).max() < 1e-5


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(RawFormatError, match="no such file"):
        read_raw(tmp_path / "nope.csv")
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 100)
    with pytest.raises(RawFormatError, match="not a text file"):
        read_raw(binary)


def test_cli_simulate_writes_a_readable_file_and_refuses_bad_input(tmp_path):
    out = tmp_path / "sim.csv"
    cmd = [sys.executable, "-m", "tiltguard.host.cli", "simulate", "ride-steady", "-o", str(out), "--minutes", "2",
           "--rate", "100", "--seed", "3"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "wrote" in done.stdout
    rec = read_raw(out)
    assert rec.rate_hz == 100 and len(rec) == 12000 and rec.meta["seed"] == 3
    bad = subprocess.run(cmd[:4] + ["no-such-scenario", "-o", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "unknown scenario" in bad.stderr
    slow = subprocess.run(cmd[:4] + ["ride-steady", "-o", str(out), "--rate", "20"], capture_output=True, text=True)
    assert slow.returncode == 2 and "outside" in slow.stderr


def test_cli_lists_scenarios_and_runs_the_demo():
    listing = subprocess.run([sys.executable, "-m", "tiltguard.host.cli", "scenarios"], capture_output=True, text=True,
                             check=True).stdout
    assert len(listing.strip().splitlines()) >= 10 and "run-fatigue-creep" in listing
    demo = subprocess.run([sys.executable, "-m", "tiltguard.host.cli", "demo"], capture_output=True, text=True, check=True).stdout
    assert "running cadence 16" in demo and "sustained anterior tilt: 1 interval" in demo
    assert "Flags from the sensor alone" in demo and "Shorten your stride: aim for 176-185 steps/min" in demo
