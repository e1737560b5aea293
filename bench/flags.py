"""Flags on a labelled set of simulated sessions: precision, recall and onset delay per flag type.

    python bench/flags.py [--seeds 1 2] [--rate 200] [--json FILE]

Each session is simulated, then analysed from the sensor alone: post-session mode (post orientation) for
the post engine, causal orientation for the live engine. True intervals: the simulator's own sustained-tilt
truth, and for the other flags the same rule definitions applied to the simulator's true per-stride angles
and contacts. A detection counts if it overlaps a true interval of its type.
Post onset delay = detected start - true start; live onset delay = when the live engine decided - (true
start + the rule's minimum duration), i.e. how long after the pattern became sustained it said so.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tiltguard.host.analysis import analyse_recording  # noqa: E402
from tiltguard.host.flags import FLAG_TYPES, FlagSettings, LiveFlagEngine, detect_flags  # noqa: E402
from tiltguard.host.gait.cycles import CycleTable, ride_cycles, stride_cycles  # noqa: E402
from tiltguard.host.simulator import simulate  # noqa: E402
from tiltguard_eval.flag_labels import LABELLED_SCENARIOS  # noqa: E402
from tiltguard_eval.flag_scoring import FlagScore, score_intervals  # noqa: E402

from bench.options import add_data_options  # noqa: E402

MIN_DURATION = {  # the rule's minimum, for the live onset
    "sustained_anterior_tilt": "tilt_min_s", "tilt_creep": "creep_min_s", "excess_pelvic_drop": "drop_min_s",
    "rotation_variability": "rotation_min_s", "ride_forward_roll": "ride_min_s", "ride_rock_growth": "ride_rock_min_s",
}


def true_intervals(truth) -> dict[str, list[tuple[float, float]]]:
    table = CycleTable.concat([
        stride_cycles(truth.t, truth.tilt_rel, truth.obliquity, truth.rotation, truth.activity, truth.ic_times,
                      truth.ic_sides == "L"),
        ride_cycles(truth.t, truth.tilt_rel, truth.obliquity, truth.activity),
    ])
    out = {name: [] for name in FLAG_TYPES}
    for f in detect_flags(table):
        out[f.type].append((f.start, f.end))
    out["sustained_anterior_tilt"] = truth.sustained_tilt_intervals()
    return out


def live_flags(analysis):
    engine = LiveFlagEngine()
    for cycle in analysis.cycles.cycles():
        engine.feed(cycle)
    engine.finish()
    return engine.flags


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_options(ap)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    settings = FlagSettings()
    scores = {(engine, name): FlagScore() for engine in ("post", "live") for name in FLAG_TYPES}
    t0, sessions, label_mismatch = time.perf_counter(), 0, []
    print(f"{'session':32} {'truth':44} {'post':44} live")
    for name, expected in LABELLED_SCENARIOS.items():
        for seed in args.seeds:
            rec, truth = simulate(name, rate_hz=args.rate, seed=seed)
            truths = true_intervals(truth)
            raised = {k for k, v in truths.items() if v}
            if raised != expected:
                label_mismatch.append(f"{name}/{seed}: truth raises {sorted(raised)}, labelled {sorted(expected)}")
            post = analyse_recording(rec, mode="post", settings=settings)
            causal = analyse_recording(rec, mode="causal", settings=settings)
            live = live_flags(causal)
            for flag_type in FLAG_TYPES:
                det = [f for f in post.flags if f.type == flag_type]
                scores["post", flag_type].add(score_intervals([(f.start, f.end) for f in det], truths[flag_type]))
                det = [f for f in live if f.type == flag_type]
                min_s = getattr(settings, MIN_DURATION[flag_type])
                scores["live", flag_type].add(score_intervals(
                    [(f.start, f.end) for f in det], truths[flag_type], [f.decided_at - min_s for f in det]))
            sessions += 1
            print(f"{name + '/' + str(seed):32} {','.join(sorted(raised)) or '-':44} "
                  f"{','.join(sorted({f.type for f in post.flags})) or '-':44} "
                  f"{','.join(sorted({f.type for f in live})) or '-'}")
    elapsed = time.perf_counter() - t0
    rows = []
    print(f"\n{sessions} sessions in {elapsed:.0f} s\n")
    print(f"{'flag':26} {'engine':6} {'truths':>6} {'detected':>8} {'precision':>9} {'recall':>7} {'onset_delay_s':>13}")
    for engine in ("post", "live"):
        total = FlagScore()
        for flag_type in FLAG_TYPES:
            s = scores[engine, flag_type]
            total.add(s)
            rows.append(_row(flag_type, engine, s))
        rows.append(_row("all", engine, total))
    for r in rows:
        print(f"{r['name']:26} {r['engine']:6} {r['truths']:6d} {r['detected']:8d} {r['precision']:9.3f} "
              f"{r['recall']:7.3f} {r['onset_delay_median_s']:13.1f}")
    print("targets: precision and recall >= 0.95; post onset within 15 s of truth, live within 10 s more")
    for line in label_mismatch:
        print("LABEL MISMATCH", line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows}, f, indent=1)


def _row(name: str, engine: str, s: FlagScore) -> dict:
    return {"name": name, "peer": False, "engine": engine, "precision": round(s.precision, 4),
            "recall": round(s.recall, 4), "onset_delay_median_s": round(s.onset_delay_median_s, 2),
            "truths": s.truths, "detected": s.detected}


if __name__ == "__main__":
    main()
