"""On the MicroPython unix port: write frames (a file of `u16 length | frame`) into a flash log with the
device's own FlashLog, then print one JSON line of what happened and how long the encoder took.

    micropython tests/mpy/encode_log.py FRAMES ROOT [viper|plain|none] [block_size]

plain: firmware/riceenc.py compiled without its viper decorator (bytecode, as on a port without the
emitter); none: plain (uncompressed) blocks.
"""
import json
import sys
import time

from tiltguard.firmware import riceenc
from tiltguard.firmware.flashlog import FlashLog

frames_path, root = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "viper"
block = int(sys.argv[4]) if len(sys.argv) > 4 else 4096
if mode == "plain":
    src = open(riceenc.__file__).read().replace("@micropython.viper\n", "")
    ns = {"__name__": "riceenc_plain", "ptr8": lambda b: b, "ptr32": lambda b: b}  # casts become no-ops
    exec(src, ns)
    riceenc.code_group = ns["code_group"]

frames = []
with open(frames_path, "rb") as f:
    data = f.read()
p = 0
while p < len(data):
    n = data[p] | (data[p + 1] << 8)
    frames.append(data[p + 2 : p + 2 + n])
    p += 2 + n

log = FlashLog(root, block_size=block, reserve_bytes=0, compress=mode != "none")
lid = log.open_new()
samples = 0
us = 0
for fr in frames:
    t0 = time.ticks_us()
    log.append(fr)
    us += time.ticks_diff(time.ticks_us(), t0)
    if fr[1] == 2:
        samples += fr[21]
log.close()
print(json.dumps({"log_id": lid, "frames": len(frames), "samples": samples, "blocks": log.blocks_written,
                  "bytes": log.size(lid), "append_us_per_sample": us / max(1, samples), "mode": mode}))
