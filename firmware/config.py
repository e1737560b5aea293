"""Device settings: defaults, stored as JSON on the device's flash, changed over the control channel."""
import json

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


def load(path):
    cfg = dict(DEFAULTS)
    try:
        with open(path) as f:
            stored = json.load(f)
        for k in stored:
            if k in cfg:
                cfg[k] = stored[k]
    except (OSError, ValueError):
        pass  # first boot or a damaged file: defaults
    return cfg


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
