"""A simulated GPS watch (or bike computer) worn through a simulated session: what its FIT file would hold.

    rec, truth = simulate("run-rolling-hills", seed=1)
    watch = simulate_watch(truth, start_unix=1.78e9, offset_s=3.7, seed=1)

The watch's clock runs `offset_s` ahead of the pod session's own time line (session time 0 = the first pod
sample at `start_unix`): a record stamped w on the watch was taken at pod time w - start_unix - offset_s.
What a watch does, modelled from the truth (docs/watch.md lists every number):

- one record a second, stamped with whole seconds of the watch clock (FIT timestamps are whole seconds);
- GPS position with a slowly wandering error (AR(1), 2.5 m, 20 s), distance and speed from the watch's own
  filter: the true path length with a 0.5 % scale error and 0.05 m/s speed noise;
- barometric altitude: the true height, a slow drift (0.5 m over minutes), 0.15 m noise, 0.1 m steps;
- cadence: the true cadence averaged over each 1-s record (running: strides/min as the FIT file keeps it,
  written as steps/min here; riding: crank rpm) with 1 % noise; heart rate following speed and grade;
- auto-pause: no records while the wearer is slower than 0.6 m/s (for 2 s or more), and `manual_pauses`
  (watch-time spans, s from its first record) where the wearer stopped the watch but kept moving;
- laps: every `lap_m` metres (auto-lap), and a lap at every pause.

The truth (grade, distance, altitude) comes along so benches and tests can score the product against it.
This module is a source of test data for entry points, benches and tests; no analysis stage imports it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import cumulative_trapezoid
from tiltguard.host.simulator.truth import Truth

EARTH_RADIUS_M = 6_371_000.0
AUTO_PAUSE_MPS = 0.6  # Garmin's "when stopped" auto-pause: below ~2 km/h
AUTO_PAUSE_HOLD_S = 2.0
GPS_ERROR_M, GPS_TAU_S = 2.5, 20.0
DISTANCE_SCALE_SD = 0.005
SPEED_NOISE_MPS = 0.05
BARO_DRIFT_M, BARO_DRIFT_TAU_S, BARO_NOISE_M, BARO_STEP_M = 0.5, 300.0, 0.15, 0.1
CADENCE_NOISE = 0.01


@dataclass
class SimWatch:
    """The records of a simulated watch (1 Hz, arrays of equal length) and the truth behind them."""

    sport: str  # 'running', 'walking' or 'cycling'
    timestamp: np.ndarray  # unix s, whole seconds of the watch clock
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    distance_m: np.ndarray
    speed_mps: np.ndarray
    altitude_m: np.ndarray
    heart_rate_bpm: np.ndarray
    cadence: np.ndarray  # steps/min (running, walking) or rpm (cycling)
    power_w: np.ndarray | None
    laps: list[tuple[float, float]]  # (start, end) watch unix s
    pauses: list[tuple[float, float]]  # (stop, start) watch unix s: timer stopped (auto or by hand)
    offset_s: float  # watch clock - (start_unix + pod session time)
    start_unix: float
    true_pod_t: np.ndarray  # pod session time of each record (s)
    true_distance_m: np.ndarray  # true path length at each record
    true_altitude_m: np.ndarray
    true_grade: np.ndarray  # fraction, from the scenario's slope (uphill > 0)
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.timestamp)


def simulate_watch(truth: Truth, start_unix: float, offset_s: float = 0.0, seed: int = 0, lap_m: float = 1000.0,
                   manual_pauses: tuple[tuple[float, float], ...] = (), sport: str | None = None,
                   origin_deg: tuple[float, float] = (46.52, 6.63), with_power: bool | None = None) -> SimWatch:
    rng = np.random.default_rng(seed + 7919)
    t = truth.t.astype(float)
    t_rel = t - t[0]  # pod session time of the truth samples
    vel = truth.vel_earth.astype(float)
    x = cumulative_trapezoid(vel[:, 0], t, initial=0.0)
    y = cumulative_trapezoid(vel[:, 1], t, initial=0.0)
    z = cumulative_trapezoid(vel[:, 2], t, initial=0.0)
    hspeed = np.hypot(vel[:, 0], vel[:, 1])
    path = cumulative_trapezoid(hspeed, t, initial=0.0)
    grade = _segment_grade(truth, t_rel)
    riding = truth.pedal_rpm > 0
    if sport is None:
        sport = "cycling" if riding.mean() > 0.5 * (truth.cadence_spm > 0).mean() else "running"
    cad = np.where(truth.pedal_rpm > 0, truth.pedal_rpm, truth.cadence_spm).astype(float)

    # whole watch seconds covering the pod session
    w0 = np.ceil(start_unix + offset_s)
    stamps = np.arange(w0, start_unix + offset_s + t_rel[-1])
    pod_t = stamps - start_unix - offset_s
    # what the wearer was doing at each record: speed averaged over the second before it
    speed_true = _window_mean(t_rel, hspeed, pod_t, 1.0)
    cad_true = _window_mean(t_rel, cad, pod_t, 1.0)
    # auto-pause: no records while (nearly) stopped, and manual pauses
    slow = speed_true < AUTO_PAUSE_MPS
    slow = _hold(slow, int(AUTO_PAUSE_HOLD_S))
    manual = np.zeros(len(stamps), bool)
    for a, b in manual_pauses:
        manual |= (stamps - stamps[0] >= a) & (stamps - stamps[0] < b)
    keep = ~(slow | manual)
    stamps, pod_t, speed_true, cad_true = stamps[keep], pod_t[keep], speed_true[keep], cad_true[keep]
    n = len(stamps)

    xs, ys = np.interp(pod_t, t_rel, x), np.interp(pod_t, t_rel, y)
    gx, gy = _ar1(rng, n, GPS_ERROR_M, GPS_TAU_S), _ar1(rng, n, GPS_ERROR_M, GPS_TAU_S)
    lat = origin_deg[0] + np.degrees((ys + gy) / EARTH_RADIUS_M)  # earth y (left of the start heading) -> north
    lon = origin_deg[1] + np.degrees((xs + gx) / (EARTH_RADIUS_M * np.cos(np.radians(origin_deg[0]))))
    true_dist = np.interp(pod_t, t_rel, path)
    scale = 1.0 + rng.normal(0.0, DISTANCE_SCALE_SD)
    distance = np.maximum.accumulate(true_dist * scale)
    speed = np.maximum(0.0, speed_true * scale + rng.normal(0.0, SPEED_NOISE_MPS, n))
    alt_true = 380.0 + np.interp(pod_t, t_rel, z)
    baro = alt_true + _ar1(rng, n, BARO_DRIFT_M, BARO_DRIFT_TAU_S) + rng.normal(0.0, BARO_NOISE_M, n)
    baro = np.round(baro / BARO_STEP_M) * BARO_STEP_M
    g = np.interp(pod_t, t_rel, grade)
    hr = _heart_rate(stamps, speed_true, g, sport, rng)
    cadence = cad_true * (1.0 + rng.normal(0.0, CADENCE_NOISE, n))
    if with_power is None:
        with_power = sport == "cycling"
    power = None
    if with_power:  # rolling + climbing + air drag of a 75-kg rider on a road bike
        power = np.maximum(0.0, 75 * 9.81 * speed_true * (0.004 + g) + 0.16 * speed_true**3)

    pauses = _pauses(stamps)
    laps = _laps(stamps, distance, lap_m, pauses)
    return SimWatch(sport, stamps, lat, lon, distance, speed, baro, hr, cadence, power, laps, pauses, offset_s,
                    start_unix, pod_t, true_dist, alt_true, g, meta={"seed": seed, "distance_scale": scale})


def true_segment_grade(w: SimWatch, segment_m: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """(segment start distances, true grade) over consecutive `segment_m` of the true path: rise over run."""
    d, z = w.true_distance_m, w.true_altitude_m
    edges = np.arange(d[0], d[-1] - segment_m, segment_m)
    za, zb = np.interp(edges, d, z), np.interp(edges + segment_m, d, z)
    return edges, (zb - za) / segment_m


def _segment_grade(truth: Truth, t_rel: np.ndarray) -> np.ndarray:
    g = np.zeros_like(t_rel)
    for s in truth.segments:
        g[(t_rel >= s["start_s"]) & (t_rel < s["end_s"])] = s.get("grade_pct", 0.0) / 100.0
    return g


def _window_mean(t: np.ndarray, x: np.ndarray, at: np.ndarray, width: float) -> np.ndarray:
    """Mean of x over [at - width, at] (x sampled at t): via the running integral."""
    c = cumulative_trapezoid(x, t, initial=0.0)
    return (np.interp(at, t, c) - np.interp(at - width, t, c)) / width


def _hold(mask: np.ndarray, n: int) -> np.ndarray:
    """Only runs of True at least n long stay True (a watch pauses after being stopped a moment)."""
    out = np.zeros_like(mask)
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
        if b - a >= n:
            out[a:b] = True
    return out


def _ar1(rng, n: int, sd: float, tau_s: float) -> np.ndarray:
    a = np.exp(-1.0 / tau_s)
    e = rng.normal(0.0, sd * np.sqrt(1 - a * a), n)
    out = np.empty(n)
    prev = rng.normal(0.0, sd)
    for i in range(n):
        prev = a * prev + e[i]
        out[i] = prev
    return out


def _heart_rate(stamps, speed, grade, sport, rng) -> np.ndarray:
    effort = speed * (1.0 + 8.0 * grade) * (0.45 if sport == "cycling" else 1.0)
    target = np.clip(70.0 + 26.0 * effort, 70.0, 195.0)
    out = np.empty_like(target)
    hr = 80.0
    last = stamps[0]
    for i, (s, tgt) in enumerate(zip(stamps, target)):
        hr += (tgt - hr) * (1 - np.exp(-(s - last) / 30.0))
        last = s
        out[i] = hr
    return np.round(out + rng.normal(0.0, 1.0, len(out)))


def _pauses(stamps: np.ndarray) -> list[tuple[float, float]]:
    gaps = np.nonzero(np.diff(stamps) > 1.5)[0]
    return [(float(stamps[i]), float(stamps[i + 1])) for i in gaps]


def _laps(stamps, distance, lap_m, pauses) -> list[tuple[float, float]]:
    cuts = {float(stamps[0]), float(stamps[-1])}
    for k in range(1, int(distance[-1] // lap_m) + 1):
        cuts.add(float(stamps[np.searchsorted(distance, k * lap_m)]))
    cuts |= {b for _, b in pauses}
    c = sorted(cuts)
    return [(a, b) for a, b in zip(c[:-1], c[1:]) if b > a]
