"""Shared fixtures. Data-set fixtures skip (with the reason) where ../shared/data is absent."""
import os
import sys
import tempfile
import types
from pathlib import Path

import pytest
from tiltguard_eval.datasets import DatasetMissing, dataset_dir

# `tests` is this folder (tests import `tests.mpy_helpers`, ...). It has no __init__.py, so a regular package of
# that name installed by a dependency (garmin-fit-sdk ships one) would win the import: bind the name here first.
_here = types.ModuleType("tests")
_here.__path__ = [str(Path(__file__).resolve().parent)]
sys.modules["tests"] = _here

# Nothing a test runs (the live view's calibration lookup, a CLI without --db) may touch the user's own store.
os.environ.pop("TILTGUARD_DB", None)
os.environ["TILTGUARD_HOME"] = tempfile.mkdtemp(prefix="tiltguard-test-home-")


def _dataset_or_skip(name: str):
    try:
        return dataset_dir(name)
    except DatasetMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def broad_dir():
    return _dataset_or_skip("broad")


@pytest.fixture(scope="session")
def mobgap_dir():
    return _dataset_or_skip("mobgap")
