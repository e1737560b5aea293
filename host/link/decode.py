"""Frames in, samples out: the one place where the device's frames become samples.

Two readers use it:

* the store, on a whole session as stored (`decode_frames` -> `sample_table` -> `to_recording`): damaged
  frames and duplicate copies dropped, ordered by sequence number, the device clock unwrapped, int16 LSB
  converted to SI with the scales from the hello frame;
* the live view, one samples frame at a time as it arrives (`LiveFrameDecoder`): the same conversion, on the
  device clock unwrapped as the frames come (host.clock.DeviceTime).

Both take a samples frame's sample times as its first sample's device time plus the sample period, and its
values as the frame's int16 LSB times the hello's scale factors (`frame_raw`, `frame_times_us`, `to_si`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from tiltguard.firmware import protocol as P
from tiltguard.host.clock import DeviceTime
from tiltguard.host.samples import RawRecording

WRAP_US = 1 << 32


# ---------------------------------------------------------------------- one frame
def frame_raw(f: P.Frame) -> np.ndarray:
    """(n, 6) int16 LSB of a samples frame: ax ay az gx gy gz."""
    return np.asarray(f.raw, dtype=np.int16).reshape(f.n, 6)


def frame_times_us(f: P.Frame, t0_us: float) -> np.ndarray:
    """(n,) device time of each sample of a frame, µs, from its first sample's (unwrapped) time `t0_us`."""
    return t0_us + np.arange(f.n) * (f.period_ns / 1000.0)


def to_si(raw: np.ndarray, hello: P.Frame) -> tuple[np.ndarray, np.ndarray]:
    """(acc m/s², gyr rad/s), each (n, 3), of (n, 6) int16 LSB with the hello frame's scale factors."""
    raw = np.asarray(raw)
    return raw[:, :3].astype(float) * hello.acc_scale, raw[:, 3:].astype(float) * hello.gyr_scale


@dataclass
class FrameSamples:
    """One samples frame decoded: its samples' device indices start at `first_index`."""

    first_index: int
    t_us: np.ndarray  # (n,) device time, µs, unwrapped
    acc: np.ndarray  # (n, 3) m/s², sensor axes
    gyr: np.ndarray  # (n, 3) rad/s


class LiveFrameDecoder:
    """Samples frames as they arrive (any order): device time unwrapped nearest to the latest seen."""

    def __init__(self) -> None:
        self.clock = DeviceTime()

    def decode(self, f: P.Frame, hello: P.Frame) -> FrameSamples:
        acc, gyr = to_si(frame_raw(f), hello)
        return FrameSamples(f.first_index, frame_times_us(f, self.clock.unwrap(f.t_us)), acc, gyr)


# ---------------------------------------------------------------------- a stored session
@dataclass
class DecodedFrames:
    hellos: list = field(default_factory=list)  # P.Frame, seq order
    events: list = field(default_factory=list)
    sample_frames: list = field(default_factory=list)  # (frame, rx time of the copy kept)
    frames_total: int = 0  # every copy stored, damaged ones included
    damaged: int = 0  # failed the CRC / length checks
    duplicates: int = 0  # copies of a seq already held (resends of frames that had arrived)
    resent: int = 0  # frames flagged F_RESENT that filled a hole
    missing_seqs: list = field(default_factory=list)  # [(first, last)] stream seqs never received

    @property
    def n_samples(self) -> int:
        return sum(f.n for f, _ in self.sample_frames)


def decode_frames(frames: Iterable[tuple[float, bytes]]) -> DecodedFrames:
    """Stored frames (rx time, bytes) -> the session's frames: damaged ones and duplicate copies dropped,
    hellos, events and samples frames in sequence order."""
    out = DecodedFrames()
    by_seq: dict[int, tuple[float, P.Frame]] = {}
    for rx, raw in frames:
        out.frames_total += 1
        try:
            f = P.decode_frame(raw)
        except P.FrameError:
            out.damaged += 1
            continue
        if f.type not in (P.T_HELLO, P.T_SAMPLES, P.T_EVENT):
            continue  # commands / responses are not part of the recording
        if f.seq in by_seq:
            out.duplicates += 1
            continue
        if f.flags & P.F_RESENT:
            out.resent += 1
        by_seq[f.seq] = (rx, f)
    seqs = sorted(by_seq)
    for a, b in zip(seqs, seqs[1:]):
        if b != a + 1:
            out.missing_seqs.append((a + 1, b - 1))
    for s in seqs:
        rx, f = by_seq[s]
        if f.type == P.T_HELLO:
            out.hellos.append(f)
        elif f.type == P.T_EVENT:
            out.events.append(f)
        else:
            out.sample_frames.append((f, rx))
    return out


@dataclass
class SampleTable:
    index: np.ndarray  # (N,) device sample index (consecutive unless the device lost samples)
    raw: np.ndarray  # (N, 6) int16 LSB: ax ay az gx gy gz
    t_us: np.ndarray  # (N,) device time, µs, unwrapped (float)
    rx: np.ndarray  # (N,) host arrival time of each sample's frame, unix s
    temp_c: np.ndarray  # (N,) die temperature of each sample's frame


def sample_table(dec: DecodedFrames) -> SampleTable:
    """Every sample of the session's samples frames, in sequence order, the device clock unwrapped at each
    backward step of more than half its 32-bit range."""
    idx, raw, t, rx, temp = [], [], [], [], []
    wrap = 0
    last = None
    for f, when in dec.sample_frames:
        t0 = f.t_us + wrap
        if last is not None and t0 < last - WRAP_US // 2:
            wrap += WRAP_US
            t0 += WRAP_US
        last = t0
        idx.append(np.arange(f.first_index, f.first_index + f.n))
        raw.append(frame_raw(f))
        t.append(frame_times_us(f, t0))
        rx.append(np.full(f.n, when))
        temp.append(np.full(f.n, f.temp_c))
    if not idx:
        z = np.zeros(0)
        return SampleTable(z.astype(np.int64), np.zeros((0, 6), np.int16), z, z, z)
    return SampleTable(np.concatenate(idx), np.vstack(raw), np.concatenate(t), np.concatenate(rx),
                       np.concatenate(temp))


def to_recording(dec: DecodedFrames, meta: dict | None = None) -> RawRecording:
    """SI samples, device time in s from the first sample (raw-format convention)."""
    if not dec.hellos:
        raise ValueError("no hello frame stored: the sensor's scale factors are unknown")
    h = dec.hellos[-1]
    tab = sample_table(dec)
    if len(tab.index) == 0:
        raise ValueError("the session holds no samples")
    t = (tab.t_us - tab.t_us[0]) * 1e-6
    # device timestamps come from a smoothed sample clock; keep them strictly increasing for the file format
    t = _strictly_increasing(t, 0.5e-6)
    acc, gyr = to_si(tab.raw, h)
    info = {"firmware": h.firmware, "device": h.name, "device_session": h.session,
            "first_sample_index": int(tab.index[0])}
    info.update(meta or {})
    return RawRecording(t, acc, gyr, float(h.rate_hz), h.sensor, temp_c=tab.temp_c, meta=info)


def _strictly_increasing(t: np.ndarray, eps: float) -> np.ndarray:
    if len(t) < 2 or np.all(np.diff(t) > 0):
        return t
    out = t.copy()
    for i in range(1, len(out)):
        if out[i] <= out[i - 1]:
            out[i] = out[i - 1] + eps
    return out
