"""The host's commands (docs/protocol.md), one small handler each, registered with the core by code.

A handler is handler(dev, link, frame): `frame.args` are the decoded arguments, and the handler answers
with dev.respond(link, frame, status, data). Only the log delete is `async def`: it checksums a whole file
and yields to the event loop between chunks so that sampling goes on.

Only the owner controls the pod: every command but OPEN_COMMANDS needs a bonded link (a USB cable counts as
one) and is answered S_NOT_BONDED otherwise (docs/firmware.md, "Only the owner controls the pod").
"""
import struct

from tiltguard.firmware import config as cfgmod
from tiltguard.firmware import protocol as P

LOG_LIST_MAX = 40  # logs listed in one response
OPEN_COMMANDS = (P.C_PING, P.C_HELLO)  # what anyone in range may ask: is it there, what is it


def ping(dev, link, f):
    dev.respond(link, f, P.S_OK, struct.pack("<I", dev.now_us() & 0xFFFFFFFF))


def hello(dev, link, f):
    dev.respond(link, f, P.S_OK)
    if link is dev.link:
        dev.send_hello()
    else:  # a link without the stream (a stranger, or BLE beside a USB recording): the hello only to it
        info = dev.hello_info(link)
        info["boot_id"] = getattr(dev, "boot_id", None)
        link.send(P.encode_hello(dev.seq, dev.dev_us, info))


def start(dev, link, f):
    dev.start()
    dev.respond(link, f, P.S_OK)


def stop(dev, link, f):
    dev.stop()
    dev.respond(link, f, P.S_OK)


def resend(dev, link, f):
    first, last = f.args
    r = dev.resender.request(first, last)
    if r is None:
        dev.respond(link, f, P.S_BAD_ARGS)
        return
    status, oldest, queued = r
    dev.respond(link, f, status, struct.pack("<IH", oldest, queued))


def neutral(dev, link, f):
    dev.posture.start_capture()
    dev.respond(link, f, P.S_OK)


def set_cue(dev, link, f):
    enabled, thr, hold_ms = f.args
    dev.cfg["cue_enabled"] = bool(enabled)
    dev.cfg["cue_threshold_deg"] = thr / 100.0
    dev.cfg["cue_hold_s"] = hold_ms / 1000.0
    dev.posture.apply_cue_cfg()
    dev.save_cfg()
    dev.respond(link, f, P.S_OK)


def set_rate(dev, link, f):
    """Refused, with the reason as the response's data, if the stream link could not carry the rate."""
    rate, acc_g, gyr_dps = f.args
    if not 12 <= rate <= 1000:
        dev.respond(link, f, P.S_BAD_ARGS, b"rate outside 12..1000 Hz")
        return
    frame = dev.link.max_frame if dev.link is not None else link.max_frame
    why = cfgmod.rate_problem(rate, dev.cfg["samples_per_frame"], frame)
    if why:
        dev.respond(link, f, P.S_BAD_ARGS, why.encode())
        return
    was = dev.running
    dev.stop()
    dev.cfg["rate_hz"] = rate
    dev.cfg["acc_range_g"] = acc_g
    dev.cfg["gyr_range_dps"] = gyr_dps
    dev.save_cfg()
    dev.sampler.start_sensor()
    if dev.link is not None:
        dev.sampler.fit_frames(dev.link.max_frame)  # start_sensor went back to the configured frame size
    dev.respond(link, f, P.S_OK)
    if was:
        dev.start()
    else:
        dev.send_hello()


def buzz(dev, link, f):
    """The host's pattern (a drill's rep count): refused with the rule when it breaks it, S_BUSY while the
    host's last pattern still plays."""
    n = f.args[0]
    pattern = f.args[1 : 1 + n]
    if n > P.BUZZ_STEPS or not P.buzz_ok(pattern):
        dev.respond(link, f, P.S_BAD_ARGS, P.BUZZ_RULE.encode())
        return
    dev.respond(link, f, P.S_OK if dev.buzzer.play_host(pattern) else P.S_BUSY)


def log_list(dev, link, f):
    logs = dev.log.list()[:LOG_LIST_MAX]
    data = bytearray([len(logs)])
    for lid, size in logs:
        data.extend(struct.pack("<HI", lid, size))
    dev.respond(link, f, P.S_OK, data)


def log_read(dev, link, f):
    lid, offset, length = f.args
    room = link.max_frame - P.OVERHEAD - 2 - 6
    length = length if length < room else room
    try:
        chunk = dev.log.read(lid, offset, length)
    except OSError:
        dev.respond(link, f, P.S_NOT_FOUND)
        return
    dev.stats["log_read_bytes"] = dev.stats.get("log_read_bytes", 0) + len(chunk)  # sync resumes: nothing twice
    dev.respond(link, f, P.S_OK, struct.pack("<HI", lid, offset) + chunk)


async def log_delete(dev, link, f):
    """Only for a bonded host, only a finished log, only if the host's copy has the file's size and CRC."""
    lid, size, crc = f.args
    log = dev.log
    if not link.bonded:
        dev.respond(link, f, P.S_NOT_BONDED)
        return
    if log.size(lid) < 0:
        dev.respond(link, f, P.S_NOT_FOUND)
        return
    if lid == log.current:
        dev.respond(link, f, P.S_BUSY)
        return
    for _ in log.crc(lid):
        await dev.board.sleep_ms(0)  # long files: keep sampling between chunks
    if log.size(lid) != size or log._last_crc != crc:
        dev.respond(link, f, P.S_CRC_MISMATCH)
        return
    dev.respond(link, f, P.S_OK if log.delete(lid) else P.S_NOT_FOUND)


def forget(dev, link, f):
    """The owner lets go: every bond is deleted; the pod is open to pairing again (in a pairing window)."""
    dev.respond(link, f, P.S_OK)
    dev.owner.forget()


def exit_app(dev, link, f):
    dev.respond(link, f, P.S_OK)
    dev.stop()
    dev.exit = True


def owner_only(handler):
    """handler, answered S_NOT_BONDED on a link that is not bonded (an async handler stays async)."""

    def guarded(dev, link, f):
        if not link.bonded:
            dev.respond(link, f, P.S_NOT_BONDED)
            return None
        return handler(dev, link, f)

    return guarded


def register_all(dev):
    def r(cmd, handler):
        dev.register(cmd, handler if cmd in OPEN_COMMANDS else owner_only(handler))

    r(P.C_PING, ping)
    r(P.C_HELLO, hello)
    r(P.C_START, start)
    r(P.C_STOP, stop)
    r(P.C_RESEND, resend)
    r(P.C_NEUTRAL, neutral)
    r(P.C_SET_CUE, set_cue)
    r(P.C_SET_RATE, set_rate)
    r(P.C_BUZZ, buzz)
    r(P.C_LOG_LIST, log_list)
    r(P.C_LOG_READ, log_read)
    r(P.C_LOG_DELETE, log_delete)
    r(P.C_FORGET, forget)
    r(P.C_EXIT, exit_app)
