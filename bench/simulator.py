"""Simulator speed and memory: an hour of a scenario at 200 Hz (target <= 3 s and <= 300 MB).

    python bench/simulator.py [--minutes 60] [--rate 200] [--scenario run-fatigue-creep] [--json FILE]

Each measurement runs in a fresh process so the peak memory is that of one simulation.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.options import add_data_options  # noqa: E402

CHILD = r"""
import json, resource, sys, time
import numpy, scipy.interpolate, scipy.spatial.transform
from tiltguard.host.simulator import simulate
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
rec, truth = simulate(sys.argv[1], minutes=float(sys.argv[2]), rate_hz=float(sys.argv[3]), seed=1)
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_mb": peak / 1024, "added_mb": (peak - base) / 1024, "samples": len(rec)}))
"""


def measure(scenario: str, minutes: float, rate: float) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, scenario, str(minutes), str(rate)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_options(ap)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--scenario", action="append", help="repeatable; default: a run, a ride, a walk-to-run")
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    scenarios = args.scenario or ["run-fatigue-creep", "ride-fatigue", "walk-to-run"]
    rows = []
    print(f"{'scenario':24} {'minutes':>7} {'rate_hz':>7} {'seconds':>8} {'peak_MB':>8} {'Msamples/s':>10}")
    for name in scenarios:
        r = measure(name, args.minutes, args.rate)
        rows.append({"name": name, "peer": False, "minutes": args.minutes, "rate_hz": args.rate,
                     "seconds": round(r["seconds"], 3), "peak_memory_mb": round(r["peak_mb"], 1),
                     "samples_per_s": round(r["samples"] / r["seconds"])})
        print(f"{name:24} {args.minutes:7.0f} {args.rate:7.0f} {r['seconds']:8.2f} {r['peak_mb']:8.0f} "
              f"{r['samples'] / r['seconds'] / 1e6:10.2f}")
    print("targets: <= 3 s and <= 300 MB for 60 min at 200 Hz")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
