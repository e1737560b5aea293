"""Where the shared public recordings (BROAD, mobgap) live.

Looked up, in order: an explicit path, the TILTGUARD_DATA environment variable (a folder holding
`broad/` and `mobgap/`), then `../shared/data` beside the repository checkout.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_ROOT = REPO_ROOT.parent / "shared" / "data"


class DatasetMissing(FileNotFoundError):
    """A shared data set is not on this machine; callers skip with this message."""


def data_root() -> Path:
    env = os.environ.get("TILTGUARD_DATA")
    return Path(env) if env else DEFAULT_DATA_ROOT


def dataset_dir(name: str, explicit: str | os.PathLike | None = None) -> Path:
    """Folder of data set `name` ('broad' or 'mobgap'); raises DatasetMissing with a clear message."""
    path = Path(explicit) if explicit else data_root() / name
    if not path.is_dir():
        raise DatasetMissing(
            f"{name} data not found at {path}: pass its folder (e.g. --{name} DIR) "
            f"or set TILTGUARD_DATA to a folder holding {name}/"
        )
    return path
