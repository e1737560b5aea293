"""The raw-data file: one sensor's samples as a documented CSV (see docs/raw-format.md).

    # tiltguard raw imu v1
    # rate_hz: 200
    # sensor_model: ICM-42688-P
    # units: t_s = device time (s); acc = specific force (m/s^2, sensor frame); gyr = rad/s; temp_c = deg C
    # meta: {"scenario": "easy-run-neutral", "mount": {...}}
    t_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps,temp_c
    0.000000,0.51749,0.01004,9.95114,-0.00511,0.00023,-0.00205,24.0

Reading checks what can go wrong with a file from elsewhere and says so in one line: not this format,
wrong or missing columns, the wrong units (g instead of m/s², deg/s instead of rad/s), time that does
not increase, numbers that are not numbers. A file cut off mid-line (a crash while writing) keeps every
complete row; only the torn last line is dropped, with a warning.
"""
from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
from tiltguard.host.jsonable import numpy_default
from tiltguard.host.samples import GRAVITY, RawRecording
from tiltguard.host.text import printable

MAGIC = "# tiltguard raw imu v1"
COLUMNS = ("t_s", "acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_radps", "gyr_y_radps", "gyr_z_radps")
OPTIONAL = ("temp_c",)
UNITS_LINE = (
    "t_s = device time (s); acc = specific force (m/s^2, sensor frame, +9.81 up at rest); "
    "gyr = angular rate (rad/s, sensor frame); temp_c = die temperature (deg C)"
)
# Column names people use for other units, and what to do about them.
_WRONG_UNITS = {
    "_g": "accelerometer columns are in g; Tiltguard raw files use m/s^2 (multiply by 9.80665)",
    "_dps": "gyroscope columns are in deg/s; Tiltguard raw files use rad/s (multiply by pi/180)",
    "_degps": "gyroscope columns are in deg/s; Tiltguard raw files use rad/s (multiply by pi/180)",
    "_ms": "time column is in ms; Tiltguard raw files use seconds",
}


MIN_RATE_HZ, MAX_RATE_HZ = 10.0, 2000.0  # what an IMU for gait can mean; outside it the header lies
RATE_TOLERANCE = 0.05  # header rate vs 1 / median time step
MAX_FILE_BYTES = 4 << 30  # ~50 h at 200 Hz: a bigger file is refused before it is read into memory


class RawFormatError(ValueError):
    """The file is not a valid Tiltguard raw file; the message says why, in one line."""


def write_raw(path: str | Path, rec: RawRecording) -> None:
    """Write `rec` as a raw CSV (atomically: a crash leaves the old file or the new one, never half)."""
    path = Path(path)
    cols = list(COLUMNS) + (["temp_c"] if rec.temp_c is not None else [])
    header = [
        MAGIC,
        f"# rate_hz: {rec.rate_hz:g}",
        f"# sensor_model: {rec.sensor_model}",
        f"# units: {UNITS_LINE}",
        f"# meta: {json.dumps(rec.meta, sort_keys=True, default=numpy_default)}",
        ",".join(cols),
    ]
    data = [rec.t[:, None], rec.acc, rec.gyr] + ([rec.temp_c[:, None]] if rec.temp_c is not None else [])
    table = np.hstack(data)
    fmt = ["%.6f"] + ["%.7g"] * 6 + (["%.2f"] if rec.temp_c is not None else [])
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", newline="\n") as f:
        f.write("\n".join(header) + "\n")
        np.savetxt(f, table, fmt=fmt, delimiter=",")
    tmp.replace(path)


def read_raw(path: str | Path) -> RawRecording:
    """Read a raw CSV; raises RawFormatError (one line, naming the file) for anything not right."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise RawFormatError(f"{path}: {path.stat().st_size / 2**30:.1f} GiB is more than a raw file holds "
                                 f"(at most {MAX_FILE_BYTES / 2**30:.0f} GiB); split it")
        text = path.read_text()
    except FileNotFoundError:
        raise RawFormatError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise RawFormatError(f"{path}: not a text file, so not a Tiltguard raw CSV") from None
    try:
        return _parse(text)
    except RawFormatError as exc:
        raise RawFormatError(f"{path}: {exc}") from None


def _parse(text: str) -> RawRecording:
    lines = text.split("\n")
    if not lines or lines[0].strip() != MAGIC:
        raise RawFormatError(f"first line is not {MAGIC!r}: not a Tiltguard raw file (or another version)")
    fields: dict[str, str] = {}
    i = 1
    while i < len(lines) and lines[i].startswith("#"):
        key, _, value = lines[i][1:].partition(":")
        fields[key.strip()] = value.strip()
        i += 1
    if i >= len(lines) or not lines[i].strip():
        raise RawFormatError("no column header after the # lines")
    columns = [c.strip() for c in lines[i].split(",")]
    _check_columns(columns)
    try:
        rate_hz = float(fields["rate_hz"])
    except (KeyError, ValueError):
        raise RawFormatError("header lacks a numeric '# rate_hz:' line") from None
    # checked before anything is sized from it (a rate of 1e9 would ask for gigabytes downstream)
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise RawFormatError(f"'# rate_hz: {printable(fields['rate_hz'], 24)}' is outside {MIN_RATE_HZ:g}-"
                             f"{MAX_RATE_HZ:g} Hz")
    try:
        meta = json.loads(fields.get("meta", "{}"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise RawFormatError(f"'# meta:' line is not valid JSON ({getattr(exc, 'msg', 'nested too deep')})") from None
    if not isinstance(meta, dict):
        raise RawFormatError(f"'# meta:' line must be a JSON object {{...}}, not a {type(meta).__name__}")

    body = lines[i + 1 :]
    while body and not body[-1].strip():
        body.pop()
    # A writer killed mid-line leaves a torn last row: keep everything before it.
    if body and body[-1].count(",") != len(columns) - 1:
        warnings.warn(f"last line (row {len(body)}) is incomplete and was dropped; the file was cut off")
        body.pop()
        meta["truncated"] = True
    if not body:
        raise RawFormatError("no samples after the header")
    table = _numbers(body, len(columns), first_line=i + 2)
    t = table[:, 0]
    _check_time(t)
    _check_rate(t, rate_hz)
    acc, gyr = table[:, 1:4], table[:, 4:7]
    _check_units(acc, gyr)
    temp = table[:, 7] if len(columns) == 8 else None
    return RawRecording(t, acc, gyr, rate_hz, fields.get("sensor_model", "unknown"), temp_c=temp, meta=meta)


def _check_columns(columns: list[str]) -> None:
    for suffix, advice in _WRONG_UNITS.items():
        if any(c.endswith(suffix) for c in columns):
            raise RawFormatError(advice)
    expected = list(COLUMNS)
    if columns not in (expected, expected + list(OPTIONAL)):
        raise RawFormatError(f"columns are {','.join(columns)}; expected {','.join(expected)}[,temp_c]")


def _numbers(rows: list[str], ncols: int, first_line: int) -> np.ndarray:
    try:
        table = np.loadtxt(io.StringIO("\n".join(rows)), delimiter=",", ndmin=2)
    except ValueError as exc:
        raise RawFormatError(f"a row is not {ncols} numbers ({_first_bad_row(rows, ncols, first_line) or exc})") from None
    if table.shape[1] != ncols:
        raise RawFormatError(f"rows have {table.shape[1]} values, the header names {ncols}")
    bad = ~np.isfinite(table).all(axis=1)
    if bad.any():
        raise RawFormatError(f"line {first_line + int(np.argmax(bad))} holds NaN or infinity")
    return table


def _first_bad_row(rows: list[str], ncols: int, first_line: int) -> str | None:
    for k, row in enumerate(rows):
        parts = row.split(",")
        try:
            if len(parts) != ncols:
                raise ValueError
            [float(p) for p in parts]
        except ValueError:
            return f"line {first_line + k}: {row[:60]!r}"
    return None


def _check_time(t: np.ndarray) -> None:
    steps = np.diff(t)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise RawFormatError(f"time does not increase at sample {k + 1} (t = {t[k]:.6f} then {t[k + 1]:.6f} s)")


def _check_rate(t: np.ndarray, rate_hz: float) -> None:
    """The header's rate must be the timestamps' rate (within 5 % of 1 / median step): a wrong rate or
    time in the wrong unit would make every duration and frequency downstream wrong without a word."""
    if len(t) < 3:
        return
    step = float(np.median(np.diff(t)))
    measured = 1.0 / step
    if abs(measured - rate_hz) <= RATE_TOLERANCE * rate_hz:
        return
    if abs(measured * 1000.0 - rate_hz) <= RATE_TOLERANCE * rate_hz:
        raise RawFormatError(f"t_s steps by {step:g} per sample at '# rate_hz: {rate_hz:g}': time looks like "
                             "milliseconds; Tiltguard raw files use seconds (divide by 1000)")
    if abs(measured / 1e6 - rate_hz) <= RATE_TOLERANCE * rate_hz:
        raise RawFormatError(f"t_s steps by {step:g} per sample at '# rate_hz: {rate_hz:g}': time looks like "
                             "microseconds; Tiltguard raw files use seconds (divide by 1e6)")
    raise RawFormatError(f"'# rate_hz: {rate_hz:g}' does not match the timestamps ({measured:.4g} Hz from the "
                         f"median step of {step:g} s; allowed {RATE_TOLERANCE:.0%})")


def _check_units(acc: np.ndarray, gyr: np.ndarray) -> None:
    """Catch the two classic unit slips. At any sensor pose the accelerometer's median magnitude is
    near 1 g = 9.81 m/s²; a body's rotation rate stays well below 35 rad/s (2000 deg/s)."""
    g_median = float(np.median(np.linalg.norm(acc, axis=1)))
    if 0.5 < g_median < 1.6:
        raise RawFormatError(f"median |acc| is {g_median:.2f}: the accelerometer looks like it is in g, not m/s^2")
    if not 3.0 < g_median < 30.0:
        raise RawFormatError(f"median |acc| is {g_median:.2f} m/s^2, far from gravity ({GRAVITY}): wrong units?")
    gyr_p99 = float(np.percentile(np.abs(gyr), 99))
    if gyr_p99 > 35.0:
        raise RawFormatError(f"99th percentile |gyr| is {gyr_p99:.0f}: the gyroscope looks like deg/s, not rad/s")

