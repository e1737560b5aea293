"""BROAD timing bench: how far each trial's gyroscope lags its optical reference, and what that costs.

    python bench/broad_timing.py [--broad DIR] [--json out.json]

Estimator-free: the reference's own angular rate (from consecutive optical orientations) against the gyro
(tiltguard_eval.orientation_metrics.gyro_lag_samples). A lag between an IMU and its reference is paid by every
orientation filter alike and cannot be seen in the IMU data; this bench measures it so the orientation
bench's BROAD numbers can be read against it. It then scores Tiltguard and its peers (offlineVQF post, VQF
causal; same run) twice: as the benchmark does, and with the reference moved by the trial's
measured lag less the half sample by which a rectangular strapdown step (the rate at the end of each
interval, as VQF integrates) leads — a diagnostic of the floor only; no filter here is shifted in time.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tiltguard.host.orientation import quaternion as Q  # noqa: E402
from tiltguard_eval.datasets import DatasetMissing, dataset_dir  # noqa: E402
from tiltguard_eval.orientation_filters import run_filter  # noqa: E402
from tiltguard_eval.orientation_metrics import (
    gyro_lag_samples,  # noqa: E402
    inclination_rmse_deg,  # noqa: E402
)

from bench.options import add_data_options  # noqa: E402
from bench.orientation import load_broad  # noqa: E402

FILTERS = (("tiltguard", "tiltguard", "post", False), ("offlineVQF 6D", "offline_vqf", "post", True),
           ("tiltguard", "tiltguard", "causal", False), ("VQF 6D", "vqf", "causal", True))
# VQF applies each gyro sample to the interval that ends at it, so its output leads by half a sample on
# perfectly timed data (the simulator: best shift 0.6 samples, docs/validation.md)
INTEGRATION_LEAD = 0.5


def reference_moved(q_ref: np.ndarray, lag: float) -> np.ndarray:
    """The reference read `lag` samples earlier (q at k − lag, interpolated), NaN where it is unknown."""
    k = np.arange(len(q_ref)) - lag
    lo = np.floor(k).astype(int)
    out = np.full_like(q_ref, np.nan)
    ok = (lo >= 0) & (lo + 1 < len(q_ref))
    a, b = q_ref[lo[ok]], q_ref[lo[ok] + 1]
    b = b * np.where(np.sum(a * b, axis=1, keepdims=True) < 0, -1.0, 1.0)
    frac = (k - lo)[ok, None]
    out[ok] = Q.normalize(a * (1 - frac) + b * frac)  # nlerp: the step is a fraction of a degree
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(ap, reads=("broad",))
    ap.add_argument("--json", help="write {'rows': [...]} here")
    args = ap.parse_args(argv)
    try:
        trials = load_broad(dataset_dir("broad", args.broad))
    except DatasetMissing as exc:
        print(f"skipping: {exc}", file=sys.stderr)
        return 0

    print(f"{'trial':<44} {'gyro lag':>9} {'ms':>6}")
    lags = []
    for tr in trials:
        lag = gyro_lag_samples(tr["gyr"], tr["q_ref"], tr["rate_hz"], tr["mask"])
        lags.append(lag)
        print(f"{tr['name']:<44} {lag:9.3f} {1e3 * lag / tr['rate_hz']:6.2f}")
    rate = trials[0]["rate_hz"]
    median = float(np.median(lags))
    print(f"{'median over ' + str(len(trials)) + ' trials':<44} {median:9.3f} {1e3 * median / rate:6.2f}"
          "   (samples the gyro trails the optical reference)")

    rows = [dict(name="gyro lag behind the reference", peer=False, dataset="broad",
                 gyro_lag_samples=median, gyro_lag_ms=1e3 * median / rate,
                 per_trial_samples={t["name"]: lag for t, lag in zip(trials, lags)})]
    print(f"\n{'filter':<16} {'mode':<6} {'incl RMSE °':>11} {'reference moved by lag - 0.5 °':>31}")
    for name, method, mode, peer in FILTERS:
        plain, moved = [], []
        for tr, lag in zip(trials, lags):
            q = run_filter(tr["acc"], tr["gyr"], tr["rate_hz"], mode=mode, method=method).quat
            plain.append(inclination_rmse_deg(q, tr["q_ref"], tr["mask"]))
            moved.append(inclination_rmse_deg(q, reference_moved(tr["q_ref"], lag - INTEGRATION_LEAD), tr["mask"]))
        rows.append(dict(name=name, peer=peer, mode=mode, dataset="broad",
                         inclination_rmse_deg=float(np.mean(plain)),
                         inclination_rmse_reference_moved_deg=float(np.mean(moved))))
        print(f"{name:<16} {mode:<6} {np.mean(plain):11.3f} {np.mean(moved):31.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
