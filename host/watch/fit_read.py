"""Read a FIT activity (a watch's or bike computer's file) with Garmin's own FIT SDK decoder.

Why `garmin-fit-sdk`: it is the FIT protocol owner's reference decoder (the one the exported file must
pass), kept in step with every new profile release, pure Python with no dependencies, and it also
encodes (host.watch.fit_export), so one maintained library reads and writes.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from garmin_fit_sdk import Decoder, Stream

from .stream import WatchStream

SEMICIRCLE_DEG = 180.0 / 2**31
ON_FOOT = ("running", "walking", "hiking", "training", "generic")


class WatchFileError(ValueError):
    """The file is not a readable FIT activity; the message says why in one line."""


def read_fit(source: str | os.PathLike | bytes) -> WatchStream:
    data = bytes(source) if isinstance(source, (bytes, bytearray)) else _read_file(source)
    name = "bytes" if isinstance(source, (bytes, bytearray)) else Path(source).name
    stream = Stream.from_byte_array(bytearray(data))
    decoder = Decoder(stream)
    if not decoder.is_fit():
        raise WatchFileError(f"{name} is not a FIT file (no '.FIT' header)")
    if not decoder.check_integrity():
        raise WatchFileError(f"{name} is damaged: its FIT CRC does not match (cut short or altered?)")
    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    messages, errors = decoder.read(convert_datetimes_to_dates=False, merge_heart_rates=False)
    if errors:
        raise WatchFileError(f"{name}: the FIT decoder stopped: {errors[0]}")
    records = [r for r in messages.get("record_mesgs", []) if r.get("timestamp") is not None]
    if not records:
        raise WatchFileError(f"{name} holds no activity records (a course, workout or settings file?)")
    return _stream(messages, records, name)


def _read_file(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise WatchFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def fit_epoch_to_unix(t: float) -> float:
    return float(t) + 631065600.0  # FIT time counts from 1989-12-31 00:00 UTC


def _column(records, *names, scale: float = 1.0) -> np.ndarray | None:
    for name in names:
        if any(r.get(name) is not None for r in records):
            return np.array([np.nan if r.get(name) is None else float(r[name]) * scale for r in records])
    return None


def _stream(messages: dict, records: list[dict], name: str) -> WatchStream:
    sport = _sport(messages)
    t = np.array([fit_epoch_to_unix(r["timestamp"]) for r in records])
    order = np.argsort(t, kind="stable")
    records = [records[i] for i in order]
    t = t[order]
    cadence = _column(records, "cadence")
    if cadence is not None:
        frac = _column(records, "fractional_cadence")
        if frac is not None:
            cadence = cadence + np.nan_to_num(frac)
        if sport in ON_FOOT:
            cadence = 2.0 * cadence  # FIT keeps running cadence in strides (one foot) per minute
    stream = WatchStream(
        sport="cycling" if sport == "cycling" else ("walking" if sport in ("walking", "hiking") else "running"),
        timestamp=t,
        lat_deg=_column(records, "position_lat", scale=SEMICIRCLE_DEG),
        lon_deg=_column(records, "position_long", scale=SEMICIRCLE_DEG),
        distance_m=_column(records, "distance"),
        speed_mps=_column(records, "enhanced_speed", "speed"),
        altitude_m=_column(records, "enhanced_altitude", "altitude"),
        heart_rate_bpm=_column(records, "heart_rate"),
        cadence=cadence,
        power_w=_column(records, "power"),
        laps=[_lap(m) for m in messages.get("lap_mesgs", []) if m.get("start_time") is not None],
        pauses=_pauses(messages.get("event_mesgs", [])),
        meta={"file": name, "sport": sport, **_device(messages)},
    )
    return stream


def _sport(messages) -> str:
    for kind in ("session_mesgs", "sport_mesgs", "lap_mesgs"):
        for m in messages.get(kind, []):
            if m.get("sport") is not None:
                return str(m["sport"])
    return "generic"


def _lap(m: dict) -> dict:
    start = fit_epoch_to_unix(m["start_time"])
    elapsed = m.get("total_elapsed_time")
    end = fit_epoch_to_unix(m["timestamp"]) if m.get("timestamp") is not None else start + float(elapsed or 0)
    lap = {"start": start, "end": end}
    for key, out in (("total_distance", "distance_m"), ("total_timer_time", "timer_s"), ("avg_heart_rate", "hr_bpm"),
                     ("lap_trigger", "trigger")):
        if m.get(key) is not None:
            lap[out] = m[key] if isinstance(m[key], str) else float(m[key])
    return lap


def _pauses(events: list[dict]) -> list[tuple[float, float]]:
    """Timer stop → next timer start, from the file's timer events."""
    out, stopped = [], None
    for e in sorted((e for e in events if e.get("event") == "timer" and e.get("timestamp") is not None),
                    key=lambda e: e["timestamp"]):
        kind = e.get("event_type")
        t = fit_epoch_to_unix(e["timestamp"])
        if kind in ("stop", "stop_all", "stop_disable", "stop_disable_all"):
            stopped = t if stopped is None else stopped
        elif kind == "start" and stopped is not None:
            out.append((stopped, t))
            stopped = None
    return out


def _device(messages) -> dict:
    ids = messages.get("file_id_mesgs", [])
    if not ids:
        return {}
    f = ids[0]
    return {k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in
            (("manufacturer", f.get("manufacturer")), ("product", f.get("garmin_product", f.get("product"))))
            if v is not None}
