"""A watch's FIT file with the pod's session: clock offset, refusals, grade and the pace threshold.

    python bench/watch.py [--seeds 1 2 3] [--rate 100] [--json FILE]

Each session is simulated, analysed from the pod alone, and its simulated watch stream (host.simulator.watch:
GPS noise, 1-s records, auto-pause, a manual pause in 'pauses') is written as a FIT file with fit-tool and
read back by the product. Rows:

- offset error (s) on run, ride, intervals, pauses, at two offsets per seed, with the clock known (±900 s
  search) and unknown (the whole file); target < 0.5 s. The stated 1-sigma uncertainty is printed beside it.
- refusals of mismatching files: another day's (clock known), the same routine on another day (clock
  unknown), a ride file for a run, another run in the same hour; target: all refused.
- grade RMS error over 100-m segments against the simulator's true rise over run (run-rolling-hills, ±6 %);
  target < 1 %.
- pace threshold of sustained anterior tilt (run-pace-ladder, run-rolling-hills) against the scenarios'
  documented 4:30 /km; target within 10 s/km.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from tiltguard.host.analysis import analyse_recording  # noqa: E402
from tiltguard.host.simulator import simulate  # noqa: E402
from tiltguard.host.simulator.watch import simulate_watch, true_segment_grade  # noqa: E402
from tiltguard.host.watch.align import AlignmentRefused, align_watch, session_counter  # noqa: E402
from tiltguard.host.watch.fit_read import read_fit  # noqa: E402
from tiltguard.host.watch.grade import altitude_profile  # noqa: E402
from tiltguard.host.watch.merge import pace_bands, pace_threshold, stride_table  # noqa: E402
from tiltguard_eval.watch_fit import sim_watch_to_fit  # noqa: E402

from bench.options import add_data_options  # noqa: E402

START = 1_780_000_000.0
THRESHOLD_S_PER_KM = 270.0  # host/simulator/scenarios.py: run-pace-ladder, run-rolling-hills
ALIGN_CASES = {  # name: (scenario, pod activity, minutes, manual pauses in watch time)
    "run": ("easy-run-neutral", "running", 10, ()),
    "ride": ("ride-rolling", "riding", None, ()),
    "intervals": ("track-intervals", "running", None, ()),
    "pauses": ("run-turns-stops", "running", None, ((200.0, 240.0),)),
}


def watch_file(truth, offset, seed, pauses=()):
    return read_fit(sim_watch_to_fit(simulate_watch(truth, START, offset_s=offset, seed=seed, manual_pauses=pauses)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_options(ap)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    t_start = time.perf_counter()
    rows = []
    print(f"{'alignment':12} {'seed':>4} {'offset s':>9} {'clock':8} {'error s':>8} {'sd s':>6} {'r':>6}")
    sessions = {}
    for key, (scenario, activity, minutes, pauses) in ALIGN_CASES.items():
        errs, sds = [], []
        for seed in args.seeds:
            rec, truth = simulate(scenario, minutes=minutes, rate_hz=args.rate, seed=seed)
            a = analyse_recording(rec)
            sessions[(key, seed)] = (rec, truth, a, activity)
            counter = session_counter(a, activity)
            for offset in (3.0 + 0.37 * seed, -45.0 - 1.13 * seed):
                w = watch_file(truth, offset, seed, pauses)
                for clock, shift in (("known", 900.0), ("unknown", None)):
                    al = align_watch(w, counter, START, rec.duration_s, activity, max_shift_s=shift)
                    errs.append(al.offset_s - offset)
                    sds.append(al.sd_s)
                    print(f"{key:12} {seed:4d} {offset:9.2f} {clock:8} {al.offset_s - offset:8.3f} {al.sd_s:6.3f} "
                          f"{al.correlation:6.3f}")
        errs = np.abs(errs)
        rows.append({"name": f"offset {key}", "peer": False, "max_abs_error_s": round(float(errs.max()), 3),
                     "rms_error_s": round(float(np.sqrt(np.mean(errs ** 2))), 3),
                     "median_sd_s": round(float(np.median(sds)), 3), "cases": len(errs),
                     "target_s": 0.5, "pass": bool(errs.max() < 0.5)})

    print("\nrefusals")
    refused = {}
    rec, truth, a, activity = sessions[("run", args.seeds[0])]
    counter = session_counter(a, activity)
    other_truth = simulate("easy-run-neutral", minutes=10, rate_hz=args.rate, seed=99)[1]
    cases = {
        "another day (clock known)": (read_fit(sim_watch_to_fit(simulate_watch(truth, START - 86400, seed=1))), 900.0),
        "same routine, another day (no clock)": (watch_file(other_truth, 0.0, 99), None),
        "a ride file for a run": (watch_file(sessions[("ride", args.seeds[0])][1], 0.0, 1), 900.0),
        "another activity, same hour": (watch_file(sessions[("intervals", args.seeds[0])][1], 0.0, 1), 900.0),
    }
    for name, (w, shift) in cases.items():
        try:
            al = align_watch(w, counter, START, rec.duration_s, activity, max_shift_s=shift)
            refused[name] = False
            print(f"  NOT refused: {name} (offset {al.offset_s:.2f} s, r = {al.correlation:.3f})")
        except AlignmentRefused as exc:
            refused[name] = True
            print(f"  refused: {name}: {exc}")
    rows.append({"name": "mismatching files refused", "peer": False, "refused": sum(refused.values()),
                 "cases": len(refused), "pass": all(refused.values())})

    print("\ngrade over 100-m segments (run-rolling-hills)")
    rms_all = []
    for seed in args.seeds:
        rec, truth = simulate("run-rolling-hills", rate_hz=args.rate, seed=seed)
        w = simulate_watch(truth, START, seed=seed)
        s = read_fit(sim_watch_to_fit(w))
        edges, true_g = true_segment_grade(w)
        a0 = np.interp(edges, w.true_distance_m, s.distance_m)
        a1 = np.interp(edges + 100.0, w.true_distance_m, s.distance_m)
        grid, z = altitude_profile(s.distance_m, s.altitude_m)
        est = (np.interp(a1, grid, z) - np.interp(a0, grid, z)) / (a1 - a0)
        rms = float(np.sqrt(np.mean((est - true_g) ** 2)))
        rms_all.append(rms)
        print(f"  seed {seed}: {len(edges)} segments, true grade {100 * true_g.min():+.1f} to "
              f"{100 * true_g.max():+.1f} %, RMS error {100 * rms:.2f} %")
    rows.append({"name": "grade 100-m segments", "peer": False, "rms_error_pct": round(100 * max(rms_all), 3),
                 "target_pct": 1.0, "pass": bool(max(rms_all) < 0.01)})

    print("\npace threshold of sustained anterior tilt (documented 4:30 /km)")
    for scenario in ("run-pace-ladder", "run-rolling-hills"):
        errs = []
        for seed in args.seeds:
            rec, truth = simulate(scenario, rate_hz=args.rate, seed=seed)
            a = analyse_recording(rec)
            s = watch_file(truth, 1.7, seed)
            al = align_watch(s, session_counter(a, "running"), START, rec.duration_s, "running", max_shift_s=900.0)
            thr = pace_threshold(pace_bands(stride_table(a, s, al.offset_s, START), "running"), 5.0)
            err = float("inf") if thr is None else 1000 / thr - THRESHOLD_S_PER_KM
            errs.append(err)
            print(f"  {scenario:20} seed {seed}: " + ("none found" if thr is None else
                  f"{int(1000 / thr // 60)}:{1000 / thr % 60:04.1f} /km, error {err:+.1f} s/km"))
        e = np.abs(errs)
        rows.append({"name": f"pace threshold {scenario}", "peer": False,
                     "max_abs_error_s_per_km": round(float(e.max()), 2), "target_s_per_km": 10.0,
                     "pass": bool(e.max() < 10.0)})

    print(f"\n{'row':42} result")
    for r in rows:
        print(f"{r['name']:42} {'PASS' if r['pass'] else 'FAIL'}  "
              + ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("name", "peer", "pass")))
    print(f"({time.perf_counter() - t_start:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))


if __name__ == "__main__":
    main()
