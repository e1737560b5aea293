"""The compressed flash log: the device's encoder on the MicroPython unix port (viper and plain bytecode)
against the host's decoder, byte for byte; power cuts at any byte; damage in the middle of a log."""
import json

import numpy as np
import pytest
from tiltguard.firmware import protocol as P
from tiltguard.firmware.flashlog import FlashLog, parse_log, scan_log
from tiltguard.host.simulator import simulate
from tiltguard_eval.log_frames import CHIPS, device_frames, frames_file, quantise, samples_in

from tests.mpy_helpers import run_micropython


@pytest.fixture(scope="module")
def run_frames():
    rec, _ = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=3)
    raw = quantise(rec.acc, rec.gyr, CHIPS[0])[-8000:]  # 40 s of the run
    frames = device_frames(raw, 200, CHIPS[0], gyr_radps=rec.gyr[-8000:])
    # one short frame (a session's last) and one non-canonical frame (bad CRC) must survive too
    frames.append(bytes(P.encode_samples(len(frames), 99, len(raw), 5000000, 2500, raw[:3].ravel().tolist(), 3)))
    odd = bytearray(frames[5])
    odd[-1] ^= 0xFF
    frames.insert(6, bytes(odd))
    return frames


def _encode_on_unix_port(frames, tmp_path, mode, block=4096):
    src = tmp_path / "frames.bin"
    src.write_bytes(frames_file(frames))
    root = tmp_path / mode
    root.mkdir()
    proc = run_micropython(["tests/mpy/encode_log.py", str(src), str(root), mode, str(block)])
    r = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return r, (root / ("%05d.tgl" % r["log_id"])).read_bytes()


def _encode_here(frames, root, block=4096):
    log = FlashLog(str(root), block_size=block, reserve_bytes=0)
    lid = log.open_new()
    for f in frames:
        assert log.append(f)
    log.close()
    return (root / ("%05d.tgl" % lid)).read_bytes()


def test_unix_port_encoder_and_host_decoder_agree_byte_for_byte(run_frames, tmp_path):
    viper, data = _encode_on_unix_port(run_frames, tmp_path, "viper")
    plain, data_plain = _encode_on_unix_port(run_frames, tmp_path, "plain")
    _, data_none = _encode_on_unix_port(run_frames, tmp_path, "none")
    assert data_plain == data  # the viper-compiled and the bytecode encoder write the same bytes
    assert _encode_here(run_frames, tmp_path / "host") == data  # and so does CPython
    frames, good, problem = parse_log(data)
    assert problem is None and good == len(data)
    assert frames == run_frames  # every frame, byte for byte: header, samples, quaternion, CRC
    assert parse_log(data_none)[0] == run_frames
    assert data[:2] == b"TZ" and data_none[:2] == b"TB"
    ratio = len(data_none) / len(data)
    assert ratio >= 2.0, ratio
    assert viper["append_us_per_sample"] < plain["append_us_per_sample"]  # the emitter pays off


def _block_starts(data):
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        pos += 8 + int.from_bytes(data[pos + 2 : pos + 4], "little")
    return starts


def test_a_power_cut_at_any_byte_loses_at_most_the_block_being_written(run_frames, tmp_path):
    data = _encode_here(run_frames, tmp_path, block=1024)
    starts = _block_starts(data)
    assert len(starts) > 20
    per_block = [len(parse_log(data[a:b])[0]) for a, b in zip(starts, starts[1:] + [len(data)])]
    rng = np.random.default_rng(11)
    cuts = set(rng.integers(1, len(data), 300).tolist()) | {s + d for s in starts[1:] for d in (-1, 0, 1, 8, 9)}
    for cut in sorted(cuts):
        frames, _, problem = parse_log(data[:cut])
        whole = sum(1 for s, e in zip(starts, starts[1:] + [len(data)]) if e <= cut)
        assert frames == run_frames[: sum(per_block[:whole])], cut  # every complete block, nothing invented
        if cut not in starts:
            assert "cut short" in problem or "incomplete block header" in problem


def test_a_flipped_bit_costs_its_block_and_the_reader_resyncs_on_the_next(run_frames, tmp_path):
    data = _encode_here(run_frames, tmp_path, block=1024)
    starts = _block_starts(data)
    ends = starts[1:] + [len(data)]
    per_block = [parse_log(data[a:b])[0] for a, b in zip(starts, ends)]
    rng = np.random.default_rng(5)
    for j in (0, 1, len(starts) // 2, len(starts) - 1):
        bad = bytearray(data)
        bit = int(rng.integers(starts[j] * 8, ends[j] * 8))
        bad[bit // 8] ^= 1 << (bit % 8)
        frames, blocks, damaged = scan_log(bad)
        assert frames == [f for i, blk in enumerate(per_block) if i != j for f in blk]
        assert blocks == len(starts) - 1
        assert [(a, b) for a, b, _ in damaged] == [(starts[j], ends[j])]
        assert "bytes %d-%d" % (starts[j], ends[j]) in parse_log(bad)[2]


def test_junk_inside_a_log_costs_nothing_but_the_junk(run_frames, tmp_path):
    data = _encode_here(run_frames, tmp_path, block=1024)
    at = _block_starts(data)[3]
    junk = np.random.default_rng(2).integers(0, 256, 4096).astype(np.uint8).tobytes().replace(b"T", b"t")
    frames, _, damaged = scan_log(data[:at] + b"TZ" + junk + data[at:])
    assert frames == run_frames
    assert damaged == [(at, at + 2 + len(junk), "block cut short (power lost while writing)")] or (
        len(damaged) == 1 and damaged[0][:2] == (at, at + 2 + len(junk)))


@pytest.mark.parametrize("chip", CHIPS, ids=[c.model for c in CHIPS])
def test_compression_of_a_simulated_ride_per_chip(chip, tmp_path):
    rec, _ = simulate("ride-steady", rate_hz=100, seed=1)
    frames = device_frames(quantise(rec.acc, rec.gyr, chip)[-3000:], 100, chip, gyr_radps=rec.gyr[-3000:])
    data = _encode_here(frames, tmp_path)
    plain = FlashLog(str(tmp_path / "plain"), reserve_bytes=0, compress=False)
    plain.open_new()
    for f in frames:
        plain.append(f)
    plain.close()
    assert parse_log(data)[0] == frames
    assert plain.bytes_written / len(data) >= 2.0
    assert len(data) / samples_in(frames) < 7.9  # bytes per sample, everything included

