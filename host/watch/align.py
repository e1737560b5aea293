"""Where the watch's records sit on the pod's time line: the clock offset, its uncertainty, or a refusal.

Both devices count the same steps (or crank revolutions). The pod knows each foot contact to a few ms
(host.gait.contacts), so its cumulative step count C(t) is known everywhere (on a bike: the revolutions
from the phase of the pelvic rock, `crank_counter`); a watch record stamped w holds the cadence over the
second before it. For a trial offset τ (watch clock = pod clock + τ) the pod predicts that record as
60·(C(w-τ) - C(w-τ-1)). The offset is the τ whose prediction matches the watch's cadence best: a coarse
normalised cross-correlation over the search range (1-s steps), then a fine search (0.02 s, ±2 s) of the
least-squares fit cadence_watch ≈ a·prediction + b, outliers trimmed, parabola through the minimum.
Stops, starts, walk/run changes and the stride-to-stride cadence wobble all pin it.

Uncertainty: the least-squares time-delay bound, σ_τ = σ_res / sqrt(Σ (a·dP/dτ)²) (σ_res: the fit's
residual SD), with the effective number of independent records (residual autocorrelation) taken into
account, combined with CONTACT_BIAS_S for the pod's own contact timing.

Refused (AlignmentRefused, one line saying why): no overlap in time (another day's file), a watch sport
that is not the session's activity (a ride file for a run), too little matched movement, a best match too
weak to trust (another activity), or, when searching without a trusted clock, a second-to-second wobble
that does not match (the same routine run on another day matches the slow changes, never the wobble).
Without cadence in the file the watch's speed is matched against the pod's cadence instead.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .stream import WatchStream

STEP_BREAK_S = 1.5  # no foot contact for this long: the wearer stopped (cadence 0 between)
CRANK_BAND = (0.6, 1.5)  # x the ride's mean cadence: the band the rock's phase is taken in
RIDE_JOIN_S = 10.0
COARSE_STEP_S = 1.0
FINE_HALF_S = 2.0
FINE_STEP_S = 0.02
MIN_CORRELATION = 0.6  # below: the watch's cadence does not follow this session's steps
MIN_MATCHED_S = 60.0  # records that must overlap the pod's movement
MIN_OVERLAP_SHARE = 0.5  # of the shorter of the two movement spans
CONTACT_BIAS_S = 0.05  # the pod's contact times vs the true foot strikes: a systematic few tens of ms
DETAIL_WINDOW = 15
MIN_DETAIL = 0.15  # searching without a trusted clock: the wobble must match too (another day's file: ~0)
TRIM_MAD = 6.0  # residuals beyond 6 robust SD are starts/stops a step off, not the offset


class AlignmentRefused(ValueError):
    """The watch file does not belong to this session; the message says why in one line."""


@dataclass
class WatchAlignment:
    offset_s: float  # watch clock - pod clock (pod clock: session start unix + session time)
    sd_s: float  # 1-sigma uncertainty of the offset
    correlation: float  # normalised cross-correlation at the offset (1 = identical shape)
    matched_records: int
    matched_s: float
    signal: str  # 'cadence' or 'speed'
    gain: float  # watch cadence ≈ gain · pod cadence + bias (1 when both count the same steps)
    detail: float  # correlation of the second-to-second wobble alone (slow changes taken out)

    def to_record(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def step_counter(contact_t: np.ndarray, break_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(knot times, cumulative count): piecewise-linear step (or revolution) count, flat across breaks.
    A bout's first step began one step time before its first contact, and its last one ends one step
    time after its last contact (the watch counts those steps too)."""
    t = np.sort(np.asarray(contact_t, float))
    if len(t) < 2:
        return np.array([0.0, 1.0]), np.zeros(2)
    bouts = np.split(t, np.nonzero(np.diff(t) > break_s)[0] + 1)
    knots_t, knots_c, count = [], [], 0.0
    for b in bouts:
        step = float(np.median(np.diff(b))) if len(b) > 1 else break_s / 2
        times = np.r_[b[0] - step, b, b[-1] + step]
        knots_t.append(times)
        knots_c.append(count + np.arange(len(times), dtype=float))
        count += len(times) - 1
    kt, kc = np.concatenate(knots_t), np.concatenate(knots_c)
    order = np.argsort(kt, kind="stable")  # bouts closer than two step times may overlap by a knot
    kt, kc = kt[order], np.maximum.accumulate(kc[order])
    return kt, kc


def pod_cadence(knots: tuple[np.ndarray, np.ndarray], at: np.ndarray, width_s: float = 1.0) -> np.ndarray:
    """Mean cadence (per minute) over [at - width, at] from the cumulative count."""
    kt, kc = knots
    return 60.0 * (np.interp(at, kt, kc) - np.interp(at - width_s, kt, kc)) / width_s


def session_counter(analysis, activity: str) -> tuple[np.ndarray, np.ndarray]:
    """The pod's cumulative step count (walking, running) or crank revolution count (riding) of a
    host.analysis.SessionAnalysis, on session time (s from its first sample)."""
    t0 = float(analysis.rec.t[0])
    if activity == "riding":
        return crank_counter(analysis)
    return step_counter(np.asarray(analysis.contacts.t, float) - t0, STEP_BREAK_S)


def crank_counter(analysis) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative crank revolutions while riding, from the phase of the pelvic rock: the obliquity swings
    once per revolution, so its phase (band-passed around the ride's cadence, Hilbert transform) counts
    revolutions continuously, to a fraction of one (the ride stage's per-window cadence is too coarse to
    time a watch against). Flat between rides."""
    from scipy.signal import butter, hilbert, sosfiltfilt

    rec = analysis.rec
    t = rec.t - float(rec.t[0])
    rate = float(rec.rate_hz)
    x = np.nan_to_num(np.asarray(analysis.angles.obliquity, float))
    step = max(1, int(rate // 20))  # knots at ~20 Hz: plenty for 1-s records
    knots_t, knots_c, count = [], [], 0.0
    for start, end, rpm in _ride_spans(analysis.gait.rides):
        a, b = np.searchsorted(t, [start - float(rec.t[0]), end - float(rec.t[0])])
        if b - a < 4 * rate or not np.isfinite(rpm) or rpm <= 0:
            continue
        f0 = rpm / 60.0
        sos = butter(2, [CRANK_BAND[0] * f0, min(CRANK_BAND[1] * f0, 0.45 * rate)], btype="band", fs=rate,
                     output="sos")
        phase = np.unwrap(np.angle(hilbert(sosfiltfilt(sos, x[a:b]))))
        revs = (phase - phase[0]) / (2 * np.pi)
        revs = np.maximum.accumulate(revs)  # a phase slip backwards is not pedalling backwards
        knots_t.append(t[a:b:step])
        knots_c.append(count + revs[::step])
        count = knots_c[-1][-1]
    if not knots_t:
        return np.array([0.0, 1.0]), np.zeros(2)
    return np.concatenate(knots_t), np.concatenate(knots_c)


def _ride_spans(rides) -> list[tuple[float, float, float]]:
    """Rides closer than RIDE_JOIN_S joined (the ride stage splits a ride for a few s where the cadence
    changes: exactly where a watch is easiest to time against): (start, end, mean rpm)."""
    out: list[list[float]] = []
    for r in sorted(rides, key=lambda r: r.start_s):
        dur = r.end_s - r.start_s
        if out and r.start_s - out[-1][1] < RIDE_JOIN_S:
            last = out[-1]
            last[2] = (last[2] * last[3] + r.cadence_rpm * dur) / (last[3] + dur)
            last[1], last[3] = r.end_s, last[3] + dur
        else:
            out.append([r.start_s, r.end_s, r.cadence_rpm, dur])
    return [(a, b, rpm) for a, b, rpm, _ in out]


def align_watch(watch: WatchStream, knots: tuple[np.ndarray, np.ndarray], session_start_unix: float,
                session_s: float, pod_activity: str, max_shift_s: float | None = None) -> WatchAlignment:
    """Offset of `watch` against the pod session whose step counter is `knots` (session time, s).
    `max_shift_s`: how far the two clocks may disagree (None: anywhere inside the file, for sessions whose
    start time is not known, e.g. synced from the pod's flash)."""
    _check_sport(watch, pod_activity)
    w = watch.timestamp - session_start_unix  # watch record times relative to the session's nominal start
    lo, hi = (w[0] - session_s, w[-1]) if max_shift_s is None else (-max_shift_s, max_shift_s)
    if max_shift_s is not None and (w[-1] < -max_shift_s or w[0] > session_s + max_shift_s):
        raise AlignmentRefused(
            f"the watch file covers {_when(watch.timestamp[0])} to {_when(watch.timestamp[-1])}, the session "
            f"{_when(session_start_unix)} to {_when(session_start_unix + session_s)}: they do not overlap "
            "(another day's file?)")
    signal, y = _watch_signal(watch)
    ok = np.isfinite(y)
    w, y = w[ok], y[ok]
    if len(w) < MIN_MATCHED_S:
        raise AlignmentRefused(f"the watch file has only {len(w)} records with {signal}: too short to align")

    taus = np.arange(np.floor(lo), np.ceil(hi) + COARSE_STEP_S, COARSE_STEP_S)
    coarse = _coarse_ncc(w, y, knots, session_s, taus)
    if not np.isfinite(coarse).any():
        raise AlignmentRefused("the watch file and the session never overlap while moving")
    best = float(taus[int(np.nanargmax(coarse))])
    fine = np.arange(best - FINE_HALF_S, best + FINE_HALF_S + 1e-9, FINE_STEP_S)
    trim = _fit_trim(w, y, knots, session_s, best)
    fits = [_fit(w, y, knots, session_s, tau, trim=trim) for tau in fine]
    sse = np.array([f[0] for f in fits])
    k = int(np.nanargmin(sse))
    tau = float(fine[k])
    if 0 < k < len(fine) - 1 and np.all(np.isfinite(sse[k - 1 : k + 2])):  # parabola through the minimum
        a, b, c = sse[k - 1 : k + 2]
        den = a - 2 * b + c
        if den > 0:
            tau += 0.5 * FINE_STEP_S * (a - c) / den
    _, gain, r, n, moving_s, sd = _fit(w, y, knots, session_s, tau, uncertainty=True, trim=trim)
    detail = _detail_ncc(w, y, knots, session_s, tau)
    pod_moving = _moving_s(knots)
    watch_moving = float(np.sum(y > 0.2 * np.nanmax(y)))
    if moving_s < MIN_MATCHED_S or moving_s < MIN_OVERLAP_SHARE * min(pod_moving, watch_moving):
        raise AlignmentRefused(
            f"only {moving_s:.0f} s of the watch's movement overlaps the session's {pod_moving:.0f} s "
            "(another activity?)")
    if r < MIN_CORRELATION:
        raise AlignmentRefused(
            f"the watch's {signal} does not follow the pod's steps (best match r = {r:.2f} < {MIN_CORRELATION}): "
            "another activity?")
    if max_shift_s is None and not detail >= MIN_DETAIL:
        raise AlignmentRefused(
            f"the watch's second-to-second {signal} does not follow the pod's (r = {detail:.2f} < {MIN_DETAIL}): "
            "the same routine on another day?")
    return WatchAlignment(tau, float(np.hypot(sd, CONTACT_BIAS_S)), r, n, moving_s, signal, gain, detail)


def _check_sport(watch: WatchStream, pod_activity: str) -> None:
    if pod_activity == "riding" and watch.gait:
        raise AlignmentRefused(f"the watch file is a {watch.sport} activity, the session is a ride")
    if pod_activity in ("running", "walking") and not watch.gait:
        raise AlignmentRefused(f"the watch file is a cycling activity, the session is {pod_activity}")


def _watch_signal(watch: WatchStream) -> tuple[str, np.ndarray]:
    if watch.cadence is not None and np.nanmax(np.nan_to_num(watch.cadence)) > 0:
        return "cadence", watch.cadence.astype(float)
    if watch.speed_mps is not None:
        return "speed", watch.speed_mps.astype(float)
    raise AlignmentRefused("the watch file has neither cadence nor speed: nothing to align the pod's steps with")


def _coarse_ncc(w, y, knots, session_s, taus) -> np.ndarray:
    """Normalised cross-correlation at each trial offset (records inside the session only)."""
    out = np.full(len(taus), np.nan)
    for i, tau in enumerate(taus):
        p_t = w - tau
        m = (p_t > 1.0) & (p_t < session_s)
        if m.sum() < MIN_MATCHED_S:
            continue
        out[i] = _ncc(y[m], pod_cadence(knots, p_t[m]))
    return out


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / den) if den > 0 else np.nan


def _fit(w, y, knots, session_s, tau, uncertainty: bool = False, trim: float | None = None):
    """Least-squares fit y ≈ a·prediction + b at offset tau. `trim`: residuals beyond it are outliers (a start
    or a stop a step off): left out of the fit, counted at the trimming level in the loss, so the loss is
    a smooth function of tau. Without `trim`, it is TRIM_MAD robust SD of this fit's residuals."""
    p_t = w - tau
    m = (p_t > 1.0) & (p_t < session_s)
    if m.sum() < 10:
        return (np.inf, np.nan, np.nan, 0, 0.0, np.inf) if uncertainty else (np.inf,)
    x, yy = pod_cadence(knots, p_t[m]), y[m]
    A = np.column_stack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(A, yy, rcond=None)
    res = yy - A @ coef
    if trim is None:
        trim = TRIM_MAD * 1.4826 * (float(np.median(np.abs(res - np.median(res)))) + 1e-9)
    for _ in range(2):
        inl = np.abs(res) < trim
        if inl.sum() <= 10:
            break
        coef, *_ = np.linalg.lstsq(A[inl], yy[inl], rcond=None)
        res = yy - A @ coef
    loss = float(np.mean(np.minimum(res * res, trim * trim)))
    if not uncertainty:
        return (loss,)
    inl = np.abs(res) < trim
    idx = np.flatnonzero(m)[inl]
    h = 0.05  # dP/dτ by central differences of the exact piecewise-linear count
    dx = (pod_cadence(knots, p_t[idx] + h) - pod_cadence(knots, p_t[idx] - h)) / (2 * h)
    r_in = res[inl]
    sig = float(np.std(r_in))
    rho = _lag1(r_in)
    n_eff_factor = (1 - rho) / (1 + rho) if rho > 0 else 1.0
    info = float(np.sum((coef[0] * dx) ** 2)) * n_eff_factor
    sd = sig / np.sqrt(info) if info > 0 else np.inf
    return loss, float(coef[0]), _ncc(yy[inl], x[inl]), int(inl.sum()), float(np.sum(x[inl] > 0)), sd


def _fit_trim(w, y, knots, session_s, tau) -> float:
    p_t = w - tau
    m = (p_t > 1.0) & (p_t < session_s)
    x = pod_cadence(knots, p_t[m])
    A = np.column_stack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(A, y[m], rcond=None)
    res = y[m] - A @ coef
    return TRIM_MAD * 1.4826 * (float(np.median(np.abs(res - np.median(res)))) + 1e-9)


def _detail_ncc(w, y, knots, session_s, tau) -> float:
    """Correlation of what is left after a 15-record running median: the stride-to-stride wobble that two
    files of the same routine on different days do not share."""
    from scipy.ndimage import median_filter

    p_t = w - tau
    m = (p_t > 1.0) & (p_t < session_s)
    x = pod_cadence(knots, p_t[m])
    yy = y[m]
    moving = (x > 0) & (yy > 0)
    hx = x - median_filter(x, DETAIL_WINDOW, mode="nearest")
    hy = yy - median_filter(yy, DETAIL_WINDOW, mode="nearest")
    # a start or a stop a step off is a huge "wobble": winsorised, one record cannot make or break the match
    for h in (hx, hy):
        lim = 3 * 1.4826 * (float(np.median(np.abs(h[moving]))) + 1e-9) if moving.any() else 0.0
        np.clip(h, -lim, lim, out=h)
    return _ncc(hy[moving], hx[moving]) if moving.sum() > 10 else float("nan")


def _lag1(x: np.ndarray) -> float:
    x = x - x.mean()
    den = np.dot(x, x)
    return float(np.dot(x[1:], x[:-1]) / den) if den > 0 else 0.0


def _moving_s(knots) -> float:
    kt, kc = knots
    seg = np.diff(kc) > 0
    return float(np.sum(np.diff(kt)[seg]))


def _when(unix_s: float) -> str:
    return dt.datetime.fromtimestamp(unix_s, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
