"""Session logs on the device's flash, for runs without a laptop; the same reader runs on the host.

A log is an append-only file of blocks:

    "TB" (2 bytes) | payload length u16 | crc32(payload) u32 | payload

and a payload is a run of frames, each `length u16 | frame` (the exact frames that would have been
streamed, same sequence numbers). A block is written with one write() and flushed, so a power cut loses
at most the block being written and the frames still buffered in RAM (at most one block): the reader
stops at the first incomplete or damaged block and keeps everything before it. Logs are deleted only when
the host proves a good copy by sending the CRC-32 of the whole file it downloaded.
"""
import os
import struct

from tiltguard.sensors.compat import crc32

BLOCK_MAGIC = b"TB"
BLOCK_HEAD = 8
SUFFIX = ".tgl"


def block_bytes(payload):
    return BLOCK_MAGIC + struct.pack("<HI", len(payload), crc32(payload) & 0xFFFFFFFF) + payload


def parse_log(data):
    """(frames as bytes, bytes that were good, problem or None) from a whole log file's contents."""
    frames = []
    pos = 0
    n = len(data)
    problem = None
    while pos < n:
        if n - pos < BLOCK_HEAD:
            problem = "incomplete block header at byte %d" % pos
            break
        if data[pos : pos + 2] != BLOCK_MAGIC:
            problem = "no block marker at byte %d" % pos
            break
        length, want = struct.unpack_from("<HI", data, pos + 2)
        if length == 0:  # the writer never writes an empty block
            problem = "empty block at byte %d" % pos
            break
        start = pos + BLOCK_HEAD
        if start + length > n:
            problem = "block at byte %d cut short (power lost while writing)" % pos
            break
        payload = data[start : start + length]
        if crc32(payload) & 0xFFFFFFFF != want:
            problem = "block at byte %d fails its CRC" % pos
            break
        p = 0
        while p + 2 <= length:
            (fl,) = struct.unpack_from("<H", payload, p)
            frames.append(bytes(payload[p + 2 : p + 2 + fl]))
            p += 2 + fl
        pos = start + length
    return frames, pos, problem


def capacity_hours(fs_bytes, rate_hz, samples_per_frame=10, frame_overhead=35, block_size=4096):
    """Hours of logging that fit fs_bytes at rate_hz (frame_overhead: header, samples head, quaternion,
    CRC, length prefix)."""
    frame = samples_per_frame * 12 + frame_overhead + 2
    per_s = rate_hz / samples_per_frame * frame
    per_s *= 1.0 + BLOCK_HEAD / block_size
    return fs_bytes / per_s / 3600.0


class FlashLog:
    """Writes and manages the log files in `root` (a directory on the device's filesystem)."""

    def __init__(self, root="/logs", block_size=4096, reserve_bytes=65536):
        self.root = root
        self.block_size = block_size
        self.reserve_bytes = reserve_bytes
        self.buf = bytearray(block_size)
        self.fill = 0
        self.f = None
        self.current = None
        self.blocks_written = 0
        self.full = False
        try:
            os.mkdir(root)
        except OSError:
            pass  # exists

    def _path(self, log_id):
        return "%s/%05d%s" % (self.root, log_id, SUFFIX)

    def list(self):
        """[(log id, size in bytes)] of complete and in-progress logs, oldest first."""
        out = []
        for name in os.listdir(self.root):
            if name.endswith(SUFFIX):
                try:
                    lid = int(name[: -len(SUFFIX)])
                except ValueError:
                    continue
                out.append((lid, os.stat(self.root + "/" + name)[6]))
        out.sort()
        return out

    def free_bytes(self):
        try:
            st = os.statvfs(self.root)
            return st[0] * st[4]
        except (OSError, AttributeError):
            return 1 << 30

    def open_new(self):
        """Start a new log file; returns its id."""
        self.close()
        logs = self.list()
        lid = (logs[-1][0] + 1) if logs else 1
        self.f = open(self._path(lid), "ab")
        self.current = lid
        self.fill = 0
        self.full = False
        return lid

    def append(self, frame):
        """Buffer one frame; writes a block when the buffer is full. False when the flash is full."""
        if self.f is None or self.full:
            return False
        n = len(frame)
        if self.fill + 2 + n > self.block_size - BLOCK_HEAD:
            if not self.flush():
                return False
        struct.pack_into("<H", self.buf, self.fill, n)
        self.buf[self.fill + 2 : self.fill + 2 + n] = frame
        self.fill += 2 + n
        return True

    def flush(self):
        if self.f is None or self.fill == 0:
            return True
        if self.free_bytes() < self.reserve_bytes + self.block_size:
            self.full = True
            return False
        payload = memoryview(self.buf)[: self.fill]
        self.f.write(BLOCK_MAGIC + struct.pack("<HI", self.fill, crc32(payload) & 0xFFFFFFFF))
        self.f.write(payload)
        self.f.flush()
        self.fill = 0
        self.blocks_written += 1
        return True

    def close(self):
        if self.f is not None:
            self.flush()
            self.f.close()
            self.f = None
            self.current = None

    def read(self, log_id, offset, length):
        """Raw bytes of a log (the host parses them with parse_log)."""
        if log_id == self.current:
            self.flush()
        with open(self._path(log_id), "rb") as f:
            f.seek(offset)
            return f.read(length)

    def crc(self, log_id, chunk=4096):
        """Generator over chunks; its final value (StopIteration) is the file's CRC-32 — lets the caller
        yield to the event loop between chunks. Use `crc_of` for a plain call."""
        c = 0
        with open(self._path(log_id), "rb") as f:
            buf = bytearray(chunk)
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                c = crc32(memoryview(buf)[:n], c)
                yield
        self._last_crc = c & 0xFFFFFFFF

    def crc_of(self, log_id):
        for _ in self.crc(log_id):
            pass
        return self._last_crc

    def delete(self, log_id):
        if log_id == self.current:
            return False
        try:
            os.remove(self._path(log_id))
            return True
        except OSError:
            return False

    def size(self, log_id):
        try:
            return os.stat(self._path(log_id))[6]
        except OSError:
            return -1
