# Runs on the MicroPython unix port (bench/firmware_cpu.py starts it): times the device app's per-sample work.
import gc
import json
import sys
import time
from array import array

from tiltguard.firmware import protocol as P
from tiltguard.firmware.cadence import CadenceCounter
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

    rows = {
        "fifo_unpack": per_call_us(unpack, reps) / n,
        "fusion": per_call_us(fuse, reps) / n,
        "cadence": per_call_us(cadence, reps) / n,
        "frame_encode_and_history": per_call_us(frame, reps) / 10,
    }
    rows["total"] = sum(rows.values())
    print(json.dumps({"per_sample_us": rows, "mem_free": gc.mem_free()}))


main()
