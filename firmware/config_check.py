"""The rules a stored config.json is checked against (firmware/config.py `check` loads this module for the
check at boot and drops it after). A value that fails its rule goes back to its default, with the reason."""
from tiltguard.firmware.protocol import samples_per_frame_for

FRAME_BUFFER_SAMPLES = 64  # the sampler's frame buffer
NAME_MAX = 20  # the scan response holds flags, two 16-bit services and the name in 31 bytes

# key -> (kind, low, high): "int"/"num" with an inclusive range, "bool", "name", "vec3" (|v| in range),
# "vec3?" (a vec3 or null)
RULES = {
    "name": ("name", 1, NAME_MAX),
    "rate_hz": ("int", 12, 1000),
    "acc_range_g": ("int", 2, 16),
    "gyr_range_dps": ("int", 125, 2000),
    "samples_per_frame": ("int", 1, FRAME_BUFFER_SAMPLES),
    "history_s": ("int", 1, 600),
    "poll_ms": ("int", 5, 100),
    "cue_enabled": ("bool", 0, 0),
    "cue_threshold_deg": ("num", 1.0, 45.0),
    "cue_hold_s": ("num", 1.0, 600.0),
    "cue_repeat_s": ("num", 5.0, 3600.0),
    "neutral_up": ("vec3?", 0.5, 1.5),  # a unit vector as stored; far from 1 it is not one
    "left_axis": ("vec3", 0.5, 1.5),
    "gyr_bias": ("vec3", 0.0, 0.5),  # rad/s: a MEMS gyro's bias is a few hundredths
    "session": ("int", 0, 0xFFFFFFFF),
    "autostart": ("bool", 0, 0),
}


def _number(v):
    return (isinstance(v, int) or isinstance(v, float)) and not isinstance(v, bool)


def _short(v):
    s = repr(v)
    return s if len(s) <= 24 else s[:21] + "..."


def check_value(key, v, default):
    """(value to use, reason or None): the value itself (ints made int) if it passes its rule."""
    kind, lo, hi = RULES[key]
    if kind == "bool":
        if isinstance(v, bool):
            return v, None
        return default, "%s: %s is not true/false" % (key, _short(v))
    if kind == "name":
        if not isinstance(v, str):
            return default, "name: %s is not text" % _short(v)
        n = len(v.encode())
        if not lo <= n <= hi or [c for c in v if ord(c) < 32 or ord(c) == 127]:
            return default, "name: %s is not 1-%d printable bytes" % (_short(v), hi)
        return v, None
    if kind in ("int", "num"):
        if not _number(v):
            return default, "%s: %s is not a number" % (key, _short(v))
        if kind == "int":
            if isinstance(v, float):
                if v != v or v in (float("inf"), float("-inf")) or v != int(v):
                    return default, "%s: %s is not a whole number" % (key, _short(v))
                v = int(v)
        if not lo <= v <= hi:  # NaN fails this too
            return default, "%s: %s is outside %s..%s" % (key, _short(v), lo, hi)
        return (float(v) if kind == "num" else v), None
    # vectors
    if v is None and kind == "vec3?":
        return None, None
    if not isinstance(v, list) or len(v) != 3 or [c for c in v if not _number(c)]:
        return default, "%s: %s is not a list of 3 numbers" % (key, _short(v))
    norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) ** 0.5
    if not lo <= norm <= hi:
        return default, "%s: length %.3g is outside %s..%s" % (key, norm, lo, hi)
    return [float(c) for c in v], None


def check(cfg, max_frame, defaults, rate_problem):
    """Fix cfg in place (see firmware/config.py `check`). Returns the reasons."""
    problems = []
    for key in RULES:
        v, why = check_value(key, cfg.get(key, defaults[key]), defaults[key])
        cfg[key] = v
        if why:
            problems.append(why)
    fit = samples_per_frame_for(max_frame)
    if cfg["samples_per_frame"] > fit:
        problems.append("samples_per_frame: %d do not fit a %d-byte frame, using %d" % (
            cfg["samples_per_frame"], max_frame, defaults["samples_per_frame"]))
        cfg["samples_per_frame"] = defaults["samples_per_frame"]
    why = rate_problem(cfg["rate_hz"], cfg["samples_per_frame"], max_frame)
    if why:
        problems.append("rate_hz: " + why + ", using %d" % defaults["rate_hz"])
        cfg["rate_hz"] = defaults["rate_hz"]
    return problems
