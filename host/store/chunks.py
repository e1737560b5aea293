"""Frames as received, packed into one BLOB per commit: per frame `length u16 | host arrival time f64 |
frame bytes` (little-endian). The arrival times let the clock mapping be redone offline."""
from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

_HEAD = struct.Struct("<Hd")


def pack(frames: Iterable[tuple[float, bytes]]) -> bytes:
    out = bytearray()
    for rx, frame in frames:
        out += _HEAD.pack(len(frame), rx)
        out += frame
    return bytes(out)


def unpack(blob: bytes) -> Iterator[tuple[float, bytes]]:
    pos, n = 0, len(blob)
    while pos + _HEAD.size <= n:
        length, rx = _HEAD.unpack_from(blob, pos)
        pos += _HEAD.size
        if pos + length > n:
            raise ValueError(f"chunk is cut short at byte {pos}")
        yield rx, blob[pos : pos + length]
        pos += length
