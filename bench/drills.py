"""Guided tests and drills on simulated people: rep counts, false reps at rest, holds, per-rep angles, faults
and the left-vs-right call, per drill; peers (peak picking, autocorrelation) on the same data.

    python bench/drills.py [--people 12] [--drills glute-bridge bird-dog] [--seed 0] [--json FILE]

Each person is drawn at random (tempo 0.6-1.6x, range 0.6-1.4x, good or poor control, symmetric or one
side 5-10° worse, partial reps, pauses, sensor noise 0.5-2x, the pod clipped on any way round) and does the
drill's full dose with rests full of fidgets (host/simulator/drills.py). Our engine runs exactly as the live
guidance (block by block). Left vs right is scored against what each person did (the engine's rule on the
true per-rep values; "asym ok", "sym ok"), and beside it against the person's label ("asym lbl", "sym lbl":
also people whose reps could not show their asymmetry). The peers are given the true set windows (they
cannot find sets) and each rest window (their counts there are false reps).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tiltguard.host.drills import DRILLS, analyse_recording  # noqa: E402
from tiltguard.host.simulator.drills import GUIDED_BOW_DEG, SHALLOW_BOW_DEG, simulate_drill  # noqa: E402
from tiltguard_eval.drill_peers import PEERS  # noqa: E402
from tiltguard_eval.drill_scoring import DrillScore, score_peer_counts, score_result  # noqa: E402

from bench.options import add_data_options  # noqa: E402

COLUMNS = ("sets", "exact_count_share", "within_one_share", "false_reps_per_10min", "hold_error_s",
           "tilt_excursion_rmse_deg", "obliquity_excursion_rmse_deg", "rotation_excursion_rmse_deg",
           "fault_precision", "fault_recall", "asymmetry_right_share", "no_false_asymmetry_share",
           "asymmetry_label_right_share", "no_false_asymmetry_label_share")
SHORT = ("sets", "exact", "±1", "false/10m", "hold s", "tilt°", "obl°", "rot°", "f.prec", "f.rec", "asym ok",
         "sym ok", "asym lbl", "sym lbl")


def run_drill(name: str, people: int, seed: int, rate_hz: float,
              bow_deg: tuple[float, float] = GUIDED_BOW_DEG) -> dict[str, DrillScore]:
    spec = DRILLS[name]
    scores = {"tiltguard": DrillScore(), **{p: DrillScore() for p in PEERS}}
    for k in range(people):
        rec, truth = simulate_drill(name, seed=seed * 1000 + k, rate_hz=rate_hz, bow_deg=bow_deg)
        scores["tiltguard"].add(score_result(analyse_recording(rec, name), truth, spec))
        for peer, count in PEERS.items():
            sets = [count(rec.gyr[_idx(rec, s["start_s"]):_idx(rec, s["end_s"]) + 1], rec.rate_hz)
                    for s in truth.sets]
            rests = [count(rec.gyr[_idx(rec, a):_idx(rec, b)], rec.rate_hz) for a, b in truth.rests]
            scores[peer].add(score_peer_counts(sets, truth, rests))
    return scores


def _idx(rec, t: float) -> int:
    return max(0, min(len(rec) - 1, int(round((t - rec.t[0]) * rec.rate_hz))))


def fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=12, help="simulated people per drill (default 12)")
    ap.add_argument("--drills", nargs="*", default=list(DRILLS), help="drills to run (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rate", type=float, default=100.0, help="sample rate, Hz (default 100)")
    ap.add_argument("--bow", nargs=2, type=float, default=GUIDED_BOW_DEG, metavar=("LO", "HI"),
                    help="range of the standing drills' bow depth, deg (default: the guided bow, "
                         f"{GUIDED_BOW_DEG[0]:g}-{GUIDED_BOW_DEG[1]:g}; {SHALLOW_BOW_DEG[0]:g} {SHALLOW_BOW_DEG[1]:g}: people who bow less)")
    ap.add_argument("--json", help="write the rows here")
    add_data_options(ap)
    args = ap.parse_args(argv)
    for d in args.drills:
        if d not in DRILLS:
            print(f"bench/drills.py: error: unknown drill {d!r}; known: {', '.join(DRILLS)}", file=sys.stderr)
            return 2
    rows = []
    total = {"tiltguard": DrillScore(), **{p: DrillScore() for p in PEERS}}
    print(f"{'drill':22} {'counter':10}" + "".join(f" {s:>9}" for s in SHORT))
    t0 = time.perf_counter()
    for name in args.drills:
        for who, sc in run_drill(name, args.people, args.seed, args.rate, tuple(args.bow)).items():
            total[who].add(sc)
            rows.append(_row(name, who, sc))
            print(f"{name:22} {who:10}" + "".join(f" {fmt(rows[-1][c]):>9}" for c in COLUMNS))
    for who, sc in total.items():
        rows.append(_row("all", who, sc))
        print(f"{'all':22} {who:10}" + "".join(f" {fmt(rows[-1][c]):>9}" for c in COLUMNS))
    print(f"({time.perf_counter() - t0:.0f} s, {args.people} people per drill)", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))
    return 0


def _row(drill: str, who: str, sc: DrillScore) -> dict:
    return {"name": f"{drill}/{who}", "drill": drill, "counter": who, "peer": who != "tiltguard", **sc.metrics()}


if __name__ == "__main__":
    sys.exit(main())
