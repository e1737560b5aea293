"""A simulated watch's records (host.simulator.watch.SimWatch) as a FIT activity file, written with fit-tool.

fit-tool is a second, independent FIT encoder: the files the tests and the bench feed to the product's
reader (Garmin's SDK decoder) are not written by the same library that reads them, so a bug shared by
the writer and the reader cannot hide. Laid out the way watches write activities: file_id, timer start,
records (timer stop/start events around every pause), laps, session, activity.
"""
from __future__ import annotations

import numpy as np
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer, Sport


def _ms(unix_s: float) -> int:
    return int(round(unix_s * 1000))


def sim_watch_to_fit(w, with_cadence: bool = True, with_altitude: bool = True) -> bytes:
    sport = {"cycling": Sport.CYCLING, "walking": Sport.WALKING}.get(w.sport, Sport.RUNNING)
    b = FitFileBuilder(auto_define=True, min_string_size=50)
    m = FileIdMessage()
    m.type = FileType.ACTIVITY
    m.manufacturer = Manufacturer.DEVELOPMENT.value
    m.product = 0
    m.serial_number = 0x5EED0000 + int(w.meta.get("seed", 0))
    m.time_created = _ms(w.timestamp[0])
    b.add(m)
    b.add(_event(w.timestamp[0], EventType.START))
    pause_at = {a: b_ for a, b_ in w.pauses}
    for i, ts in enumerate(w.timestamp):
        r = RecordMessage()
        r.timestamp = _ms(ts)
        r.position_lat = float(w.lat_deg[i])
        r.position_long = float(w.lon_deg[i])
        r.distance = float(w.distance_m[i])
        r.enhanced_speed = float(w.speed_mps[i])
        if with_altitude:
            r.enhanced_altitude = float(w.altitude_m[i])
        r.heart_rate = int(w.heart_rate_bpm[i])
        if with_cadence:
            c = float(w.cadence[i]) / (1.0 if w.sport == "cycling" else 2.0)  # FIT: strides/min on foot
            r.cadence = int(np.floor(c))
            r.fractional_cadence = float(c - np.floor(c))
        if w.power_w is not None:
            r.power = int(round(w.power_w[i]))
        b.add(r)
        if float(ts) in pause_at:
            b.add(_event(ts, EventType.STOP_ALL))
            b.add(_event(pause_at[float(ts)], EventType.START))
    end = w.timestamp[-1]
    b.add(_event(end, EventType.STOP_ALL))
    for k, (a, e) in enumerate(w.laps):
        lap = LapMessage()
        lap.message_index = k
        lap.timestamp = _ms(e)
        lap.start_time = _ms(a)
        lap.total_elapsed_time = float(e - a)
        lap.total_timer_time = float(e - a)
        sel = (w.timestamp >= a) & (w.timestamp <= e)
        lap.total_distance = float(np.ptp(w.distance_m[sel])) if sel.any() else 0.0
        lap.sport = sport
        b.add(lap)
    s = SessionMessage()
    s.timestamp = _ms(end)
    s.start_time = _ms(w.timestamp[0])
    s.total_elapsed_time = float(end - w.timestamp[0])
    s.total_timer_time = float(len(w.timestamp))
    s.total_distance = float(w.distance_m[-1])
    s.sport = sport
    s.first_lap_index = 0
    s.num_laps = len(w.laps)
    b.add(s)
    a = ActivityMessage()
    a.timestamp = _ms(end)
    a.total_timer_time = float(len(w.timestamp))
    a.num_sessions = 1
    b.add(a)
    return b.build().to_bytes()


def _event(ts: float, kind) -> EventMessage:
    e = EventMessage()
    e.event = Event.TIMER
    e.event_type = kind
    e.timestamp = _ms(ts)
    return e
