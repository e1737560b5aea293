"""A session as a FIT activity that Garmin Connect, intervals.icu and Golden Cheetah import.

Written with the Garmin FIT SDK's Encoder (the same maintained library that reads watch files). Layout
as a watch writes it: file_id, developer_data_id + field_descriptions, timer start, one record a second,
timer stop, laps, session, activity. The pod's numbers travel as developer fields (float32, degrees or
per minute as the apps show them) on every record:

    pelvic_tilt (deg, vs standing neutral, anterior > 0), drop_left / drop_right (deg, the stride's swing-
    side drop), pelvic_rotation (deg, the stride's range), tiltguard_cadence (steps/min or rpm)

and every flagged span (sustained anterior tilt, excess drop, ...) becomes its own lap, marked by the lap
developer field tiltguard_flag (1 = a flagged span, 0 = between flags). With a merged watch file the
records also carry its position, distance, speed, altitude and heart rate, on the watch's clock.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from garmin_fit_sdk import Encoder, Profile

from .merge import StridesWithWatch, watch_at
from .stream import WatchStream

MESG = Profile["mesg_num"]
FIT_EPOCH_UNIX = 631065600
FLOAT32 = 0x88
UINT8 = 0x02
# A fixed developer id for Tiltguard, so every export's fields are recognised as the same ones.
APPLICATION_ID = list(uuid.uuid5(uuid.NAMESPACE_URL, "tiltguard/fit-export/1").bytes)


@dataclass(frozen=True)
class DevField:
    key: int
    name: str
    units: str
    native_mesg: str
    base_type: int = FLOAT32


RECORD_FIELDS = (
    DevField(0, "pelvic_tilt", "deg", "record"),
    DevField(1, "drop_left", "deg", "record"),
    DevField(2, "drop_right", "deg", "record"),
    DevField(3, "pelvic_rotation", "deg", "record"),
    DevField(4, "tiltguard_cadence", "spm", "record"),
)
LAP_FIELDS = (DevField(5, "tiltguard_flag", "", "lap", UINT8),)


def _fit_time(unix_s: float) -> int:
    return int(round(unix_s)) - FIT_EPOCH_UNIX


def per_second(t: np.ndarray, x: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Mean of x over each [s - 1, s) (NaN-aware); t and seconds on the same clock."""
    k = np.floor(t - (seconds[0] - 1)).astype(np.int64)
    ok = (k >= 0) & (k < len(seconds)) & np.isfinite(x)
    n = np.bincount(k[ok], minlength=len(seconds)).astype(float)
    s = np.bincount(k[ok], x[ok], minlength=len(seconds))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / n, np.nan)


def stride_value(strides: StridesWithWatch, column: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The value of the stride that contains each session time t (NaN between strides)."""
    j = np.searchsorted(strides.t_start, t, side="right") - 1
    ok = (j >= 0) & (t <= strides.t_end[np.clip(j, 0, None)])
    out = np.full(len(t), np.nan)
    out[ok] = column[j[ok]]
    return out


def seconds_table(analysis, strides: StridesWithWatch, session_start_unix: float, watch: WatchStream | None = None,
                  offset_s: float = 0.0) -> dict[str, np.ndarray]:
    """One row a second of the session: the pod's values and (merged) the watch's, on the export clock."""
    t0 = float(analysis.rec.t[0])
    t = analysis.rec.t - t0
    secs = np.arange(1.0, np.floor(t[-1]) + 1.0)
    clock = session_start_unix + (offset_s if watch is not None else 0.0)
    signed = analysis.alignment.direction_known  # without the direction the angles' signs are not known
    out = {"t_s": secs, "timestamp": clock + secs}
    for name in ("tilt", "obliquity", "rotation"):
        out[f"{name}_deg"] = per_second(t, np.degrees(getattr(analysis.angles, name)), secs) if signed \
            else np.full(len(secs), np.nan)
    for name, col in (("drop_left_deg", strides.drop_left_deg), ("drop_right_deg", strides.drop_right_deg),
                      ("rotation_range_deg", strides.rotation_deg), ("cadence", strides.cadence)):
        out[name] = stride_value(strides, col, secs - 0.5)
    if watch is not None:
        tw = out["timestamp"]
        for name, ch in (("lat_deg", watch.lat_deg), ("lon_deg", watch.lon_deg), ("distance_m", watch.distance_m),
                         ("speed_mps", watch.speed_mps), ("altitude_m", watch.altitude_m),
                         ("heart_rate_bpm", watch.heart_rate_bpm), ("power_w", watch.power_w)):
            out[name] = watch_at(watch, ch, tw)
    return out


def write_fit_export(path, seconds: dict[str, np.ndarray], flags: list[tuple[float, float, str]], sport: str,
                     serial: int = 0) -> dict:
    """Write the FIT file; `flags`: (start, end, kind) in session s. Returns what was written (counts)."""
    data = encode_fit(seconds, flags, sport, serial)
    with open(path, "wb") as f:
        f.write(data)
    return {"bytes": len(data), "records": len(seconds["t_s"])}


def encode_fit(seconds: dict[str, np.ndarray], flags: list[tuple[float, float, str]], sport: str,
               serial: int = 0) -> bytes:
    ts = seconds["timestamp"]
    if len(ts) == 0:
        raise ValueError("the session is shorter than a second: nothing to export")
    fit_sport = {"riding": "cycling", "walking": "walking"}.get(sport, "running")
    enc = Encoder()
    start, end = float(ts[0]) - 1.0, float(ts[-1])
    enc.write_mesg({"mesg_num": MESG["FILE_ID"], "type": "activity", "manufacturer": "development",
                    "product": 1, "serial_number": serial or 1, "time_created": _fit_time(start)})
    dev_id = {"mesg_num": MESG["DEVELOPER_DATA_ID"], "developer_data_index": 0, "application_id": APPLICATION_ID,
              "application_version": 1}
    enc.write_mesg(dev_id)
    for f in RECORD_FIELDS + LAP_FIELDS:
        desc = {"mesg_num": MESG["FIELD_DESCRIPTION"], "developer_data_index": 0, "field_definition_number": f.key,
                "fit_base_type_id": f.base_type, "field_name": f.name, "units": f.units,
                "native_mesg_num": MESG[f.native_mesg.upper()]}
        enc.write_mesg(desc)
        enc.add_developer_field(f.key, dev_id, desc)
    enc.write_mesg({"mesg_num": MESG["EVENT"], "timestamp": _fit_time(start), "event": "timer",
                    "event_type": "start", "timer_trigger": "manual"})
    pod = {0: "tilt_deg", 1: "drop_left_deg", 2: "drop_right_deg", 3: "rotation_range_deg", 4: "cadence"}
    has_watch = "distance_m" in seconds
    for i in range(len(ts)):
        rec = {"mesg_num": MESG["RECORD"], "timestamp": _fit_time(ts[i])}
        dev = {k: float(seconds[col][i]) for k, col in pod.items() if np.isfinite(seconds[col][i])}
        if dev:
            rec["developer_fields"] = dev
        c = seconds["cadence"][i]
        if np.isfinite(c):  # native cadence too, so the apps' own cadence chart shows it
            per_foot = c if fit_sport == "cycling" else c / 2.0
            rec["cadence"] = int(per_foot)
            rec["fractional_cadence"] = float(per_foot - int(per_foot))
        if has_watch:
            for col, field, conv in WATCH_RECORD_FIELDS:
                v = seconds[col][i]
                if np.isfinite(v):
                    rec[field] = conv(v)
        enc.write_mesg(rec)
    enc.write_mesg({"mesg_num": MESG["EVENT"], "timestamp": _fit_time(end), "event": "timer",
                    "event_type": "stop_all", "timer_trigger": "manual"})
    laps = lap_spans(float(seconds["t_s"][0]) - 1.0, float(seconds["t_s"][-1]), flags)
    t_s = seconds["t_s"]
    for k, (a, b, flagged) in enumerate(laps):
        lap = {"mesg_num": MESG["LAP"], "message_index": k, "timestamp": _fit_time(start + (b - laps[0][0])),
               "start_time": _fit_time(start + (a - laps[0][0])), "total_elapsed_time": float(b - a),
               "total_timer_time": float(b - a), "event": "lap", "event_type": "stop",
               "lap_trigger": "manual" if flagged else "session_end" if k == len(laps) - 1 else "time",
               "sport": fit_sport, "developer_fields": {5: int(flagged)}}
        if has_watch:
            sel = (t_s > a) & (t_s <= b)
            d = seconds["distance_m"][sel]
            if np.isfinite(d).any():
                lap["total_distance"] = float(np.nanmax(d) - np.nanmin(d))
        enc.write_mesg(lap)
    session = {"mesg_num": MESG["SESSION"], "message_index": 0, "timestamp": _fit_time(end),
               "start_time": _fit_time(start), "total_elapsed_time": end - start, "total_timer_time": end - start,
               "sport": fit_sport, "event": "session", "event_type": "stop", "trigger": "activity_end",
               "first_lap_index": 0, "num_laps": len(laps)}
    if has_watch and np.isfinite(seconds["distance_m"]).any():
        session["total_distance"] = float(np.nanmax(seconds["distance_m"]) - np.nanmin(seconds["distance_m"]))
    enc.write_mesg(session)
    enc.write_mesg({"mesg_num": MESG["ACTIVITY"], "timestamp": _fit_time(end), "total_timer_time": end - start,
                    "num_sessions": 1, "type": "manual", "event": "activity", "event_type": "stop"})
    return bytes(enc.close())


def lap_spans(t_first: float, t_last: float, flags: list[tuple[float, float, str]]) -> list[tuple[float, float, bool]]:
    """Laps that cut the session at every flagged span's start and end: (start, end, flagged), session s."""
    spans = sorted((max(t_first, a), min(t_last, b)) for a, b, _ in flags if b > a)
    merged: list[list[float]] = []
    for a, b in spans:
        if a >= b:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, at = [], t_first
    for a, b in merged:
        if a - at >= 1.0:
            out.append((at, a, False))
        out.append((max(at, a), b, True))
        at = b
    if t_last - at >= 1.0 or not out:
        out.append((at, t_last, False))
    return [(a, b, f) for a, b, f in out if b - a >= 1.0] or [(t_first, t_last, False)]


def _semicircles(deg: float) -> int:
    return int(round(deg * 2**31 / 180.0))


def _uint(v: float) -> int:
    return int(round(v))


# (seconds-table column, FIT record field, conversion) of a merged watch's channels
WATCH_RECORD_FIELDS = (
    ("lat_deg", "position_lat", _semicircles), ("lon_deg", "position_long", _semicircles),
    ("distance_m", "distance", float), ("speed_mps", "enhanced_speed", float),
    ("altitude_m", "enhanced_altitude", float), ("heart_rate_bpm", "heart_rate", _uint), ("power_w", "power", _uint),
)
