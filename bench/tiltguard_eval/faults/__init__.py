"""The fault bench's cases (issue 23 item 7) and the runner bench/faults.py uses.

Each module of this package (`host_cases`, `device_cases`, `sync_cases`) exposes
`CASES: list[Callable[[Path], dict]]`; a case gets a fresh temporary directory and returns one row with
exactly the keys of ROW_KEYS (docs/store.md, "Fault bench"). A module that is not there is skipped, so
one missing part never stops the others.
"""
from __future__ import annotations

import importlib
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

MODULES = ("host_cases", "device_cases", "sync_cases")
ROW_KEYS = ("name", "samples_produced", "samples_stored", "samples_lost", "samples_lost_bound", "told_user",
            "refused", "detail")


def load_cases(modules: tuple[str, ...] = MODULES) -> list[Callable[[Path], dict]]:
    cases = []
    for m in modules:
        name = f"{__name__}.{m}"
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise  # the module is there but something it needs is not: that is a failure, not a skip
            continue
        cases.extend(mod.CASES)
    return cases


def check_row(row: dict) -> list[str]:
    """What is wrong with a row (empty if nothing)."""
    out = []
    if set(row) != set(ROW_KEYS):
        out.append(f"keys {sorted(set(row) ^ set(ROW_KEYS))} differ from the contract")
    for k in ("samples_produced", "samples_stored", "samples_lost", "samples_lost_bound"):
        if not isinstance(row.get(k), int):
            out.append(f"{k} is not an int")
    if not isinstance(row.get("told_user"), bool):
        out.append("told_user is not a bool")
    if row.get("refused") not in (True, False, None):
        out.append("refused is not a bool or None")
    return out


def passed(row: dict) -> bool:
    """Acceptance: lost within the bound, the user told, refused where refusal applies."""
    return (not check_row(row) and row["samples_lost"] <= row["samples_lost_bound"] and row["told_user"]
            and row["refused"] is not False)


def run_case(case: Callable[[Path], dict]) -> tuple[dict, float]:
    """(row, seconds): one case in a fresh temporary directory; a case that raises becomes a failed row."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tiltguard-fault-") as d:
        try:
            row = case(Path(d))
        except Exception as exc:  # noqa: BLE001 - the bench reports a broken case as a failed row
            tb = traceback.format_exc(limit=3).strip().splitlines()[-1]
            row = {"name": getattr(case, "__name__", "case"), "samples_produced": 0, "samples_stored": 0,
                   "samples_lost": 0, "samples_lost_bound": 0, "told_user": False, "refused": None,
                   "detail": f"case raised {type(exc).__name__}: {exc} ({tb})"[:300]}
    return row, time.perf_counter() - t0
