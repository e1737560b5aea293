"""The scrolling plots: tilt (neutral band, flag threshold, flagged spans), obliquity and rotation,
cadence, and per-stride tilt means as bars for the left- and right-stance halves.

Cheap redraw: pen width 1 without antialiasing, the history thinned to DISPLAY_HZ (angles change at stride
rate; the newest sample is always drawn as the curve's end, so thinning adds no latency). The x axis is
time relative to now (-window..0) and never moves: the data slides under it, so the axes (whose tick
layout is slow Python) are drawn once, and the view scrolls smoothly on the host clock between the
device's frames (20 a second at 200 Hz). y ranges stay fixed until the data leaves them. `painted` is
called after every repaint with the time it finished (the latency and frame-rate figures of bench/live.py).
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView

from . import palette as C

DISPLAY_HZ = 50.0
KEEP_S = 62.0  # the longest window plus a margin
STEP_CADENCE_BASE = (140, 190)  # steps/min: walking to running
PEDAL_CADENCE_BASE = (60, 110)  # rpm
GRID_ALPHA = 38  # grid lines at 15 % opacity
NEUTRAL_BAND_DEG = 2.0  # stand-to-stand repeatability of a neutral stand (docs/live.md)

pg.setConfigOptions(antialias=False, background=C.BACKGROUND, foreground=C.FOREGROUND)


def _pen(color, style=Qt.SolidLine):
    return pg.mkPen(color=color, width=1, style=style, cosmetic=True)


def _draw_grid(plot: pg.PlotItem, item: pg.PlotCurveItem) -> None:
    """Grid lines at the axes' major ticks, redrawn only when a view range changes (rarely: the x axis is
    fixed and the y ranges grow only when the data leave them)."""
    (x0, x1), (y0, y1) = plot.viewRange()
    segments = []
    for name, lo, hi, other in (("bottom", x0, x1, (y0, y1)), ("left", y0, y1, (x0, x1))):
        axis = plot.getAxis(name)
        size = plot.getViewBox().size()
        levels = axis.tickValues(lo, hi, max(size.width() if name == "bottom" else size.height(), 1.0))
        for v in (levels[0][1] if levels else []):
            a, b = ((v, other[0]), (v, other[1])) if name == "bottom" else ((other[0], v), (other[1], v))
            segments += [a, b]
    xy = np.asarray(segments, float).reshape(-1, 2)
    item.setData(xy[:, 0], xy[:, 1], connect="pairs")


# Qt asks every item for its bounding rectangle several times per repaint (~40 times per frame for the
# axes alone); pyqtgraph recomputes it in Python each time. These two remember it until it can change.
class _Axis(pg.AxisItem):
    """An axis whose bounding rectangle is recomputed only when its geometry changes (resize)."""

    _rect_for = None
    _rect = None

    def boundingRect(self):  # noqa: N802 - Qt override
        geometry = self.geometry()
        if geometry != self._rect_for:
            self._rect_for, self._rect = geometry, super().boundingRect()
        return self._rect


class _Bars(pg.BarGraphItem):
    """Outline-free bars whose bounding rectangle (the data's) is recomputed only when the bars change."""

    _rect = None

    def setOpts(self, **opts):  # noqa: N802 - pyqtgraph's name
        self._rect = None
        super().setOpts(**opts)

    def boundingRect(self):  # noqa: N802 - Qt override
        if self._rect is None:
            (x0, x1), (y0, y1) = self.dataBounds(0), self.dataBounds(1)
            self._rect = QRectF() if None in (x0, x1, y0, y1) else QRectF(x0, y0, x1 - x0, y1 - y0)
        return self._rect


class Series:
    """Thinned history of a few signals sharing one time base: keep every k-th sample for KEEP_S."""

    def __init__(self, n_cols: int, rate_hz: float) -> None:
        self.k = max(1, int(round(rate_hz / DISPLAY_HZ)))
        self.cap = int(KEEP_S * rate_hz / self.k) + 1
        self.buf = np.full((n_cols + 1, 4 * self.cap), np.nan)
        self.end = 0
        self.phase = 0
        self.latest = None  # (t, values) of the newest sample, drawn as the end of the curve

    def append(self, t: np.ndarray, *cols: np.ndarray) -> None:
        if len(t) == 0:
            return
        self.latest = np.array([t[-1], *(c[-1] for c in cols)])
        pick = np.arange((-self.phase) % self.k, len(t), self.k)
        self.phase = (self.phase + len(t)) % self.k
        n = len(pick)
        if self.end + n > self.buf.shape[1]:
            self.buf[:, : self.cap] = self.buf[:, self.end - self.cap : self.end]
            self.end = self.cap
        self.buf[0, self.end : self.end + n] = t[pick]
        for i, c in enumerate(cols, 1):
            self.buf[i, self.end : self.end + n] = c[pick]
        self.end += n

    def arrays(self) -> np.ndarray:
        a = self.buf[:, max(0, self.end - self.cap) : self.end]
        if self.latest is not None and (a.shape[1] == 0 or a[0, -1] < self.latest[0]):
            a = np.column_stack([a, self.latest])
        return a


class LivePlots(pg.GraphicsLayoutWidget):
    def __init__(self, rate_hz: float = 200.0, threshold_deg: float = 5.0, window_s: float = 30.0, parent=None):
        super().__init__(parent)
        # nothing here is antialiased: no extra margin around every changed item
        self.setOptimizationFlags(QGraphicsView.DontAdjustForAntialiasing)
        # the data slide under every plot on every frame, so nearly the whole view changes anyway: repainting
        # it whole skips Qt's per-item dirty-region bookkeeping (~10 % of a repaint)
        self.setViewportUpdateMode(QGraphicsView.FullViewportUpdate)
        self.window_s = float(window_s)
        self.painted = None  # callback(time.time() when a repaint finished)
        self.threshold_deg = threshold_deg
        self.angles = Series(3, rate_hz)
        self.cadence_t: list[float] = []  # steps/min at each contact
        self.cadence_v: list[float] = []
        self.pedal_t: list[float] = []  # rpm every 2 s while pedalling
        self.pedal_v: list[float] = []
        self.steps: list[tuple[float, float, float, bool]] = []  # (start, end, tilt deg, left stance)
        self._steps_dirty = self._cad_dirty = False
        self.t_now = 0.0
        self.flag_spans: list[list] = []  # [region item, start, end or None while it holds]
        font = QFont()
        font.setPointSize(C.AXIS_PT)
        self._font = font

        self.tilt = self._plot(0, f"Tilt vs neutral  <span style='color:{C.BLUE}'>▬ neutral band "
                                  f"±{NEUTRAL_BAND_DEG:g}°</span>  <span style='color:{C.THRESHOLD}'>- - flag "
                                  f"+{threshold_deg:g}°</span>", "deg", (-8, 16), stretch=3)
        band = pg.LinearRegionItem((-NEUTRAL_BAND_DEG, NEUTRAL_BAND_DEG), orientation="horizontal", movable=False,
                                   brush=pg.mkBrush(*C.NEUTRAL_BAND), pen=pg.mkPen(None))
        band.setZValue(-10)
        self.tilt.addItem(band)
        self.threshold = pg.InfiniteLine(pos=threshold_deg, angle=0, movable=False, pen=_pen(C.THRESHOLD, Qt.DashLine))
        self.tilt.addItem(self.threshold)
        self.tilt_curve = self._curve(self.tilt, C.TILT)
        self.hint = pg.TextItem("", color=C.FOREGROUND, anchor=(0.5, 0.5))
        big = QFont()
        big.setPointSize(C.BANNER_PT - 6)
        self.hint.setFont(big)
        self.tilt.addItem(self.hint, ignoreBounds=True)

        self.frontal = self._plot(1, f"<span style='color:{C.OBLIQUITY}'>Obliquity</span> and "
                                     f"<span style='color:{C.ROTATION}'>rotation</span>", "deg", (-12, 12), stretch=2)
        self.obl_curve = self._curve(self.frontal, C.OBLIQUITY)
        self.rot_curve = self._curve(self.frontal, C.ROTATION)

        self.cadence = self._plot(2, f"Cadence: <span style='color:{C.CADENCE}'>steps/min</span> · "
                                     f"<span style='color:{C.PEDAL}'>rpm (pedalling)</span>", "per min",
                                  STEP_CADENCE_BASE, stretch=1)
        self.cad_curve = self._curve(self.cadence, C.CADENCE)
        self.pedal_curve = self._curve(self.cadence, C.PEDAL)

        self.bars = self._plot(3, f"Stride tilt: <span style='color:{C.LEFT}'>left stance</span> / "
                                  f"<span style='color:{C.RIGHT}'>right stance</span>", "deg", (-4, 12), stretch=2)
        self.bar_thr = pg.InfiniteLine(pos=threshold_deg, angle=0, movable=False, pen=_pen(C.THRESHOLD, Qt.DashLine))
        self.bars.addItem(self.bar_thr)
        self.left_bars = _Bars(x=[], height=[], width=0.3, brush=C.LEFT, pen=pg.mkPen(None))
        self.right_bars = _Bars(x=[], height=[], width=0.3, brush=C.RIGHT, pen=pg.mkPen(None))
        self.bars.addItem(self.left_bars)
        self.bars.addItem(self.right_bars)
        self.bars.setLabel("bottom", "seconds (0 = now)")
        for p in (self.tilt, self.frontal, self.cadence):
            p.getAxis("bottom").setStyle(showValues=False)
            p.getAxis("bottom").setHeight(6)
        # items drawn in stream time and slid under the fixed relative axis
        self._sliding = (self.tilt_curve, self.obl_curve, self.rot_curve, self.cad_curve, self.pedal_curve,
                         self.left_bars, self.right_bars)
        self._angles_dirty = False
        self.set_window(self.window_s)
        self.set_hint("Connect a device (Ctrl+K), then calibrate (N)")

    @staticmethod
    def _curve(plot: pg.PlotItem, color) -> pg.PlotCurveItem:
        # a bare PlotCurveItem, not plot.plot()'s PlotDataItem: moving a PlotDataItem re-sets its data, so
        # every scroll frame rebuilt every curve's path; a moved PlotCurveItem keeps its path
        curve = pg.PlotCurveItem(pen=_pen(color))
        plot.addItem(curve)
        return curve

    def _plot(self, row: int, title: str, units: str, yrange, stretch: int) -> pg.PlotItem:
        p = self.addPlot(row=row, col=0, axisItems={side: _Axis(side) for side in ("left", "bottom")})
        p.setTitle(title, size=f"{C.AXIS_PT + 1}pt", justify="left")
        p.setLabel("left", units)
        for ax in ("left", "bottom"):
            p.getAxis(ax).setTickFont(self._font)
            p.getAxis(ax).label.setFont(self._font)
        p.getAxis("left").setWidth(70)
        for ax in ("left", "bottom"):
            # the axes do not change while the data slides: keep them as pixmaps instead of replaying their
            # drawing every frame (that replay was ~40 % of a repaint)
            p.getAxis(ax).setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        # the grid as one static path of lines rather than pyqtgraph's axis grid, which makes every axis
        # pixmap span the whole plot: four plot-sized translucent blits per plot and frame
        grid = pg.PlotCurveItem(pen=pg.mkPen(color=(*pg.mkColor(C.FOREGROUND).getRgb()[:3], GRID_ALPHA), width=1,
                                             cosmetic=True), connect="pairs")
        grid.setZValue(-5)
        p.addItem(grid, ignoreBounds=True)
        p.getViewBox().sigRangeChanged.connect(lambda vb, ranges, *_, plot=p, item=grid: _draw_grid(plot, item))
        p.setMenuEnabled(False)
        p.setMouseEnabled(x=False, y=False)
        p.hideButtons()
        p.setYRange(*yrange, padding=0)
        p.enableAutoRange(False)
        self.ci.layout.setRowStretchFactor(row, stretch)
        return p

    # ------------------------------------------------------------------ data in
    def set_window(self, seconds: float) -> None:
        self.window_s = float(seconds)
        for p in (self.tilt, self.frontal, self.cadence, self.bars):
            p.setXRange(-self.window_s, 0, padding=0)
        self._place_hint()
        self._cad_dirty = self._steps_dirty = True

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def add_samples(self, t: np.ndarray, tilt_deg: np.ndarray, obl_deg: np.ndarray, rot_deg: np.ndarray) -> None:
        self.angles.append(t, tilt_deg, obl_deg, rot_deg)
        self._angles_dirty = True
        if len(t):
            self.t_now = float(t[-1])

    def add_cadence(self, t: float, spm: float) -> None:
        self.cadence_t.append(t)
        self.cadence_v.append(spm)
        self._cad_dirty = True

    def add_pedal(self, t: float, rpm: float) -> None:
        self.pedal_t.append(t)
        self.pedal_v.append(rpm)
        self._cad_dirty = True

    def add_step(self, start: float, end: float, tilt_deg: float, left: bool) -> None:
        self.steps.append((start, end, tilt_deg, left))
        self._steps_dirty = True

    def flag_started(self, start: float) -> None:
        span = pg.LinearRegionItem((0, 0), movable=False, brush=pg.mkBrush(*C.FLAG_SPAN), pen=pg.mkPen(None))
        span.setZValue(-20)
        self.tilt.addItem(span)
        self.flag_spans.append([span, start, None])

    def flag_ended(self, end: float) -> None:
        for s in self.flag_spans:
            if s[2] is None:
                s[2] = end

    # ------------------------------------------------------------------ redraw
    def refresh(self, t_view: float | None = None) -> None:
        """Redraw with `t_view` (stream time, s) at the right edge; default: the newest sample.

        Data stay in stream time and are handed to pyqtgraph only when new ones came; scrolling moves the
        items (setPos), which costs no path rebuild."""
        now = self.t_now if t_view is None else max(t_view, self.t_now)
        lo = now - self.window_s
        if self._angles_dirty:
            a = self.angles.arrays()
            i = max(0, int(np.searchsorted(a[0], lo - 1.0)) - 1)
            finite = "finite" if np.isnan(a[1, i:]).any() else "all"
            for curve, k in ((self.tilt_curve, 1), (self.obl_curve, 2), (self.rot_curve, 3)):
                curve.setData(a[0, i:], a[k, i:], connect=finite, skipFiniteCheck=finite == "all")
            if self._y_check(now):
                self._fit_y(self.tilt, a[1, i:], (-8, 16))
                self._fit_y(self.frontal, np.r_[a[2, i:], a[3, i:]], (-12, 12))
            self._angles_dirty = False
        if self._cad_dirty and (self.cadence_t or self.pedal_t):
            self._trim_events(lo - 5)
            self._fit_cadence_y()
            self.cad_curve.setData(self.cadence_t, self.cadence_v)
            self.pedal_curve.setData(self.pedal_t, self.pedal_v)
            self._cad_dirty = False
        if self._steps_dirty and self.steps:
            self._draw_bars(lo)
        for item in self._sliding:
            item.setPos(-now, 0)
        for span, start, end in self.flag_spans:
            if end is None or span.getRegion()[1] > -self.window_s - 1:
                span.setRegion((start - now, (self.t_now if end is None else end) - now))

    def _y_check(self, now: float) -> bool:
        """Revisit the y ranges twice a second, not every frame."""
        if now - getattr(self, "_last_y", -1e9) >= 0.5:
            self._last_y = now
            return True
        return False

    def _place_hint(self) -> None:
        vr = self.tilt.viewRange()
        self.hint.setPos(0.5 * (vr[0][0] + vr[0][1]), 0.5 * (vr[1][0] + vr[1][1]))

    def _fit_y(self, plot: pg.PlotItem, y: np.ndarray, base) -> None:
        """Grow the y range to show the data (never shrink below `base`, never jump every frame)."""
        y = y[np.isfinite(y)]
        if len(y) == 0:
            return
        lo, hi = plot.viewRange()[1]
        want_lo, want_hi = min(base[0], np.floor(y.min() / 2) * 2 - 2), max(base[1], np.ceil(y.max() / 2) * 2 + 2)
        if want_lo < lo or want_hi > hi or (want_hi - want_lo) < 0.6 * (hi - lo):
            plot.setYRange(want_lo, want_hi, padding=0)

    def _trim_events(self, lo: float) -> None:
        for t, v in ((self.cadence_t, self.cadence_v), (self.pedal_t, self.pedal_v)):
            k = int(np.searchsorted(t, lo))
            del t[:k], v[:k]

    def _fit_cadence_y(self) -> None:
        """Steps/min and rpm live in different ranges (~170 vs ~90): span the base range of each shown."""
        lo, hi = np.inf, -np.inf
        for v, base in ((self.cadence_v, STEP_CADENCE_BASE), (self.pedal_v, PEDAL_CADENCE_BASE)):
            if v:
                lo, hi = min(lo, base[0], min(v) - 5), max(hi, base[1], max(v) + 5)
        if np.isfinite(lo) and (lo, hi) != tuple(self.cadence.viewRange()[1]):
            self.cadence.setYRange(lo, hi, padding=0)

    def _draw_bars(self, lo: float) -> None:
        while self.steps and self.steps[0][1] < lo - 5:
            self.steps.pop(0)
        for item, left in ((self.left_bars, True), (self.right_bars, False)):
            s = np.array([(a, b, v) for a, b, v, side in self.steps if side == left]).reshape(-1, 3)
            item.setOpts(x=0.5 * (s[:, 0] + s[:, 1]), height=s[:, 2], width=0.9 * (s[:, 1] - s[:, 0]))
        v = np.array([x[2] for x in self.steps if x[1] >= lo])
        if len(v):
            self._fit_y(self.bars, v, (-4, 12))
        self._steps_dirty = False

    def paintEvent(self, ev) -> None:  # noqa: N802 - Qt override
        super().paintEvent(ev)
        if self.painted is not None:
            self.painted(time.time())
