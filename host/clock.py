"""Device time -> host time, and the bookkeeping of what arrived: gaps, duplicates, reordering.

The device stamps every frame with its own microsecond clock (32 bits, wraps every 71.6 min); the host
notes when each frame arrived. Arrival = device time mapped to host time + a transport delay that is
never negative and usually near its minimum. So the mapping is fitted to the *lower envelope* of
(arrival - device time): the minimum in each block of a few seconds, then a straight line through those
minima (least squares) whose slope is the drift of the device's crystal against the host's. Frames that
were resent or read from flash arrived late on purpose and are left out of the fit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WRAP_US = 1 << 32
WRAP_SEQ = 1 << 32


class DeviceTime:
    """Unwraps the 32-bit device microsecond counter into a monotonic count (frames may come out of
    order, so each value is placed nearest to the latest one seen)."""

    def __init__(self) -> None:
        self.last: int | None = None

    def unwrap(self, t_us: int) -> int:
        if self.last is None:
            self.last = t_us
            return t_us
        d = ((t_us - self.last + WRAP_US // 2) % WRAP_US) - WRAP_US // 2
        value = self.last + d
        if d > 0:
            self.last = value
        return value


@dataclass
class ClockFit:
    offset_s: float  # host time (s) at device time 0
    rate: float  # host seconds per device second (1 + drift)
    n_points: int
    residual_ms: float  # spread of the envelope points about the line

    @property
    def drift_ppm(self) -> float:
        return (self.rate - 1.0) * 1e6

    def to_host(self, device_us):
        return self.offset_s + self.rate * np.asarray(device_us, dtype=float) * 1e-6


class ClockMap:
    """Online estimate of the device->host mapping from (device µs, host arrival s) pairs."""

    def __init__(self, block_s: float = 2.0, max_blocks: int = 600) -> None:
        self.block_s = block_s
        self.max_blocks = max_blocks
        self._blocks: dict[int, tuple[float, float]] = {}  # block no -> (device s, min(arrival - device))
        self._t0: float | None = None
        self._fit: ClockFit | None = None
        self._dirty = False

    def add(self, device_us: float, host_s: float) -> None:
        dev_s = device_us * 1e-6
        if self._t0 is None:
            self._t0 = dev_s
        k = int((dev_s - self._t0) // self.block_s)
        d = host_s - dev_s
        cur = self._blocks.get(k)
        if cur is None or d < cur[1]:
            self._blocks[k] = (dev_s, d)
            self._dirty = True
            if len(self._blocks) > self.max_blocks:
                del self._blocks[min(self._blocks)]

    def fit(self) -> ClockFit | None:
        if not self._dirty:
            return self._fit
        pts = np.array(sorted(self._blocks.values()))
        if len(pts) == 0:
            return None
        x, d = pts[:, 0], pts[:, 1]
        if len(pts) < 3 or np.ptp(x) < 1e-3:
            slope, icept = 0.0, float(d.min())  # too short a baseline for a drift: offset only
        else:
            slope, icept = np.polyfit(x, d, 1)
            # the envelope line must stay under every minimum: shift it down onto the lowest point
            icept += float(np.min(d - (slope * x + icept)))
        resid = d - (slope * x + icept)
        self._fit = ClockFit(float(icept), 1.0 + float(slope), len(pts), float(np.std(resid) * 1e3))
        self._dirty = False
        return self._fit


MAX_HOLE = 1 << 16  # frames: no device holds a resend history this long (60 s at 200 Hz = 1,200 frames)
MAX_MISSING = 1 << 16  # holes remembered at most; the oldest are given up beyond it


class SeqTracker:
    """Which stream sequence numbers have arrived; what is missing, duplicated, out of order.

    Memory is bounded whatever the sequence numbers do: a jump of more than MAX_HOLE (a damaged-but-CRC-valid
    frame, a device bug) is counted in `jumps`, not listed hole by hole, and at most MAX_MISSING holes are kept."""

    def __init__(self) -> None:
        self.jumps = 0  # forward jumps too long to be a hole the device could fill
        self.given_up = 0  # holes dropped to keep the memory bounded
        self._far: int | None = None  # the last frame that jumped far ahead
        self.highest: int | None = None  # unwrapped
        self.missing: set[int] = set()
        self.received = 0
        self.duplicates = 0
        self.reordered = 0  # arrived after a higher seq without being a requested resend
        self.filled = 0  # holes filled later (resends, late arrivals)
        self._first: int | None = None

    def unwrap(self, seq: int) -> int:
        if self.highest is None:
            return seq
        d = ((seq - self.highest + WRAP_SEQ // 2) % WRAP_SEQ) - WRAP_SEQ // 2
        return self.highest + d

    def add(self, seq: int, resent: bool = False) -> str:
        """Note one arrival; returns 'new', 'filled' (closes a hole) or 'duplicate'."""
        s = self.unwrap(seq)
        if self.highest is None:
            self.highest = self._first = s
            self.received += 1
            return "new"
        if s > self.highest:
            if s - self.highest > MAX_HOLE:
                # a stray far ahead moves nothing; the next frame following it confirms a real jump
                confirmed = self._far is not None and s == self._far + 1
                self._far = s
                if not confirmed:
                    self.jumps += 1
                    self.received += 1
                    return "new"
            else:
                self.missing.update(range(self.highest + 1, s))
                if len(self.missing) > MAX_MISSING:
                    for old in sorted(self.missing)[: len(self.missing) - MAX_MISSING]:
                        self.missing.discard(old)
                        self.given_up += 1
            self.highest = s
            self.received += 1
            return "new"
        if s in self.missing:
            self.missing.discard(s)
            self.filled += 1
            self.received += 1
            if not resent:
                self.reordered += 1
            return "filled"
        if s < self._first:  # older than anything seen: a frame from before this host joined
            self._first = s
            self.received += 1
            return "filled"
        self.duplicates += 1
        return "duplicate"

    def missing_ranges(self, limit: int | None = None) -> list[tuple[int, int]]:
        """Missing seqs as inclusive (first, last) ranges, oldest first (wire values, mod 2**32)."""
        out: list[tuple[int, int]] = []
        for s in sorted(self.missing):
            if out and s == out[-1][1] + 1:
                out[-1] = (out[-1][0], s)
            else:
                if limit is not None and len(out) >= limit:
                    break
                out.append((s, s))
        return [(a % WRAP_SEQ, b % WRAP_SEQ) for a, b in out]

    def give_up(self, first: int, last: int) -> int:
        """The device no longer holds these: stop waiting for them. Returns how many were dropped."""
        a = self.unwrap(first)
        n = 0
        for s in range(a, a + ((last - first) % WRAP_SEQ) + 1):
            if s in self.missing:
                self.missing.discard(s)
                n += 1
        return n


def index_gaps(index: np.ndarray) -> list[tuple[int, int]]:
    """(first missing, count) for every jump in a sorted array of device sample indices."""
    index = np.asarray(index)
    if len(index) < 2:
        return []
    step = np.diff(index)
    at = np.nonzero(step > 1)[0]
    return [(int(index[i] + 1), int(step[i] - 1)) for i in at]
