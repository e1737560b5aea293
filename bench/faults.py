"""Fault bench (issue 23 item 7): every fault case scripted with real parts, and what it cost.

For each case (bench/tiltguard_eval/faults/*_cases.py): samples produced / stored / lost, the documented
bound on what may be lost, whether the user was told in one clear line (no traceback), and, for cases that
must be refused (lying input, a stranger's command), whether they were. A case passes when
lost <= bound, told_user, and refused is not False.

    python bench/faults.py [--only SUBSTRING] [--json FILE]

No peer implementation is named for this bench, so every row has "peer": false. --broad/--mobgap/
--running are accepted like every bench's; the cases use simulated data only.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from tiltguard_eval import repo_tests  # noqa: E402

repo_tests.bind()  # the cases use the repository's test helpers as `tests.*`

from bench.options import add_data_options  # noqa: E402
from tiltguard_eval.faults import ROW_KEYS, check_row, load_cases, passed, run_case  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="run the cases whose name contains this")
    ap.add_argument("--json", help="write {'rows': [...]} here")
    add_data_options(ap)
    args = ap.parse_args(argv)
    rows = []
    cases = [c for c in load_cases() if not args.only or args.only in c.__name__]
    for case in cases:
        row, seconds = run_case(case)
        problems = check_row(row)
        if problems:
            row["detail"] = f"{row.get('detail', '')} [bad row: {'; '.join(problems)}]"
        rows.append(dict(row, peer=False, passed=passed(row) and not problems, seconds=round(seconds, 1)))
        print(f"  {row['name']}: {'ok' if rows[-1]['passed'] else 'FAILED'} ({seconds:.1f} s)", file=sys.stderr,
              flush=True)
    head = ["name", "samples_produced", "samples_stored", "samples_lost", "samples_lost_bound", "told_user",
            "refused", "passed", "seconds"]
    widths = [max(len(h), *(len(str(r.get(h))) for r in rows)) if rows else len(h) for h in head]
    print("  ".join(h.rjust(w) if h != "name" else h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(str(r.get(h)).rjust(w) if h != "name" else str(r.get(h)).ljust(w)
                        for h, w in zip(head, widths)))
    for r in rows:
        print(f"- {r['name']}: {r['detail']}")
    failed = [r["name"] for r in rows if not r["passed"]]
    print(f"{len(rows) - len(failed)} of {len(rows)} cases pass" + (f"; failed: {', '.join(failed)}" if failed else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "row_keys": list(ROW_KEYS)}, indent=1))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
