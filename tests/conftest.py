"""Shared fixtures. Data-set fixtures skip (with the reason) where ../shared/data is absent."""
import pytest

from host.datasets import DatasetMissing, dataset_dir


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
