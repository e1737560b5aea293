"""Gait bench: initial contacts, side and cadence of Tiltguard's detector and the mobgap (Mobilise-D) peers,
in one run, on the same data.

    python bench/gait.py [--mobgap DIR] [--scenarios all|name,...] [--minutes 3] [--seed 1] [--json out.json]
                         [--no-peers] [--per-file]

mobgap recordings (../shared/data/mobgap, Mobilise-D example data, INDIP reference): scored at the reference
walking bouts. Tiltguard looks at the whole recording and its contacts inside [start − tol, end + tol] of a
bout are matched; the peers (mobgap 1.2.0: IcdIonescu, IcdShinImproved, IcdHKLeeImproved with LrcMcCamley or
LrcUllrich, default parameters) run on each reference bout alone, as Mobilise-D evaluates them. Matching
(tiltguard_eval.gait_scoring) is one-to-one, mutually nearest, within the tolerance; counts are pooled over all bouts.
Median timing error and laterality are over the matches at 0.25 s. Cadence error: mean |cadence −
reference| over the straight-walk (Test5) bouts, every detector's contacts through the same estimator
(host.gait.cadence, the Mobilise-D definition: mean over strides of 120 / stride time). Streaming also: the
live view's cadence readout after each contact (host.gait.stride_stream, the last 4 strides), against the same
rule on the reference contacts of its steps, where they lie in one bout (cadence_readout_error_spm, mean; _p95_spm;
readouts_cadence_within_1spm).

Simulator scenarios: every contact of the truth is scored over the whole recording; peers run per truth
walking/running segment; cadence error is the mean over those segments. The sensor-to-pelvis mounting is
given to every detector (calibration's job, not the detector's).

hours_per_s: hours of recording processed per second of wall time (peers: hours of the bouts they ran on).
Ratios are to the best peer (highest F1 at 0.25 s) on the same data set.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tiltguard.host.gait.cadence import cadence_spm  # noqa: E402
from tiltguard.host.gait.contacts import detect_initial_contacts  # noqa: E402
from tiltguard_eval.datasets import DatasetMissing, dataset_dir  # noqa: E402
from tiltguard_eval.gait_scoring import ContactScore, contacts_in_window, true_readout  # noqa: E402
from tiltguard_eval.mobgap_recordings import load_all  # noqa: E402

from bench.options import add_data_options  # noqa: E402

TOLERANCES_S = (0.25, 0.1)
MOBGAP_ICD = ("IcdIonescu", "IcdShinImproved", "IcdHKLeeImproved")
MOBGAP_LRC = ("LrcMcCamley", "LrcUllrich")


@dataclass
class Bout:
    """A scored stretch: reference contacts inside [start, end]; `cadence_ref` NaN if cadence is not scored."""

    start_s: float
    end_s: float
    ic_s: np.ndarray
    ic_left: np.ndarray
    cadence_ref: float = float("nan")


@dataclass
class Recording:
    name: str
    t: np.ndarray
    acc_pelvis: np.ndarray  # m/s², x forward, y left, z up (mounting applied)
    gyr_pelvis: np.ndarray  # rad/s
    rate_hz: float
    bouts: list[Bout]
    whole: bool = False  # score contacts over the whole recording (simulator) rather than inside bouts
    truth: object = None  # the simulator's Truth (simulated recordings only)


@dataclass
class Tally:
    scores: dict = field(default_factory=lambda: {tol: ContactScore() for tol in TOLERANCES_S})
    cadence_errors: list = field(default_factory=list)
    readout_errors: list = field(default_factory=list)  # streaming: the live cadence readout's, per readout
    readouts_without_truth: int = 0
    seconds: float = 0.0
    hours: float = 0.0
    recordings: int = 0
    sides_withheld: int = 0  # recordings (streaming: contacts) whose side cue did not decide (host.gait.sides)

    def row(self, name: str, peer: bool, dataset: str) -> dict:
        s25, s10 = self.scores[0.25], self.scores[0.1]
        return dict(
            name=name, peer=peer, dataset=dataset,
            f1_at_250ms=s25.f1, f1_at_100ms=s10.f1,
            median_timing_error_ms=1000 * s25.median_abs_error_s,
            laterality_accuracy=s25.laterality_accuracy,
            cadence_error_spm=float(np.mean(self.cadence_errors)) if self.cadence_errors else float("nan"),
            hours_per_s=self.hours / self.seconds if self.seconds > 0 else float("nan"),
            tp=s25.tp, fp=s25.fp, fn=s25.fn, recordings=self.recordings, sides_withheld=self.sides_withheld,
            **({} if not self.readout_errors else dict(
                cadence_readout_error_spm=float(np.mean(self.readout_errors)),
                cadence_readout_error_p95_spm=float(np.percentile(self.readout_errors, 95)),
                readouts_cadence_within_1spm=int(np.sum(np.asarray(self.readout_errors) <= 1.0)),
                cadence_readouts=len(self.readout_errors), readouts_without_truth=self.readouts_without_truth)),
        )


def _score_bout(tally: Tally, t: np.ndarray, left: np.ndarray, bout: Bout, whole: bool) -> None:
    for tol, sc in tally.scores.items():
        k = np.arange(len(t)) if whole else contacts_in_window(t, bout.start_s - tol, bout.end_s + tol)
        sc.add(t[k], bout.ic_s, tol, left[k], bout.ic_left)
    if np.isfinite(bout.cadence_ref):
        k = contacts_in_window(t, bout.start_s - 0.25, bout.end_s + 0.25)
        cad = cadence_spm(t[k])
        tally.cadence_errors.append(abs(cad - bout.cadence_ref) if np.isfinite(cad) else abs(bout.cadence_ref))


# ---------------------------------------------------------------- data sets
def load_mobgap(folder: Path) -> list[Recording]:
    out = []
    for lab in load_all(folder):
        acc, gyr = lab.pelvis_frame()
        straight = lab.test == "Test5"
        bouts = [Bout(b.start_s, b.end_s, b.ic_s, b.ic_left, b.cadence_spm if straight else float("nan"))
                 for b in lab.bouts]
        out.append(Recording(f"{lab.participant} {lab.name}", lab.raw.t, acc, gyr, lab.raw.rate_hz, bouts))
    return out


def load_scenario(name: str, minutes: float, seed: int) -> Recording:
    from tiltguard.host.simulator import simulate
    from tiltguard_eval.simulated_gait import scored_bouts, sensor_to_pelvis_matrix

    try:
        rec, truth = simulate(name, minutes=minutes, rate_hz=200, seed=seed)
    except ValueError as exc:  # a scenario whose fixed segments are longer: use its own length
        print(f"  {name}: {exc}; using the scenario's own length", file=sys.stderr)
        rec, truth = simulate(name, minutes=None, rate_hz=200, seed=seed)
    m = sensor_to_pelvis_matrix(truth)
    acc = np.einsum("nij,nj->ni", m, rec.acc)
    gyr = np.einsum("nij,nj->ni", m, rec.gyr)
    bouts = [Bout(*b) for b in scored_bouts(truth)]
    # Detections come on the device clock; the truth is on true time: score on the truth's clock.
    return Recording(name, truth.t, acc, gyr, rec.rate_hz, bouts, whole=True, truth=truth)


# ---------------------------------------------------------------- detectors
def run_tiltguard(rec: Recording, tally: Tally) -> None:
    t0 = time.perf_counter()
    ic = detect_initial_contacts(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz, t0=rec.t[0])
    tally.seconds += time.perf_counter() - t0
    tally.hours += (rec.t[-1] - rec.t[0]) / 3600
    tally.recordings += 1
    tally.sides_withheld += int(ic.sides is not None and not ic.sides.known)  # still scored: L/R as before
    ic.t = ic.times_on(rec.t)
    if rec.whole:
        all_ic = np.concatenate([b.ic_s for b in rec.bouts]) if rec.bouts else np.zeros(0)
        all_left = np.concatenate([b.ic_left for b in rec.bouts]) if rec.bouts else np.zeros(0, bool)
        _score_bout(tally, ic.t, ic.left, Bout(rec.t[0], rec.t[-1], all_ic, all_left), whole=True)
        for b in rec.bouts:  # cadence per bout
            _score_cadence_only(tally, ic.t, b)
    else:
        for b in rec.bouts:
            _score_bout(tally, ic.t, ic.left, b, whole=False)


def run_streaming(rec: Recording, tally: Tally, latencies: list) -> None:
    from tiltguard.host.gait.streaming import stream_contacts

    t0 = time.perf_counter()
    live = stream_contacts(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz, t0=rec.t[0], chunk=10)
    tally.seconds += time.perf_counter() - t0
    tally.hours += (rec.t[-1] - rec.t[0]) / 3600
    index = np.array([(c.t - rec.t[0]) * rec.rate_hz for c in live])
    t = np.interp(index, np.arange(len(rec.t)), rec.t) if len(live) else np.zeros(0)
    left = np.array([c.left for c in live], bool)
    latencies.extend(c.latency_s for c in live)
    tally.recordings += 1
    tally.sides_withheld += sum(not c.side_known for c in live)
    _score_readouts(tally, t, rec.bouts)
    if rec.whole:
        all_ic = np.concatenate([b.ic_s for b in rec.bouts])
        all_left = np.concatenate([b.ic_left for b in rec.bouts])
        _score_bout(tally, t, left, Bout(rec.t[0], rec.t[-1], all_ic, all_left), whole=True)
        for b in rec.bouts:
            _score_cadence_only(tally, t, b)
    else:
        for b in rec.bouts:
            _score_bout(tally, t, left, b, whole=False)


def _score_readouts(tally: Tally, t: np.ndarray, bouts: list[Bout]) -> None:
    """The live view's cadence readout (host.gait.stride_stream.RecentCadence) after each streamed contact, against
    the same rule on the reference contacts of its steps, where those steps lie in one reference bout."""
    from tiltguard.host.gait.stride_stream import RecentCadence

    rule = RecentCadence()
    for c in t:
        r = rule.add(float(c))
        bout = None if r is None else next((b for b in bouts if b.start_s <= r.since_t and r.t <= b.end_s), None)
        if bout is None:
            continue
        tol = 0.4 * float(np.median(np.diff(np.asarray(rule.times))))  # under half a step: the same contacts
        true = true_readout(bout.ic_s, r.since_t, r.t, tol)
        if true is None:  # the reference's steps there make no readout (the product's held an extra contact)
            tally.readouts_without_truth += 1
        else:
            tally.readout_errors.append(abs(r.spm - true.spm))


def _score_cadence_only(tally: Tally, t: np.ndarray, bout: Bout) -> None:
    if np.isfinite(bout.cadence_ref):
        cad = cadence_spm(t[contacts_in_window(t, bout.start_s, bout.end_s)])
        tally.cadence_errors.append(abs(cad - bout.cadence_ref) if np.isfinite(cad) else abs(bout.cadence_ref))


def _mobgap_frame(acc_pelvis: np.ndarray, gyr_pelvis: np.ndarray):
    """Mobilise-D body frame: is = up, ml = right, pa = forward; acc m/s², gyr deg/s."""
    import pandas as pd

    cols = {}
    for kind, v, scale in (("acc", acc_pelvis, 1.0), ("gyr", gyr_pelvis, 180 / np.pi)):
        cols[f"{kind}_is"] = v[:, 2] * scale
        cols[f"{kind}_ml"] = -v[:, 1] * scale
        cols[f"{kind}_pa"] = v[:, 0] * scale
    return pd.DataFrame(cols)


def run_mobgap(rec: Recording, tallies: dict[tuple[str, str], Tally]) -> None:
    import mobgap.initial_contacts as icd_mod
    import mobgap.laterality as lrc_mod

    fs = rec.rate_hz
    for bout in rec.bouts:
        a = max(int(round(bout.start_s * fs)) - 1 - int(round(rec.t[0] * fs)) + 1, 0)
        b = min(int(round(bout.end_s * fs)) - int(round(rec.t[0] * fs)) + 1, len(rec.t))
        data = _mobgap_frame(rec.acc_pelvis[a:b], rec.gyr_pelvis[a:b])
        hours = (b - a) / fs / 3600
        for icd_name in MOBGAP_ICD:
            t0 = time.perf_counter()
            try:
                ic_list = getattr(icd_mod, icd_name)().detect(data, sampling_rate_hz=fs).ic_list_
            except Exception as exc:  # a peer failing on a short bout counts as no detections
                print(f"  {icd_name} failed on {rec.name} {bout.start_s:.1f}s: {exc}", file=sys.stderr)
                ic_list = None
            icd_seconds = time.perf_counter() - t0
            idx = np.zeros(0, int) if ic_list is None else ic_list["ic"].to_numpy(dtype=int)
            t_ic = rec.t[a + idx] if len(idx) else np.zeros(0)
            for lrc_name in MOBGAP_LRC:
                tally = tallies[(icd_name, lrc_name)]
                t1 = time.perf_counter()
                left = np.zeros(len(idx), bool)
                if len(idx):
                    try:
                        lr = getattr(lrc_mod, lrc_name)().predict(data, ic_list, sampling_rate_hz=fs).ic_lr_list_
                        left = (lr["lr_label"] == "left").to_numpy()
                    except Exception as exc:
                        print(f"  {lrc_name} failed on {rec.name}: {exc}", file=sys.stderr)
                tally.seconds += icd_seconds + time.perf_counter() - t1
                tally.hours += hours
                if rec.whole:
                    _score_bout(tally, t_ic, left, bout, whole=True)
                else:
                    _score_bout(tally, t_ic, left, bout, whole=False)


# ---------------------------------------------------------------- report
def add_ratios(rows: list[dict]) -> None:
    for row in rows:
        peers = [r for r in rows if r["peer"] and r["dataset"] == row["dataset"] and np.isfinite(r["f1_at_250ms"])]
        if not peers:
            continue
        best = max(peers, key=lambda r: r["f1_at_250ms"])
        row["best_peer"] = best["name"]
        row["f1_ratio_to_best_peer"] = row["f1_at_250ms"] / best["f1_at_250ms"]
        row["timing_error_ratio_to_best_peer"] = row["median_timing_error_ms"] / best["median_timing_error_ms"]
        row["speed_ratio_to_best_peer"] = row["hours_per_s"] / best["hours_per_s"]


def print_table(rows: list[dict]) -> None:
    head = (f"{'dataset':<20} {'name':<34} {'F1@.25':>6} {'F1@.1':>6} {'|err| ms':>8} {'L/R':>6} {'cad spm':>7} "
            f"{'h/s':>8} {'F1/best':>7} {'err/best':>8} {'speed/best':>10}")
    print(head)
    print("-" * len(head))
    for r in rows:
        name = r["name"] + ("" if r["peer"] else " *")
        print(f"{r['dataset']:<20} {name:<34} {r['f1_at_250ms']:6.3f} {r['f1_at_100ms']:6.3f} "
              f"{r['median_timing_error_ms']:8.1f} {r['laterality_accuracy']:6.3f} {r['cadence_error_spm']:7.2f} "
              f"{r['hours_per_s']:8.3g} {r.get('f1_ratio_to_best_peer', float('nan')):7.3f} "
              f"{r.get('timing_error_ratio_to_best_peer', float('nan')):8.3f} "
              f"{r.get('speed_ratio_to_best_peer', float('nan')):10.2f}")
    print("* = this project; ratios to the best peer (highest F1@0.25) on the same data set; "
          "L/R on contacts matched at 0.25 s; cadence on straight-walk bouts (mobgap) or truth segments")
    for r in rows:
        if r.get("cadence_readouts"):
            print(f"live cadence readout after each streamed contact, {r['dataset']}: |err| mean "
                  f"{r['cadence_readout_error_spm']:.2f}, 95th percentile "
                  f"{r['cadence_readout_error_p95_spm']:.2f} spm, "
                  f"within 1 spm in {r['readouts_cadence_within_1spm']} of {r['cadence_readouts']} (against the same "
                  f"readout of the reference contacts of its steps; {r['readouts_without_truth']} more where those "
                  "make none)")
    for r in rows:
        if not r["peer"] and r.get("sides_withheld"):
            what = "contacts" if "streaming" in r["name"] else f"of {r['recordings']} recordings"
            print(f"sides withheld, {r['dataset']} {r['name']}: {r['sides_withheld']} {what} (their side cue did "
                  "not tell the feet apart; L/R above scores their labels all the same)")


def bench_dataset(dataset: str, recordings: list[Recording], peers: bool, per_file: bool,
                  streaming: bool = True) -> list[dict]:
    rows = []
    ours = Tally()
    for rec in recordings:
        single = Tally()
        run_tiltguard(rec, ours)
        if per_file:
            run_tiltguard(rec, single)
            r = single.row("tiltguard", False, rec.name)
            print(f"  {rec.name:<40} F1 {r['f1_at_250ms']:.3f}/{r['f1_at_100ms']:.3f} "
                  f"|err| {r['median_timing_error_ms']:.0f} ms L/R {r['laterality_accuracy']:.3f} "
                  f"tp {r['tp']} fp {r['fp']} fn {r['fn']}", file=sys.stderr)
    rows.append(ours.row("tiltguard post", False, dataset))
    if streaming:
        live, latencies = Tally(), []
        for rec in recordings:
            run_streaming(rec, live, latencies)
        row = live.row("tiltguard streaming", False, dataset)
        row["max_latency_ms"] = 1000 * max(latencies) if latencies else float("nan")
        rows.append(row)
    if peers:
        try:
            import mobgap  # noqa: F401
        except ImportError:
            print("skipping mobgap peers: install the bench extra (pip install -e .[bench])", file=sys.stderr)
            return rows
        tallies = {(i, lr): Tally() for i in MOBGAP_ICD for lr in MOBGAP_LRC}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for rec in recordings:
                run_mobgap(rec, tallies)
        for (icd_name, lrc_name), tally in tallies.items():
            rows.append(tally.row(f"mobgap {icd_name}+{lrc_name}", True, dataset))
    return rows


# ---------------------------------------------------------------- activity, riding, strides, throughput
CONTACT_METRICS = ("f1_at_250ms", "f1_at_100ms", "median_timing_error_ms", "laterality_accuracy",
                   "cadence_error_spm")


def _row(name: str, dataset: str, seconds: float, hours: float, **metrics) -> dict:
    row = dict(name=name, peer=False, dataset=dataset, **{k: float("nan") for k in CONTACT_METRICS})
    row["hours_per_s"] = hours / seconds if seconds > 0 else float("nan")
    row.update(metrics)
    return row


def bench_activity(rec: Recording) -> dict:
    from tiltguard.host.gait.activity import segment_activity

    t0 = time.perf_counter()
    seg = segment_activity(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz, rec.t[0])
    seconds = time.perf_counter() - t0
    truth = rec.truth.activity
    per_class = {}
    from tiltguard.host.activities import ACTIVITIES

    for code, label in enumerate(ACTIVITIES):
        k = truth == code
        if k.any():
            per_class[f"recall_{label}"] = float((seg.codes[k] == code).mean())
    return _row("tiltguard activity", rec.name, seconds, (rec.t[-1] - rec.t[0]) / 3600,
                activity_accuracy=float((seg.codes == truth).mean()), bouts=len(seg.bouts), **per_class)


def _angles(rec: Recording):
    from tiltguard.host.pelvis import analyse_session

    # the bench's samples are already in the pelvis frame (mounting given), so the angles are absolute
    return analyse_session(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz, np.eye(3))


def bench_riding(rec: Recording) -> dict:
    from tiltguard.host.gait.activity import segment_activity
    from tiltguard.host.gait.body_frame import level_signals
    from tiltguard.host.gait.contacts import detect_initial_contacts
    from tiltguard.host.gait.riding import analyse_rides

    truth = rec.truth
    angles = _angles(rec)
    t0 = time.perf_counter()
    sig = level_signals(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz)
    seg = segment_activity(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz, rec.t[0])
    rides = analyse_rides(seg, sig.gyr[:, 0], rec.rate_hz, angles.tilt, angles.obliquity, angles.rotation)
    ic = detect_initial_contacts(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz, rec.t[0], activity=seg)
    seconds = time.perf_counter() - t0
    riding = truth.activity == 3
    t_ic = ic.times_on(rec.t)
    steps_while_riding = int(np.sum(riding[ic.samples(len(riding))]))
    win_err, ride_err, rock_err, tilt_err = [], [], [], []
    for ride in rides:
        for c, rpm in zip(ride.window_t, ride.window_rpm):
            k = (rec.t >= c - 5) & (rec.t < c + 5)
            if riding[k].all():  # windows wholly inside the true ride
                win_err.append(abs(rpm - truth.pedal_rpm[k].mean()))
        k = (rec.t >= ride.start_s) & (rec.t <= ride.end_s) & riding
        ride_err.append(abs(ride.cadence_rpm - truth.pedal_rpm[k].mean()))
        idx = np.searchsorted(rec.t, ride.revolutions)
        true_rock = np.mean([np.ptp(truth.obliquity[a:b]) for a, b in zip(idx[:-1], idx[1:])])
        rock_err.append(abs(np.degrees(ride.rock_range - true_rock)))
        tilt_err.append(abs(np.degrees(ride.saddle_tilt - truth.tilt[k].mean())))
    nan = float("nan")
    return _row("tiltguard riding", rec.name, seconds, (rec.t[-1] - rec.t[0]) / 3600,
                rides=len(rides), steps_while_riding=steps_while_riding, contacts_reported=len(t_ic),
                pedal_cadence_error_rpm=float(np.mean(win_err)) if win_err else nan,
                pedal_cadence_max_error_rpm=float(np.max(win_err)) if win_err else nan,
                ride_cadence_error_rpm=float(np.mean(ride_err)) if ride_err else nan,
                rock_range_error_deg=float(np.mean(rock_err)) if rock_err else nan,
                saddle_tilt_error_deg=float(np.mean(tilt_err)) if tilt_err else nan)


def bench_strides(rec: Recording) -> dict:
    from tiltguard.host.analysis import analyse_gait
    from tiltguard.host.gait.strides import stride_metrics
    from tiltguard_eval.gait_scoring import match_contacts

    truth = rec.truth
    angles = _angles(rec)
    t0 = time.perf_counter()
    session = analyse_gait(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz, rec.t[0], angles=angles)
    seconds = time.perf_counter() - t0
    ours = session.strides  # contact times t0 + index / rate: the truth clock up to sampling jitter
    ref = stride_metrics(rec.t, truth.tilt, truth.obliquity, truth.rotation, truth.ic_times, truth.ic_sides == "L",
                         truth.acc_earth[:, 2], truth.activity)
    d, r = match_contacts(ours.t_start, ref.t_start, 0.05)
    running = ref.activity[r] == "running"
    d, r = d[running], r[running]
    out = {}
    for name in ("tilt", "obliquity", "rotation"):
        err = np.degrees(ours.angles[name]["range"][d] - ref.angles[name]["range"][r])
        out[f"{name}_range_error_deg"] = float(np.mean(np.abs(err))) if len(err) else float("nan")
        out[f"{name}_range_p95_error_deg"] = float(np.percentile(np.abs(err), 95)) if len(err) else float("nan")
    vo = np.r_[ours.vertical_left_step[d] - ref.vertical_left_step[r], ours.vertical_right_step[d] - ref.vertical_right_step[r]]
    out["vertical_oscillation_error_cm"] = float(100 * np.mean(np.abs(vo))) if len(vo) else float("nan")
    return _row("tiltguard strides", rec.name, seconds, (rec.t[-1] - rec.t[0]) / 3600,
                running_strides=int(len(d)), **out)


def bench_throughput(hours: float = 2.0, rate_hz: float = 200.0, seed: int = 3) -> dict:
    """A long simulated session through activity + contacts + per-stride metrics (+ rides, flag cycles);
    orientation and pelvic angles (host.pelvis) timed separately."""
    from tiltguard.host.analysis import analyse_gait
    from tiltguard.host.orientation import estimate_orientation
    from tiltguard.host.pelvis.angles import pelvic_angles
    from tiltguard.host.simulator import simulate
    from tiltguard_eval.simulated_gait import sensor_to_pelvis_matrix

    rec, truth = simulate("walk-to-run", minutes=60 * hours, rate_hz=rate_hz, seed=seed)
    mount = sensor_to_pelvis_matrix(truth)[0]
    t0 = time.perf_counter()
    quat = estimate_orientation(rec.acc, rec.gyr, rec.rate_hz, mode="post", travel=True).quat
    angles = pelvic_angles(quat, mount, rec.rate_hz, acc=rec.acc)
    t1 = time.perf_counter()
    session = analyse_gait(rec.acc, rec.gyr, rec.rate_hz, rec.t[0], mount, angles)
    t2 = time.perf_counter()
    del truth
    return _row("tiltguard pipeline", f"{hours:g} h @ {rate_hz:g} Hz", t2 - t1, hours,
                gait_pipeline_s=t2 - t1, orientation_and_angles_s=t1 - t0, total_s=t2 - t0,
                contacts=len(session.contacts), strides=len(session.strides))


def print_extra(rows: list[dict]) -> None:
    skip = {"name", "peer", "dataset", *CONTACT_METRICS}
    for r in rows:
        metrics = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
                           if k not in skip)
        print(f"{r['dataset']:<22} {r['name']:<20} {metrics}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(ap, reads=("mobgap",))
    ap.add_argument("--scenarios", default="all", help="comma-separated simulator scenarios, 'all' or 'none'")
    ap.add_argument("--minutes", type=float, default=3.0, help="length of each simulated recording")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-peers", action="store_true", help="leave out the mobgap peers")
    ap.add_argument("--per-file", action="store_true", help="also print Tiltguard's score per recording")
    ap.add_argument("--json", help="write {'rows': [...]} here")
    ap.add_argument("--no-streaming", action="store_true", help="leave out the streaming detector rows")
    ap.add_argument("--throughput-hours", type=float, default=2.0, help="simulated session for the throughput row (0: skip)")
    args = ap.parse_args(argv)

    datasets: dict[str, list[Recording]] = {}
    simulated: list[Recording] = []
    try:
        datasets["mobgap"] = load_mobgap(dataset_dir("mobgap", args.mobgap))
    except DatasetMissing as exc:
        print(f"skipping mobgap: {exc}", file=sys.stderr)
    if args.scenarios != "none":
        try:
            from tiltguard.host.simulator import SCENARIOS
        except ImportError as exc:
            print(f"skipping simulator scenarios: {exc}", file=sys.stderr)
        else:
            names = list(SCENARIOS) if args.scenarios == "all" else args.scenarios.split(",")
            for name in names:
                rec = load_scenario(name, args.minutes, args.seed)
                simulated.append(rec)
                if rec.bouts:
                    datasets[name] = [rec]
    if not datasets and not simulated:
        print("nothing to run: no mobgap data and no simulator scenarios", file=sys.stderr)
        return 2

    rows = []
    for dataset, recs in datasets.items():
        print(f"{dataset}: {len(recs)} recording(s)", file=sys.stderr)
        rows.extend(bench_dataset(dataset, recs, not args.no_peers, args.per_file, not args.no_streaming))
    add_ratios(rows)
    extra = []
    for rec in simulated:
        print(f"{rec.name}: activity, riding, strides", file=sys.stderr)
        extra.append(bench_activity(rec))
        if (rec.truth.activity == 3).any():
            extra.append(bench_riding(rec))
        if (rec.truth.activity == 2).any():
            extra.append(bench_strides(rec))
    if args.throughput_hours > 0:
        print(f"throughput: {args.throughput_hours:g} h simulated session", file=sys.stderr)
        extra.append(bench_throughput(args.throughput_hours))
    print_table(rows)
    print()
    print_extra(extra)
    rows.extend(extra)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
