"""Ground-truth simulator of a sacrum-worn IMU (see docs/simulator.md).

    rec, truth = simulate("easy-run-neutral", minutes=10, rate_hz=200, seed=1)

`rec` is what the sensor would deliver (host.samples.RawRecording, sensor frame, with errors);
`truth` is what really happened (host.simulator.truth.Truth).
"""
from __future__ import annotations

from dataclasses import asdict

import numpy as np
from threadpoolctl import threadpool_limits
from tiltguard.host.samples import RawRecording
from tiltguard.host.simulator.motion import GAIT_KINDS, MotionPlan, plan_motion
from tiltguard.host.simulator.scenarios import (
    SCENARIOS,
    Mount,
    Scenario,
    Segment,
    SensorErrors,
    get_scenario,
)
from tiltguard.host.simulator.sensor_errors import SensorErrorModel
from tiltguard.host.simulator.truth import ACTIVITIES, Truth

__all__ = [
    "ACTIVITIES", "SCENARIOS", "Mount", "Scenario", "Segment", "SensorErrors", "Truth", "get_scenario", "simulate",
]

MIN_RATE_HZ, MAX_RATE_HZ = 50.0, 1000.0
CHUNK_S = 30.0  # evaluate in chunks so an hour-long session stays within a few hundred MB


def simulate(
    scenario: str | Scenario,
    minutes: float | None = None,
    rate_hz: float = 200.0,
    seed: int = 0,
    errors: SensorErrors | None = None,
) -> tuple[RawRecording, Truth]:
    """Simulate `scenario` (a name from SCENARIOS or a Scenario). `minutes` stretches its main part;
    `errors` overrides the scenario's sensor errors (SensorErrors.none() for an ideal sensor)."""
    sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise ValueError(f"rate {rate_hz} Hz is outside the simulator's {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz")
    rng = np.random.default_rng(seed)
    segments = sc.timed_segments(minutes)
    plan = plan_motion(sc, segments, rng)
    sensor = SensorErrorModel(errors or sc.errors, plan.times.duration, rng)

    n = int(np.floor(plan.times.duration * rate_hz))
    t_nominal = np.arange(n) / rate_hz
    t_true = sensor.sampling_instants(t_nominal)
    out = _allocate(n)
    step = int(CHUNK_S * rate_hz)
    # The per-chunk matrix products are thin (n x 24 @ 24 x 18): BLAS threads only add hand-off cost,
    # and on a busy 2-core machine they made the whole simulation 3x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        for a in range(0, n, step):
            sl = slice(a, min(a + step, n))
            _fill_chunk(out, sl, plan, sensor, t_true[sl], rate_hz)

    meta = {
        "scenario": sc.name,
        "seed": seed,
        "mount": asdict(segments[0].mount or sc.mount),
        "neutral_tilt_deg": sc.neutral_tilt_deg,
        "source": "tiltguard simulator",
    }
    rec = RawRecording(t_nominal, out.pop("meas_acc"), out.pop("meas_gyr"), rate_hz, "sim-imu",
                       temp_c=out.pop("temp_c"), meta=meta)
    truth = Truth(
        t=t_true,
        ic_times=plan.ic_times,
        ic_sides=plan.ic_sides,
        neutral_tilt=plan.neutral_tilt,
        segments=_segment_table(plan),
        acc_bias=sensor.acc_bias.copy(),
        acc_scale=sensor.acc_scale.copy(),
        **out,
    )
    return rec, truth


# (columns, dtype) of every per-sample array. What the consistency checks need stays float64; the
# rest is float32 (1e-7 relative is far below any sensor's resolution) so an hour fits in < 300 MB.
_FIELDS = {
    "quat_pelvis": (4, np.float64), "acc_earth": (3, np.float32), "clean_acc": (3, np.float32),
    "clean_gyr": (3, np.float64), "tilt": (1, np.float32), "obliquity": (1, np.float32),
    "lean": (1, np.float32),
    "rotation": (1, np.float32), "meas_acc": (3, np.float64), "meas_gyr": (3, np.float64),
    "quat_mount": (4, np.float32), "vel_earth": (3, np.float32), "gyro_bias": (3, np.float32),
    "tilt_mean": (1, np.float32), "heading": (1, np.float32), "cadence_spm": (1, np.float32),
    "pedal_rpm": (1, np.float32), "temp_c": (1, np.float32), "activity": (1, np.int8),
}


def _allocate(n: int) -> dict[str, np.ndarray]:
    return {name: np.empty((n, cols) if cols > 1 else n, dtype=dtype) for name, (cols, dtype) in _FIELDS.items()}


def _fill_chunk(out: dict, sl: slice, plan: MotionPlan, sensor: SensorErrorModel, t: np.ndarray, rate_hz: float):
    m = plan.evaluate(t)
    for name in ("tilt", "tilt_mean", "obliquity", "lean", "rotation", "heading", "acc_earth", "vel_earth"):
        out[name][sl] = m[name]
    for name in ("quat_pelvis", "quat_mount"):
        q = m[name]  # scipy x y z w -> w x y z, sign fixed to w >= 0
        q = np.concatenate([q[:, 3:], q[:, :3]], axis=1)
        out[name][sl] = q * np.where(q[:, :1] < 0, -1.0, 1.0)
    out["clean_acc"][sl], out["clean_gyr"][sl] = m["acc"], m["gyr"]
    out["gyro_bias"][sl] = sensor.gyro_bias(t)
    out["meas_acc"][sl], out["meas_gyr"][sl], out["temp_c"][sl] = sensor.apply(t, m["acc"], m["gyr"], rate_hz)

    weights = np.stack([plan.presence(k, t) for k in GAIT_KINDS + ("bend",)], axis=1)
    weights = np.concatenate([1.0 - weights.sum(axis=1, keepdims=True), weights], axis=1)
    activity = np.argmax(weights, axis=1).astype(np.int8)  # still, walking, running, riding, other
    out["activity"][sl] = activity
    cycles_per_min = m["theta_rate"] * 60.0 / (2 * np.pi)
    gait = (activity == ACTIVITIES.index("walking")) | (activity == ACTIVITIES.index("running"))
    out["cadence_spm"][sl] = np.where(gait, 2 * cycles_per_min, 0.0)
    out["pedal_rpm"][sl] = np.where(activity == ACTIVITIES.index("riding"), cycles_per_min, 0.0)


def _segment_table(plan: MotionPlan) -> list[dict]:
    rows = []
    for seg, start, end in zip(plan.times.segments, plan.times.starts, plan.times.ends):
        row = {k: v for k, v in asdict(seg).items() if v not in (None, 0.0, False) and k not in ("seconds", "stretch")}
        row.update(start_s=float(start), end_s=float(end))
        rows.append(row)
    return rows
