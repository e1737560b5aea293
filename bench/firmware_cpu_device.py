# Runs on the MicroPython unix port (bench/firmware_cpu.py starts it): times the device app's per-sample work.
import gc
import json
import sys
import time
from array import array

from tiltguard.firmware import protocol as P
from tiltguard.firmware.cadence import CadenceCounter
from tiltguard.firmware.cue import Neutral, TiltCue
from tiltguard.firmware.flashlog import FlashLog
from tiltguard.firmware.fusion import Mahony
from tiltguard.firmware.history import FrameHistory
from tiltguard.sensors.base import unpack_samples


def per_call_us(fn, reps):
    gc.collect()
    t0 = time.ticks_us()
    for _ in range(reps):
        fn()
    return time.ticks_diff(time.ticks_us(), t0) / reps


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    n = 4  # samples per FIFO read at 200 Hz, 20 ms poll
    fifo = bytearray(16 * n)
    for i in range(len(fifo)):
        fifo[i] = (i * 37) & 0xFF
    raw = array("h", bytes(12 * 32))
    f = Mahony()
    f.reset_from_accel(0.0, 0.0, 9.8)
    cad = CadenceCounter()
    hist = FrameHistory(200000, 1300)
    frame_raw = array("h", range(60))
    seq = [0]

    def unpack():
        unpack_samples(fifo, n, 16, 1, 7, True, raw, 0)

    def fuse():
        for i in range(n):
            f.update(0.01, -0.02, 0.005, 0.3, 0.1, 9.7, 0.005)

    def cadence():
        cad.update(raw, n, 0.0024, 0.0, 0.0, 1.0, 0.005)

    def frame():
        s = seq[0]
        seq[0] += 1
        fr = P.encode_samples(s, s * 50000, s * 10, 5000000, 3000, frame_raw, 10, f.q)
        hist.add(s, fr)

    # the posture cue, once per FIFO block (tilt from the fused up vector, smoothing, hold timer)
    neutral = Neutral((0.1, 0.0, 0.99))
    cue = TiltCue()

    def posture_cue():
        cue.update(neutral.tilt_deg((0.2, 0.01, 0.98)), n * 0.005)

    # the compressed flash log: frames of a noisy random walk (like a run: ~7 bits per value), coded as
    # they come and written in 4 kB blocks
    state = [12345]
    walk = [0] * 6

    def rnd():
        state[0] = (state[0] * 1103515245 + 12345) & 0x7FFFFFFF
        return (state[0] >> 16) % 201 - 100

    log_frames = []
    for k in range(64):
        vals = []
        for i in range(10):
            for a in range(6):
                walk[a] = max(-30000, min(30000, walk[a] + rnd()))
                vals.append(walk[a])
        log_frames.append(P.encode_samples(k, k * 50000, k * 10, 5000000, 3000, vals, 10, (1.0, 0.0, 0.0, 0.0)))
    try:
        import os
        os.mkdir("/tmp/tiltguard-cpu-bench")
    except OSError:
        pass
    log = FlashLog("/tmp/tiltguard-cpu-bench", reserve_bytes=0)
    log.open_new()
    k = [0]

    def log_append():
        log.append(log_frames[k[0] & 63])
        k[0] += 1

    rows = {
        "fifo_unpack": per_call_us(unpack, reps) / n,
        "fusion": per_call_us(fuse, reps) / n,
        "cadence": per_call_us(cadence, reps) / n,
        "frame_encode_and_history": per_call_us(frame, reps) / 10,
        "posture_cue": per_call_us(posture_cue, reps) / n,
        "log_compress_and_write": per_call_us(log_append, reps) / 10,
    }
    log.close()
    for lid, _ in log.list():
        log.delete(lid)
    rows["total"] = sum(rows.values())
    print(json.dumps({"per_sample_us": rows, "mem_free": gc.mem_free()}))


main()
