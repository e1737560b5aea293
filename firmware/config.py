"""Device settings: defaults, stored as JSON on the device's flash, changed over the control channel.

A stored file is checked value by value before the app uses it (types, ranges, the rate against the largest
frame a link can carry): a value that fails is replaced by its default and the reason is kept, so that the
app starts and samples whatever the file holds, and the host reads why in the hello (`notice`).
"""
import json

from tiltguard.firmware.protocol import samples_per_frame_for

VERSION = "0.1.0"  # firmware version, announced in the hello frame

DEFAULTS = {
    "name": "Tiltguard",
    "rate_hz": 200,
    "acc_range_g": 8,  # running impacts at the sacrum reach 3-5 g
    "gyr_range_dps": 1000,
    "samples_per_frame": 10,  # 50 ms of data per frame at 200 Hz
    "history_s": 60,  # resend window kept in RAM
    "poll_ms": 20,  # FIFO read interval
    "cue_enabled": True,
    "cue_threshold_deg": 10.0,  # anterior tilt above neutral
    "cue_hold_s": 20.0,  # ... sustained this long
    "cue_repeat_s": 60.0,
    "neutral_up": None,  # earth-up in the sensor frame at the stored standing neutral
    "left_axis": [0.0, 1.0, 0.0],  # sensor axis pointing to the wearer's left (docs/hardware.md)
    "gyr_bias": [0.0, 0.0, 0.0],  # rad/s, subtracted before the on-device filter only
    "session": 0,  # counter, incremented at every session start
    "autostart": False,  # start sampling at boot (bench and simulation)
}

LARGEST_FRAME = 244  # the largest frame a link gives (BLE at MTU 247; USB takes 512 but streams the same)
MAX_FRAMES_PER_S = 100  # what a BLE link carries with room for resends (docs/link.md)

def rate_problem(rate_hz, samples_per_frame, max_frame):
    """Why a link of max_frame bytes cannot carry rate_hz (None if it can): the samples that fit a frame
    (at most samples_per_frame) make more frames a second than a link carries, or not even one fits."""
    fit = samples_per_frame_for(max_frame)
    if fit < 1:
        return "frames of %d bytes hold no sample" % max_frame
    spf = samples_per_frame if samples_per_frame < fit else fit
    fps = (rate_hz + spf - 1) // spf
    if fps > MAX_FRAMES_PER_S:
        return "%d Hz in %d-sample frames is %d frames/s, over the link's %d" % (rate_hz, spf, fps,
                                                                               MAX_FRAMES_PER_S)
    return None


def check(cfg, max_frame=LARGEST_FRAME):
    """Fix cfg in place: every value that fails its rule goes back to its default. Returns the reasons.
    The rules live in firmware/config_check.py, loaded for the check and dropped after: boot-time code, and
    an ESP32 without PSRAM has ~110 kB of heap for everything else."""
    import sys

    import tiltguard.firmware as pkg
    from tiltguard.firmware import config_check

    try:
        return config_check.check(cfg, max_frame, DEFAULTS, rate_problem)
    finally:
        sys.modules.pop("tiltguard.firmware.config_check", None)
        try:
            delattr(pkg, "config_check")
        except AttributeError:
            pass


def load_checked(path):
    """(settings, reasons): the stored file over the defaults, checked; a missing file is a first boot."""
    cfg = dict(DEFAULTS)
    problems = []
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return cfg, problems  # first boot: defaults, nothing to report
    try:
        stored = json.loads(text)
    except ValueError:
        return cfg, ["config file is not JSON, using defaults"]
    if not isinstance(stored, dict):
        return cfg, ["config file is not a JSON object, using defaults"]
    for k in stored:
        if k in cfg:
            cfg[k] = stored[k]
    problems.extend(check(cfg))
    return cfg, problems


def load(path):
    return load_checked(path)[0]


NOTICE_MAX = 120  # bytes: with the rest of the hello (~110) it fits a 244-byte BLE frame


def notice(problems):
    """The reasons as one line for the hello, cut to NOTICE_MAX bytes (the first reasons are whole)."""
    if not problems:
        return ""
    s = "config (%d fixed): %s" % (len(problems), "; ".join(problems))
    if len(s.encode()) > NOTICE_MAX:
        while len(s.encode()) > NOTICE_MAX - 4:
            s = s[: len(s) - 4]
        s += " ..."
    return s


def save(path, cfg):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cfg, f)
    import os

    try:
        os.remove(path)
    except OSError:
        pass
    os.rename(tmp, path)  # a power cut leaves either the old or the new file, never half of one
