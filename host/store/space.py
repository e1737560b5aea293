"""Disk space: how long a recording can go on where it is being written."""
from __future__ import annotations

import shutil
from pathlib import Path

WARN_S = 600.0  # warn when less than 10 minutes of recording fit
CHUNK_OVERHEAD = 10  # bytes per frame in a chunk (length u16 + arrival time f64)
STORE_FACTOR = 2.5  # WAL copy + table pages + index: bytes on disk per frame byte (measured ~2.1 in SQLite)


def bytes_per_second(rate_hz: float | None, samples_per_frame: int | None = None) -> float:
    """Disk bytes a recording at this rate takes per second (samples frames with a quaternion)."""
    rate = float(rate_hz or 200.0)
    spf = max(1, int(samples_per_frame or 10))
    frame = 11 + 12 + 12 * spf + 8 + 4
    return rate / spf * (frame + CHUNK_OVERHEAD) * STORE_FACTOR


def free_bytes(path: str | Path) -> int | None:
    """Free bytes on the file system holding `path` (or its nearest existing parent); None if unknown."""
    p = Path(path).resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return None


def seconds_left(path: str | Path, bps: float) -> float | None:
    free = free_bytes(path)
    return None if free is None or bps <= 0 else free / bps


def low_space_message(path: str | Path, seconds: float) -> str:
    return (f"disk almost full: {seconds / 60:.0f} min of recording left on {Path(path).resolve().parent} "
            f"(free some space; the session stays safe until the disk is full, then continues in a spool file)")
