"""Per-device calibration store: one JSON file per device under the user's data directory.

Every saved calibration keeps its UTC timestamp; loading returns the newest. (A SQLite store replaces this
later; the record format stays the same.)
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path


def default_dir() -> Path:
    base = os.environ.get("TILTGUARD_HOME") or os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "tiltguard" / "calibrations"


class CalibrationStore:
    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder else default_dir()

    def _path(self, device_id: str) -> Path:
        if not device_id or not re.fullmatch(r"[A-Za-z0-9._:-]+", device_id):
            raise ValueError(f"device id {device_id!r} must be letters, digits or . _ : -")
        return self.folder / f"{device_id.replace(':', '-')}.json"

    def history(self, device_id: str) -> list[dict]:
        path = self._path(device_id)
        if not path.exists():
            return []
        return json.loads(path.read_text())["calibrations"]

    def save(self, device_id: str, record: dict, when: datetime | None = None) -> dict:
        """Append `record` (JSON-able; numpy arrays become lists) with a timestamp; returns what was stored."""
        entry = {"timestamp": (when or datetime.now(timezone.utc)).isoformat(), **_jsonable(record)}
        entries = self.history(device_id) + [entry]
        path = self._path(device_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"device_id": device_id, "calibrations": entries}, indent=1))
        tmp.replace(path)  # atomic: a crash never leaves half a file
        return entry

    def latest(self, device_id: str) -> dict | None:
        entries = self.history(device_id)
        return max(entries, key=lambda e: e["timestamp"]) if entries else None


def _jsonable(x):
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x
