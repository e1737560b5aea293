"""Byte-exact test vectors of the wire protocol, checked on both runtimes (device and host).

Evaluation code: tests run it on CPython and on the MicroPython unix port; it is never flashed to the
device nor installed with the package.

Generated once from INPUTS with the reference encoder and then frozen: both runtimes must produce exactly
EXPECTED_HEX from INPUTS and decode EXPECTED_HEX back to INPUTS. Run `check()` on either runtime; it
returns a list of failures (empty when all pass). Never regenerate to make a failing check pass.
"""
from tiltguard.firmware import protocol as P

HELLO_INFO = {"session": 0x1234ABCD, "rate_hz": 200, "acc_range_g": 8, "gyr_range_dps": 1000,
              "acc_scale": 0.00048828125, "gyr_scale": 0.000030517578125, "max_frame": 244,
              "samples_per_frame": 10, "history_s": 60, "gyr_bias": (0.0078125, -0.00390625, 0.0),
              "neutral": (0.5, -0.5, 0.5, 0.5), "firmware": "0.1.0", "sensor": "ICM-42688-P", "name": "Tiltguard-A1"}
INPUTS = [
    ("hello", "hello", (7, 1000000, HELLO_INFO)),
    ("hello_no_neutral", "hello", (0, 0, dict(HELLO_INFO, neutral=None, gyr_bias=None, name=""))),
    ("samples_quat", "samples", (42, 0xFFFFFF00, 4000000000, 5000000, 3125, [1, -2, 2048, -32768, 32767, 0, 100, 200, 300, -400, -500, -600], 2, (1.0, 0.0, -0.25, 0.125))),
    ("samples_plain", "samples", (43, 5, 12, 2500000, -1050, [0, 0, 4096, 0, 0, 0], 1, None)),
    ("samples_resent", "samples", (44, 99, 7, 5000000, 0, [256, 512, 0, 1, 2, 3], 1, None, P.F_RESENT)),
    ("event_battery", "event", (45, 123456, P.E_BATTERY, 87, 3987)),
    ("event_cue", "event", (46, 777, P.E_CUE, 1, -1234)),
    ("cmd_ping", "command", (1, 0, P.C_PING)),
    ("cmd_resend", "command", (2, 10, P.C_RESEND, 100, 250)),
    ("cmd_set_cue", "command", (3, 20, P.C_SET_CUE, 1, 1200, 45000)),
    ("cmd_set_rate", "command", (4, 30, P.C_SET_RATE, 400, 16, 2000)),
    ("cmd_log_read", "command", (5, 40, P.C_LOG_READ, 3, 65536, 200)),
    ("cmd_log_delete", "command", (6, 50, P.C_LOG_DELETE, 3, 123456, 0xDEADBEEF)),
    ("resp_ping", "response", (1, 5000, P.C_PING, P.S_OK, b"\x88\x13\x00\x00")),
    ("resp_gone", "response", (2, 6000, P.C_RESEND, P.S_GONE, b"\x64\x00\x00\x00\x00\x00")),
]
COBS = [b"", b"\x00", b"\x00\x00", b"\x11\x22\x00\x33", bytes(range(1, 255)), bytes(range(0, 256)), b"\x01" * 300 + b"\x00" + b"\x02" * 10]

EXPECTED_HEX = {
    'hello': '0101000700000040420f0001cdab3412c8000800e8030000003a00000038f4000a3c000000003c000080bb000000000000003f000000bf0000003f0000003f0105302e312e300b49434d2d34323638382d500c54696c7467756172642d4131fcc04694',
    'hello_no_neutral': '010100000000000000000001cdab3412c8000800e8030000003a00000038f4000a3c00000000000000000000000000000000000000000000000000000000000005302e312e300b49434d2d34323638382d500067aa9f29',
    'samples_quat': '0102002a00000000ffffff00286bee404b4c00350c02010100feff00080080ff7f00006400c8002c0170fe0cfea8fd0040000000f00008afff0d73',
    'samples_plain': '0102002b000000050000000c000000a0252600e6fb0100000000000010000000000000d8bf5843',
    'samples_resent': '0102012c0000006300000007000000404b4c0000000100000100020000010002000300d9d5c635',
    'event_battery': '0103002d00000040e201000257930f00007b939d38',
    'event_cue': '0103002e0000000903000003012efbffff86b94858',
    'cmd_ping': '01040001000000000000000157ddd530',
    'cmd_resend': '010400020000000a0000000564000000fa0000000546549a',
    'cmd_set_cue': '01040003000000140000000701b004c8af416e08b7',
    'cmd_set_rate': '010400040000001e0000000890011000d0077aa211d1',
    'cmd_log_read': '010400050000002800000011030000000100c800cfb2a210',
    'cmd_log_delete': '010400060000003200000012030040e20100efbeaddeb4154804',
    'resp_ping': '010500010000008813000001008813000087615134',
    'resp_gone': '01050002000000701700000507640000000000a92015d3',
}

# COBS encodings (with the trailing 0x00 delimiter) of each entry of COBS, in order
COBS_HEX = [
    '0100',
    '010100',
    '01010100',
    '031122023300',
    'ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfe0100',
    '01ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfe02ff00',
    'ff01010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101012f010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010b0202020202020202020200',
]

_ENCODERS = {
    "hello": P.encode_hello,
    "samples": P.encode_samples,
    "event": P.encode_event,
    "command": P.encode_command,
    "response": P.encode_response,
}


def _hex(b):
    return "".join("%02x" % x for x in b)


def _unhex(s):
    return bytes(int(s[i : i + 2], 16) for i in range(0, len(s), 2))


def _close(a, b, tol):
    return abs(a - b) <= tol


def _check_decoded(kind, args, f):
    """Compare a decoded frame against the inputs it was built from; return a problem string or None."""
    seq, t_us = args[0], args[1]
    if f.seq != seq or f.t_us != t_us:
        return "header seq/t_us"
    if kind == "hello":
        info = args[2]
        for key in ("session", "rate_hz", "acc_range_g", "gyr_range_dps", "max_frame", "samples_per_frame",
                    "history_s", "firmware", "sensor"):
            if getattr(f, key) != info[key]:
                return "hello field " + key
        if f.name != info.get("name", "") or not _close(f.acc_scale, info["acc_scale"], 0) or not _close(
            f.gyr_scale, info["gyr_scale"], 0
        ):
            return "hello name/scales"
        if (f.neutral is None) != (info.get("neutral") is None):
            return "hello neutral presence"
        if f.neutral and tuple(f.neutral) != tuple(info["neutral"]):
            return "hello neutral"
    elif kind == "samples":
        first, period, temp, raw, n, quat = args[2:8]
        flags = args[8] if len(args) > 8 else 0
        if (f.first_index, f.period_ns, f.n, f.flags) != (first, period, n, flags):
            return "samples header"
        if list(f.raw) != list(raw[: 6 * n]) or not _close(f.temp_c, temp / 100.0, 1e-9):
            return "samples data"
        if (f.quat is None) != (quat is None):
            return "samples quat presence"
        if quat and max(abs(a - b) for a, b in zip(f.quat, quat)) > 1.0 / P.QUAT_SCALE:
            return "samples quat"
    elif kind == "event":
        if (f.code, f.arg, f.value) != tuple(args[2:5]):
            return "event fields"
    elif kind == "command":
        if f.cmd != args[2] or tuple(f.args) != tuple(args[3:]):
            return "command fields"
    elif kind == "response":
        if (f.cmd, f.status, f.data) != (args[2], args[3], bytes(args[4])):
            return "response fields"
    return None


def check():
    failures = []
    for name, kind, args in INPUTS:
        got = _hex(_ENCODERS[kind](*args))
        if got != EXPECTED_HEX[name]:
            failures.append("encode %s: %s != %s" % (name, got, EXPECTED_HEX[name]))
        try:
            problem = _check_decoded(kind, args, P.decode_frame(_unhex(EXPECTED_HEX[name])))
        except P.FrameError as e:
            problem = "decode error " + str(e)
        if problem:
            failures.append("decode %s: %s" % (name, problem))
    for data, want in zip(COBS, COBS_HEX):
        got = _hex(P.cobs_encode(data))
        if got != want:
            failures.append("cobs encode %s...: %s" % (_hex(data[:8]), got[:40]))
        if bytes(P.cobs_decode(_unhex(want)[:-1])) != bytes(data):
            failures.append("cobs decode %s..." % want[:16])
    return failures


if __name__ == "__main__":
    problems = check()
    for p in problems:
        print(p)
    print("%d vectors, %d failures" % (len(INPUTS) + len(COBS), len(problems)))
