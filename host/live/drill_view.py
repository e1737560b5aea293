"""The live guidance window of `tiltguard drill NAME` / `tiltguard test NAME`: prompts (spoken where the machine
has a voice, else chimed), a rep counter readable across the room, a pelvis gauge with the tolerance band, a
fault cue the moment a fault starts, pacing cues; the result is stored with the session when it closes.

The engine is host.drills.DrillTracker (no Qt): this window only feeds it sample blocks and shows its
events, and hands them to its listeners: the pod's buzzer (drill_buzz, unless --no-buzz) counts the reps on
the sacrum. Sources, each through the live link, which also records the session: the pod (--serial /
--ble), or a simulated person wearing a simulated pod (--sim: the firmware's app on the emulated sensor).
`SimulatedPerson` plays a recording straight into a window (tests, no pod).
"""
from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget
from tiltguard.host.drills import DrillSpec, DrillTracker
from tiltguard.host.drills.catalogue import ANGLES
from tiltguard.host.link.buzz import PodBuzzer

from .drill_buzz import DrillBuzz
from .sound import Chimes

log = logging.getLogger(__name__)

TICK_MS = 50  # the window drains the samples this often: a fault cue shows within ~100 ms of the engine's
GAUGE_RANGE_DEG = 30.0
FAULT_RED = "#D55E00"


class Voice:
    """Says a prompt with the system's text-to-speech when there is an engine; otherwise chimes."""

    def __init__(self) -> None:
        self.chimes = Chimes()
        self._tts = None
        try:
            from PySide6.QtTextToSpeech import (
                QTextToSpeech,  # optional Qt module: loaded where it is tried
            )

            if QTextToSpeech.availableEngines():
                self._tts = QTextToSpeech()
        except Exception as exc:  # noqa: BLE001 - no speech engine: the chimes say it
            log.info("no speech (%s); prompts are chimed", exc)
        self.said: list[str] = []

    @property
    def speaks(self) -> bool:
        return self._tts is not None

    def say(self, text: str, kind: str = "start") -> None:
        self.said.append(text)
        if self._tts is not None:
            self._tts.say(text)
        else:
            self.chimes.play(kind)


class PelvisGauge(QWidget):
    """Three bars (tilt, obliquity, rotation) against the set's start, the tolerance band shaded."""

    def __init__(self, spec: DrillSpec, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.values = (0.0, 0.0, 0.0)
        self.setMinimumHeight(150)

    def set_values(self, values: tuple[float, float, float]) -> None:
        self.values = values
        self.update()

    def bands(self) -> dict[str, tuple[float, float]]:
        out = {}
        for f in self.spec.faults:
            lo = -f.tolerance_deg if f.direction <= 0 else -GAUGE_RANGE_DEG
            hi = f.tolerance_deg if f.direction >= 0 else GAUGE_RANGE_DEG
            out[f.angle] = (lo, hi)
        return out

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        w, h = self.width(), self.height()
        row = h / 3
        bands = self.bands()

        def x_of(v: float) -> float:
            return w * (0.15 + 0.8 * (np.clip(v, -GAUGE_RANGE_DEG, GAUGE_RANGE_DEG) + GAUGE_RANGE_DEG)
                        / (2 * GAUGE_RANGE_DEG))

        p.setFont(QFont("Sans", 11))
        for k, (name, v) in enumerate(zip(ANGLES, self.values)):
            y = k * row
            p.setPen(QColor("#333"))
            p.drawText(QRectF(0, y, 0.15 * w, row), Qt.AlignVCenter, name)
            if name in bands:
                lo, hi = bands[name]
                p.fillRect(QRectF(x_of(lo), y + 0.2 * row, x_of(hi) - x_of(lo), 0.6 * row), QColor(0, 158, 115, 60))
            p.setPen(QPen(QColor("#999"), 1))
            p.drawLine(int(x_of(0)), int(y + 0.15 * row), int(x_of(0)), int(y + 0.85 * row))
            outside = name in bands and not bands[name][0] <= v <= bands[name][1]
            p.setPen(QPen(QColor(FAULT_RED if outside else "#0072B2"), 6))
            p.drawLine(int(x_of(v)), int(y + 0.2 * row), int(x_of(v)), int(y + 0.8 * row))
            p.drawText(QRectF(0.82 * w, y, 0.18 * w, row), Qt.AlignVCenter | Qt.AlignRight, f"{v:+.1f}°")
        p.end()


class DrillWindow(QMainWindow):
    def __init__(self, spec: DrillSpec, rate_hz: float, tolerances: dict[str, float] | None = None,
                 voice: Voice | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.tracker = DrillTracker(spec, rate_hz, tolerances)
        self.voice = voice or Voice()
        self.setWindowTitle(f"Tiltguard — {spec.title}")
        self._inbox: deque = deque()  # (t, acc, gyr) blocks from any thread
        self.count = 0
        self.fault_cues: list[tuple[float, str]] = []  # (engine time, fault) as shown
        self.on_finished = None  # called with the result's JSON when the guidance ends
        self.listeners: list = []  # fn(events) after each drain: e.g. the pod's buzzer (drill_buzz.DrillBuzz)

        central = QWidget()
        lay = QVBoxLayout(central)
        self.prompt = QLabel("")
        self.prompt.setObjectName("prompt")
        self.prompt.setFont(QFont("Sans", 22))
        self.prompt.setWordWrap(True)
        self.counter = QLabel("0")
        self.counter.setObjectName("counter")
        self.counter.setAlignment(Qt.AlignCenter)
        self.counter.setFont(QFont("Sans", 120, QFont.Bold))  # ~4 cm tall on a laptop: readable at 2 m
        self.side = QLabel("")
        self.side.setFont(QFont("Sans", 20))
        self.side.setAlignment(Qt.AlignCenter)
        self.cue = QLabel("")
        self.cue.setObjectName("cue")
        self.cue.setFont(QFont("Sans", 26, QFont.Bold))
        self.cue.setAlignment(Qt.AlignCenter)
        self.gauge = PelvisGauge(self.tracker.spec)
        for wdg in (self.prompt, self.counter, self.side, self.cue, self.gauge):
            lay.addWidget(wdg)
        self.setCentralWidget(central)
        self.resize(720, 640)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.drain)
        self.timer.start(TICK_MS)
        self._show_events(self.tracker.events)

    # --- samples in: push() from any thread, drain() on the Qt thread -----------------------------------
    def push(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        self._inbox.append((np.asarray(t), np.asarray(acc), np.asarray(gyr)))

    def drain(self) -> None:
        events = []
        while self._inbox:
            t, acc, gyr = self._inbox.popleft()
            events += self.tracker.feed(t, acc, gyr)
        self._show_events(events)
        for fn in self.listeners:
            fn(events)
        self.gauge.set_values(self.tracker.angles_deg)

    def _show_events(self, events) -> None:
        for e in events:
            if e.kind == "prompt":
                self.prompt.setText(e.text)
                self.voice.say(e.text)
            elif e.kind == "set_start":
                self.count = 0
                self.counter.setText("0")
                self.side.setText(f"{e.data['side']} side" if e.data.get("side") else "")
                self.prompt.setText(e.text)
                self.voice.say(e.text)
            elif e.kind == "rep":
                self.count = e.data["count"]
                self.counter.setText(str(self.count))
                self.voice.say(str(self.count), "end")
            elif e.kind == "fault_start":
                self.fault_cues.append((e.t, e.data["fault"]))
                self.cue.setText(e.text)
                self.cue.setStyleSheet(f"color: {FAULT_RED}")
                self.voice.say(e.text)
            elif e.kind == "fault_end":
                self.cue.setText("")
            elif e.kind == "too_fast":
                self.cue.setText("Slower")
                self.cue.setStyleSheet("color: #E69F00")
                self.voice.say("Slower")
            elif e.kind in ("hold", "lower"):
                self.prompt.setText(e.text)
                self.voice.say(e.text)
            elif e.kind == "set_end":
                self.counter.setText(str(e.data["reps"]))
            elif e.kind == "set_dropped":
                self.counter.setText("0")

    def finish(self) -> dict:
        self.timer.stop()
        self.drain()
        result = self.tracker.finish().to_json()
        self.prompt.setText("Done" + (f" — {result['sides']['text']}" if result.get("sides") else ""))
        if self.on_finished is not None:
            self.on_finished(result)
        return result


class SimulatedPerson:
    """A simulated drill session played into the window in real time (× speed)."""

    def __init__(self, window: DrillWindow, rec, speed: float = 1.0) -> None:
        self.window, self.rec, self.speed = window, rec, speed
        self.k = 0
        self.t0 = time.monotonic()
        self.timer = QTimer(window)
        self.timer.timeout.connect(self.step)
        self.timer.start(TICK_MS)

    def step(self) -> None:
        due = min(len(self.rec), int((time.monotonic() - self.t0) * self.speed * self.rec.rate_hz))
        if due > self.k:
            sl = slice(self.k, due)
            self.window.push(self.rec.t[sl], self.rec.acc[sl], self.rec.gyr[sl])
            self.k = due
        if self.k >= len(self.rec):
            self.timer.stop()
            QTimer.singleShot(2 * TICK_MS, self.window.close)


def store_result(db_path, result: dict, rec=None, session_id: int | None = None) -> int:
    """Save the result with its session: the link's recorded session, or the simulated recording imported."""
    # imported when a result is stored: the store is not needed to guide
    from tiltguard.host.rawcsv import write_raw
    from tiltguard.host.store import SessionStore
    from tiltguard.host.store.drills import save_drill_result

    with SessionStore(db_path) as store:
        if session_id is None:
            with tempfile.TemporaryDirectory(prefix="tiltguard-drill-") as d:
                path = Path(d) / f"{result['drill']}.csv"
                write_raw(path, rec)
                session_id = store.import_csv(path, device_name="sim-drill", address="sim")
        save_drill_result(store, session_id, result)
    return session_id


def run_drill_live(args, spec: DrillSpec, tolerances: dict[str, float]) -> int:
    import sys

    from PySide6.QtWidgets import QApplication

    # the store's default path, only when recording
    from tiltguard.host.store.paths import default_db_path

    db = None if args.no_record else (args.db or default_db_path())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    sim_rec = None
    if args.sim:
        # the simulator loads only for a simulated person
        from tiltguard.host.simulator.drills import simulate_drill

        # the person wears a simulated pod: the firmware's own app on the simulated sensor, through the same
        # live link (recording, commands, buzzer) as a real pod
        sim_rec, _ = simulate_drill(spec.name, seed=args.seed, sets=getattr(args, "sets", None))
    link, win = _pod_window(args, spec, tolerances, db, sim_rec=sim_rec)
    if not getattr(args, "no_buzz", False):
        _buzz_the_pod(link, win, spec, pod_speed=args.speed if args.sim else 1.0)
    finish = _closer(win, db, link=link)
    win.closeEvent = lambda ev: (finish(), ev.accept())
    win.show()
    return app.exec()


def _closer(win: DrillWindow, db, rec=None, link=None):
    done = threading.Event()

    def finish():
        if done.is_set():
            return
        done.set()
        result = win.finish()
        sid = None
        if link is not None:
            link.stop()
            link.join(10.0)
            sid = link.result.session_ids[-1] if link.result.session_ids else None
        if db is not None and (sid is not None or rec is not None):
            sid = store_result(db, result, rec=rec, session_id=sid)
            print(f"stored the {result['drill']} result with session {sid}")
    return finish


def _pod_window(args, spec, tolerances, db, sim_rec=None):
    """(live link, window) for the pod on --serial / --ble, or a simulated pod wearing `sim_rec` (--sim): the
    window closes itself once the simulated person's recording has been played."""
    # the link loads only for a pod
    from .link import LiveLink, Source

    if sim_rec is not None:
        source = Source("sim", f"{spec.name}:{args.seed}", seed=args.seed, speed=args.speed)
    else:
        source = Source("serial", args.serial) if args.serial else Source("ble", args.ble)
    holder: dict = {"samples": 0, "early": []}
    lock = threading.Lock()

    def on_raw(t, acc, gyr):
        with lock:
            w = holder.get("win")
            if w is None:  # the window is made once the pod's rate is known: its first samples wait for it
                holder["early"].append((t, acc, gyr))
                return
            w.push(t, acc, gyr)
            holder["samples"] += len(t)

    open_source = None
    if sim_rec is not None:
        async def open_source(_source):
            # the simulated device loads only for a simulated pod
            from .simlink import start_person_pod

            transport, device, holder["person"] = await asyncio.to_thread(
                start_person_pod, sim_rec, f"sim:{source.target}", args.speed)
            board, buzzer = device.sim.board, device.sim.device.buzzer
            # each pulse as the motor ends it, with the length the pod's firmware played (its own log; the
            # board's measured length carries the simulation's thread scheduling)
            board.on_buzz = lambda t, ms: print(f"  simulated pod: buzz {buzzer.log[-1][1]} ms at {t:.1f} s",
                                                flush=True)

            async def close():
                await asyncio.to_thread(device.stop)

            return transport, close

    link = LiveLink(source, db_path=db, record=db is not None, on_raw=on_raw, open_source=open_source).start()
    rate = None
    deadline = time.monotonic() + 20.0
    while rate is None and time.monotonic() < deadline:
        h = getattr(getattr(link, "recorder", None), "hello", None)
        rate = getattr(h, "rate_hz", None)
        time.sleep(0.05)
    if rate is None:
        link.stop()
        raise OSError(f"no pod answered on {source.label()}")
    win = DrillWindow(spec, rate, tolerances)
    with lock:  # the samples that came before the window first, then the window takes them as they come
        for block in holder.pop("early"):
            win.push(*block)
            holder["samples"] += len(block[0])
        holder["win"] = win
    if sim_rec is not None:
        def played() -> None:  # the recording began with the stream: it has been played once this many came
            if holder["samples"] >= len(sim_rec):
                win.ended_timer.stop()
                win.close()

        win.ended_timer = QTimer(win)
        win.ended_timer.timeout.connect(played)
        win.ended_timer.start(4 * TICK_MS)
    return link, win


def _buzz_the_pod(link, win: DrillWindow, spec: DrillSpec, pod_speed: float = 1.0) -> None:
    """The pod buzzes the set (drill_buzz): each counted rep, the hold reached, a fault, the set's end. A pod
    whose firmware cannot buzz is said once; the guidance goes on."""
    buzzer = PodBuzzer(link.recorder.command, link.loop, pod_speed=pod_speed,
                       on_unsupported=lambda text: print(f"note: {text}", flush=True))
    win.pod_buzz = DrillBuzz(buzzer, spec)
    win.listeners.append(win.pod_buzz)
