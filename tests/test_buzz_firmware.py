"""The host-driven buzz (C_BUZZ, issue 20: the pod's buzzer counts a drill's reps), on the device runtime.

The MicroPython unix port runs the real device app (firmware/app.py) on firmware/sim.py's simulated board in
virtual time (tests/mpy/buzz_pod.py), with the owner's cable and a stranger's radio link. Raw command frames
go in; what the pod answered, when its motor switched and its heap around 300 reps' buzzes come out. The
pattern rule itself (firmware/protocol.py) is checked byte-exact under CPython and MicroPython.
"""
from __future__ import annotations

import json
import struct

import pytest
from tiltguard.firmware import protocol as P
from tiltguard.firmware.peripherals import BUZZ_LOG_MAX, HOST_GAP_MS
from tiltguard.host.link.buzz import buzz_args

from tests.mpy_helpers import run_micropython, run_micropython_code


@pytest.fixture(scope="module")
def pod(tmp_path_factory):
    out = tmp_path_factory.mktemp("buzz_pod")
    proc = run_micropython(["tests/mpy/buzz_pod.py", str(out)], timeout=120)
    r = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    r["by_seq"] = {seq: (ms, cmd, status, data) for ms, seq, cmd, status, data in r["owner"]}
    return r


def pulses(edges, t0, t1):
    """(on ms, length ms) of the motor's pulses that started in [t0, t1) ms."""
    out = []
    for (a, on), (b, off) in zip(edges[::2], edges[1::2]):
        assert on and not off  # the motor alternates: never switched on twice
        if t0 <= a < t1:
            out.append((a, b - a))
    return out


def test_the_owner_buzzes_a_pattern_and_it_is_answered_like_any_command(pod):
    by_seq = pod["by_seq"]
    assert by_seq[1][1:3] == (P.C_BUZZ, P.S_OK) and by_seq[2][1:3] == (P.C_BUZZ, P.S_OK)
    # played at once (the next 10-ms control tick), for exactly the lengths asked
    assert [(a - 1000, d) for a, d in pulses(pod["edges"], 1000, 1500)] == [(10, 80)]
    assert [(a - 2000, d) for a, d in pulses(pod["edges"], 2000, 3000)] == [(10, 250), (410, 250)]


def test_a_bad_pattern_is_refused_with_the_rule_and_never_played(pod):
    by_seq = pod["by_seq"]
    for seq in (3, 4, 5, 6, 7):  # no durations, 9 claimed, 5 ms, 2500 ms, 5.5 s in all
        assert by_seq[seq][1:] == (P.C_BUZZ, P.S_BAD_ARGS, P.BUZZ_RULE)
    assert by_seq[20][1:3] == (P.C_BUZZ, P.S_BAD_ARGS)  # a frame carrying more durations than C_BUZZ holds
    assert 8 not in by_seq  # a damaged frame: nothing in it can be trusted, not even its seq
    assert pod["bad_commands"] == 2
    assert pulses(pod["edges"], 3000, 5000) == []


def test_a_stranger_cannot_buzz_the_pod(pod):
    assert pod["stranger"] == [[4000, 9, P.C_BUZZ, P.S_NOT_BONDED, ""]]
    assert pulses(pod["edges"], 3900, 5000) == []


def test_a_pattern_while_the_last_one_plays_is_busy_and_none_plays_over_another(pod):
    by_seq = pod["by_seq"]
    assert [by_seq[s][2] for s in (10, 11, 12, 13, 14)] == [P.S_OK, P.S_BUSY, P.S_OK, P.S_BUSY, P.S_OK]
    got = pulses(pod["edges"], 5000, 8000)
    assert [d for _, d in got] == [700, 80, 60, 60, 60]  # the long one, the rep, the fault's three
    starts = [a for a, _ in got]
    assert starts[1] >= starts[0] + 700 + HOST_GAP_MS and starts[2] >= starts[1] + 80 + HOST_GAP_MS
    assert pod["overlaps"] == 0  # never switched on while on


def test_300_reps_of_buzzes_leave_the_heap_where_it_was(pod):
    assert pod["flood_ok"] == 300 and pod["flood_pulses"] == 300
    assert pod["on_ms"] == 80 + 500 + 700 + 80 + 180 + 300 * 80  # every pulse counted for the duty cycle
    assert len(pod["log"]) == BUZZ_LOG_MAX  # the latest pulses only
    before, log_full, after = pod["heap"]
    assert after - log_full < 256  # 200 more commands and pulses: nothing kept (an unbounded log: ~8 kB)
    assert log_full - before < 60 * 64  # the log filling up to its 64 entries


def test_the_pattern_rule_and_bytes_on_both_runtimes():
    frame = P.encode_command(7, 0x01020304, P.C_BUZZ, *buzz_args((250, 150, 250)))
    assert bytes(frame[P.HEADER_SIZE:-4]) == bytes([P.C_BUZZ, 3]) + struct.pack("<8H", 250, 150, 250, 0, 0, 0, 0, 0)
    f = P.decode_frame(frame)
    assert (f.cmd, f.args) == (P.C_BUZZ, (3, 250, 150, 250, 0, 0, 0, 0, 0))
    bad = ((), (80,) * 9, (5,), (2001,), (2000, 1000, 2000, 10))
    for pattern in bad + ((80.0,), (True,)):
        with pytest.raises(ValueError, match="the pod takes 1-8 durations of 10-2000 ms, at most 5000 ms"):
            buzz_args(pattern)
    assert buzz_args((10,) * 8) == (8,) + (10,) * 8 and buzz_args((2000, 1000, 2000)) == (3, 2000, 1000, 2000) + (0,) * 5
    # the device's own check of the same rule, on its runtime
    code = ("from tiltguard.firmware import protocol as P\n"
            f"print([P.buzz_ok(p) for p in ((80,), (10,) * 8, (2000, 1000, 2000)) + {bad!r}])\n")
    got = run_micropython_code(code).strip()
    assert got == str([True, True, True] + [False] * len(bad))
