"""Tiltguard wire protocol, version 1: one module shared by the device (MicroPython) and the host (CPython).

Every frame, whatever the transport, is

    offset  size  field
    0       1     version      PROTOCOL_VERSION
    1       1     type         T_HELLO / T_SAMPLES / T_EVENT / T_COMMAND / T_RESPONSE
    2       1     flags        F_RESENT: a copy sent again on request; F_FROM_LOG: read back from flash
    3       4     seq          device->host stream frames: one counter (hello, samples, events);
                               commands: the host's counter; responses: the seq of the command answered
    7       4     t_us         device clock, microseconds modulo 2**32 (samples: time of the first sample)
    11      ...   payload      depends on type (see encode_* below and docs/protocol.md)
    -4      4     crc32        IEEE CRC-32 of every byte before it

little-endian throughout. Over BLE one frame is one notification / one write; over USB serial each frame
is COBS-encoded and followed by a 0x00 delimiter, so a reader resynchronises after garbage at the next 0x00.
The module avoids CPython-only syntax and modules so that it runs unchanged on the device.
"""
import struct

from tiltguard.sensors.compat import crc32

PROTOCOL_VERSION = 1

T_HELLO = 1
T_SAMPLES = 2
T_EVENT = 3
T_COMMAND = 4
T_RESPONSE = 5

F_RESENT = 1
F_FROM_LOG = 2

HEADER = "<BBBII"
HEADER_SIZE = 11
CRC_SIZE = 4
OVERHEAD = HEADER_SIZE + CRC_SIZE

# Samples payload: first_index u32, period_ns u32, temp_centi_c i16, n u8, content u8; then n x 6 int16
SAMPLES_HEAD = "<IIhBB"
SAMPLES_HEAD_SIZE = 12
SAMPLE_SIZE = 12  # ax ay az gx gy gz, int16 each, sensor LSB
QUAT_SIZE = 8  # w x y z int16, unit quaternion * QUAT_SCALE, orientation at the frame's last sample
QUAT_SCALE = 16384
C_QUAT = 1  # content flag: the frame ends with a quaternion

# Event codes (payload: code u8, arg u8, value i32)
EVENT = "<BBi"
E_BUTTON = 1  # arg 1 short press, 2 long press
E_BATTERY = 2  # arg percent, value millivolts
E_CUE = 3  # arg 1 cue started / 0 stopped, value tilt above neutral in centidegrees
E_FIFO_OVERFLOW = 4  # value: samples lost (estimated from the device clock)
E_LINK = 5  # arg 1 host connected / 0 disconnected
E_LOG = 6  # arg 1 logging to flash started / 0 stopped, value log id
E_NEUTRAL = 7  # arg 1 neutral stored, value tilt of the sensor at neutral, centidegrees
E_STREAM = 8  # arg 1 started / 0 stopped
E_ERROR = 9  # value: error code (ERR_*)
E_HINGE = 10  # arg 1 forward axis set from a held hip hinge / 0 no hinge in time, value hinge angle, centidegrees

ERR_SENSOR = 1
ERR_LOG_FULL = 2
ERR_MTU_TOO_SMALL = 3

# Commands (payload: cmd u8, then arguments) and response status codes
C_PING = 1  # -> data: u32 device t_us
C_HELLO = 2  # device sends a fresh hello frame
C_START = 3
C_STOP = 4
C_RESEND = 5  # u32 first seq, u32 last seq (inclusive) -> data: u32 oldest seq held, u16 frames resent
C_NEUTRAL = 6  # capture the standing neutral now
C_SET_CUE = 7  # u8 enabled, i16 threshold centidegrees, u16 hold ms
C_SET_RATE = 8  # u16 rate Hz, u16 acc range g, u16 gyro range dps
C_BUZZ = 9  # u8 steps, 8 x u16 ms (on, off, on, ...; the first `steps` are the pattern): the pod buzzes it
C_LOG_LIST = 16  # -> data: u8 count, count x (u16 id, u32 bytes)
C_LOG_READ = 17  # u16 id, u32 offset, u16 length -> data: u16 id, u32 offset, bytes
C_LOG_DELETE = 18  # u16 id, u32 bytes, u32 crc32 of the host's copy; bonded hosts only
C_FORGET = 24  # the pod forgets every bonded owner (`tiltguard device forget`); bonded hosts only
C_EXIT = 32  # stop the app and return to the REPL (used by `tiltguard device flash`)

S_OK = 0
S_BAD_ARGS = 1
S_UNKNOWN = 2
S_NOT_BONDED = 3
S_NOT_FOUND = 4
S_BUSY = 5
S_CRC_MISMATCH = 6
S_GONE = 7  # part of a resend range has already left the device's history

COMMAND_ARGS = {
    C_PING: "",
    C_HELLO: "",
    C_START: "",
    C_STOP: "",
    C_RESEND: "<II",
    C_NEUTRAL: "",
    C_SET_CUE: "<BhH",
    C_SET_RATE: "<HHH",
    C_BUZZ: "<B8H",
    C_LOG_LIST: "",
    C_LOG_READ: "<HIH",
    C_LOG_DELETE: "<HII",
    C_FORGET: "",
    C_EXIT: "",
}


# A host-driven buzz (C_BUZZ): a short pattern, so that a late or runaway one cannot hold the motor
BUZZ_STEPS = 8  # durations in one pattern at most (4 pulses)
BUZZ_RULE = "1-8 durations of 10-2000 ms, at most 5000 ms in all"  # buzz_ok's rule, as the pod says it


def buzz_ok(pattern):
    """True if the pod buzzes this pattern (on, off, on, ... ms); else it answers S_BAD_ARGS with BUZZ_RULE."""
    total = 0
    for ms in pattern:
        if ms < 10 or ms > 2000:
            return False
        total += ms
    return 0 < len(pattern) <= BUZZ_STEPS and total <= 5000


class FrameError(ValueError):
    """A frame that is too short, has a bad CRC, an unknown version or a malformed payload."""


def _finish(buf):
    """Append the CRC-32 of buf (a bytearray holding header + payload) and return it."""
    buf.extend(struct.pack("<I", crc32(buf) & 0xFFFFFFFF))
    return buf


def _header(ftype, seq, t_us, flags=0):
    b = bytearray(struct.pack(HEADER, PROTOCOL_VERSION, ftype, flags, seq & 0xFFFFFFFF, t_us & 0xFFFFFFFF))
    return b


def _pstr(s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    if len(b) > 255:
        raise ValueError("string too long for the wire")
    return bytes((len(b),)) + b


# ---------------------------------------------------------------- encoding

HELLO_FIXED = "<BIHHHffHBH3f4fB"
HELLO_FIXED_SIZE = struct.calcsize(HELLO_FIXED)
# Hello extensions after the three strings: tag u8, length u8, value; a decoder skips tags it does not know.
HX_BOOT_ID = 1  # u32, new at every power-up of the device: frames after a restart are a new segment
HX_NOTICE = 2  # utf-8 text: what the device fell back from (a damaged config), for the user
HX_OWNER = 3  # u8 flags: HO_OWNED the pod has a bonded owner, HO_PAIRING its pairing window is open
HX_CAPACITY = 8  # u32 s of log left, u32 s of battery runtime (0xFFFFFFFF unknown), u8 battery % (255
#                unknown), u8 log medium (0 flash, 1 microSD): firmware/power.py
HO_OWNED = 1
HO_PAIRING = 2


def encode_hello(seq, t_us, info):
    """info: dict with session, rate_hz, acc_range_g, gyr_range_dps, acc_scale (m/s2/LSB),
    gyr_scale (rad/s/LSB), max_frame, samples_per_frame, history_s, gyr_bias (3), neutral (w,x,y,z or
    None), firmware, sensor, name; optional boot_id (u32, HX_BOOT_ID)."""
    neutral = info.get("neutral")
    has_neutral = 1 if neutral else 0
    q = neutral if neutral else (0.0, 0.0, 0.0, 0.0)
    bias = info.get("gyr_bias") or (0.0, 0.0, 0.0)
    b = _header(T_HELLO, seq, t_us)
    b.extend(
        struct.pack(
            HELLO_FIXED,
            PROTOCOL_VERSION,
            info["session"] & 0xFFFFFFFF,
            info["rate_hz"],
            info["acc_range_g"],
            info["gyr_range_dps"],
            info["acc_scale"],
            info["gyr_scale"],
            info["max_frame"],
            info["samples_per_frame"],
            info["history_s"],
            bias[0],
            bias[1],
            bias[2],
            q[0],
            q[1],
            q[2],
            q[3],
            has_neutral,
        )
    )
    b.extend(_pstr(info["firmware"]))
    b.extend(_pstr(info["sensor"]))
    b.extend(_pstr(info.get("name", "")))
    if info.get("boot_id") is not None:  # optional extension: tag, length, value (older hosts stop at name)
        b.extend(struct.pack("<BBI", HX_BOOT_ID, 4, info["boot_id"] & 0xFFFFFFFF))
    if info.get("owner") is not None:
        b.extend(struct.pack("<BBB", HX_OWNER, 1, info["owner"]))
    if info.get("notice"):
        b.extend(bytes((HX_NOTICE,)) + _pstr(info["notice"]))
    cap = info.get("capacity")
    if cap is not None:  # (log s left, runtime s or None, battery % or None, medium)
        b.extend(struct.pack("<BBIIBB", HX_CAPACITY, 10, min(cap[0], 0xFFFFFFFF),
                             0xFFFFFFFF if cap[1] is None else min(cap[1], 0xFFFFFFFE),
                             255 if cap[2] is None else cap[2], cap[3]))
    return _finish(b)


def encode_samples(seq, t_us, first_index, period_ns, temp_centi_c, raw, n, quat=None, flags=0):
    """raw: a sequence of at least 6*n int16 (acc xyz, gyro xyz per sample, sensor LSB).
    quat: optional (w, x, y, z) floats, orientation at the last sample."""
    b = _header(T_SAMPLES, seq, t_us, flags)
    b.extend(struct.pack(SAMPLES_HEAD, first_index & 0xFFFFFFFF, period_ns, temp_centi_c, n, C_QUAT if quat else 0))
    off = len(b)
    b.extend(bytes(SAMPLE_SIZE * n))
    struct.pack_into("<%dh" % (6 * n), b, off, *raw[: 6 * n])
    if quat:
        b.extend(struct.pack("<4h", *[_q16(c) for c in quat]))
    return _finish(b)


def _q16(c):
    v = int(round(c * QUAT_SCALE))
    return 32767 if v > 32767 else (-32768 if v < -32768 else v)


def encode_event(seq, t_us, code, arg=0, value=0, flags=0):
    b = _header(T_EVENT, seq, t_us, flags)
    b.extend(struct.pack(EVENT, code, arg, value))
    return _finish(b)


def encode_command(seq, t_us, cmd, *args):
    fmt = COMMAND_ARGS.get(cmd)
    if fmt is None:
        raise ValueError("unknown command %d" % cmd)
    b = _header(T_COMMAND, seq, t_us)
    b.append(cmd)
    if fmt:
        b.extend(struct.pack(fmt, *args))
    return _finish(b)


def encode_response(seq, t_us, cmd, status, data=b""):
    b = _header(T_RESPONSE, seq, t_us)
    b.append(cmd)
    b.append(status)
    b.extend(data)
    return _finish(b)


def restamp_flags(frame, flags):
    """A copy of an encoded frame with its header flags replaced (and the CRC recomputed)."""
    b = bytearray(frame[: len(frame) - CRC_SIZE])
    b[2] = flags
    return _finish(b)


# ---------------------------------------------------------------- decoding


class Frame:
    """A decoded frame. Common fields: version, type, flags, seq, t_us; the rest depend on the type."""

    def __init__(self, ftype, flags, seq, t_us):
        self.version = PROTOCOL_VERSION
        self.type = ftype
        self.flags = flags
        self.seq = seq
        self.t_us = t_us

    def __repr__(self):
        return "Frame(type=%d seq=%d t_us=%d)" % (self.type, self.seq, self.t_us)


def check_frame(buf):
    """Validate length, CRC and version; return (type, flags, seq, t_us). Raises FrameError."""
    if len(buf) < OVERHEAD:
        raise FrameError("frame too short (%d bytes)" % len(buf))
    body = memoryview(buf)[: len(buf) - CRC_SIZE]
    (want,) = struct.unpack_from("<I", buf, len(buf) - CRC_SIZE)
    if crc32(body) & 0xFFFFFFFF != want:
        raise FrameError("CRC mismatch")
    version, ftype, flags, seq, t_us = struct.unpack_from(HEADER, buf, 0)
    if version != PROTOCOL_VERSION:
        raise FrameError("protocol version %d not supported (this side speaks %d)" % (version, PROTOCOL_VERSION))
    return ftype, flags, seq, t_us


def decode_frame(buf):
    """Decode one frame (without serial framing). Raises FrameError on any defect."""
    ftype, flags, seq, t_us = check_frame(buf)
    f = Frame(ftype, flags, seq, t_us)
    end = len(buf) - CRC_SIZE
    off = HEADER_SIZE
    try:
        if ftype == T_SAMPLES:
            f.first_index, f.period_ns, temp, n, content = struct.unpack_from(SAMPLES_HEAD, buf, off)
            off += SAMPLES_HEAD_SIZE
            need = off + n * SAMPLE_SIZE + (QUAT_SIZE if content & C_QUAT else 0)
            if need != end:
                raise FrameError("samples frame length %d does not match n=%d" % (len(buf), n))
            f.temp_c = temp / 100.0
            f.n = n
            f.raw = struct.unpack_from("<%dh" % (6 * n), buf, off)
            off += n * SAMPLE_SIZE
            f.quat = None
            if content & C_QUAT:
                q = struct.unpack_from("<4h", buf, off)
                f.quat = (q[0] / QUAT_SCALE, q[1] / QUAT_SCALE, q[2] / QUAT_SCALE, q[3] / QUAT_SCALE)
        elif ftype == T_HELLO:
            v = struct.unpack_from(HELLO_FIXED, buf, off)
            off += HELLO_FIXED_SIZE
            f.protocol = v[0]
            f.session = v[1]
            f.rate_hz = v[2]
            f.acc_range_g = v[3]
            f.gyr_range_dps = v[4]
            f.acc_scale = v[5]
            f.gyr_scale = v[6]
            f.max_frame = v[7]
            f.samples_per_frame = v[8]
            f.history_s = v[9]
            f.gyr_bias = (v[10], v[11], v[12])
            f.neutral = (v[13], v[14], v[15], v[16]) if v[17] else None
            strs = []
            for _ in range(3):
                ln = buf[off]
                if off + 1 + ln > end:
                    raise FrameError("hello string runs past the frame")
                strs.append(bytes(buf[off + 1 : off + 1 + ln]).decode())
                off += 1 + ln
            f.firmware, f.sensor, f.name = strs
            f.boot_id = None
            f.owner = None
            f.notice = ""
            f.log_left_s = f.runtime_s = f.battery_pct = f.log_medium = None
            while off < end:  # extensions
                if off + 2 > end or off + 2 + buf[off + 1] > end:
                    raise FrameError("hello extension runs past the frame")
                tag, ln = buf[off], buf[off + 1]
                if tag == HX_BOOT_ID and ln == 4:
                    (f.boot_id,) = struct.unpack_from("<I", buf, off + 2)
                elif tag == HX_OWNER and ln == 1:
                    f.owner = buf[off + 2]
                elif tag == HX_CAPACITY and ln == 10:
                    ls, rs, bp, med = struct.unpack_from("<IIBB", buf, off + 2)
                    f.log_left_s = ls
                    f.runtime_s = None if rs == 0xFFFFFFFF else rs
                    f.battery_pct = None if bp == 255 else bp
                    f.log_medium = med
                elif tag == HX_NOTICE:
                    f.notice = bytes(buf[off + 2 : off + 2 + ln]).decode()
                off += 2 + ln
        elif ftype == T_EVENT:
            if end - off != 6:
                raise FrameError("event frame payload must be 6 bytes")
            f.code, f.arg, f.value = struct.unpack_from(EVENT, buf, off)
        elif ftype == T_COMMAND:
            if end - off < 1:
                raise FrameError("command frame without a command byte")
            f.cmd = buf[off]
            fmt = COMMAND_ARGS.get(f.cmd)
            if fmt is None:
                f.args = None  # unknown to this side: the device answers S_UNKNOWN
            else:
                size = struct.calcsize(fmt) if fmt else 0
                if end - off - 1 != size:
                    raise FrameError("command %d takes %d argument bytes, got %d" % (f.cmd, size, end - off - 1))
                f.args = struct.unpack_from(fmt, buf, off + 1) if fmt else ()
        elif ftype == T_RESPONSE:
            if end - off < 2:
                raise FrameError("response frame too short")
            f.cmd = buf[off]
            f.status = buf[off + 1]
            f.data = bytes(buf[off + 2 : end])
        else:
            raise FrameError("unknown frame type %d" % ftype)
    except FrameError:
        raise
    except Exception as e:  # struct.error on CPython, ValueError/IndexError on MicroPython
        raise FrameError("malformed frame: %s" % e)
    return f


def decode_log_list(data):
    """Data of a C_LOG_LIST response -> list of (log id, size in bytes)."""
    count = data[0]
    return [struct.unpack_from("<HI", data, 1 + 6 * i) for i in range(count)]


def decode_log_chunk(data):
    """Data of a C_LOG_READ response -> (log id, offset, bytes)."""
    lid, offset = struct.unpack_from("<HI", data, 0)
    return lid, offset, bytes(data[6:])


def samples_per_frame_for(frame_bytes, with_quat=True):
    """How many samples fit a frame of at most frame_bytes (e.g. ATT MTU - 3); 0 if not even one."""
    room = frame_bytes - OVERHEAD - SAMPLES_HEAD_SIZE - (QUAT_SIZE if with_quat else 0)
    return room // SAMPLE_SIZE if room >= SAMPLE_SIZE else 0


# ---------------------------------------------------------------- serial framing (COBS)


def cobs_encode(data):
    """Consistent Overhead Byte Stuffing: returns data with no 0x00 byte, plus the 0x00 delimiter."""
    out = bytearray(len(data) + len(data) // 254 + 2)
    code_at = 0
    code = 1
    o = 1
    for b in data:
        if b == 0:
            out[code_at] = code
            code_at = o
            o += 1
            code = 1
        else:
            out[o] = b
            o += 1
            code += 1
            if code == 0xFF:
                out[code_at] = code
                code_at = o
                o += 1
                code = 1
    out[code_at] = code
    out[o] = 0
    return out[: o + 1]


def cobs_decode(data):
    """Inverse of cobs_encode without the delimiter. Raises FrameError on a malformed block."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError("zero byte inside a COBS block")
        end = i + code
        if end > n:
            raise FrameError("COBS block runs past the end")
        out.extend(data[i + 1 : end])
        i = end
        if code < 0xFF and i < n:
            out.append(0)
    return out


class SerialDeframer:
    """Splits a byte stream into frames: COBS blocks between 0x00 delimiters.

    feed() returns the decoded, CRC-checked frames found so far; garbage and damaged frames are skipped
    and counted in .errors, so the reader picks up again at the next delimiter.
    """

    def __init__(self, max_frame=4096, decode=True):
        self._buf = bytearray()
        self.max_frame = max_frame
        self.decode = decode
        self.errors = 0
        self.last_error = None

    def feed(self, data):
        frames = []
        buf = self._buf
        start = 0
        for i in range(len(data)):
            if data[i] == 0:
                buf.extend(data[start:i])
                start = i + 1
                if buf:
                    self._take(buf, frames)
                buf = self._buf = bytearray()
        buf.extend(data[start:])
        if len(buf) > self.max_frame * 2:  # a stream without delimiters: drop it, count one error
            self.errors += 1
            self.last_error = "no delimiter within %d bytes" % len(buf)
            self._buf = bytearray()
        return frames

    def _take(self, block, frames):
        try:
            raw = cobs_decode(block)
            if self.decode:
                frames.append(decode_frame(raw))
            else:
                check_frame(raw)
                frames.append(bytes(raw))
        except FrameError as e:
            self.errors += 1
            self.last_error = str(e)
