"""Gait bench: initial contacts, side and cadence of Tiltguard's detector and the mobgap (Mobilise-D) peers,
in one run, on the same data.

    python bench/gait.py [--mobgap DIR] [--scenarios all|name,...] [--minutes 3] [--seed 1] [--json out.json]
                         [--no-peers] [--per-file]

mobgap recordings (../shared/data/mobgap, Mobilise-D example data, INDIP reference): scored at the reference
walking bouts. Tiltguard looks at the whole recording and its contacts inside [start − tol, end + tol] of a
bout are matched; the peers (mobgap 1.2.0: IcdIonescu, IcdShinImproved, IcdHKLeeImproved with LrcMcCamley or
LrcUllrich, default parameters) run on each reference bout alone, as Mobilise-D evaluates them. Matching
(host.gait.scoring) is one-to-one, mutually nearest, within the tolerance; counts are pooled over all bouts.
Median timing error and laterality are over the matches at 0.25 s. Cadence error: mean |cadence −
reference| over the straight-walk (Test5) bouts, every detector's contacts through the same estimator
(host.gait.cadence, the Mobilise-D definition: mean over strides of 120 / stride time).

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

from host.datasets import DatasetMissing, dataset_dir  # noqa: E402
from host.gait.cadence import cadence_spm  # noqa: E402
from host.gait.contacts import detect_initial_contacts  # noqa: E402
from host.gait.mobgap_recordings import SENSOR_TO_PELVIS, load_all  # noqa: E402
from host.gait.scoring import ContactScore, contacts_in_window  # noqa: E402

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


@dataclass
class Tally:
    scores: dict = field(default_factory=lambda: {tol: ContactScore() for tol in TOLERANCES_S})
    cadence_errors: list = field(default_factory=list)
    seconds: float = 0.0
    hours: float = 0.0

    def row(self, name: str, peer: bool, dataset: str) -> dict:
        s25, s10 = self.scores[0.25], self.scores[0.1]
        return dict(
            name=name, peer=peer, dataset=dataset,
            f1_at_250ms=s25.f1, f1_at_100ms=s10.f1,
            median_timing_error_ms=1000 * s25.median_abs_error_s,
            laterality_accuracy=s25.laterality_accuracy,
            cadence_error_spm=float(np.mean(self.cadence_errors)) if self.cadence_errors else float("nan"),
            hours_per_s=self.hours / self.seconds if self.seconds > 0 else float("nan"),
            tp=s25.tp, fp=s25.fp, fn=s25.fn,
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
    from host.simulator import simulate

    from host.gait.simulated import scored_bouts, sensor_to_pelvis_matrix

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
    return Recording(name, truth.t, acc, gyr, rec.rate_hz, bouts, whole=True)


# ---------------------------------------------------------------- detectors
def run_tiltguard(rec: Recording, tally: Tally) -> None:
    t0 = time.perf_counter()
    ic = detect_initial_contacts(rec.acc_pelvis, rec.gyr_pelvis, rec.rate_hz, t0=rec.t[0])
    tally.seconds += time.perf_counter() - t0
    tally.hours += (rec.t[-1] - rec.t[0]) / 3600
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


def bench_dataset(dataset: str, recordings: list[Recording], peers: bool, per_file: bool) -> list[dict]:
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mobgap", help="mobgap folder (default: $TILTGUARD_DATA/mobgap or ../shared/data/mobgap)")
    ap.add_argument("--scenarios", default="all", help="comma-separated simulator scenarios, 'all' or 'none'")
    ap.add_argument("--minutes", type=float, default=3.0, help="length of each simulated recording")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-peers", action="store_true", help="leave out the mobgap peers")
    ap.add_argument("--per-file", action="store_true", help="also print Tiltguard's score per recording")
    ap.add_argument("--json", help="write {'rows': [...]} here")
    args = ap.parse_args(argv)

    datasets: dict[str, list[Recording]] = {}
    try:
        datasets["mobgap"] = load_mobgap(dataset_dir("mobgap", args.mobgap))
    except DatasetMissing as exc:
        print(f"skipping mobgap: {exc}", file=sys.stderr)
    if args.scenarios != "none":
        try:
            from host.simulator import SCENARIOS
        except ImportError as exc:
            print(f"skipping simulator scenarios: {exc}", file=sys.stderr)
        else:
            names = list(SCENARIOS) if args.scenarios == "all" else args.scenarios.split(",")
            for name in names:
                rec = load_scenario(name, args.minutes, args.seed)
                if rec.bouts:
                    datasets[name] = [rec]
    if not datasets:
        print("nothing to run: no mobgap data and no simulator scenarios", file=sys.stderr)
        return 2

    rows = []
    for dataset, recs in datasets.items():
        print(f"{dataset}: {len(recs)} recording(s)", file=sys.stderr)
        rows.extend(bench_dataset(dataset, recs, not args.no_peers, args.per_file))
    add_ratios(rows)
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
