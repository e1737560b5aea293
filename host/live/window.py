"""The live view's main window: readouts, flag banner, scrolling plots, status line, shortcuts."""
from __future__ import annotations

import time
from html import escape
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QFont, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from tiltguard.host.flags import UserProfile

from . import palette as C
from .dialogs import CalibrateDialog, ConnectDialog
from .link import LiveLink, Source
from .plots import LivePlots
from .report import write_session_report
from .settings import WINDOW_CHOICES_S, LiveSettings
from .sound import Chimes

REFRESH_MS = 33  # scroll frames between the device's frames (20 a second at 200 Hz, each drawn on arrival)
SCROLL_AHEAD_S = 0.2  # the view may run this far ahead of the newest sample (frame gaps, jitter)
STATUS_EVERY_S = 0.25
BANNER_CLEAR_S = 20.0  # an 'ended' banner goes away after this
FLAG_TITLES = {
    "sustained_anterior_tilt": "Sustained anterior tilt",
    "tilt_creep": "Tilt creeping up",
    "excess_pelvic_drop": "Large pelvic drop",
    "rotation_variability": "Unsteady pelvic rotation",
    "ride_forward_roll": "Rolling forward on the saddle",
    "ride_rock_growth": "Rocking more on the saddle",
}


def _font(pt: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(pt)
    f.setBold(bold)
    return f


class Readout(QFrame):
    """A large number with its title and a small line under it, readable from a treadmill."""

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 4, 12, 4)
        lay.setSpacing(0)
        self._title = title
        self.title = QLabel(title.upper())
        self.title.setFont(_font(C.READOUT_TITLE_PT, bold=True))
        self.value = QLabel("–")
        self.value.setFont(_font(C.READOUT_PT, bold=True))
        self.sub = QLabel("")
        self.sub.setFont(_font(C.READOUT_TITLE_PT))
        for w in (self.title, self.value, self.sub):
            lay.addWidget(w)
        self._alert = None

    def display(self, value: str, sub: str = "", alert: bool = False, title: str | None = None) -> None:
        self.title.setText((title or self._title).upper())
        self.value.setText(value)
        self.sub.setText(sub)
        if alert != self._alert:  # a style sheet re-polishes the label: only when the colour changes
            self._alert = alert
            self.value.setStyleSheet(f"color:{C.VERMILLION if alert else C.FOREGROUND}")


class _Bridge(QObject):
    """Signals emitted on the link thread, delivered on the window's (queued connections)."""

    link_finished = Signal()
    data_ready = Signal()


class Meter:
    """Latency of every sample from its sample time to the end of the first repaint that drew it (and to
    when the window took it from the link, to tell transport + pipeline from drawing), and repaint times;
    for bench/live.py."""

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled  # off in the app (its lists would grow all session): bench/live.py turns it on
        self.latency_ms: list[float] = []
        self.pickup_ms: list[float] = []
        self.paints: list[float] = []
        self._undrawn: list[np.ndarray] = []

    def set_data(self, t_stream: np.ndarray, link: LiveLink | None) -> None:
        if not self.enabled:
            return
        self._undrawn.append(t_stream)
        host = link.stream_to_host(t_stream) if link is not None else None
        if host is not None:
            self.pickup_ms.extend(((time.time() - host) * 1e3).tolist())

    def painted(self, when: float, link: LiveLink | None) -> None:
        if not self.enabled:
            return
        self.paints.append(when)
        if not self._undrawn or link is None:
            return
        t = np.concatenate(self._undrawn)
        host = link.stream_to_host(t)
        if host is None:
            return
        self._undrawn.clear()
        self.latency_ms.extend(((when - host) * 1e3).tolist())

    def reset(self) -> None:
        for x in (self.latency_ms, self.pickup_ms, self.paints, self._undrawn):
            x.clear()


def calibration_status(state: str) -> str:
    """The status line's word on calibration.live.LiveCalibration's state (or the pipeline's "moving")."""
    return {"done": "calibrated", "refine": "calibrated (hip hinge; the first strides refine it)",
            "stand": "calibrating: stand still", "forward": "calibrating: hip hinge, walk or run",
            "moving": "aligned to your movement (no stand)"}.get(state, "not calibrated")


def _contact_line(p) -> str:
    """' · contact 212 ms (L 50 %)' while running (host.gait.stance through the live pipeline), else ''; the
    left share gives way to 'L/R unknown' while the steps' side cue cannot tell the feet apart."""
    if p.contact_ms is None:
        return ""
    share = p.contact_left_pct
    side = f" (L {share:.0f} %)" if share is not None else "" if p.sides_known else " (L/R unknown)"
    return f" · contact {p.contact_ms:.0f} ms" + side


class LiveWindow(QMainWindow):
    def __init__(self, settings: LiveSettings | None = None, db_path: str | None = None,
                 profile: UserProfile | None = None, record: bool | None = None, parent=None) -> None:
        """`record`: this run's choice (None: the remembered one, on by default)."""
        super().__init__(parent)
        self._record_choice = record
        self.settings = settings or LiveSettings()
        self.db_path = db_path
        self.profile = profile or UserProfile()
        self.flag_settings = self.profile.settings()
        self.link: LiveLink | None = None
        self.meter = Meter()
        self.last_report: Path | None = None
        self.last_sessions: list[int] = []
        self.open_url = QDesktopServices.openUrl  # replaced in tests: no browser there
        self.notices: list = []  # every flag notice shown (newest last)
        self._banner_clear_at: float | None = None
        self._last_status = 0.0
        self._store_problems_shown = (0, 0)  # (link, LinkStatus.store_problems) already put in the banner
        self._t_view: float | None = None
        self._chime_player: Chimes | None = None
        self._bridge = _Bridge()
        self._bridge.link_finished.connect(self._link_finished)
        self._bridge.data_ready.connect(self._data_ready)
        self.setWindowTitle("Tiltguard live")
        self.resize(1280, 860)

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(8, 4, 8, 4)
        row = QHBoxLayout()
        self.r_tilt = Readout("Tilt (stride avg)")
        self.r_cadence = Readout("Cadence")
        self.r_anterior = Readout("Time in anterior tilt")
        for r in (self.r_tilt, self.r_cadence, self.r_anterior):
            row.addWidget(r, 1)
        lay.addLayout(row)
        self.banner = QLabel("")
        self.banner.setFont(_font(C.BANNER_PT, bold=True))
        self.banner.setWordWrap(True)
        self.banner.setAlignment(Qt.AlignCenter)
        self.banner.setTextFormat(Qt.RichText)
        self.banner.setMinimumHeight(int(C.BANNER_PT * 2.2))
        self.banner.hide()
        lay.addWidget(self.banner)
        self.plots = LivePlots(threshold_deg=self.flag_settings.tilt_threshold_deg, window_s=self.settings.window_s)
        self.plots.painted = lambda when: self.meter.painted(when, self.link)
        lay.addWidget(self.plots, 1)
        self.setCentralWidget(central)
        self._build_status()
        self._build_actions()
        self.calibrate_dialog = CalibrateDialog(self)
        self.calibrate_dialog.start_requested.connect(self._request_stand)
        geometry, state = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self._show_readouts()

    # ------------------------------------------------------------------ layout
    def _build_status(self) -> None:
        sb = self.statusBar()
        sb.setFont(_font(C.STATUS_PT))
        self.s_link = QLabel("● not connected")  # link state, device, battery, signal, frames, calibration
        self.s_link.setFont(_font(C.STATUS_PT))
        self.s_link.setTextFormat(Qt.RichText)
        self.s_record = QLabel("")
        self.s_record.setFont(_font(C.STATUS_PT, bold=True))
        sb.addWidget(self.s_link, 1)
        sb.addPermanentWidget(self.s_record)

    def _build_actions(self) -> None:
        tb = QToolBar("Controls")
        tb.setObjectName("controls")
        tb.setFont(_font(C.STATUS_PT + 1))
        tb.setMovable(False)
        self.addToolBar(tb)

        def action(text, keys, slot, checkable=False, checked=False):
            a = QAction(text, self)
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setToolTip(f"{text} ({', '.join(keys)})")
            a.setCheckable(checkable)
            if checkable:
                a.setChecked(checked)
                a.toggled.connect(slot)
            else:
                a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.a_connect = action("Connect", ["Ctrl+K"], self.choose_source)
        self.a_calibrate = action("Calibrate", ["N"], self.show_calibrate)
        self.a_stop = action("Stop", ["Ctrl+S", "Ctrl+."], self.stop)
        self.a_record = action("Record", ["R"], self._set_record, True,
                               self.settings.record if self._record_choice is None else self._record_choice)
        self.a_sound = action("Sound", ["M"], self._set_sound, True, self.settings.sound)
        self.a_windows = []
        group = QActionGroup(self)  # one window length at a time
        for i, s in enumerate(WINDOW_CHOICES_S):
            a = action(f"{s} s", [str((1, 2, 3, 6)[i])], lambda _=False, s=s: self.set_window(s))
            a.setCheckable(True)
            a.setChecked(s == self.settings.window_s)
            group.addAction(a)
            self.a_windows.append(a)
        self.a_full = action("Full screen", ["F11", "F"], self._full_screen)
        self.a_help = action("Keys", ["F1", "?"], self.show_keys)
        self.a_quit = action("Quit", ["Ctrl+Q"], self.close)
        for a in (self.a_connect, self.a_calibrate, self.a_stop, None, self.a_record, self.a_sound, None,
                  *self.a_windows, None, self.a_full, self.a_help):
            tb.addSeparator() if a is None else tb.addAction(a)
        self._enable()

    def _enable(self) -> None:
        running = self.link is not None and not self.link.finished.is_set()
        self.a_connect.setEnabled(not running)
        self.a_calibrate.setEnabled(running)
        self.a_stop.setEnabled(running)
        self.a_record.setEnabled(not running)  # a recording is decided for the whole session

    # ------------------------------------------------------------------ commands
    def choose_source(self) -> None:
        dlg = ConnectDialog(self.settings.source, self)
        if dlg.exec() and (src := dlg.source()) is not None:
            self.connect_source(src)

    def connect_source(self, source: Source, open_source=None) -> LiveLink:
        """`open_source`: see LiveLink (a device on a virtual radio in tests)."""
        if self.link is not None and not self.link.finished.is_set():
            raise RuntimeError("already connected: stop first")
        self.settings.source = (source.kind, source.target)
        self.meter.reset()
        self.link = LiveLink(source, self.db_path, record=self.a_record.isChecked(), profile=self.profile,
                             on_finished=self._bridge.link_finished.emit,
                             report_writer=lambda db, sid: write_session_report(db, sid, profile=self.profile),
                             on_update=self._bridge.data_ready.emit, open_source=open_source).start()
        self.plots.set_hint("Calibrate: press N and stand still")
        self._set_banner("")
        self._enable()
        return self.link

    def show_calibrate(self) -> None:
        if self.link is None:
            return
        self.calibrate_dialog.show()
        self.calibrate_dialog.raise_()
        self.calibrate_dialog.start_btn.setFocus()

    def _request_stand(self) -> None:
        if self.link is not None:
            self.link.request_stand()
            self.plots.set_hint("Stand still ...")

    def stop(self) -> None:
        if self.link is not None and not self.link.finished.is_set():
            self.link.stop()
            self.s_link.setText("● stopping: saving the session ...")

    def set_window(self, seconds: int) -> None:
        self.settings.window_s = seconds
        for a, s in zip(self.a_windows, WINDOW_CHOICES_S):
            if s == seconds and not a.isChecked():
                a.setChecked(True)  # (a key press, or a call: keep the toolbar in step)
        self.plots.set_window(seconds)

    def _set_record(self, on: bool) -> None:
        self.settings.record = on

    def _set_sound(self, on: bool) -> None:
        self.settings.sound = on

    def _full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def show_keys(self) -> None:
        lines = [f"{a.text():12} {' / '.join(s.toString() for s in a.shortcuts())}"
                 for a in (self.a_connect, self.a_calibrate, self.a_stop, self.a_record, self.a_sound,
                           *self.a_windows, self.a_full, self.a_help, self.a_quit)]
        box = QMessageBox(QMessageBox.Information, "Keys", "\n".join(lines), parent=self)
        box.setFont(QFont("monospace", C.STATUS_PT + 1))
        box.open()

    # ------------------------------------------------------------------ the beat
    def _data_ready(self) -> None:
        """A frame's samples are in: draw them now rather than at the next beat (-12 ms median latency);
        the beat restarts so the frame rate stays the same."""
        if self.link is not None and self.link.updates:
            self.timer.start()
            self._tick()

    def _tick(self) -> None:
        link = self.link
        new = False
        if link is not None:
            while link.updates:
                self._apply(link.updates.popleft())
                new = True
        if link is not None and self.plots.angles.latest is not None and not link.finished.is_set():
            # scroll smoothly on the host clock between frames; never past the data by more than a beat
            # of the device's frames, and stop scrolling when the stream stalls
            t_view = link.host_to_stream(time.time())
            newest = self.plots.t_now
            t_view = newest if t_view is None else min(max(t_view, newest), newest + SCROLL_AHEAD_S)
            if new or t_view != self._t_view:
                self._t_view = t_view
                self.plots.refresh(t_view)
        elif new:
            self.plots.refresh()
        now = time.monotonic()
        if now - self._last_status >= STATUS_EVERY_S:
            self._last_status = now
            self._show_status()
            self._show_readouts()
            if self._banner_clear_at is not None and now > self._banner_clear_at:
                self._set_banner("")

    def _apply(self, u) -> None:
        deg = np.degrees
        self.plots.add_samples(u.t, deg(u.tilt), deg(u.obliquity), deg(u.rotation))
        self.meter.set_data(u.t, self.link)
        for r in u.cadence:
            self.plots.add_cadence(r.t, r.spm)
        for t, rpm in u.pedal:
            self.plots.add_pedal(t, rpm)
        for s in u.strides:
            c = s.cycle
            mid = self._right_contact_time(c)
            self.plots.add_step(c.t_start, mid, float(deg(s.tilt_left_stance)), True)
            self.plots.add_step(mid, c.t_end, float(deg(s.tilt_right_stance)), False)
        for ev in u.calibration:
            if ev.kind == "moving_ok":  # aligned without a stand: the status line says so (no dialog, no overlay)
                self.plots.set_hint("")
                continue
            self.calibrate_dialog.show_event(ev.kind, ev.message)
            if ev.kind in ("forward_ok", "forward_refined"):  # refined: mid-run, corrected already
                self.plots.set_hint("")
            elif ev.kind == "stand_ok":
                self.plots.set_hint("Now bend forward from the hips and hold 2 s, or walk or run: either sets forward")
            elif ev.kind == "hinge_rejected":  # still waiting for a hinge or the strides: nothing to retry
                self.plots.set_hint("Not a hip hinge: bend forward from the hips and hold, or walk or run")
            else:
                self.plots.set_hint("Calibration not accepted: press N to retry")
                self.calibrate_dialog.show()
        for n in u.flags:
            self._flag(n)

    def _right_contact_time(self, c) -> float:
        """The right contact inside a stride (the last one the pipeline saw before its end)."""
        p = self.link.pipeline if self.link else None
        if p is not None and p._strides is not None:
            for k in p._strides.contacts:
                if not k.left and c.t_start < k.t < c.t_end:
                    return k.t
        return 0.5 * (c.t_start + c.t_end)

    def _flag(self, n) -> None:
        self.notices.append(n)
        f = n.flag
        title = FLAG_TITLES.get(f.type, f.type)
        if n.kind == "start":
            held = f.decided_at - f.start
            text = f"{title}: {f.mean:+.1f}° for {held:.0f} s"
            if n.advice:  # the advice a size smaller, so banner and advice fit two lines
                text = f"{escape(text)}<br><span style='font-size:{C.BANNER_PT - 6}pt'>{escape(n.advice)}</span>"
            self._set_banner(text, C.FLAG_BANNER)
            if f.type == "sustained_anterior_tilt":
                self.plots.flag_started(f.start)
            if self.a_sound.isChecked():
                self._chimes().play("start")
        elif n.kind == "end":
            mins, secs = divmod(int(round((f.end or n.t) - f.start)), 60)
            self._set_banner(f"{title} ended after {mins} min {secs:02d} s", C.CLEAR_BANNER,
                             clear_after=BANNER_CLEAR_S)
            if f.type == "sustained_anterior_tilt":
                self.plots.flag_ended(f.end or n.t)
            if self.a_sound.isChecked():
                self._chimes().play("end")

    def _chimes(self) -> Chimes:
        """Made on first use: loading QtMultimedia and finding the audio output takes a moment."""
        if self._chime_player is None:
            self._chime_player = Chimes()
        return self._chime_player

    def _set_banner(self, text: str, colours=C.INFO_BANNER, clear_after: float | None = None) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(f"background:{colours[0]}; color:{colours[1]}; padding:6px; border-radius:4px;")
        self.banner.setVisible(bool(text))
        self._banner_clear_at = time.monotonic() + clear_after if clear_after else None

    def _show_readouts(self) -> None:
        p = self.link.pipeline if self.link else None
        thr = self.flag_settings.tilt_threshold_deg
        if p is not None and p.saddle_tilt_deg is not None:  # pedalling: a pelvis rolled forward on the saddle
            # is normal there, so no running threshold colour; the ride's own flag says when it grows
            self.r_tilt.display(f"{p.saddle_tilt_deg:+.1f}°", "last 10 s, vs standing neutral", title="Tilt (saddle)")
        elif p is None or p.tilt_avg_deg is None:
            self.r_tilt.display("–", "calibrate, then move" if p is None or not p.calibrated else "waiting for strides")
        else:
            v = p.tilt_avg_deg
            self.r_tilt.display(f"{v:+.1f}°", f"vs neutral; flag above +{thr:g}°", alert=v > thr)
        if p is not None and p.pedal_rpm is not None:  # pedalling now
            self.r_cadence.display(f"{p.pedal_rpm:.0f}", "rpm (pedalling)")
        elif p is None or p.cadence_spm is None:
            self.r_cadence.display("–", "steps/min")
        else:
            self.r_cadence.display(f"{p.cadence_spm:.0f}", "steps/min" + _contact_line(p))
        if p is None or p.moving_s <= 0:
            self.r_anterior.display("0:00", "of moving time")
        else:
            m, s = divmod(int(p.anterior_s), 60)
            self.r_anterior.display(f"{m}:{s:02d}", f"{100 * p.anterior_s / p.moving_s:.0f} % of moving time",
                                 alert=p.anterior_s > 0)

    def _show_status(self) -> None:
        link = self.link
        if link is None:
            return
        st = link.status
        colour = {"streaming": C.BLUISH_GREEN, "reconnecting": C.ORANGE, "connecting": C.ORANGE,
                  "preparing": C.SKY_BLUE, "failed": C.VERMILLION}.get(st.state, C.FOREGROUND)
        state = f"<span style='color:{colour}'>●</span> {st.state}"
        if st.message and st.state != "streaming":
            state += f" ({escape(st.message)})"
        frames = f"frames lost {st.frames_lost} · recovered {st.frames_recovered}"
        frames += (f" · missing {st.holes}" if st.holes else "") + (f" · drops {st.link_drops}" if st.link_drops else "")
        p = link.pipeline
        calib = p.calibration.state if p else "idle"
        calib_text = calibration_status(calib)
        battery = f"battery {st.battery_pct}%" if st.battery_pct is not None else "battery ?"
        signal = f"signal {escape(st.signal)}"
        if st.state == "streaming" and st.on_time_pct is not None:
            signal += f" · {st.on_time_pct:.0f} % on time"
        sep = "&nbsp;&nbsp;│&nbsp;&nbsp;"
        self.s_link.setText(sep.join((state, escape(st.device), battery, signal, frames,
                                      calib_text)))
        if p is not None and calib == "stand":
            self.calibrate_dialog.show_progress(calib, p.calibration.seconds_left, p.calibration.stand_progress)
        if (id(link), st.store_problems) != self._store_problems_shown and st.store_problems:
            # a write error, low disk space, a pod restart: in the banner at once
            self._store_problems_shown = (id(link), st.store_problems)
            self._set_banner(escape(st.store_problem), C.FLAG_BANNER)
        if st.recording:
            sid = f" session {st.session_id}" if st.session_id is not None else ""
            spool = " (spooling: see the banner)" if "spool" in st.store_problem else ""
            self.s_record.setText(f"<span style='color:{C.VERMILLION}'>● REC</span>{sid}{spool}")
        else:
            self.s_record.setText("not recording")

    # ------------------------------------------------------------------ the end
    def _link_finished(self) -> None:
        link = self.link
        self._enable()
        self._show_status()
        if link is None:
            return
        for n in link.final_flags:
            self.notices.append(n)
        self.last_sessions = list(link.result.session_ids)
        stored = f"session {self.last_sessions[-1]} stored" if link.record and self.last_sessions else ""
        if link.result.error:
            self._set_banner(f"{stored + '; ' if stored else ''}{link.result.error}", C.FLAG_BANNER)
        elif stored:
            self.last_report = link.result.report
            where = f"; report {self.last_report}" if self.last_report else ""
            self._set_banner(f"{stored.capitalize()}{where}", C.INFO_BANNER, clear_after=60)
            if self.last_report is not None:
                self.open_url(QUrl.fromLocalFile(str(self.last_report)))
        self.plots.set_hint("Stopped. Ctrl+K connects again")

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        self.settings.save_geometry(self.saveGeometry(), self.saveState())
        self.settings.sync()
        if self.link is not None and not self.link.finished.is_set():
            self.link.stop()
            self.link.join(30)  # the session is closed and analysed before the window goes
        self.timer.stop()
        super().closeEvent(ev)
