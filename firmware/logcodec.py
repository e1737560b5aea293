"""Lossless compression of the flash log's frames, block by block (docs/protocol.md, "Flash log format").

A compressed block holds the same frames a plain block would, and decodes to them byte for byte, on its
own (no state carried between blocks, so a lost block costs only itself). Its payload is

    u8 CODEC_VERSION | u16 frames | u16 len(H) | H (bytes) | B (bits, MSB first, zero-padded)

H has one record per frame, in order:
  - a samples frame in canonical form (version 1, its length matching n and content, a good CRC):
    one byte 0x80 | bits, where each bit says a header field differs from its prediction and its value
    follows (bit0 seq != previous frame's seq + 1: zz-varint of the difference; bit1 flags: byte;
    bit2 n: byte; bit3 content: byte; bit4 first_index != previous first_index + previous n: zz-varint;
    bit5 temperature: zz-varint of the change; bit6 period_ns: varint), then always the zz-varint of
    t_us minus (previous t_us + previous n * previous period_ns // 1000). Its samples and quaternion go to B.
  - any other frame (hello, event, anything unexpected): 0x00, varint length, the frame's bytes.
B has, per samples frame, six groups (one per axis: ax ay az gx gy gz, n values each) and, if the frame
carries a quaternion, one group of its four components (firmware/riceenc.py codes a group, with its bit
layout). Prediction and the Rice parameter's coding run
along each axis across the block's frames; the frame CRC is recomputed on decoding.

The encoder is called once per frame (FlashLog.append), so its cost is spread over the session instead of
falling on one block write; the decoder is plain Python for the host (and runs on the device too).
"""
import struct
from array import array

from tiltguard.firmware import protocol as P
from tiltguard.firmware import riceenc as R
from tiltguard.sensors.compat import crc32

CODEC_VERSION = 1
PAYLOAD_HEAD = 5  # version, frames, len(H)
SAMPLES_AT = P.HEADER_SIZE + P.SAMPLES_HEAD_SIZE  # first sample's byte in a samples frame
FRAME_HEAD_MAX = 32  # bytes one samples frame can add to H
CRC_RESIDUE = 0x2144DF1C  # IEEE CRC-32 of any message followed by its little-endian CRC-32


def _group_bits_max(values):
    return 4 + R.KBITS + values * (R.QMAX + R.RAW_BITS)


def frame_bits_max(n, quat=True):
    """Upper bound of the bits one samples frame of n samples adds to B."""
    return 6 * _group_bits_max(n) + (_group_bits_max(4) if quat else 0)


class BlockEncoder:
    """Collects frames into one compressed block payload of at most `max_payload` bytes.

    add(frame) -> False when the frame does not fit (the caller writes the block, reset()s and adds again).
    """

    def __init__(self, max_payload=4088, max_spf=40):
        self.max_payload = max_payload
        slack = frame_bits_max(max_spf) // 8 + FRAME_HEAD_MAX + 8  # one frame may overshoot before rollback
        self.bits = bytearray(max_payload + slack)
        self.head = bytearray(max_payload + slack)
        self.st = array("i", [0] * R.STATE_LEN)
        self.saved = array("i", [0] * R.STATE_LEN)
        self.reset()

    def reset(self):
        st = self.st
        for i in range(R.STATE_LEN):
            st[i] = 0
        self.hlen = 0
        self.frames = 0
        self.seq = 0xFFFFFFFF
        self.flags = 0
        self.n = 0
        self.content = 0
        self.first = 0
        self.temp = 0
        self.period = 0
        self.t_us = 0

    def size(self):
        """Payload bytes if the block were closed now."""
        return PAYLOAD_HEAD + self.hlen + self.st[R.W_POS] + (1 if self.st[R.W_NB] else 0)

    # ------------------------------------------------------------------ H stream
    def _byte(self, b):
        self.head[self.hlen] = b
        self.hlen += 1

    def _varint(self, v):
        h = self.head
        i = self.hlen
        while v >= 0x80:
            h[i] = (v & 0x7F) | 0x80
            v >>= 7
            i += 1
        h[i] = v
        self.hlen = i + 1

    def _zz32(self, d):
        """Varint of a signed 32-bit difference (d taken modulo 2**32)."""
        d &= 0xFFFFFFFF
        if d & 0x80000000:
            d -= 0x100000000
        self._varint((d << 1) if d >= 0 else ((-d) << 1) - 1)

    def _raw(self, frame):
        n = len(frame)
        self._byte(0)
        self._varint(n)
        self.head[self.hlen : self.hlen + n] = frame
        self.hlen += n
        if n >= P.HEADER_SIZE:
            self.seq = struct.unpack_from("<I", frame, 3)[0]

    # ------------------------------------------------------------------ frames
    def _canonical(self, frame):
        """The samples frame's header fields if it decodes back to exactly these bytes, else None."""
        ln = len(frame)
        if ln < SAMPLES_AT + P.CRC_SIZE or frame[0] != P.PROTOCOL_VERSION or frame[1] != P.T_SAMPLES:
            return None
        n = frame[21]
        content = frame[22]
        if content > 1 or n == 0 or ln != SAMPLES_AT + 12 * n + 8 * content + P.CRC_SIZE:
            return None
        if crc32(frame) & 0xFFFFFFFF != CRC_RESIDUE:  # CRC-32 over a frame and its own CRC: a constant
            return None
        return n, content

    def add(self, frame):
        """Code one frame into the block; False (block unchanged) if it would not fit."""
        if self.hlen + len(frame) + 8 > self.max_payload - PAYLOAD_HEAD and self.frames:
            return False
        canon = self._canonical(frame)
        if canon is None:
            if self.size() + len(frame) + 4 > self.max_payload:
                return False if self.frames else self._raw_alone(frame)
            self._raw(frame)
            self.frames += 1
            return True
        n, content = canon
        st = self.st
        self.saved[:] = st
        keep = (self.hlen, self.seq, self.flags, self.n, self.content, self.first, self.temp, self.period, self.t_us)
        self._samples_head(frame, n, content)
        st[R.P_OFF] = SAMPLES_AT
        st[R.P_STRIDE] = 12
        st[R.P_N] = n
        st[R.P_NC] = 1
        st[R.P_CH] = 0
        st[R.P_NG] = 6  # the six axes, one group each
        R.code_group(frame, self.bits, st)
        if content:
            st[R.P_OFF] = SAMPLES_AT + 12 * n
            st[R.P_N] = 1
            st[R.P_NC] = 4
            st[R.P_CH] = 6
            st[R.P_NG] = 1  # the quaternion's four components share one group
            R.code_group(frame, self.bits, st)
        if self.size() > self.max_payload and self.frames:
            st[:] = self.saved  # roll back: this frame opens the next block
            (self.hlen, self.seq, self.flags, self.n, self.content, self.first, self.temp, self.period,
             self.t_us) = keep
            return False
        self.frames += 1
        return True

    def _raw_alone(self, frame):
        raise ValueError("frame of %d bytes does not fit a block" % len(frame))

    def _samples_head(self, frame, n, content):
        _, _, flags, seq, t_us, first, period, temp = struct.unpack_from("<BBBIIIIh", frame, 0)
        at = self.hlen
        self._byte(0x80)
        bits = 0x80
        if seq != (self.seq + 1) & 0xFFFFFFFF:
            bits |= 1
            self._zz32(seq - self.seq - 1)
        if flags != self.flags:
            bits |= 2
            self._byte(flags)
        if n != self.n:
            bits |= 4
            self._byte(n)
        if content != self.content:
            bits |= 8
            self._byte(content)
        if first != (self.first + self.n) & 0xFFFFFFFF:
            bits |= 16
            self._zz32(first - self.first - self.n)
        if temp != self.temp:
            bits |= 32
            self._zz32(temp - self.temp)
        if period != self.period:
            bits |= 64
            self._varint(period)
        self._zz32(t_us - self.t_us - self.n * self.period // 1000)
        self.head[at] = bits
        self.seq = seq
        self.flags = flags
        self.n = n
        self.content = content
        self.first = first
        self.temp = temp
        self.period = period
        self.t_us = t_us

    def finish(self):
        """(H, B) memoryviews of the payload after PAYLOAD_HEAD, and the 5-byte payload head; B's last byte
        padded. The block stays as is until reset()."""
        st = self.st
        pos = st[R.W_POS]
        if st[R.W_NB]:
            self.bits[pos] = (st[R.W_ACC] << (8 - st[R.W_NB])) & 0xFF
            pos += 1
        head = struct.pack("<BHH", CODEC_VERSION, self.frames, self.hlen)
        return head, memoryview(self.head)[: self.hlen], memoryview(self.bits)[:pos]


# ---------------------------------------------------------------------- decoding
class CodecError(ValueError):
    pass


def _varint(h, i):
    v = 0
    shift = 0
    while True:
        b = h[i]
        i += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return v, i
        shift += 7
        if shift > 35:
            raise CodecError("varint too long")


def _zz(v):
    return (v >> 1) ^ -(v & 1)


class _Bits:
    """Reads the B stream through a string of '0'/'1' (str.find and int(..., 2) run in C)."""

    def __init__(self, data):
        self.s = bin(int.from_bytes(b"\x01" + bytes(data), "big"))[3:]
        self.pos = 0
        self.kprev = [0] * R.CHANNELS

    def group(self, group, values, state):
        """Decode one group (`group`: its first channel) into lists of values per channel; `state` holds
        [x1, x2, x3, count] per channel of the group and is updated in place."""
        s = self.s
        pos = self.pos
        if pos + 2 > len(s):
            raise CodecError("bit stream ends inside a group header")
        if s[pos] == "1":
            order = 2
            pos += 1
        else:
            order = 3 if s[pos + 1] == "1" else 1
            pos += 2
        kp = self.kprev[group]
        if s[pos] == "1":
            k = kp
            pos += 1
        elif s[pos + 1] == "1":
            k = kp + 1 if s[pos + 2] == "0" else kp - 1
            pos += 3
        else:
            k = int(s[pos + 2 : pos + 2 + R.KBITS], 2)
            pos += 2 + R.KBITS
        if not 0 <= k <= R.KMAX:
            raise CodecError("Rice parameter %d out of range" % k)
        self.kprev[group] = k
        out = []
        for st in state:
            x1, x2, x3, cnt = st
            col = []
            for _ in range(values):
                j = s.find("1", pos, pos + R.QMAX)
                if j < 0:
                    z = int(s[pos + R.QMAX : pos + R.QMAX + R.RAW_BITS] or "x", 2)
                    pos += R.QMAX + R.RAW_BITS
                else:
                    q = j - pos
                    pos = j + 1 + k
                    z = (q << k) | (int(s[j + 1 : pos], 2) if k else 0)
                e = (z >> 1) ^ -(z & 1)
                o = order if order <= cnt else cnt
                if o == 0:
                    v = e
                elif o == 1:
                    v = x1 + e
                elif o == 2:
                    v = 2 * x1 - x2 + e
                else:
                    v = 3 * x1 - 3 * x2 + x3 + e
                if not -32768 <= v <= 32767:
                    raise CodecError("decoded value %d is not an int16" % v)
                col.append(v)
                x3 = x2
                x2 = x1
                x1 = v
                cnt += 1
            st[:] = [x1, x2, x3, cnt]
            out.append(col)
        if pos > len(s):
            raise CodecError("bit stream ends inside a group")
        self.pos = pos
        return out


def decode_payload(payload):
    """The frames of one compressed block payload, as bytes, exactly as they were given to the encoder.
    Raises CodecError (a ValueError) on a payload that does not decode."""
    try:
        return _decode(payload)
    except (IndexError, ValueError, struct.error) as e:
        if isinstance(e, CodecError):
            raise
        raise CodecError("malformed compressed block: %s" % e)


def _decode(payload):
    version, count, hlen = struct.unpack_from("<BHH", payload, 0)
    if version != CODEC_VERSION:
        raise CodecError("compressed block version %d not supported" % version)
    h = bytes(payload[PAYLOAD_HEAD : PAYLOAD_HEAD + hlen])
    if len(h) != hlen:
        raise CodecError("H stream cut short")
    bits = _Bits(payload[PAYLOAD_HEAD + hlen :])
    state = [[0, 0, 0, 0] for _ in range(R.CHANNELS)]  # per channel: last three values, values seen
    seq, flags, n, content, first, temp, period, t_us = 0xFFFFFFFF, 0, 0, 0, 0, 0, 0, 0
    frames = []
    i = 0
    for _ in range(count):
        kind = h[i]
        i += 1
        if kind == 0:
            ln, i = _varint(h, i)
            fr = h[i : i + ln]
            if len(fr) != ln:
                raise CodecError("raw frame cut short")
            i += ln
            frames.append(fr)
            if ln >= P.HEADER_SIZE:
                seq = struct.unpack_from("<I", fr, 3)[0]
            continue
        if not kind & 0x80:
            raise CodecError("unknown record kind %d" % kind)
        if kind & 1:
            d, i = _varint(h, i)
            seq = (seq + 1 + _zz(d)) & 0xFFFFFFFF
        else:
            seq = (seq + 1) & 0xFFFFFFFF
        if kind & 2:
            flags = h[i]
            i += 1
        old_n, old_period = n, period
        if kind & 4:
            n = h[i]
            i += 1
        if kind & 8:
            content = h[i]
            i += 1
        if kind & 16:
            d, i = _varint(h, i)
            first = (first + old_n + _zz(d)) & 0xFFFFFFFF
        else:
            first = (first + old_n) & 0xFFFFFFFF
        if kind & 32:
            d, i = _varint(h, i)
            temp = temp + _zz(d)
        if kind & 64:
            period, i = _varint(h, i)
        d, i = _varint(h, i)
        t_us = (t_us + old_n * old_period // 1000 + _zz(d)) & 0xFFFFFFFF
        if n == 0 or content > 1:
            raise CodecError("samples record with n=%d content=%d" % (n, content))
        raw = [0] * (6 * n)
        for axis in range(6):
            (col,) = bits.group(axis, n, state[axis : axis + 1])
            raw[axis::6] = col
        b = bytearray(struct.pack(P.HEADER, P.PROTOCOL_VERSION, P.T_SAMPLES, flags, seq, t_us))
        b.extend(struct.pack(P.SAMPLES_HEAD, first, period, temp, n, content))
        b.extend(struct.pack("<%dh" % (6 * n), *raw))
        if content:
            cols = bits.group(6, 1, state[6:])
            b.extend(struct.pack("<4h", *[c[0] for c in cols]))
        b.extend(struct.pack("<I", crc32(b) & 0xFFFFFFFF))
        frames.append(bytes(b))
    if i != hlen:
        raise CodecError("H stream has %d bytes left over" % (hlen - i))
    return frames
