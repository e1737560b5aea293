"""The device connection of the live view, on its own thread and asyncio loop.

Frames flow exactly as in `tiltguard record`: transport -> Recorder (sequence tracking, resend, reconnect)
-> SessionStore. The Recorder's `on_samples` hook hands every new samples frame to this module, which
turns it into SI samples on the device's clock with the store's own decoder (host.link.decode), holds the
last sample over a hole (so the stream stays contiguous for the step detector), runs the LivePipeline and
queues a LiveUpdate for the window. Resent frames that fill a hole arrive too late to be drawn: they are
stored, not shown. A hole longer than MAX_HOLD_S restarts the pipeline; what it had flagged is kept (what
still held ends with the last sample before the hole) and stored with the session.

The live results (calibration, flags) are written into the session's 'live' analysis whenever a flag starts
or ends, so they survive a crash, and once more at Stop, where a flag that still holds ends at the stop.

The window only reads `status`, drains `updates` and calls `request_stand()` / `stop()`; nothing here
touches Qt.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tiltguard.calibration.accel_six_position import AccelCalibration
from tiltguard.firmware import protocol as P
from tiltguard.host.flags import UserProfile
from tiltguard.host.link.decode import LiveFrameDecoder
from tiltguard.host.live_analysis import FlagNotice, LivePipeline, LiveUpdate
from tiltguard.host.store import SessionStore, StoreError, UnavailableStore
from tiltguard.host.store.recorder import Recorder
from tiltguard.host.text import printable

log = logging.getLogger(__name__)
MAX_HOLD_S = 5.0  # a hole longer than this is not bridged sample by sample: the pipeline restarts after it
ON_TIME_WINDOW_S = 10.0  # link quality: share of this much of the stream that arrived live (not by resend)


@dataclass
class Source:
    """Where the samples come from: the built-in simulated device, a USB serial port or a BLE device."""

    kind: str  # 'sim', 'serial' or 'ble'
    target: str  # scenario name, port, or BLE name/address
    seed: int = 0
    minutes: float | None = None  # sim: scenario length
    speed: float = 1.0  # sim: device clock speed-up
    rssi: int | None = None  # ble: signal strength when scanned

    def label(self) -> str:
        return {"sim": f"Simulated device ({self.target})", "serial": f"USB {self.target}",
                "ble": f"Bluetooth {self.target}"}[self.kind]


@dataclass
class LinkStatus:
    state: str = "idle"  # preparing, connecting, streaming, reconnecting, stopping, stopped, failed
    device: str = ""
    battery_pct: int | None = None
    signal: str = ""
    on_time_pct: float | None = None  # share of the last ON_TIME_WINDOW_S of samples that arrived live
    frames_lost: int = 0  # holes the device could no longer resend
    frames_recovered: int = 0  # holes filled by resend
    holes: int = 0  # frames still missing (being asked for)
    damaged: int = 0
    samples: int = 0
    link_drops: int = 0
    session_id: int | None = None
    recording: bool = True
    message: str = ""  # the last problem, in words
    store_problem: str = ""  # the store cannot take the recording, the disk is nearly full, the pod restarted
    store_problems: int = 0  # how many such lines so far (the window shows each new one in its banner)


@dataclass
class LinkResult:
    session_ids: list[int] = field(default_factory=list)
    db_path: str | None = None
    error: str | None = None
    report: Path | None = None  # written after the session closed (report_writer)


class LiveLink:
    def __init__(self, source: Source, db_path: str | Path | None = None, record: bool = True,
                 profile: UserProfile | None = None, on_finished=None, report_writer=None, on_update=None,
                 open_source=None, on_raw=None) -> None:
        """`open_source`: async (source) -> (transport, async close() or None), run on the link's own event
        loop instead of the built-in way of opening the source (e.g. a device on a virtual radio that must
        share the link's loop). `on_raw(t, acc, gyr)`: every contiguous block of SI samples, on the link
        thread, before the pipeline sees it (e.g. the accelerometer calibration's still poses)."""
        self.source = source
        self.open_source = open_source
        self.on_raw = on_raw
        self.db_path = db_path
        self.record = record
        self.profile = profile or UserProfile()
        self.on_finished = on_finished  # called on the link thread when everything is closed
        self.on_update = on_update  # called on the link thread after each queued update (wake the window)
        self.report_writer = report_writer  # (db path, session id) -> report path or None, run after closing
        self.status = LinkStatus(recording=record)
        self.updates: deque[LiveUpdate] = deque()
        self.pipeline: LivePipeline | None = None
        self.result = LinkResult()
        self.t0_us: int | None = None  # device µs of stream time 0
        self.clock_fit = None  # host.clock.ClockFit snapshot: device µs -> host s
        self.finished = threading.Event()
        self._stand_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = False
        self._thread = threading.Thread(target=self._main, name="live-link", daemon=True)
        self._decoder = LiveFrameDecoder()  # frames -> SI samples on the unwrapped device clock (host.link.decode)
        self._next_index: int | None = None
        self._last = None  # (t, acc row, gyr row) of the last sample fed
        self._live_frames: deque[tuple[int, int]] = deque()  # (first sample index, n) of frames that came live
        self._first_index: int | None = None
        self._tmpdir = None
        self.final_flags: list[FlagNotice] = []
        self._earlier: list[LivePipeline] = []  # pipelines a long outage ended (their flags closed there)
        self._outage: str = ""  # the last long outage, in words (kept in the status line)
        self._store = None  # the session store while the link runs (the live results are written into it)
        self._restart_pending = False  # the recorder saw the pod restart: the next samples start a new segment
        self._last_host: float | None = None  # host time of the last samples frame drawn
        self.accel_calibration = None  # host.store.CalibrationInfo applied to the stream, if the pod has one
        self._acc_cal = None

    # ------------------------------------------------------------------ window side
    def start(self) -> "LiveLink":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the link to finish (stop the stream, fetch the last holes, close the session); returns at once."""
        self._stop_requested = True
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    def request_stand(self) -> None:
        if self.pipeline is not None:
            self.pipeline.request_stand()
        else:
            self._stand_requested = True  # as soon as the first samples arrive

    def join(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The link thread's event loop (None before it runs): commands to the pod are sent on it."""
        return self._loop

    def stream_to_host(self, t_stream: np.ndarray | float):
        """Host (unix) time at which the device took samples of stream time `t_stream`, or None."""
        fit, t0 = self.clock_fit, self.t0_us
        if fit is None or t0 is None:
            return None
        return fit.to_host(t0 + np.asarray(t_stream) * 1e6)

    def host_to_stream(self, host_s: float) -> float | None:
        """Stream time of the samples the device is taking at host time `host_s` (None before the clock fit)."""
        fit, t0 = self.clock_fit, self.t0_us
        if fit is None or t0 is None:
            return None
        return ((host_s - fit.offset_s) / fit.rate * 1e6 - t0) * 1e-6

    # ------------------------------------------------------------------ link thread
    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except Exception as exc:  # noqa: BLE001 - shown in the window, nothing recorded is lost
            log.exception("live link failed")
            self.status.state = "failed"
            self.status.message = self.result.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished.set()
            if self.on_finished is not None:
                self.on_finished()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        self.status.state = "preparing"
        path = self.db_path
        if not self.record:  # watch only: a scratch store, removed afterwards
            self._tmpdir = tempfile.TemporaryDirectory(prefix="tiltguard-live-")
            path = Path(self._tmpdir.name) / "scratch.sqlite3"
        try:
            store = self._store = SessionStore(path, check=self.record)
        except StoreError as exc:  # damaged or unwritable: record anyway, into a spool (host/store/spool.py)
            store = self._store = UnavailableStore(path, exc)
            self._on_store_problem("store_error", f"{exc}; recording into a spool file instead")
        self.result.db_path = str(store.path) if self.record else None
        close = None
        try:
            transport, close = await (self.open_source or self._open)(self.source)
            rec = self.recorder = Recorder(transport, store, on_samples=self._on_samples,
                                           on_problem=self._on_store_problem)
            rec.check_space()
            self._hook_events(transport)
            self.status.device = self.source.label()
            self.status.signal = {"sim": "simulated", "serial": "USB cable"}.get(
                self.source.kind, f"{self.source.rssi} dBm at scan" if self.source.rssi is not None else "?")
            self.status.state = "connecting"
            watcher = asyncio.ensure_future(self._watch(rec))
            try:
                self.result.session_ids = await rec.run(stop=self._stop)
            except Exception as exc:  # noqa: BLE001 - e.g. the analysis on close failed: the frames are stored
                log.exception("closing the session failed")
                self.result.session_ids = rec.session_ids
                self.result.error = f"closing the session: {type(exc).__name__}: {exc}"
            finally:
                watcher.cancel()
                self._refresh(rec)
            self.status.state = "stopping"
            # a flag that still holds ends at the stop (the newest sample), and is stored with the session
            self.final_flags = self.pipeline.finish() if self.pipeline else []
            if self.record and self.result.session_ids:
                try:
                    await asyncio.to_thread(self._save_live_results, store, transport)
                except (sqlite3.Error, OSError) as exc:  # the recording is safe (stored or spooled); say so
                    self._on_store_problem("store_error", f"the live results could not be stored: {exc}")
        finally:
            if close is not None:
                await close()
            self._store = None
            store.close()
            if self._tmpdir is not None:
                self._tmpdir.cleanup()
        if self.record and self.result.session_ids and self.report_writer is not None and not self.result.error:
            self.status.state = "writing the report"
            self.result.report = await asyncio.to_thread(self.report_writer, self.result.db_path,
                                                         self.result.session_ids[-1])
        self.status.state = "stopped"

    @staticmethod
    async def _open(source: Source):
        """(transport, async close() or None) for the source."""
        transport, device = await asyncio.to_thread(LiveLink._transport, source)
        if device is None:
            return transport, None

        async def close():
            await asyncio.to_thread(device.stop)

        return transport, close

    @staticmethod
    def _transport(s: Source):
        """(transport, running simulated device thread or None) for the source."""
        if s.kind == "sim":
            # each source's transport (and its optional package) loads only when that source is used
            from .simlink import start_simulated_device

            return start_simulated_device(s.target, s.minutes, s.seed, s.speed)
        if s.kind == "serial":
            # each source's transport (and its optional package) loads only when that source is used
            from tiltguard.host.link.serial import SerialTransport

            return SerialTransport(s.target), None
        if s.kind == "ble":
            # each source's transport (and its optional package) loads only when that source is used
            from tiltguard.host.link.ble import BleTransport

            return BleTransport(s.target), None
        raise ValueError(f"unknown source kind {s.kind!r}")

    def _hook_events(self, transport) -> None:
        """Battery events pass through the recorder unseen: read them on the way in."""
        to_recorder = transport.on_frame

        def on_frame(raw: bytes, rx: float) -> None:
            if len(raw) > 1 and raw[1] == P.T_EVENT:
                try:
                    f = P.decode_frame(raw)
                    if f.code == P.E_BATTERY:
                        self.status.battery_pct = f.arg
                except P.FrameError:
                    pass  # counted by the recorder
            to_recorder(raw, rx)

        transport.on_frame = on_frame

    async def _watch(self, rec) -> None:
        while True:
            await asyncio.sleep(0.25)
            self._refresh(rec)

    def _refresh(self, rec) -> None:
        s, st = rec.stats, self.status
        st.frames_lost, st.frames_recovered = s.frames_given_up, s.frames_filled
        st.holes, st.damaged, st.samples = len(rec.tracker.missing), s.integrity_errors, s.samples_decoded
        st.link_drops = max(0, s.link_drops - 1) if s.link_drops else 0
        st.session_id = rec.session_ids[-1] if rec.session_ids else None
        if st.state in ("connecting", "streaming", "reconnecting"):
            st.state = "streaming" if rec.t.connected else ("reconnecting" if s.frames else "connecting")
        st.message = s.last_error or self._outage
        st.on_time_pct = self._on_time_pct(rec.hello.rate_hz if rec.hello else None)
        self.clock_fit = rec.clock.fit()

    def _on_store_problem(self, kind: str, message: str) -> None:
        """One line for the wearer, at once (called from the writer's thread too): the window's banner."""
        self.status.store_problem = printable(message, 300)
        self.status.store_problems += 1
        if kind == "restart":
            self._restart_pending = True

    def _after_restart(self, f, h) -> None:
        """The pod restarted: its sample index and clock start again. The stream time goes on after the gap
        seen on the host's clock, and the pipeline starts over as after a long outage (its flags kept)."""
        self._restart_pending = False
        self._decoder = LiveFrameDecoder()
        first_us = float(self._decoder.decode(f, h).t_us[0])
        gap_s = max(0.0, time.time() - self._last_host - f.n / max(1.0, h.rate_hz)) if self._last_host else 0.0
        if self._last is not None:
            self.t0_us = int(first_us - (self._last[0] + gap_s) * 1e6)
        self._next_index = None
        ended = self.pipeline.finish()
        self._earlier.append(self.pipeline)
        self.pipeline = LivePipeline(h.rate_hz, self.profile)
        self.status.message = self._outage = f"the pod restarted ({gap_s:.1f} s without data): calibrate again"
        if ended:
            self._publish(LiveUpdate(np.zeros(0), *(np.zeros(0) for _ in range(3)), flags=ended))
            self._write_live_flags()

    def _on_time_pct(self, rate_hz: float | None) -> float | None:
        """Link quality the way the wearer feels it: of the last ON_TIME_WINDOW_S of the stream (by sample
        index), the share that arrived live. BLE gives no live RSSI, and what matters is whether the samples
        come through: a weak radio shows up here as frames that had to be resent."""
        frames = list(self._live_frames)  # the link thread appends; a snapshot is enough here
        if not rate_hz or not frames or self._first_index is None:
            return None
        end = frames[-1][0] + frames[-1][1]
        start = max(self._first_index, end - int(ON_TIME_WINDOW_S * rate_hz))
        live = sum(max(0, min(i + n, end) - max(i, start)) for i, n in frames)
        return 100.0 * live / max(1, end - start)

    # ------------------------------------------------------------------ samples
    def _on_samples(self, f) -> None:
        h = self.recorder.hello
        if h is None or f.flags & P.F_RESENT:
            return  # no scales yet (the hello is on its way), or a late copy: stored, not drawn
        if self._restart_pending and self.pipeline is not None:
            self._after_restart(f, h)
        idx = f.first_index
        if self._next_index is not None and idx < self._next_index:
            return
        got = self._decoder.decode(f, h)
        acc, gyr, t_us = got.acc, got.gyr, got.t_us
        if self.pipeline is None:
            self.t0_us = int(t_us[0])
            self.pipeline = LivePipeline(h.rate_hz, self.profile)
            self._load_accel_calibration(h.name or "Tiltguard", self.recorder.t.address)
            if self._stand_requested:
                self.pipeline.request_stand()
        t = (t_us - self.t0_us) * 1e-6
        gap = 0 if self._next_index is None else idx - self._next_index
        if 0 < gap <= MAX_HOLD_S * h.rate_hz and self._last is not None:
            # hold the last sample across the hole: the stream stays contiguous at the device rate
            lt, la, lg = self._last
            th = np.linspace(lt, t[0], gap + 2)[1:-1]
            t, acc, gyr = np.r_[th, t], np.vstack([np.repeat([la], gap, 0), acc]), np.vstack([np.repeat([lg], gap, 0), gyr])
        elif gap > 0:  # a long outage: start over, keeping what was decided before it
            ended = self.pipeline.finish()  # the flags that held end with the last sample before the outage
            self._earlier.append(self.pipeline)
            self.pipeline = LivePipeline(h.rate_hz, self.profile)
            self.status.message = self._outage = f"{gap / h.rate_hz:.0f} s of samples lost: calibrate again"
            if ended:
                self._publish(LiveUpdate(t[:0], *(np.zeros(0) for _ in range(3)), flags=ended))
                self._write_live_flags()
        self._next_index = idx + f.n
        self._last = (t[-1], acc[-1], gyr[-1])
        self._last_host = time.time()
        if self._first_index is None:
            self._first_index = idx
        self._live_frames.append((idx, f.n))
        oldest_needed = idx - ON_TIME_WINDOW_S * h.rate_hz
        while self._live_frames and sum(self._live_frames[0]) < oldest_needed:  # first index + n: the frame's end
            self._live_frames.popleft()
        if self.on_raw is not None:
            self.on_raw(t, acc, gyr)
        if self._acc_cal is not None:
            acc = self._acc_cal.apply(acc)
        rest = self.pipeline.feed(t, acc, gyr, early=self._publish)
        if len(rest.t) or rest.contacts or rest.cadence or rest.pedal or rest.strides or rest.flags or rest.calibration:
            self._publish(rest)
        if any(n.kind != "ongoing" for n in rest.flags):
            self._write_live_flags()

    def _load_accel_calibration(self, name: str, address: str) -> None:
        """The pod's newest accelerometer calibration from the user's store (also when only watching), so the
        live view reads the samples as the post-session analysis will."""
        try:
            with SessionStore(self.db_path, recover=False, analyse=None) as store:
                self.accel_calibration = store.device_calibration(name, address, "accel")
        except Exception as exc:  # noqa: BLE001 - an unreadable store must not stop the live view
            log.warning("no accelerometer calibration: %s", exc)
            return
        if self.accel_calibration is not None:
            self._acc_cal = AccelCalibration.from_record(self.accel_calibration.data)

    def _publish(self, update: LiveUpdate) -> None:
        self.updates.append(update)
        if self.on_update is not None:
            self.on_update()

    def live_results(self) -> dict:
        """What the live view decided, for the session's 'live' analysis: the calibration and every flag, also
        those of a stretch before a long outage (which restarted the pipeline) and any still open (end None)."""
        p = self.pipeline
        pipes = [*self._earlier, *([p] if p is not None else [])]
        result = {"calibrated": p is not None and p.calibrated,
                  "time_in_anterior_tilt_s": sum(q.anterior_s for q in pipes),
                  "moving_s": sum(q.moving_s for q in pipes),
                  "flags": [f.to_dict() for q in pipes for f in q.flag_list()],
                  "stream_t0_device_us": self.t0_us,
                  "accel_calibration_id": self.accel_calibration.id if self.accel_calibration else None}
        if self._earlier:
            result["restarts"] = len(self._earlier)
        # the alignment the angles were last measured with (a restart after an outage has none until calibrated)
        alignment = next((q.calibration.alignment for q in reversed(pipes) if q.calibration.alignment is not None),
                         None)
        if alignment is not None:
            result["alignment"] = {k: np.asarray(v).tolist() if not isinstance(v, str) else v
                                   for k, v in alignment.to_record().items()}
        return result

    def _write_live_flags(self) -> None:
        """A flag started or ended: write the live results now (open flags with end None), so what was flagged
        is in the store even if the app never gets to Stop; Stop writes them once more, closed."""
        rec, store = getattr(self, "recorder", None), self._store
        if not self.record or store is None or rec is None or not rec.session_ids:
            return
        try:
            store.save_analysis(rec.session_ids[-1], "live", self.live_results())
        except Exception as exc:  # noqa: BLE001 - the stream goes on; Stop writes them again
            log.warning("writing the live flags failed: %s", exc)

    def _save_live_results(self, store, transport) -> None:
        """What the live view decided, next to the recording: the calibration and the live flags."""
        if self.pipeline is None:
            return
        sid = self.result.session_ids[-1]
        result = self.live_results()
        if "alignment" in result:
            hello = self.recorder.hello
            dev = store.device(hello.name or transport.device_name or "Tiltguard", transport.address,
                               hello.sensor, hello.firmware)
            store.save_calibration(dev, "alignment", result["alignment"], session_id=sid)
        store.save_analysis(sid, "live", result)
