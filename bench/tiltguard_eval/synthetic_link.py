"""Protocol frames made directly from a RawRecording (no device app): for store tests and the kill -9
test, where the point is what the host does with frames, not how the device makes them."""
from __future__ import annotations

import math

import numpy as np
from tiltguard.firmware import protocol as P
from tiltguard.host.samples import GRAVITY, RawRecording


def scales(acc_range_g: int = 8, gyr_range_dps: int = 1000) -> tuple[float, float]:
    return acc_range_g * GRAVITY / 32768.0, math.radians(gyr_range_dps) / 32768.0


def recording_frames(rec: RawRecording, samples_per_frame: int = 10, session: int = 1, first_seq: int = 0,
                     t0_us: int = 0, name: str = "Tiltguard-synth"):
    """Yield (seq, frame bytes): a hello, then sample frames of samples_per_frame samples each."""
    acc_scale, gyr_scale = scales()
    info = {"session": session, "rate_hz": int(round(rec.rate_hz)), "acc_range_g": 8, "gyr_range_dps": 1000,
            "acc_scale": acc_scale, "gyr_scale": gyr_scale, "max_frame": 244, "samples_per_frame": samples_per_frame,
            "history_s": 60, "gyr_bias": (0.0, 0.0, 0.0), "neutral": None, "firmware": "synthetic",
            "sensor": rec.sensor_model, "name": name}
    seq = first_seq
    yield seq, bytes(P.encode_hello(seq, t0_us, info))
    raw = np.hstack([rec.acc / acc_scale, rec.gyr / gyr_scale])
    raw = np.clip(np.rint(raw), -32768, 32767).astype(np.int16)
    period_ns = int(round(1e9 / rec.rate_hz))
    for k in range(0, len(rec), samples_per_frame):
        n = min(samples_per_frame, len(rec) - k)
        seq += 1
        t_us = t0_us + int(round(rec.t[k] * 1e6))
        yield seq, bytes(P.encode_samples(seq, t_us, k, period_ns, 2400, raw[k : k + n].ravel().tolist(), n))
