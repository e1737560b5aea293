"""Wire protocol: frozen byte-exact vectors on both runtimes, decoding, and serial resynchronisation."""
import random
import struct

import pytest
from tiltguard.firmware import protocol as P
from tiltguard_eval import protocol_vectors as V

from tests.mpy_helpers import run_micropython_code


def test_vectors_pass_on_cpython():
    assert V.check() == []


def test_vectors_pass_on_micropython():
    out = run_micropython_code(
        "from tiltguard_eval import protocol_vectors as V\n"
        "f = V.check()\n"
        "print('FAILURES', len(f))\n"
        "for x in f: print(x)\n"
    )
    assert "FAILURES 0" in out, out


def test_micropython_encodes_the_same_bytes_for_random_sample_frames():
    """Random sample frames encoded on the device runtime are byte-identical to CPython's."""
    rng = random.Random(5)
    cases = []
    for _ in range(20):
        n = rng.randint(1, 17)
        raw = [rng.randint(-32768, 32767) for _ in range(6 * n)]
        q = [rng.uniform(-1, 1) for _ in range(4)] if rng.random() < 0.5 else None
        cases.append((rng.randrange(2**32), rng.randrange(2**32), rng.randrange(2**32),
                      rng.randint(1000000, 20000000), rng.randint(-4000, 8000), raw, n, q))
    code = ("from tiltguard.firmware import protocol as P\nimport binascii\nfor c in %r:\n"
            "    print(binascii.hexlify(P.encode_samples(*c)).decode())\n" % (cases,))
    lines = run_micropython_code(code).split()
    assert lines == [bytes(P.encode_samples(*c)).hex() for c in cases]


def test_crc_rejects_any_single_bit_flip():
    frame = bytes.fromhex(V.EXPECTED_HEX["samples_quat"])
    for i in range(len(frame)):
        for bit in (0, 3, 7):
            bad = bytearray(frame)
            bad[i] ^= 1 << bit
            with pytest.raises(P.FrameError):
                P.decode_frame(bytes(bad))


def test_truncated_and_wrong_version_frames_give_clear_errors():
    frame = bytes.fromhex(V.EXPECTED_HEX["event_battery"])
    with pytest.raises(P.FrameError, match="too short"):
        P.decode_frame(frame[:10])
    body = bytearray(frame[:-4])
    body[0] = 9
    bad = bytes(body) + struct.pack("<I", __import__("binascii").crc32(body))
    with pytest.raises(P.FrameError, match="version 9"):
        P.decode_frame(bad)


def test_serial_deframer_resynchronises_after_garbage_and_split_reads():
    frames = [P.encode_samples(i, 1000 * i, 10 * i, 5000000, 2500, list(range(60)), 10) for i in range(50)]
    rng = random.Random(1)
    stream = bytearray(b"\x17garbage\xff\x00\x00")
    damaged = set()
    for i, f in enumerate(frames):
        enc = bytearray(P.cobs_encode(f))
        if i % 7 == 3:  # damage a byte inside the frame (never the delimiter)
            enc[rng.randrange(1, len(enc) - 1)] ^= 0x40
            damaged.add(i)
        stream += enc
        if i % 11 == 5:
            stream += bytes(rng.randrange(1, 256) for _ in range(30))  # line noise without a delimiter
    d = P.SerialDeframer()
    got = []
    pos = 0
    while pos < len(stream):  # arbitrary read sizes, as a UART would deliver them
        k = rng.randint(1, 64)
        got += d.feed(bytes(stream[pos:pos + k]))
        pos += k
    seqs = [f.seq for f in got]
    expected = [i for i in range(50) if i not in damaged and (i - 1) % 11 != 5]
    # a frame right after noise is lost too (the noise has no delimiter, so it joins that frame): no others
    assert seqs == expected
    assert d.errors >= len(damaged)
    assert all(list(f.raw) == list(range(60)) for f in got)


def test_samples_per_frame_from_mtu():
    assert P.samples_per_frame_for(244) == 17  # ATT MTU 247
    assert P.samples_per_frame_for(20) == 0  # default MTU 23 cannot carry a sample frame
    f = P.encode_samples(0, 0, 0, 5000000, 0, [0] * 6 * 17, 17, (1, 0, 0, 0))
    assert len(f) <= 244
