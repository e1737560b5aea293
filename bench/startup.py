"""Start-up of the command line: import time (`python -X importtime`) and wall time of `tiltguard ... --help`,
and which heavy libraries each loads. Target: `tiltguard --help` <= 0.3 s of import time.

    python bench/startup.py [--repeat N] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

COMMANDS = (["--help"], ["demo", "--help"], ["record", "--help"], ["report", "--help"], ["sessions", "--help"],
            ["calibrate", "accel", "--help"], ["live", "--help"])
HEAVY = ("numpy", "scipy", "matplotlib", "PySide6", "vqf", "ahrs", "bleak", "tiltguard.host.simulator")


def measure(args: list[str]) -> dict:
    code = ("import sys\nfrom tiltguard.host import cli\ntry:\n    cli.main(%r)\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n')" % (args,))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    total_us = 0
    modules: list[str] = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            self_us = line.split(":", 1)[1].split("|")[0].strip()
            if self_us.isdigit():
                total_us += int(self_us)
        elif line.startswith("MODULES "):
            modules = line.split()[1:]
    heavy = [h for h in HEAVY if h in modules]
    return {"import_s": total_us / 1e6, "wall_s": wall, "heavy": heavy}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args(argv)
    rows = []
    print(f"{'command':32} {'import s':>9} {'wall s':>8}  heavy libraries loaded")
    for args in COMMANDS:
        runs = [measure(args) for _ in range(a.repeat)]
        row = {"name": "tiltguard " + " ".join(args), "peer": False,
               "import_time_s": statistics.median(r["import_s"] for r in runs),
               "wall_time_s": statistics.median(r["wall_s"] for r in runs),
               "heavy_modules": runs[0]["heavy"]}
        rows.append(row)
        print(f"{row['name']:32} {row['import_time_s']:9.3f} {row['wall_time_s']:8.3f}  "
              f"{', '.join(row['heavy_modules']) or '-'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
