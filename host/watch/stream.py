"""WatchStream: the records of a watch's activity file in SI units, and its compact form in the store."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np

_ARRAYS = ("timestamp", "lat_deg", "lon_deg", "distance_m", "speed_mps", "altitude_m", "heart_rate_bpm", "cadence",
           "power_w")


@dataclass
class WatchStream:
    """One record per row (watches write one a second). Missing values are NaN; a channel the file does not
    have at all is None. `cadence` is steps/min for running/walking, crank rpm for cycling."""

    sport: str
    timestamp: np.ndarray  # unix s (UTC)
    lat_deg: np.ndarray | None = None
    lon_deg: np.ndarray | None = None
    distance_m: np.ndarray | None = None
    speed_mps: np.ndarray | None = None
    altitude_m: np.ndarray | None = None
    heart_rate_bpm: np.ndarray | None = None
    cadence: np.ndarray | None = None
    power_w: np.ndarray | None = None
    laps: list[dict] = field(default_factory=list)  # {'start': unix s, 'end': unix s, 'distance_m', ...}
    pauses: list[tuple[float, float]] = field(default_factory=list)  # timer (stop, start), unix s
    meta: dict = field(default_factory=dict)  # device, file name, ...

    def __len__(self) -> int:
        return len(self.timestamp)

    @property
    def duration_s(self) -> float:
        return float(self.timestamp[-1] - self.timestamp[0]) if len(self) else 0.0

    @property
    def gait(self) -> bool:
        """On foot (cadence in steps/min), not on a bike."""
        return self.sport != "cycling"

    def shifted(self, offset_s: float) -> np.ndarray:
        """The records' times on the pod's clock, given watch = pod + offset."""
        return self.timestamp - offset_s

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        arrays = {k: getattr(self, k) for k in _ARRAYS if getattr(self, k) is not None}
        head = {"sport": self.sport, "laps": self.laps, "pauses": self.pauses, "meta": self.meta}
        np.savez_compressed(buf, _head=np.frombuffer(json.dumps(head).encode(), dtype=np.uint8), **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> "WatchStream":
        z = np.load(io.BytesIO(blob))
        head = json.loads(bytes(z["_head"]).decode())
        arrays = {k: z[k] for k in _ARRAYS if k in z.files}
        return cls(head["sport"], laps=head["laps"], pauses=[tuple(p) for p in head["pauses"]], meta=head["meta"],
                   **arrays)
