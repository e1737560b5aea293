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
class Segment:
    """The frames of one power-up of the device within a session. A restart (brown-out, watchdog) starts a
    new segment: its sequence numbers and sample indices start again and are never matched against the
    previous boot's."""

    boot_id: int | None  # from the hello (None: a device too old to send one)
    first: int = 0  # its samples frames are DecodedFrames.sample_frames[first:stop]
    stop: int = 0
    first_rx: float | None = None  # host arrival of its first / last samples frame, unix s
    last_rx: float | None = None
    gap_before_s: float = 0.0  # time without samples between the previous segment's end and this one
    missing_seqs: list = field(default_factory=list)


@dataclass
class DecodedFrames:
    hellos: list = field(default_factory=list)  # P.Frame, seq order
    events: list = field(default_factory=list)
    sample_frames: list = field(default_factory=list)  # (frame, rx time of the copy kept), segment by segment
    frames_total: int = 0  # every copy stored, damaged ones included
    damaged: int = 0  # failed the CRC / length checks
    duplicates: int = 0  # copies of a seq already held (resends of frames that had arrived)
    resent: int = 0  # frames flagged F_RESENT that filled a hole
    missing_seqs: list = field(default_factory=list)  # [(first, last)] stream seqs never received
    segments: list = field(default_factory=list)  # Segment, one per power-up of the device, in time order
    seq_jumps: int = 0  # holes too long to be real (MAX_HOLE): a stray seq, listed nowhere

    @property
    def n_samples(self) -> int:
        return sum(f.n for f, _ in self.sample_frames)


MAX_HOLE = 1 << 16  # frames: longer "holes" are a stray sequence number, not frames the device sent


class _Boot:
    def __init__(self, boot_id):
        self.boot_id = boot_id
        self.by_seq: dict[int, tuple[float, P.Frame]] = {}


def decode_frames(frames: Iterable[tuple[float, bytes]]) -> DecodedFrames:
    """Stored frames (rx time, bytes) -> the session's frames: damaged ones and duplicate copies dropped,
    hellos, events and samples frames in sequence order within each power-up of the device (a hello with
    a new boot id, or an unsent-before hello whose seq restarts below the ones held, opens a new segment)."""
    out = DecodedFrames()
    boots: list[_Boot] = [_Boot(None)]
    cur = boots[0]
    for rx, raw in frames:
        out.frames_total += 1
        try:
            f = P.decode_frame(raw)
        except P.FrameError:
            out.damaged += 1
            continue
        if f.type not in (P.T_HELLO, P.T_SAMPLES, P.T_EVENT):
            continue  # commands / responses are not part of the recording
        if f.type == P.T_HELLO:
            cur = _boot_of_hello(boots, cur, f)
        if f.seq in cur.by_seq:
            out.duplicates += 1
            continue
        if f.flags & P.F_RESENT:
            out.resent += 1
        cur.by_seq[f.seq] = (rx, f)
    prev = None
    for b in boots:
        if not b.by_seq and b is boots[0] and len(boots) > 1:
            continue
        seg = Segment(b.boot_id, first=len(out.sample_frames))
        seqs = sorted(b.by_seq)
        for a, c in zip(seqs, seqs[1:]):
            if c - a > MAX_HOLE:
                out.seq_jumps += 1
            elif c != a + 1:
                seg.missing_seqs.append((a + 1, c - 1))
        for sq in seqs:
            rx, f = b.by_seq[sq]
            if f.type == P.T_HELLO:
                out.hellos.append(f)
            elif f.type == P.T_EVENT:
                out.events.append(f)
            else:
                out.sample_frames.append((f, rx))
        seg.stop = len(out.sample_frames)
        if seg.stop > seg.first:
            rxs = [rx for _, rx in out.sample_frames[seg.first : seg.stop]]
            seg.first_rx, seg.last_rx = min(rxs), max(rxs)
            if prev is not None and prev.last_rx is not None:
                f0 = out.sample_frames[seg.first][0]
                # both frames left the device right after their last sample: arrival times differ by the
                # device-time difference of those samples (± link latency jitter)
                seg.gap_before_s = max(0.0, seg.first_rx - prev.last_rx - f0.n * f0.period_ns * 1e-9)
            prev = seg
        out.missing_seqs.extend(seg.missing_seqs)
        out.segments.append(seg)
    return out


def _boot_of_hello(boots: list, cur, f: P.Frame):
    """The power-up a hello belongs to (a new one appended for a restart)."""
    bid = getattr(f, "boot_id", None)
    if bid is not None:
        for b in boots:
            if b.boot_id == bid:
                return b
        if cur.boot_id is None and not _restarted(cur, f):
            cur.boot_id = bid  # the first hello of a session whose first frames came before it
            return cur
    elif not _restarted(cur, f):
        return cur
    boots.append(_Boot(bid))
    return boots[-1]


def _restarted(cur, f: P.Frame) -> bool:
    """A fresh (not resent) hello numbered below frames already held, that is not a copy of the frame held at
    its number: the device's counter started again."""
    if not cur.by_seq or f.flags & P.F_RESENT or f.seq >= max(cur.by_seq):
        return False
    held = cur.by_seq.get(f.seq)
    return held is None or held[1].type != P.T_HELLO or (held[1].t_us, held[1].session) != (f.t_us, f.session)


@dataclass
class SampleTable:
    index: np.ndarray  # (N,) device sample index (consecutive within a segment unless the device lost samples)
    raw: np.ndarray  # (N, 6) int16 LSB: ax ay az gx gy gz
    t_us: np.ndarray  # (N,) device time, µs, unwrapped (float); later segments placed after the gap measured
    rx: np.ndarray  # (N,) host arrival time of each sample's frame, unix s
    temp_c: np.ndarray  # (N,) die temperature of each sample's frame
    segment: np.ndarray | None = None  # (N,) segment number of each sample (DecodedFrames.segments)


def sample_table(dec: DecodedFrames) -> SampleTable:
    """Every sample of the session's samples frames, in sequence order, the device clock unwrapped at each
    backward step of more than half its 32-bit range; each segment after a restart starts where the
    previous one ended plus the gap measured on the host's clock."""
    idx, raw, t, rx, temp, seg_no = [], [], [], [], [], []
    segments = dec.segments or [Segment(None, 0, len(dec.sample_frames))]
    end_us = None
    for k, seg in enumerate(segments):
        wrap = 0
        last = None
        shift = None
        for f, when in dec.sample_frames[seg.first : seg.stop]:
            t0 = f.t_us + wrap
            if last is not None and t0 < last - WRAP_US // 2:
                wrap += WRAP_US
                t0 += WRAP_US
            last = t0
            if shift is None:
                shift = 0.0 if end_us is None else end_us + seg.gap_before_s * 1e6 - t0
            times = frame_times_us(f, t0 + shift)
            idx.append(np.arange(f.first_index, f.first_index + f.n))
            raw.append(frame_raw(f))
            t.append(times)
            rx.append(np.full(f.n, when))
            temp.append(np.full(f.n, f.temp_c))
            seg_no.append(np.full(f.n, k))
            end_us = float(times[-1]) + f.period_ns / 1000.0
    if not idx:
        z = np.zeros(0)
        return SampleTable(z.astype(np.int64), np.zeros((0, 6), np.int16), z, z, z, z.astype(np.int64))
    return SampleTable(np.concatenate(idx), np.vstack(raw), np.concatenate(t), np.concatenate(rx),
                       np.concatenate(temp), np.concatenate(seg_no))


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
    if len(dec.segments) > 1:  # the pod restarted: where each power-up starts and the gap before it
        info["segments"] = segment_summary(dec, tab)
    info.update(meta or {})
    return RawRecording(t, acc, gyr, float(h.rate_hz), h.sensor, temp_c=tab.temp_c, meta=info)


def segment_summary(dec: DecodedFrames, tab: SampleTable) -> list[dict]:
    """Per segment: boot id, samples, start (s from the session's first sample), gap before it (s)."""
    out = []
    t0 = tab.t_us[0] if len(tab.t_us) else 0.0
    for k, seg in enumerate(dec.segments):
        at = np.nonzero(tab.segment == k)[0]
        out.append({"boot_id": seg.boot_id, "samples": int(len(at)),
                     "start_s": float((tab.t_us[at[0]] - t0) * 1e-6) if len(at) else None,
                     "gap_before_s": round(seg.gap_before_s, 3)})
    return out


def _strictly_increasing(t: np.ndarray, eps: float) -> np.ndarray:
    if len(t) < 2 or np.all(np.diff(t) > 0):
        return t
    out = t.copy()
    for i in range(1, len(out)):
        if out[i] <= out[i - 1]:
            out[i] = out[i - 1] + eps
    return out
