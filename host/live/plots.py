"""The scrolling plots: tilt (neutral band, flag threshold, flagged spans), obliquity and rotation,
cadence, and per-stride tilt means as bars for the left- and right-stance halves.

Cheap redraw: pen width 1 without antialiasing, the history thinned to DISPLAY_HZ (angles change at stride
rate; the newest sample is always drawn as the curve's end, so thinning adds no latency). The x axis is
time relative to now (-window..0) and never moves: the data slides under it, so the axes (whose tick
layout is slow Python) are drawn once, and the view scrolls smoothly on the host clock between the
device's frames (20 a second at 200 Hz). y ranges stay fixed until the data leaves them. `painted` is
called after every repaint with the time it finished (the latency and frame-rate figures of bench/live.py).

What moves is drawn by light items of our own (`_Trace`: a few QPainterPaths; nothing in Python runs when
it slides): the angle history is cut into fixed paths of CHUNK points that are built once, and only the
newest stretch is rebuilt when samples come. Each plot's sliding items hang under one C++ container that is
moved per frame. The grid's lines are filled as device-pixel rectangles (the cosmetic stroker walks a line
pixel by pixel); titles, axis labels, the hint, the threshold lines and the neutral band are cached as pixmaps.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsRectItem,
    QGraphicsView,
)

from . import palette as C

DISPLAY_HZ = 50.0
KEEP_S = 62.0  # the longest window plus a margin
STEP_CADENCE_BASE = (140, 190)  # steps/min: walking to running
PEDAL_CADENCE_BASE = (60, 110)  # rpm
GRID_ALPHA = 38  # grid lines at 15 % opacity
NEUTRAL_BAND_DEG = 2.0  # stand-to-stand repeatability of a neutral stand (docs/live.md)
CHUNK = 100  # thinned points per fixed path of the angle history (2 s at DISPLAY_HZ)
CACHED = QGraphicsItem.DeviceCoordinateCache
ROWS_PER_FILL = 64

pg.setConfigOptions(antialias=False, background=C.BACKGROUND, foreground=C.FOREGROUND)


def _pen(color, style=Qt.SolidLine):
    return pg.mkPen(color=color, width=1, style=style, cosmetic=True)


def _draw_grid(plot: pg.PlotItem, item: _Grid) -> None:
    """Grid lines at the axes' major ticks, redrawn only when a view range changes (rarely: the x axis is
    fixed and the y ranges grow only when the data leave them)."""
    (x0, x1), (y0, y1) = plot.viewRange()
    xs, ys = [], []
    for name, lo, hi, out in (("bottom", x0, x1, xs), ("left", y0, y1, ys)):
        axis = plot.getAxis(name)
        size = plot.getViewBox().size()
        levels = axis.tickValues(lo, hi, max(size.width() if name == "bottom" else size.height(), 1.0))
        out += list(levels[0][1]) if levels else []
    item.set_lines(xs, ys, QRectF(x0, y0, x1 - x0, y1 - y0))


class _Grid(QGraphicsObject):
    """Vertical and horizontal 1-px lines across a rectangle, filled as device-pixel rectangles: the same pixels
    a cosmetic pen draws (column floor(x), row floor(y) in device coordinates), but a fill of a span per line
    instead of the stroker's walk pixel by pixel (the grid was ~10 % of a repaint)."""

    def __init__(self, color: QColor) -> None:
        super().__init__()
        self._color = QColor(color)
        self._xs: list[float] = []
        self._ys: list[float] = []
        self._rect = QRectF()
        self._pixels: tuple = (None, [])  # (device transform, the lines' device rectangles)

    def set_lines(self, xs, ys, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._xs, self._ys, self._rect = [float(x) for x in xs], [float(y) for y in ys], QRectF(rect)
        self._pixels = (None, [])
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, p: QPainter, *args) -> None:
        if not (self._xs or self._ys):
            return
        m = p.transform()  # item -> device: the view's scale and translation
        if m != self._pixels[0]:
            self._pixels = (QTransform(m), self._device_rects(m))
        rects = self._pixels[1]
        p.save()
        p.resetTransform()  # the view's clip stays where it is, in device pixels
        p.setPen(Qt.NoPen)
        p.setBrush(self._color)
        p.drawRects(rects)  # integer rectangles without a pen: exactly these pixels, as fillRect fills them
        p.restore()

    def _device_rects(self, m: QTransform) -> list[QRect]:
        r = self._rect
        (ax, ay), (bx, by) = m.map(QPointF(r.left(), r.top())).toTuple(), m.map(QPointF(r.right(), r.bottom())).toTuple()
        x_lo, x_hi = sorted((int(np.floor(ax)), int(np.floor(bx))))
        y_lo, y_hi = sorted((int(np.floor(ay)), int(np.floor(by))))
        # a vertical line in pieces of at most ROWS_PER_FILL rows: Qt hands a translucent fill of 96 rows or more
        # to its thread pool in pieces of 64 (for a 1-px column, far more switching than work)
        rects = [QRect(int(np.floor(m.map(QPointF(x, 0.0)).x())), y, 1, min(ROWS_PER_FILL, y_hi + 1 - y))
                 for x in self._xs for y in range(y_lo, y_hi + 1, ROWS_PER_FILL)]
        return rects + [QRect(x_lo, int(np.floor(m.map(QPointF(0.0, y)).y())), x_hi - x_lo + 1, 1) for y in self._ys]


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


class _Trace(QGraphicsObject):
    """A curve in a cosmetic 1-px pen without antialiasing, held as a few QPainterPaths. A C++ item moved by its
    container: unlike pyqtgraph's PlotCurveItem nothing in Python runs when it slides, its bounds are kept
    until its paths change, and painting it is one drawPath per path."""

    def __init__(self, color) -> None:
        super().__init__()
        self._pen = _pen(color)
        self._paths: list[QPainterPath] = []
        self._rect = QRectF()

    def set_paths(self, paths: list[QPainterPath], rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._paths, self._rect = paths, rect
        self.update()

    def set_data(self, x, y) -> None:
        """One path through (x, y), as PlotCurveItem.setData(x, y) draws it."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        if len(x) == 0:
            self.set_paths([], QRectF())
            return
        self.set_paths([pg.arrayToQPath(x, y, connect="all")], _bounds(x, y))

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, p: QPainter, *args) -> None:
        if not self._paths:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(self._pen)
        for path in self._paths:
            p.drawPath(path)


def _bounds(x: np.ndarray, y: np.ndarray) -> QRectF:
    """The data's rectangle (finite points), padded a hair so a flat line still has an area (Qt culls items
    whose bounding rectangle is empty)."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return QRectF()
    x, y = x[ok], y[ok]
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    px, py = 1e-6 * max(1.0, x1 - x0), 1e-6 * max(1.0, y1 - y0)
    return QRectF(x0 - px, y0 - py, x1 - x0 + 2 * px, y1 - y0 + 2 * py)


def _container(plot: pg.PlotItem, z: float) -> QGraphicsRectItem:
    """A C++ item without contents in the plot's view: what hangs under it slides with one setPos."""
    box = QGraphicsRectItem()
    box.setFlag(QGraphicsItem.ItemHasNoContents)
    box.setZValue(z)
    plot.getViewBox().addItem(box, ignoreBounds=True)
    return box


class Series:
    """Thinned history of a few signals sharing one time base: keep every k-th sample for KEEP_S."""

    def __init__(self, n_cols: int, rate_hz: float) -> None:
        self.k = max(1, int(round(rate_hz / DISPLAY_HZ)))
        self.cap = int(KEEP_S * rate_hz / self.k) + 1
        self.buf = np.full((n_cols + 1, 4 * self.cap), np.nan)
        self.end = 0
        self.phase = 0
        self.count = 0  # thinned samples kept so far (the absolute index of the next one)
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
        self.count += n

    def held(self) -> np.ndarray:
        """(1 + columns, n) the thinned samples held, oldest first (a view); the first is number count - n."""
        return self.buf[:, max(0, self.end - self.cap) : self.end]

    def arrays(self) -> np.ndarray:
        a = self.held()
        if self.latest is not None and (a.shape[1] == 0 or a[0, -1] < self.latest[0]):
            a = np.column_stack([a, self.latest])
        return a


class LivePlots(pg.GraphicsLayoutWidget):
    def __init__(self, rate_hz: float = 200.0, threshold_deg: float = 5.0, window_s: float = 30.0, parent=None):
        super().__init__(parent)
        # nothing here is antialiased: no extra margin around every changed item
        self.setOptimizationFlags(QGraphicsView.DontAdjustForAntialiasing)
        # only what changed is repainted: the data areas (their items slide every frame), not the axes, titles
        # and labels around them. With the sliding items C++ items of our own (below), Qt's per-item dirty-region
        # bookkeeping costs far less than repainting the static parts (a third of a repaint with the whole view)
        self.setViewportUpdateMode(QGraphicsView.MinimalViewportUpdate)
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
        self.flag_spans: list[list] = []  # [span item (stream time), start, end or None while it holds]
        self._chunks: dict[int, tuple] = {}  # fixed pieces of the angle history: (ends, paths, rects)
        self._joined: tuple = (None, None)  # ((first piece, end piece), the pieces joined)
        font = QFont()
        font.setPointSize(C.AXIS_PT)
        self._font = font

        self.tilt = self._plot(0, f"Tilt vs neutral  <span style='color:{C.BLUE}'>▬ neutral band "
                                  f"±{NEUTRAL_BAND_DEG:g}°</span>  <span style='color:{C.THRESHOLD}'>- - flag "
                                  f"+{threshold_deg:g}°</span>", "deg", (-8, 16), stretch=3)
        # the band as a plain C++ rectangle across the view (set_window), drawn as pyqtgraph's LinearRegionItem
        # draws its region, without its Python paint and its two penless edge lines
        self._band = band = QGraphicsRectItem()
        band.setBrush(pg.mkBrush(*C.NEUTRAL_BAND))
        band.setPen(pg.mkPen(None))
        band.setZValue(-10)
        self.tilt.addItem(band, ignoreBounds=True)
        self.threshold = pg.InfiniteLine(pos=threshold_deg, angle=0, movable=False, pen=_pen(C.THRESHOLD, Qt.DashLine))
        self.threshold.setCacheMode(CACHED)
        self.tilt.addItem(self.threshold)
        self._span_box = _container(self.tilt, -20)  # flagged spans, under the band and the grid
        tilt_box = _container(self.tilt, 0)
        self.tilt_curve = self._curve(tilt_box, C.TILT)
        self.hint = pg.TextItem("", color=C.FOREGROUND, anchor=(0.5, 0.5))
        big = QFont()
        big.setPointSize(C.BANNER_PT - 6)
        self.hint.setFont(big)
        self.hint.textItem.setCacheMode(CACHED)
        self.tilt.addItem(self.hint, ignoreBounds=True)

        self.frontal = self._plot(1, f"<span style='color:{C.OBLIQUITY}'>Obliquity</span> and "
                                     f"<span style='color:{C.ROTATION}'>rotation</span>", "deg", (-12, 12), stretch=2)
        frontal_box = _container(self.frontal, 0)
        self.obl_curve = self._curve(frontal_box, C.OBLIQUITY)
        self.rot_curve = self._curve(frontal_box, C.ROTATION)

        self.cadence = self._plot(2, f"Cadence: <span style='color:{C.CADENCE}'>steps/min</span> · "
                                     f"<span style='color:{C.PEDAL}'>rpm (pedalling)</span>", "per min",
                                  STEP_CADENCE_BASE, stretch=1)
        cadence_box = _container(self.cadence, 0)
        self.cad_curve = self._curve(cadence_box, C.CADENCE)
        self.pedal_curve = self._curve(cadence_box, C.PEDAL)

        self.bars = self._plot(3, f"Stride tilt: <span style='color:{C.LEFT}'>left stance</span> / "
                                  f"<span style='color:{C.RIGHT}'>right stance</span>", "deg", (-4, 12), stretch=2)
        self.bar_thr = pg.InfiniteLine(pos=threshold_deg, angle=0, movable=False, pen=_pen(C.THRESHOLD, Qt.DashLine))
        self.bar_thr.setCacheMode(CACHED)
        self.bars.addItem(self.bar_thr)
        bars_box = _container(self.bars, 0)
        self.left_bars = _Bars(x=[], height=[], width=0.3, brush=C.LEFT, pen=pg.mkPen(None))
        self.right_bars = _Bars(x=[], height=[], width=0.3, brush=C.RIGHT, pen=pg.mkPen(None))
        self.left_bars.setParentItem(bars_box)
        self.right_bars.setParentItem(bars_box)
        self.bars.setLabel("bottom", "seconds (0 = now)")
        for p in (self.tilt, self.frontal, self.cadence):
            p.getAxis("bottom").setStyle(showValues=False)
            p.getAxis("bottom").setHeight(6)
        for p in (self.tilt, self.frontal, self.cadence, self.bars):
            # fixed text: pixmaps rather than a rich-text layout replayed every frame (~20 % of a repaint)
            p.titleLabel.item.setCacheMode(CACHED)
            for ax in ("left", "bottom"):
                p.getAxis(ax).label.setCacheMode(CACHED)
            # layout boxes that draw nothing themselves: Qt then skips them (and their Python bounding
            # rectangles, asked for several times a frame)
            p.setFlag(QGraphicsItem.ItemHasNoContents)
            p.titleLabel.setFlag(QGraphicsItem.ItemHasNoContents)
        self.ci.setFlag(QGraphicsItem.ItemHasNoContents)
        # items drawn in stream time: their containers slide under the fixed relative axis
        self._sliding = (self._span_box, tilt_box, frontal_box, cadence_box, bars_box)
        self._angles_dirty = False
        self.set_window(self.window_s)
        self.set_hint("Connect a device (Ctrl+K), then calibrate (N)")

    @staticmethod
    def _curve(box: QGraphicsItem, color) -> _Trace:
        curve = _Trace(color)
        curve.setParentItem(box)
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
        # the grid as lines of our own rather than pyqtgraph's axis grid, which makes every axis pixmap span
        # the whole plot: four plot-sized translucent blits per plot and frame
        grid = _Grid(QColor(*pg.mkColor(C.FOREGROUND).getRgb()[:3], GRID_ALPHA))
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
        self._cad_dirty = self._steps_dirty = self._angles_dirty = True
        (x0, x1), _ = self.tilt.viewRange()
        self._band.setRect(QRectF(x0, -NEUTRAL_BAND_DEG, x1 - x0, 2 * NEUTRAL_BAND_DEG))

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
        span = QGraphicsRectItem()
        span.setBrush(pg.mkBrush(*C.FLAG_SPAN))
        span.setPen(pg.mkPen(None))
        span.setParentItem(self._span_box)
        self.flag_spans.append([span, start, None])
        self._place_span(span, start, None)

    def flag_ended(self, end: float) -> None:
        for s in self.flag_spans:
            if s[2] is None:
                s[2] = end
                self._place_span(*s)

    def _place_span(self, span: QGraphicsRectItem, start: float, end: float | None) -> None:
        """In stream time, up to the newest sample while it holds, over the plot's height (as pyqtgraph's
        LinearRegionItem spans the view)."""
        _, (y0, y1) = self.tilt.viewRange()
        span.setRect(QRectF(start, y0, max(0.0, (self.t_now if end is None else end) - start), y1 - y0))

    # ------------------------------------------------------------------ redraw
    def refresh(self, t_view: float | None = None) -> None:
        """Redraw with `t_view` (stream time, s) at the right edge; default: the newest sample.

        Data stay in stream time and are handed to the items only when new ones came; scrolling moves each
        plot's container (setPos), which costs no path rebuild."""
        now = self.t_now if t_view is None else max(t_view, self.t_now)
        lo = now - self.window_s
        if self._angles_dirty:
            self._draw_angles(lo)
            if self._y_check(now):
                a = self.angles.arrays()
                i = max(0, int(np.searchsorted(a[0], lo - 1.0)) - 1)
                self._fit_y(self.tilt, a[1, i:], (-8, 16))
                self._fit_y(self.frontal, np.r_[a[2, i:], a[3, i:]], (-12, 12))
            lo_kept = self.t_now - KEEP_S
            for span, start, end in self.flag_spans:
                if end is None or end > lo_kept:  # still flagged (it reaches the newest sample), or in view
                    self._place_span(span, start, end)
            self._angles_dirty = False
        if self._cad_dirty and (self.cadence_t or self.pedal_t):
            self._trim_events(lo - 5)
            self._fit_cadence_y()
            self.cad_curve.set_data(self.cadence_t, self.cadence_v)
            self.pedal_curve.set_data(self.pedal_t, self.pedal_v)
            self._cad_dirty = False
        if self._steps_dirty and self.steps:
            self._draw_bars(lo)
        for box in self._sliding:
            box.setPos(-now, 0)

    def _draw_angles(self, lo: float) -> None:
        """The angle curves from one second before the window's left edge to the newest sample, each one path:
        fixed pieces of CHUNK thinned points (built once) joined end to end, then the newest stretch (rebuilt
        when samples come). The same polyline, point for point, as one path built through all the points."""
        s = self.angles
        held = s.held()
        first = s.count - held.shape[1]  # number of held[:, 0]
        # from the point before lo - 1 s on (as far as held), like the plain curve
        start = first + max(0, int(np.searchsorted(held[0], lo - 1.0)) - 1) if held.shape[1] else s.count
        done = s.count // CHUNK  # pieces 0 .. done-1 are complete: points k*CHUNK .. (k+1)*CHUNK - 1
        for k in [k for k in self._chunks if k * CHUNK < first - CHUNK]:
            del self._chunks[k]
        k0 = max(0, start // CHUNK)
        if self._joined[0] != (k0, done):  # a piece completed, or the oldest left the window: join them anew
            pieces = []
            for k in range(k0, done):
                got = self._chunks.get(k)
                if got is None:
                    got = self._piece(held[:, max(k * CHUNK, first) - first : (k + 1) * CHUNK - first])
                    if k * CHUNK >= first:
                        self._chunks[k] = got
                pieces.append(got)
            self._joined = ((k0, done), self._join(pieces))
        tail = held[:, max(done * CHUNK, first, start) - first :]
        if s.latest is not None and (tail.shape[1] == 0 or tail[0, -1] < s.latest[0]):
            tail = np.column_stack([tail, s.latest])
        joined = self._joined[1]
        if tail.shape[1]:
            joined = self._join([joined, self._piece(tail)])
        for j, c in enumerate((self.tilt_curve, self.obl_curve, self.rot_curve)):
            c.set_paths([joined[1][j]] if not joined[1][j].isEmpty() else [], joined[2][j])

    @staticmethod
    def _join(pieces):
        """One (ends, paths, rects) of consecutive pieces of the angle history, each curve one path."""
        paths, rects, ends = [QPainterPath(), QPainterPath(), QPainterPath()], [QRectF(), QRectF(), QRectF()], None
        for piece_ends, piece_paths, piece_rects in pieces:
            for j in range(3):
                if ends is not None and ends[1][j] and piece_ends[0][j]:
                    other = piece_paths[j]
                    if other.elementCount() == 1:  # a lone point (Qt counts that path as empty): the line to it
                        paths[j].lineTo(other.elementAt(0).x, other.elementAt(0).y)
                    else:
                        paths[j].connectPath(other)  # a line from the last point to the piece's first: unbroken
                else:
                    paths[j].addPath(piece_paths[j])  # across a NaN the line breaks, as connect="finite" draws it
                rects[j] = rects[j].united(piece_rects[j])
            ends = (piece_ends[0] if ends is None else ends[0], piece_ends[1])
        if ends is None:
            ends = (np.zeros(3, bool), np.zeros(3, bool))
        return ends, paths, rects

    @staticmethod
    def _piece(cols: np.ndarray):
        """((first point finite, last point finite) per curve, paths, rects) of a stretch of the angle history."""
        connect = "finite" if np.isnan(cols[1]).any() else "all"
        paths, rects = [], []
        for k in (1, 2, 3):
            if cols.shape[1] == 1:  # a lone point (the newest after a full piece): where the line goes next
                path = QPainterPath()
                if np.isfinite(cols[1, 0]) and np.isfinite(cols[k, 0]):
                    path.moveTo(cols[0, 0], cols[k, 0])
            else:
                path = pg.arrayToQPath(cols[0], cols[k], connect=connect, finiteCheck=connect != "all")
            paths.append(path)
            rects.append(_bounds(cols[0], cols[k]))
        ends = (np.isfinite(cols[1:4, 0]) & np.isfinite(cols[1])[0], np.isfinite(cols[1:4, -1]) & np.isfinite(cols[1])[-1])
        return ends, paths, rects

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
