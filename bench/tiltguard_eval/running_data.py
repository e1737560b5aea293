"""The shared running recordings (`../shared/data/running`, see that folder's README), as sessions the product
can analyse plus their truth.

Two sets:

- `virtual/`: a virtual sacral IMU (200 Hz, acc m/s², gyr rad/s, sensor frame) built from the pelvis' measured
  motion of 4 treadmill runners at 2-5 m/s: a 10-s stand, a 2-s ramp (not real motion: never scored), then
  >= 60 s of running. Truth: left/right initial contacts and toe-offs, and tilt / obliquity / rotation per
  sample in degrees relative to the standing posture, in the product's conventions.
- `alcantara/`: a real sacral accelerometer on an instrumented treadmill (one runner, 31 trials of 4.96 s at
  500 Hz, speeds 2.5-4.17 m/s, slopes 0, ±5, ±10 %). It has only a vertical and an antero-posterior axis and no
  gyroscope. Truth: initial contacts and toe-offs from the vertical ground reaction force (no sides), contact
  times, speed and slope.

Every session comes as a `tiltguard.host.samples.RawRecording` in the sensor frame (what the product reads)
and a `RunningTruth`. The Alcantara recording has to be given three axes and a gyroscope to fit a RawRecording
at all: its sensor x is the antero-posterior channel (+ forward), z the vertical one, y (medio-lateral) is zeros
and so is the gyroscope. Zeros are not "no data" to the product (they read as a perfectly still gyro and no
sway), so only what the two real channels carry can be scored there: contact timing, cadence, and the fore-aft
acceleration after the contacts. `rec.meta["missing"]` says so.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tiltguard.host.gait.cadence import cadence_spm
from tiltguard.host.samples import GRAVITY, RawRecording

from .datasets import dataset_dir

VIRTUAL_RATE_HZ = 200.0
ALCANTARA_RATE_HZ = 500.0
ALCANTARA_SAMPLES = 2480  # per channel and trial
# Initial contact: the vertical GRF rising through this (body weights); toe-off: falling through it.
GRF_CONTACT_BW = 0.05
# The treadmill's force signal rings by about ±0.05 BW in flight, so it crosses the threshold for a few ms
# before some foot strikes (trials 13, 28, 29): a stance is a stretch above the threshold that lasts at least
# this long and peaks at GRF_STANCE_PEAK_BW; its first crossing is the contact, its last the toe-off.
GRF_MIN_STANCE_S = 0.05
GRF_STANCE_PEAK_BW = 0.5


@dataclass
class RunningTruth:
    """The reference of one session. Times in s on the recording's clock; angles in degrees relative to the
    standing posture (product conventions: tilt anterior +, obliquity left side up +, rotation pelvis turned
    left +); None where the set has no such truth."""

    ic_s: np.ndarray  # (K,) initial contacts, sorted
    ic_left: np.ndarray | None  # (K,) bool; None: no sides (Alcantara)
    to_s: np.ndarray  # (M,) toe-offs, sorted
    to_left: np.ndarray | None
    running_s: tuple[float, float]  # the scored running window
    up_sensor: np.ndarray  # (3,) the true vertical in sensor axes (at the stand; Alcantara: over the trial)
    forward_sensor: np.ndarray  # (3,) the true forward direction, level, in sensor axes
    cadence_spm: float  # steps/min over the running window
    speed_mps: float
    standing_s: tuple[float, float] | None = None
    ramp_s: tuple[float, float] | None = None
    tilt_deg: np.ndarray | None = None  # (N,) per sample
    obliquity_deg: np.ndarray | None = None
    rotation_deg: np.ndarray | None = None
    slope_pct: float | None = None
    contact_time_s: np.ndarray | None = None  # (K,) toe-off − contact, NaN where the stance runs off the trial
    grf_bw: np.ndarray | None = None  # (N,) vertical GRF, body weights (Alcantara)
    extra: dict = field(default_factory=dict)  # anything else the set gives (foot-strike shares, mounting)

    @property
    def windows(self) -> list[tuple[float, float]]:
        return [self.running_s]


@dataclass
class RunningSession:
    name: str  # e.g. "vsi_subject01_run2", "alcantara_t07"
    dataset: str  # "virtual" or "alcantara"
    rec: RawRecording  # sensor frame, SI
    truth: RunningTruth

    def fore_aft(self) -> np.ndarray:
        """Specific force along the true level forward axis, m/s² (gravity's share is 0 by construction)."""
        return self.rec.acc @ self.truth.forward_sensor

    def vertical(self) -> np.ndarray:
        """Specific force along the true vertical, m/s² (+9.81 at rest)."""
        return self.rec.acc @ self.truth.up_sensor

    def running_mask(self) -> np.ndarray:
        a, b = self.truth.running_s
        return (self.rec.t >= a) & (self.rec.t <= b)

    def pod_moved(self, up_cm: float, left_cm: float) -> RawRecording:
        """The recording with the pod clipped elsewhere on the low back, `up_cm` higher and `left_cm` to the left
        of the data's own point: the same rigid pelvis read there (the specific force moved by the angular terms
        alpha x r + omega x (omega x r) from the session's own gyro, host.gait.lever_arm.at_point)."""
        from tiltguard.host.gait.lever_arm import at_point

        up, forward = self.truth.up_sensor, self.truth.forward_sensor
        left = np.cross(up, forward)
        r = (up_cm * up + left_cm * left / np.linalg.norm(left)) / 100
        return replace(self.rec, acc=at_point(self.rec.acc, self.rec.gyr, self.rec.rate_hz, r))


def running_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The `running` folder ($TILTGUARD_DATA/running or ../shared/data/running unless given); DatasetMissing
    with a clear message if it is not there."""
    return dataset_dir("running", explicit)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def _level(axis: np.ndarray, up: np.ndarray) -> np.ndarray:
    return _unit(axis - (axis @ up) * up)


# ---------------------------------------------------------------- virtual
def load_virtual_session(path: str | os.PathLike) -> RunningSession:
    path = Path(path)
    with np.load(path) as d:
        rate = float(d["rate_hz"])
        t = np.asarray(d["t_s"], float)
        acc = np.asarray(d["acc_mps2"], float)
        gyr = np.asarray(d["gyr_radps"], float)
        mount = np.asarray(d["mount_R"], float)  # columns: sensor axes in pelvis axes (x fwd, y up, z right)
        standing = tuple(float(x) for x in d["standing_s"])
        ramp = tuple(float(x) for x in d["ramp_s"])
        running = tuple(float(x) for x in d["running_s"])
        left_ic, right_ic = np.asarray(d["left_ic_s"], float), np.asarray(d["right_ic_s"], float)
        left_to, right_to = np.asarray(d["left_to_s"], float), np.asarray(d["right_to_s"], float)
        angles = {k: np.asarray(d[f"{k}_deg"], float) for k in ("tilt", "obliquity", "rotation")}
        cadence, speed = float(d["cadence_spm"]), float(d["speed_mps"])
        offset = np.asarray(d["sensor_in_pelvis_m"], float)
    stand = (t >= standing[0]) & (t < standing[1])
    up = _unit(acc[stand].mean(axis=0))  # the stand's specific force: the true vertical in sensor axes
    forward = _level(mount[0], up)  # pelvis x (forward) in sensor axes, levelled at the stand
    ic = np.r_[left_ic, right_ic]
    order = np.argsort(ic, kind="stable")
    ic_left = np.r_[np.ones(len(left_ic), bool), np.zeros(len(right_ic), bool)][order]
    to = np.r_[left_to, right_to]
    to_order = np.argsort(to, kind="stable")
    to_left = np.r_[np.ones(len(left_to), bool), np.zeros(len(right_to), bool)][to_order]
    ic, to = ic[order], to[to_order]
    contact_time = np.full(len(ic), np.nan)
    for k, (tc, side) in enumerate(zip(ic, ic_left)):
        later = to[(to > tc) & (to_left == side)]
        if len(later):
            contact_time[k] = later[0] - tc
    name = path.stem
    meta = {"dataset": "running/virtual", "session": name, "source": "virtual sacral IMU (Hamner & Delp 2013)",
            "mount_R": mount.tolist(), "sensor_in_pelvis_m": offset.tolist(), "speed_mps": speed}
    rec = RawRecording(t, acc, gyr, rate, "virtual-imu", meta=meta)
    truth = RunningTruth(ic, ic_left, to, to_left, running, up, forward, cadence, speed, standing, ramp,
                         angles["tilt"], angles["obliquity"], angles["rotation"], slope_pct=0.0,
                         contact_time_s=contact_time, extra={"mount_R": mount})
    return RunningSession(name, "virtual", rec, truth)


def load_virtual(folder: str | os.PathLike) -> list[RunningSession]:
    """Every `vsi_*.npz` in `folder` (the `running/virtual` folder), sorted by name."""
    paths = sorted(Path(folder).glob("vsi_*.npz"))
    if not paths:
        raise FileNotFoundError(f"no vsi_*.npz sessions in {folder}")
    return [load_virtual_session(p) for p in paths]


# ---------------------------------------------------------------- Alcantara
def grf_contacts(grf_bw: np.ndarray, rate_hz: float, threshold: float = GRF_CONTACT_BW
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(contacts, toe-offs, contact times) in s from a vertical GRF in body weights: each stance's rise through
    `threshold` and its fall back through it, interpolated between samples. A stance already under way at the
    first sample gives no contact (but its toe-off); one still under way at the last gives a contact with a
    NaN contact time, however short the part recorded. Flight-phase ringing that crosses the threshold briefly
    is not a stance."""
    f = np.asarray(grf_bw, float)
    above = f >= threshold
    edges = np.diff(above.astype(np.int8), prepend=0, append=0)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # [start, end) above
    ics, tos, cts = [], [], []
    for a, b in zip(starts, ends):
        cut_by_end = b == len(f)  # its length is unknown; the peak alone tells it from ringing
        if (b - a < GRF_MIN_STANCE_S * rate_hz and not cut_by_end) or f[a:b].max() < GRF_STANCE_PEAK_BW:
            continue
        ic = np.nan
        if a > 0:  # rising between a-1 and a
            ic = (a - 1 + (threshold - f[a - 1]) / (f[a] - f[a - 1])) / rate_hz
            ics.append(ic)
        to = np.nan
        if b < len(f):  # falling between b-1 and b
            to = (b - 1 + (f[b - 1] - threshold) / (f[b - 1] - f[b])) / rate_hz
            tos.append(to)
        if a > 0:
            cts.append(to - ic)
    return np.array(ics), np.array(tos), np.array(cts)


def _read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as fh:
        return [row for row in csv.reader(fh) if row]


def load_alcantara(folder: str | os.PathLike) -> list[RunningSession]:
    """The 31 trials of `running/alcantara`, as sessions named alcantara_t01 ... alcantara_t31 (file row order)."""
    folder = Path(folder)
    acc_rows = np.loadtxt(folder / "Accelerometer_one_sub.csv", delimiter=",", ndmin=2)
    grf_rows = np.loadtxt(folder / "GRF_one_sub.csv", delimiter=",", ndmin=2)
    info = _read_rows(folder / "Sub_Info_one_sub.csv")
    head, info = info[0], info[1:]
    if not (len(acc_rows) == len(grf_rows) == len(info)):
        raise ValueError(f"{folder}: {len(acc_rows)} accelerometer, {len(grf_rows)} GRF and {len(info)} info rows")
    if acc_rows.shape[1] != 2 * ALCANTARA_SAMPLES or grf_rows.shape[1] != ALCANTARA_SAMPLES:
        raise ValueError(f"{folder}: expected {2 * ALCANTARA_SAMPLES} accelerometer and {ALCANTARA_SAMPLES} GRF "
                         f"samples per row, got {acc_rows.shape[1]} and {grf_rows.shape[1]}")
    rate = ALCANTARA_RATE_HZ
    t = np.arange(ALCANTARA_SAMPLES) / rate
    out = []
    for k, (row, grf, meta_row) in enumerate(zip(acc_rows, grf_rows, info)):
        meta = dict(zip(head, meta_row))
        vertical, ap = row[:ALCANTARA_SAMPLES], row[ALCANTARA_SAMPLES:]
        acc = np.column_stack([ap, np.zeros_like(ap), vertical]) * GRAVITY  # x AP (+ forward), y none, z vertical
        gyr = np.zeros_like(acc)
        # The sensor sits pitched on the sacrum (its AP channel reads -0.1 to -0.6 g on average): the true
        # vertical is the mean specific force of whole strides on a treadmill (the body does not speed up), the
        # true forward is the AP channel levelled in the AP-vertical plane.
        up = _unit(acc.mean(axis=0))
        forward = _level(np.array([1.0, 0.0, 0.0]), up)
        ic, to, ct = grf_contacts(grf, rate)
        name = f"alcantara_t{k + 1:02d}"
        speed, slope = float(meta["Speed"]), float(meta["Slope"])
        rec_meta = {"dataset": "running/alcantara", "session": name, "speed_mps": speed, "slope_pct": slope,
                    "axes": "x antero-posterior (+ forward), y zeros, z vertical",
                    "missing": ["medio-lateral acceleration (y is zeros)", "gyroscope (zeros)"],
                    "preprocessing": "low-pass filtered by its authors; vertical clipped at 0 g in flight"}
        shares = {s: float(meta[s]) for s in ("RFS", "MFS", "FFS") if meta.get(s, "NA") != "NA"}
        truth = RunningTruth(ic, None, to, None, (0.0, float(t[-1])), up, forward, cadence_spm(ic), speed,
                             slope_pct=slope, contact_time_s=ct, grf_bw=np.asarray(grf, float),
                             extra={"foot_strike_pct": shares})
        out.append(RunningSession(name, "alcantara",
                                  RawRecording(t, acc, gyr, rate, "alcantara-sacral-accelerometer", meta=rec_meta),
                                  truth))
    return out


# ---------------------------------------------------------------- facts about the data
def fore_aft_after_contacts(session: RunningSession, share: float, start_share: float = 0.0,
                            window: tuple[float, float] | None = None) -> np.ndarray:
    """Per true contact inside the running window (or `window`, s): the mean fore-aft acceleration (m/s², along
    the true level forward axis, minus its mean over that window) from `start_share` to `share` of the median
    step after the contact. Negative: braking."""
    fs = session.rec.rate_hz
    a, b = window or session.truth.running_s
    run = (session.rec.t >= a) & (session.rec.t <= b)
    fa = session.fore_aft()
    fa = fa - fa[run].mean()
    ic = session.truth.ic_s[(session.truth.ic_s >= a) & (session.truth.ic_s <= b)]
    step = float(np.median(np.diff(ic)))
    i0 = np.round((ic + start_share * step) * fs).astype(int)
    i1 = np.round((ic + share * step) * fs).astype(int)
    keep = i1 <= len(fa)
    return np.array([fa[p:q].mean() for p, q in zip(i0[keep], i1[keep]) if q > p])
