"""Stream frames as the device would send them, from any recording re-quantised to a chip's int16 LSB: the
input of the flash-log codec's tests and of bench/flashlog.py.

The frames come from the firmware's own encoder (firmware/protocol.py): 10 samples per frame with the
device's quaternion (here a Mahony-like integration of the gyro, quantised as the device does), a hello first,
a battery event every 30 s and a temperature that drifts, so every header field the codec predicts varies as
it does on the device.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tiltguard.firmware import protocol as P

G = 9.80665


@dataclass(frozen=True)
class Chip:
    """A supported IMU at the firmware's default ranges (8 g, 1000 dps), its datasheet sensitivities."""

    model: str
    acc_lsb_per_g: float
    gyr_lsb_per_dps: float


CHIPS = (
    Chip("MPU-6886", 4096.0, 32.8),  # sensors/mpu6xxx.py, M5StickC Plus2
    Chip("ICM-42688-P", 4096.0, 32.8),  # sensors/icm42688.py
    Chip("LSM6DSOX", 1000.0 / 0.244, 1000.0 / 35.0),  # sensors/lsm6ds.py (0.244 mg, 35 mdps per LSB)
)


def quantise(acc_mps2: np.ndarray, gyr_radps: np.ndarray, chip: Chip) -> np.ndarray:
    """(N, 6) int16 samples as the chip would report them (clipped at its range)."""
    a = np.round(np.asarray(acc_mps2) / G * chip.acc_lsb_per_g)
    g = np.round(np.degrees(np.asarray(gyr_radps)) * chip.gyr_lsb_per_dps)
    return np.clip(np.hstack([a, g]), -32768, 32767).astype(np.int64)


def _quats(gyr_radps: np.ndarray, rate_hz: float) -> np.ndarray:
    """Unit quaternions integrating the gyro (the device's orientation is smooth like this)."""
    q = np.array([1.0, 0.0, 0.0, 0.0])
    out = np.empty((len(gyr_radps), 4))
    dt = 1.0 / rate_hz
    for i, w in enumerate(np.asarray(gyr_radps, dtype=float)):
        wx, wy, wz = w * 0.5 * dt
        q = q + np.array([-q[1] * wx - q[2] * wy - q[3] * wz, q[0] * wx + q[2] * wz - q[3] * wy,
                          q[0] * wy - q[1] * wz + q[3] * wx, q[0] * wz + q[1] * wy - q[2] * wx])
        q /= np.linalg.norm(q)
        out[i] = q
    return out


def device_frames(raw: np.ndarray, rate_hz: float, chip: Chip, gyr_radps: np.ndarray | None = None,
                  spf: int = 10, quat: bool = True, seed: int = 0) -> list[bytes]:
    """The frames a device streams for these int16 samples (hello first, battery events, jittered t_us)."""
    rng = np.random.default_rng(seed)
    period_ns = int(1e9 / rate_hz)
    info = {"session": 7, "rate_hz": int(round(rate_hz)), "acc_range_g": 8, "gyr_range_dps": 1000,
            "acc_scale": G / chip.acc_lsb_per_g, "gyr_scale": np.radians(1.0) / chip.gyr_lsb_per_dps,
            "max_frame": 244, "samples_per_frame": spf, "history_s": 60, "gyr_bias": (0.0, 0.0, 0.0),
            "neutral": None, "firmware": "0.1.0", "sensor": chip.model, "name": "Tiltguard"}
    frames = [bytes(P.encode_hello(0, 0, info))]
    seq = 1
    if quat:
        gyr = gyr_radps if gyr_radps is not None else raw[:, 3:] * np.radians(1.0) / chip.gyr_lsb_per_dps
        qs = _quats(gyr, rate_hz)
    next_event = 0.0
    temp = 2500
    for i in range(0, len(raw), spf):
        n = min(spf, len(raw) - i)
        t_s = i / rate_hz
        t_us = int(t_s * 1e6 + rng.integers(-300, 300)) + 1000
        if t_s >= next_event:
            frames.append(bytes(P.encode_event(seq, t_us, P.E_BATTERY, 90, 4050)))
            seq += 1
            next_event += 30.0
        if rng.random() < 0.02:
            temp += int(rng.integers(-3, 4))
        q = tuple(qs[i + n - 1]) if quat else None
        frames.append(bytes(P.encode_samples(seq, t_us, i, period_ns, temp, raw[i : i + n].ravel().tolist(), n,
                                             quat=q)))
        seq += 1
    return frames


def frames_file(frames: list[bytes]) -> bytes:
    """`u16 length | frame` per frame: the input of tests/mpy/encode_log.py."""
    return b"".join(len(f).to_bytes(2, "little") + f for f in frames)


def samples_in(frames: list[bytes]) -> int:
    return sum(f[21] for f in frames if f[1] == P.T_SAMPLES)
