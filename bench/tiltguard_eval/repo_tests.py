"""The repository's test helpers (tests/mpy_helpers.py: the MicroPython unix port; tests/bumble_*.py: virtual BLE)
as `tests.*`, for the benches and for pytest (tests/conftest.py). tests/ is a plain folder, so an installed
distribution shipping its own top-level `tests` package (garmin-fit-sdk does) would win the import: bind the
name to the folder first."""
from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2] / "tests"


def bind() -> None:
    pkg = sys.modules.get("tests")
    if pkg is None or [str(p) for p in getattr(pkg, "__path__", [])] != [str(TESTS)]:
        pkg = types.ModuleType("tests")
        pkg.__path__ = [str(TESTS)]
        sys.modules["tests"] = pkg


def module(name: str):
    """tests/<name>.py of this repository."""
    bind()
    return importlib.import_module("tests." + name)
