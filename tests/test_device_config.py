"""A damaged config.json never stops the pod: the app on the MicroPython unix port starts, samples at the
default rate and says in its hello what it fell back from; SET_RATE that the link cannot carry is refused
with the reason, one it can carry keeps the stream going."""
from __future__ import annotations

import json

import pytest
from tiltguard.firmware import config as C
from tiltguard.firmware import protocol as P

from tests.mpy_helpers import run_micropython

# one wrong type per setting: all 16 (before: 9 of them stopped the app at start, 3 stopped sampling)
WRONG_TYPES = {
    "name": 42,
    "rate_hz": "200",
    "acc_range_g": "8g",
    "gyr_range_dps": [1000],
    "samples_per_frame": 10.5,
    "history_s": None,
    "poll_ms": "20",
    "cue_enabled": "yes",
    "cue_threshold_deg": "10",
    "cue_hold_s": {"s": 20},
    "cue_repeat_s": True,
    "neutral_up": [0, 0],
    "left_axis": "y",
    "gyr_bias": 0.0,
    "session": "7",
    "autostart": 1,
}
assert set(WRONG_TYPES) == set(C.DEFAULTS)

OUT_OF_RANGE = {
    "rate_hz": 5000,
    "samples_per_frame": 100,  # more than a frame (and the sampler's buffer) holds
    "poll_ms": 0,
    "history_s": -1,
    "cue_hold_s": 1e6,
    "neutral_up": [0.0, 0.0, 30.0],
    "name": "a name far too long for the advertisement",
}


def run_pod(tmp_path, spec: dict) -> dict:
    spec = dict(spec, out=str(tmp_path))
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    proc = run_micropython(["-m", "tiltguard_eval.owner_pod", str(path)], timeout=120)
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def boot_with(tmp_path, text: str, seconds: float = 3.0) -> dict:
    return run_pod(tmp_path, {"seconds": seconds, "config_text": text, "usb": {"max_frame": 512},
                              "script": [{"t": 0, "do": "usb_connect"}]})


def assert_samples_at_default_rate(r: dict, seconds: float = 3.0):
    assert r["rate_hz"] == 200
    assert r["samples"] >= 0.97 * 200 * seconds  # sampling from the start, at the default rate
    assert r["usb"]["samples"] == r["samples"]  # and every sample reached the host


@pytest.mark.parametrize("key", sorted(WRONG_TYPES))
def test_every_wrong_type_falls_back_and_the_hello_says_why(tmp_path, key):
    stored = {"rate_hz": 200, "name": "Pod-7"} if key != "name" else {"rate_hz": 200}
    stored[key] = WRONG_TYPES[key]
    r = boot_with(tmp_path, json.dumps(stored))
    assert_samples_at_default_rate(r)
    default = C.DEFAULTS[key] if key != "session" else 1  # the session counter then counts this session
    assert r["cfg"][key] == default
    (owner, notice), *_ = r["usb"]["hellos"]
    assert notice.startswith("config (1 fixed): " + key + ":"), notice
    assert key != "name" and r["cfg"]["name"] == "Pod-7" or key == "name"  # the good values are kept


@pytest.mark.parametrize("key", sorted(OUT_OF_RANGE))
def test_out_of_range_values_fall_back(tmp_path, key):
    r = boot_with(tmp_path, json.dumps({key: OUT_OF_RANGE[key]}))
    assert_samples_at_default_rate(r)
    assert r["cfg"][key] == C.DEFAULTS[key]
    assert key in r["usb"]["hellos"][0][1]


@pytest.mark.parametrize("text, reason", [("{\"rate_hz\": 2", "not JSON"), ("[1, 2, 3]", "not a JSON object"),
                                          ("{\"rate_hz\": 1000, \"samples_per_frame\": 2}", "frames/s")])
def test_unreadable_file_or_a_rate_no_link_carries(tmp_path, text, reason):
    r = boot_with(tmp_path, text)
    assert_samples_at_default_rate(r)
    assert reason in r["usb"]["hellos"][0][1]


def test_a_good_config_is_used_as_written_and_the_hello_has_no_notice(tmp_path):
    good = {"rate_hz": 100, "name": "Pod-7", "neutral_up": [0.0, 0.1, 0.995], "cue_hold_s": 15,
            "gyr_bias": [0.01, -0.02, 0.0], "samples_per_frame": 5, "session": 41}
    r = boot_with(tmp_path, json.dumps(good))
    assert r["cfg_problems"] == [] and r["usb"]["hellos"][0][1] == ""
    assert r["rate_hz"] == 100 and r["samples"] >= 0.97 * 300 and r["spf"] == 5
    assert r["cfg"]["name"] == "Pod-7" and r["cfg"]["cue_hold_s"] == 15.0 and r["cfg"]["session"] == 42


def test_set_rate_the_link_cannot_carry_is_refused_with_the_reason_and_the_stream_goes_on(tmp_path):
    # a 120-byte link holds 7 samples a frame: 1000 Hz would be 143 frames/s; 500 Hz is 72
    script = [{"t": 0, "do": "usb_connect"},
              {"t": 1, "do": "cmd", "on": "usb", "cmd": P.C_SET_RATE, "args": [1000, 8, 1000]},
              {"t": 3, "do": "cmd", "on": "usb", "cmd": P.C_SET_RATE, "args": [500, 8, 1000]},
              {"t": 3.01, "do": "cmd", "on": "usb", "cmd": P.C_PING}]
    r = run_pod(tmp_path, {"seconds": 6, "usb": {"max_frame": 120}, "script": script})
    (c1, s1, why), (c2, s2, _), _ping = r["usb"]["responses"]
    assert (c1, s1) == (P.C_SET_RATE, P.S_BAD_ARGS) and "frames/s" in why and "1000 Hz" in why
    assert (c2, s2) == (P.C_SET_RATE, P.S_OK)
    counts = dict(r["sample_counts"])
    assert counts[3] == pytest.approx(3 * 200, abs=5)  # 200 Hz until the accepted change
    assert r["rate_hz"] == 500 and r["spf"] == 7  # frames re-fitted to the link after the change
    # (before: the sensor restart went back to 10-sample frames that did not fit, and the stream stopped)
    assert r["samples"] - counts[3.01] >= 0.97 * 500 * 2.9
    assert r["usb"]["samples"] == r["samples"]


def test_rate_problem_numbers():
    assert C.rate_problem(1000, 10, 244) is None  # 100 frames/s of 10 samples
    assert "143 frames/s" in C.rate_problem(1000, 10, 120)
    assert C.rate_problem(500, 10, 120) is None
    assert "hold no sample" in C.rate_problem(200, 10, 40)


def test_the_longest_notice_still_fits_a_ble_frame():
    cfg = dict(WRONG_TYPES)
    problems = C.check(cfg)
    assert len(problems) == 16
    from tiltguard_eval import protocol_vectors as V

    info = dict(V.HELLO_INFO, boot_id=0xFFFFFFFF, owner=P.HO_OWNED, notice=C.notice(problems))
    frame = P.encode_hello(1, 0, info)
    assert len(frame) <= 244
    f = P.decode_frame(frame)
    assert f.notice.startswith("config (16 fixed): name: 42 is not text;") and f.notice.endswith(" ...")
