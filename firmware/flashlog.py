"""Session logs on the device's flash or microSD, for runs without a laptop; the same reader runs on the host.

A log is an append-only file of self-contained blocks:

    marker (2 bytes) | payload length u16 | crc32(payload) u32 | payload

marker "TZ": the payload is a compressed run of frames (firmware/logcodec.py, about 2.5x smaller); marker
"TB" (the plain form, written where the codec is unavailable and by older firmware): the payload is a run of
`length u16 | frame`. Either way the frames are exactly those that would have been streamed (same sequence
numbers, same bytes). A block is written and flushed at once, so a power cut loses at most the block being
written and the frames still buffered in RAM (at most one block).

The reader keeps every block that passes its CRC: after a damaged or cut block it resynchronises on the next
block marker whose block checks out, and reports each damaged byte range. Logs are never overwritten (a
full medium stops logging) and are deleted only when the host proves a good copy by sending the size and
CRC-32 of the whole file it downloaded (firmware/commands.py).
"""
import os
import struct

from tiltguard.sensors.compat import crc32, ticks_diff, ticks_us

try:
    from tiltguard.firmware.logcodec import BlockEncoder, decode_payload
except (ImportError, SyntaxError, MemoryError):  # a port without the viper emitter: plain blocks
    BlockEncoder = None
    decode_payload = None

BLOCK_MAGIC = b"TB"
ZBLOCK_MAGIC = b"TZ"
BLOCK_HEAD = 8
SUFFIX = ".tgl"
RAW_BYTES_PER_SAMPLE = 15.7  # plain blocks, 10 samples per frame with quaternion (frame + length prefix)


def block_bytes(payload, magic=BLOCK_MAGIC):
    return magic + struct.pack("<HI", len(payload), crc32(payload) & 0xFFFFFFFF) + payload


def _plain_frames(payload):
    frames = []
    p = 0
    length = len(payload)
    while p + 2 <= length:
        (fl,) = struct.unpack_from("<H", payload, p)
        if p + 2 + fl > length:
            raise ValueError("frame runs past its block")
        frames.append(bytes(payload[p + 2 : p + 2 + fl]))
        p += 2 + fl
    return frames


def _block_at(data, pos, decode=True):
    """(frames, end) of a good block starting at pos, or (None, reason); decode=False: (True, end) once the
    block passes its CRC, without decoding it."""
    n = len(data)
    if n - pos < BLOCK_HEAD:
        return None, "incomplete block header"
    magic = bytes(data[pos : pos + 2])
    if magic != BLOCK_MAGIC and magic != ZBLOCK_MAGIC:
        return None, "no block marker"
    length, want = struct.unpack_from("<HI", data, pos + 2)
    if length == 0:  # the writer never writes an empty block
        return None, "empty block"
    start = pos + BLOCK_HEAD
    if start + length > n:
        return None, "block cut short (power lost while writing)"
    payload = data[start : start + length]
    if crc32(payload) & 0xFFFFFFFF != want:
        return None, "block fails its CRC"
    if not decode:
        return True, start + length
    try:
        if magic == ZBLOCK_MAGIC:
            if decode_payload is None:
                return None, "compressed block and no decoder"
            frames = decode_payload(payload)
        else:
            frames = _plain_frames(payload)
    except ValueError as e:
        return None, "block does not decode (%s)" % e
    return frames, start + length


def _next_marker(data, pos):
    a = data.find(BLOCK_MAGIC, pos)
    b = data.find(ZBLOCK_MAGIC, pos)
    if a < 0:
        return b
    if b < 0:
        return a
    return a if a < b else b


def scan_log(data):
    """Every good block of a log file's contents, resynchronising after damage.

    Returns (frames as bytes, good blocks, damaged) where damaged is a list of (first byte, end byte,
    reason) of the ranges that could not be read; every byte is either in a good block or in a damaged range.
    """
    data = bytes(data)
    frames = []
    damaged = []
    blocks = 0
    pos = 0
    n = len(data)
    while pos < n:
        got, end = _block_at(data, pos)
        if got is not None:
            frames.extend(got)
            blocks += 1
            pos = end
            continue
        reason = end
        nxt = _next_marker(data, pos + 1)
        while nxt >= 0 and _block_at(data, nxt)[0] is None:
            nxt = _next_marker(data, nxt + 1)
        stop = nxt if nxt >= 0 else n
        damaged.append((pos, stop, reason))
        pos = stop
    return frames, blocks, damaged


def scan_blocks(data):
    """(good blocks as (first byte, end byte), damaged ranges as in scan_log) by the CRCs alone, without
    decoding: where a long log is good and where it is not, at the cost of one CRC pass."""
    data = bytes(data)
    good = []
    damaged = []
    pos = 0
    n = len(data)
    while pos < n:
        ok, end = _block_at(data, pos, False)
        if ok:
            good.append((pos, end))
            pos = end
            continue
        nxt = _next_marker(data, pos + 1)
        while nxt >= 0 and not _block_at(data, nxt, False)[0]:
            nxt = _next_marker(data, nxt + 1)
        stop = nxt if nxt >= 0 else n
        damaged.append((pos, stop, end))
        pos = stop
    return good, damaged


def describe_damage(damaged):
    """One line naming every damaged byte range (None when there is none)."""
    if not damaged:
        return None
    parts = ["bytes %d-%d: %s" % (a, b, why) for a, b, why in damaged]
    return "%d damaged range(s), %d bytes lost: %s" % (len(damaged), sum(b - a for a, b, _ in damaged),
                                                         "; ".join(parts))


def parse_log(data):
    """(frames as bytes, bytes in good blocks, problem or None) from a whole log file's contents: every
    block that passes its CRC is kept, the problem names each damaged range."""
    frames, _, damaged = scan_log(data)
    return frames, len(data) - sum(b - a for a, b, _ in damaged), describe_damage(damaged)


def capacity_hours(fs_bytes, rate_hz, samples_per_frame=10, frame_overhead=35, block_size=4096,
                   bytes_per_sample=None):
    """Hours of logging that fit fs_bytes at rate_hz. Plain blocks by default (frame_overhead: header,
    samples head, quaternion, CRC, length prefix); give bytes_per_sample for compressed blocks (measured by
    bench/flashlog.py, which the firmware's capacity report uses)."""
    if bytes_per_sample is None:
        frame = samples_per_frame * 12 + frame_overhead + 2
        per_s = rate_hz / samples_per_frame * frame
    else:
        per_s = rate_hz * bytes_per_sample
    per_s *= 1.0 + BLOCK_HEAD / block_size
    return fs_bytes / per_s / 3600.0


class FlashLog:
    """Writes and manages the log files in `root` (a directory on the device's flash or microSD card).

    compress: code blocks with firmware/logcodec.py (the default where it imports); False writes plain blocks.
    also: other folders whose logs are listed, read and deleted but never written (the flash's logs while a
    microSD card is in use: a card put in later must not hide logs that were never synced). New ids follow
    the highest id of every folder; where an id exists twice, `root` holds the one served.
    """

    def __init__(self, root="/logs", block_size=4096, reserve_bytes=65536, compress=True, also=()):
        self.root = root
        self.also = [r for r in also if r != root]
        self.block_size = block_size
        self.reserve_bytes = reserve_bytes
        self.enc = BlockEncoder(block_size - BLOCK_HEAD) if compress and BlockEncoder is not None else None
        self.buf = None if self.enc else bytearray(block_size)
        self.fill = 0  # plain blocks: bytes buffered; compressed: frames buffered
        self.f = None
        self.current = None
        self.blocks_written = 0
        self.bytes_written = 0
        self.full = False
        self.samples_logged = 0
        self.code_us = 0  # time spent coding frames into blocks (firmware/power.py measures its share)
        self.write_us = 0  # time spent writing blocks
        self._hdr = bytearray(BLOCK_HEAD)
        try:
            os.mkdir(root)
        except OSError:
            pass  # exists

    def _path(self, log_id, root=None):
        if root is None:
            root = self.root
            for other in self.also:  # a log only another folder holds is served from there
                p = "%s/%05d%s" % (other, log_id, SUFFIX)
                if not self._exists("%s/%05d%s" % (root, log_id, SUFFIX)) and self._exists(p):
                    return p
        return "%s/%05d%s" % (root, log_id, SUFFIX)

    @staticmethod
    def _exists(path):
        try:
            os.stat(path)
            return True
        except OSError:
            return False

    def list(self):
        """[(log id, size in bytes)] of complete and in-progress logs, oldest first."""
        found = {}
        for root in self.also + [self.root]:  # the root last: it wins a shared id
            try:
                names = os.listdir(root)
            except OSError:
                continue  # a folder that is not there (no card, or never used)
            for name in names:
                if name.endswith(SUFFIX):
                    try:
                        lid = int(name[: -len(SUFFIX)])
                    except ValueError:
                        continue
                    found[lid] = os.stat(root + "/" + name)[6]
        return sorted(found.items())

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
        self.f = open(self._path(lid, self.root), "ab")
        self.current = lid
        self.fill = 0
        self.full = False
        return lid

    def append(self, frame):
        """Buffer one frame (compressed as it comes); writes a block when one is full. False when the medium
        is full: nothing is ever overwritten to make room."""
        if self.f is None or self.full:
            return False
        t0 = ticks_us()
        w0 = self.write_us
        ok = self._append(frame)
        self.code_us += ticks_diff(ticks_us(), t0) - (self.write_us - w0)
        if ok and frame[1] == 2:  # T_SAMPLES: n at byte 21
            self.samples_logged += frame[21]
        return ok

    def _append(self, frame):
        enc = self.enc
        if enc is not None:
            if not enc.add(frame):
                if not self.flush():
                    return False
                enc.add(frame)
            self.fill = enc.frames
            return True
        n = len(frame)
        if self.fill + 2 + n > self.block_size - BLOCK_HEAD:
            if not self.flush():
                return False
        struct.pack_into("<H", self.buf, self.fill, n)
        self.buf[self.fill + 2 : self.fill + 2 + n] = frame
        self.fill += 2 + n
        return True

    def bytes_per_sample(self):
        """Log bytes per sample measured on what this log has written so far (None before 2 blocks)."""
        if self.blocks_written < 2 or not self.samples_logged:
            return None
        return self.bytes_written / self.samples_logged

    def flush(self):
        """Write the buffered frames as one block (header, then payload, then flush)."""
        if self.f is None or self.fill == 0:
            return True
        if self.free_bytes() < self.reserve_bytes + self.block_size:
            self.full = True
            return False
        if self.enc is not None:
            head, h, b = self.enc.finish()
            parts = (head, h, b)
        else:
            parts = (memoryview(self.buf)[: self.fill],)
        length = 0
        c = 0
        for p in parts:
            length += len(p)
            c = crc32(p, c)
        hdr = self._hdr
        hdr[0:2] = ZBLOCK_MAGIC if self.enc is not None else BLOCK_MAGIC
        struct.pack_into("<HI", hdr, 2, length, c & 0xFFFFFFFF)
        t0 = ticks_us()
        self.f.write(hdr)
        for p in parts:
            self.f.write(p)
        self.f.flush()
        self.write_us += ticks_diff(ticks_us(), t0)
        if self.enc is not None:
            self.enc.reset()
        self.fill = 0
        self.blocks_written += 1
        self.bytes_written += BLOCK_HEAD + length
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
