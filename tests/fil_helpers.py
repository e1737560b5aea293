"""CPython side of the firmware-in-the-loop tests: run firmware.sim on the unix port, decode what arrived."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tiltguard.firmware import protocol as P

from tests.mpy_helpers import run_micropython

G = 9.80665


def write_source(path: Path, acc: np.ndarray, gyr: np.ndarray) -> Path:
    """Samples for the chip emulator: float32 ax ay az gx gy gz per row (m/s², rad/s)."""
    np.hstack([acc, gyr]).astype("<f4").tofile(path)
    return path


def run_sim(spec: dict, out: Path, heapsize: str | None = None, timeout: float = 300) -> dict:
    spec = dict(spec, out=str(out))
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").write_text(json.dumps(spec))
    proc = run_micropython(["-m", "tiltguard.firmware.sim", str(out / "run.json")], heapsize=heapsize, timeout=timeout)
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


class Received:
    """Everything the host got, decoded: unique stream frames by seq, responses, integrity errors."""

    def __init__(self, data: bytes):
        d = P.SerialDeframer()
        self.frames = d.feed(data)
        self.crc_errors = d.errors
        self.by_seq: dict[int, P.Frame] = {}
        self.copies: dict[int, int] = {}
        self.responses = [f for f in self.frames if f.type == P.T_RESPONSE]
        for f in self.frames:
            if f.type in (P.T_SAMPLES, P.T_HELLO, P.T_EVENT):
                self.copies[f.seq] = self.copies.get(f.seq, 0) + 1
                self.by_seq.setdefault(f.seq, f)

    def samples(self):
        """(index, raw (N, 6) int, t_us (N,) unwrapped float) of all samples, in seq order."""
        idx, raw, t = [], [], []
        wrap = 0
        last = None
        for s in sorted(self.by_seq):
            f = self.by_seq[s]
            if f.type != P.T_SAMPLES:
                continue
            if last is not None and f.t_us + wrap < last - 2**31:
                wrap += 2**32
            t0 = f.t_us + wrap
            last = t0
            idx.extend(range(f.first_index, f.first_index + f.n))
            raw.append(np.asarray(f.raw, dtype=np.int64).reshape(f.n, 6))
            t.extend(t0 + np.arange(f.n) * f.period_ns / 1000.0)
        return np.asarray(idx), np.vstack(raw), np.asarray(t)

    def events(self, code=None):
        return [f for f in (self.by_seq[s] for s in sorted(self.by_seq))
                if f.type == P.T_EVENT and (code is None or f.code == code)]

    def hellos(self):
        return [self.by_seq[s] for s in sorted(self.by_seq) if self.by_seq[s].type == P.T_HELLO]
