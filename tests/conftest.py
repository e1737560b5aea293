"""Shared fixtures. Data-set fixtures skip (with the reason) where ../shared/data is absent."""
import os
import tempfile

import pytest
from tiltguard_eval import repo_tests
from tiltguard_eval.datasets import DatasetMissing, dataset_dir

# `tests` is this folder (tests import `tests.mpy_helpers`, ...): bound before any test module imports it, since
# a dependency's own top-level `tests` package (garmin-fit-sdk ships one) would win the import
repo_tests.bind()

# Nothing a test runs (the live view's calibration lookup, a CLI without --db) may touch the user's own store.
os.environ.pop("TILTGUARD_DB", None)
os.environ["TILTGUARD_HOME"] = tempfile.mkdtemp(prefix="tiltguard-test-home-")


def _dataset_or_skip(name: str):
    try:
        return dataset_dir(name)
    except DatasetMissing as exc:
        pytest.skip(str(exc))


def _running_set_or_skip(sub: str):
    from tiltguard_eval.running_data import running_dir

    try:
        path = running_dir() / sub
    except DatasetMissing as exc:
        pytest.skip(str(exc))
    if not path.is_dir():
        pytest.skip(f"running/{sub} data not found at {path}: set TILTGUARD_DATA to a folder holding running/{sub}")
    return path


@pytest.fixture(scope="session")
def virtual_dir():
    """../shared/data/running/virtual: virtual sacral IMU sessions of real treadmill runners."""
    return _running_set_or_skip("virtual")


@pytest.fixture(scope="session")
def alcantara_dir():
    """../shared/data/running/alcantara: a real sacral accelerometer's treadmill trials."""
    return _running_set_or_skip("alcantara")


@pytest.fixture(scope="session")
def broad_dir():
    return _dataset_or_skip("broad")


@pytest.fixture(scope="session")
def mobgap_dir():
    return _dataset_or_skip("mobgap")
