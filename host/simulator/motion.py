"""Pelvis kinematics: from a scenario's segments to the true orientation and acceleration of the sacrum.

Two stages:
  plan_motion  - builds every slow quantity on a knot grid (presence of each activity, cycle phase,
                 amplitudes, mean tilt, heading, speed, grade, mounting) as cubic splines, and the
                 true initial contacts;
  MotionPlan.evaluate - evaluates the splines at any instants and assembles orientation, angular
                 velocity and specific force, chunk by chunk, with exact derivatives.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation
from scipy.special import ndtr
from tiltguard.host.frames import body_rate_zxy, quat_multiply, rotation_from_angles
from tiltguard.host.samples import GRAVITY
from tiltguard.host.simulator.cycle_shapes import (
    CHANNELS,
    evaluate_shapes,
    gait_shapes,
    harmonic_basis,
    min_curvature,
    obliquity_offset,
)
from tiltguard.host.simulator.scenarios import Mount, Scenario, Segment
from tiltguard.host.simulator.smooth import (
    KnotGrid,
    Smooth,
    evaluate,
    piecewise_smooth,
    smooth_noise,
    smooth_ramp,
)

GAIT_KINDS = ("walk", "run", "ride")
# Fore-aft velocity swing (m/s, peak) and side-to-side sway (m, peak) of the sacrum per activity.
FORWARD_SWING = {"walk": 0.12, "run": 0.25, "ride": 0.0}
LATERAL_SWAY = {"walk": 0.025, "run": 0.012, "ride": 0.003}
GRADE_LEAN = 0.3  # extra anterior tilt per unit of slope angle (forward lean uphill, back downhill)
IMPACT_WIDTH_S = 0.008  # foot-strike transient: Gaussian width of the sacrum's vertical spike
IMPACT_DELAY_S = 0.012  # the spike peaks this long after initial contact
TRANSITION_S = {"bend": 1.5, "default": 2.5}  # how long the body takes to change what it does
STATIC_ACTIVITIES = ("stand", "bend")


@dataclass
class SegmentTimes:
    segments: tuple[Segment, ...]
    starts: np.ndarray
    ends: np.ndarray

    @property
    def duration(self) -> float:
        return float(self.ends[-1])


def _segment_times(segments: tuple[Segment, ...]) -> SegmentTimes:
    ends = np.cumsum([s.seconds for s in segments])
    return SegmentTimes(segments, np.concatenate([[0.0], ends[:-1]]), ends)


def _carry_cycle_rate(segments: tuple[Segment, ...]) -> np.ndarray:
    """Cycle frequency (Hz) per segment; standing keeps a neighbour's rate so the phase never stalls."""
    rate = np.array(
        [s.value("cadence") / (60.0 if s.kind == "ride" else 120.0) if s.kind in GAIT_KINDS else np.nan for s in segments]
    )
    if np.all(np.isnan(rate)):
        return np.full(len(segments), 1.0)
    idx = np.arange(len(rate))
    valid = ~np.isnan(rate)
    return np.interp(idx, idx[valid], rate[valid])


def _mounts(scenario: Scenario, segments: tuple[Segment, ...]) -> list[Mount]:
    current, out = scenario.mount, []
    for seg in segments:
        current = seg.mount or current
        out.append(current)
    return out


@dataclass
class MotionPlan:
    scenario: Scenario
    times: SegmentTimes
    splines: dict[str, CubicSpline]
    shapes: dict[str, np.ndarray]
    ic_times: np.ndarray
    ic_sides: np.ndarray  # 'L' / 'R'
    ic_impact: np.ndarray  # peak of each contact's jolt, m/s²
    neutral_tilt: float  # rad, absolute standing tilt

    @property
    def kinds_present(self) -> tuple[str, ...]:
        return tuple(k for k in GAIT_KINDS if any(s.kind == k for s in self.times.segments))

    # ----------------------------------------------------------------------------------------------
    def _s(self, name: str, t: np.ndarray) -> Smooth:
        return evaluate(self.splines[name], t)

    def presence(self, kind: str, t: np.ndarray) -> np.ndarray:
        return self.splines[f"presence_{kind}"](t)

    def evaluate(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Truth at instants t (s): angles, orientations, body rates and specific force."""
        theta = self._s("theta", t)
        basis = harmonic_basis(theta.v)

        # Periodic channels: sum over activities of amplitude envelope x cycle shape (chain rule in θ).
        channels = {name: Smooth(np.zeros_like(t), np.zeros_like(t), np.zeros_like(t)) for name in CHANNELS}
        for kind in self.kinds_present:
            p0, p1, p2 = evaluate_shapes(self.shapes[kind], basis)
            for j, name in enumerate(CHANNELS):
                shape = Smooth(p0[:, j], p1[:, j] * theta.d1, p2[:, j] * theta.d1**2 + p1[:, j] * theta.d2)
                channels[name] = channels[name] + self._s(f"amp_{kind}_{name}", t).times(shape)

        tilt = channels["tilt"] + self._s("tilt_mean", t)
        obliquity = channels["obliquity"] + self._s("obliquity_offset", t)
        rotation = channels["rotation"] + self._s("rotation_offset", t)
        heading = self._s("heading", t)
        yaw = heading + rotation
        # In a turn the whole body leans in (left > 0) so that gravity and the centripetal force pass
        # through the feet; the pelvis leans with it. `obliquity` stays the pelvis against the body's lean.
        lean = self._s("lean", t)
        roll = obliquity + lean.scaled(-1.0)

        rot_pelvis = rotation_from_angles(yaw.v, roll.v, tilt.v)
        w_pelvis = body_rate_zxy(yaw.v, yaw.d1, roll.v, roll.d1, tilt.v, tilt.d1)

        m_yaw, m_roll, m_pitch = (self._s(f"mount_{a}", t) for a in ("yaw", "roll", "pitch"))
        rot_mount = rotation_from_angles(m_yaw.v, m_roll.v, m_pitch.v)
        w_mount = body_rate_zxy(m_yaw.v, m_yaw.d1, m_roll.v, m_roll.d1, m_pitch.v, m_pitch.d1)
        rot_sensor = Rotation.from_quat(quat_multiply(rot_pelvis.as_quat(), rot_mount.as_quat()))
        w_sensor = rot_mount.apply(w_pelvis, inverse=True) + w_mount

        acc, vel = self._translation(t, heading, channels)
        specific_force = rot_sensor.apply(acc + np.array([0.0, 0.0, GRAVITY]), inverse=True)
        return {
            "tilt": tilt.v,
            "tilt_mean": self.splines["tilt_mean"](t),
            "obliquity": obliquity.v,
            "lean": lean.v,
            "rotation": rotation.v,
            "heading": heading.v,
            "quat_pelvis": rot_pelvis.as_quat(),
            "quat_sensor": rot_sensor.as_quat(),
            "quat_mount": rot_mount.as_quat(),
            "gyr": w_sensor,
            "acc": specific_force,
            "acc_earth": acc,
            "vel_earth": vel,
            "theta": theta.v,
            "theta_rate": theta.d1,
        }

    def _translation(self, t: np.ndarray, heading: Smooth, ch: dict[str, Smooth]):
        """Earth-frame acceleration and velocity of the sacrum.

        Horizontal: travel at speed v (+ fore-aft swing u) along heading ψ, plus a lateral sway y
        along the left normal n:  P' = (v+u) e + y' n - y ψ' e,  with e' = ψ' n, n' = -ψ' e.
        Vertical: slope climb plus the cycle's oscillation plus foot-strike jolts.
        """
        v = self._s("speed", t)
        u, y = ch["forward"], ch["lateral"]
        e = np.stack([np.cos(heading.v), np.sin(heading.v), np.zeros_like(t)], axis=1)
        n = np.stack([-np.sin(heading.v), np.cos(heading.v), np.zeros_like(t)], axis=1)
        psi1, psi2 = heading.d1, heading.d2
        along = v.v + u.v
        vel = (along - y.v * psi1)[:, None] * e + y.d1[:, None] * n
        acc = (
            (v.d1 + u.d1 - 2 * y.d1 * psi1 - y.v * psi2)[:, None] * e
            + (along * psi1 + y.d2 - y.v * psi1**2)[:, None] * n
        )
        climb = self._s("climb", t)
        jolt_v, jolt_a = self._impacts(t)
        vel[:, 2] = climb.d1 + ch["vertical"].d1 + jolt_v
        acc[:, 2] = climb.d2 + ch["vertical"].d2 + jolt_a
        return acc, vel

    def _impacts(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertical velocity and acceleration of the foot-strike jolts (see `impact_pulse`)."""
        if len(self.ic_times) == 0:
            return np.zeros_like(t), np.zeros_like(t)
        vel, acc = np.zeros_like(t), np.zeros_like(t)
        # A jolt lasts < 0.25 s, shorter than any step: only the contacts either side of t contribute.
        i = np.searchsorted(self.ic_times, t)
        for j in (i - 1, i):
            valid = (j >= 0) & (j < len(self.ic_times))
            jj = np.clip(j, 0, len(self.ic_times) - 1)
            v, a = impact_pulse(t - self.ic_times[jj], self.ic_impact[jj])
            vel += np.where(valid, v, 0.0)
            acc += np.where(valid, a, 0.0)
        return vel, acc


# Foot-strike jolt: a sharp upward spike right after contact, paid back by two broad lobes later in
# stance (-2, +1 times its area, one and two LOBE_SPACING_S later). Zero net area and zero first moment,
# so the sacrum's velocity and height are unchanged once the jolt is over.
LOBE_WIDTH_S = 0.025
LOBE_SPACING_S = 0.045
_LOBES = ((IMPACT_DELAY_S, IMPACT_WIDTH_S, 1.0),
          (IMPACT_DELAY_S + LOBE_SPACING_S, LOBE_WIDTH_S, -2.0 * IMPACT_WIDTH_S / LOBE_WIDTH_S),
          (IMPACT_DELAY_S + 2 * LOBE_SPACING_S, LOBE_WIDTH_S, IMPACT_WIDTH_S / LOBE_WIDTH_S))


def impact_pulse(since_contact: np.ndarray, peak: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Velocity and acceleration of a jolt whose spike peaks at `peak` m/s², `since_contact` s after IC."""
    vel = np.zeros_like(since_contact)
    acc = np.zeros_like(since_contact)
    for centre, width, gain in _LOBES:
        u = (since_contact - centre) / width
        acc += gain * np.exp(-0.5 * u * u)
        vel += gain * width * np.sqrt(2 * np.pi) * ndtr(u)
    return peak * vel, peak * acc


def plan_motion(scenario: Scenario, segments: tuple[Segment, ...], rng: np.random.Generator) -> MotionPlan:
    times = _segment_times(segments)
    grid = KnotGrid(times.duration)
    tk = grid.t
    ramps = np.array(
        [TRANSITION_S["bend"] if "bend" in (a.kind, b.kind) else TRANSITION_S["default"]
         for a, b in zip((segments[0],) + segments[:-1], segments)]
    )

    def per_segment(values) -> np.ndarray:
        return piecewise_smooth(tk, times.starts, np.asarray(values, dtype=float), ramps)

    splines: dict[str, CubicSpline] = {}
    presence = {}
    for kind in GAIT_KINDS + ("bend",):
        presence[kind] = per_segment([1.0 if s.kind == kind else 0.0 for s in segments])
        splines[f"presence_{kind}"] = grid.spline(presence[kind])
    moving = presence["walk"] + presence["run"] + presence["ride"]

    # Cycle phase: stride (or crank) frequency with stride-to-stride variability; warped so that the
    # right contact comes early or late (step-time asymmetry): θ = φ + ε(1 - cos φ).
    freq = per_segment(_carry_cycle_rate(segments)) * (1.0 + _zero_mean_per_segment(
        smooth_noise(grid, rng, scenario.cadence_cv, 0.7), tk, times, per_segment))
    phi = 2 * np.pi * grid.integral(freq)
    eps = scenario.step_time_asymmetry * np.pi / 4
    theta = phi + eps * (1.0 - np.cos(phi))
    splines["theta"] = grid.spline(theta)

    kinds = tuple(k for k in GAIT_KINDS if any(s.kind == k for s in segments))
    shapes = {kind: gait_shapes(kind, scenario.drop_asymmetry) for kind in kinds}
    swing = {"forward": FORWARD_SWING, "lateral": LATERAL_SWAY}
    for kind in kinds:
        growth = sum(
            s.rock_growth * smooth_ramp(tk, st, en) for s, st, en in zip(segments, times.starts, times.ends) if s.kind == kind
        )
        for name in CHANNELS:
            if name in swing:
                amp = swing[name][kind] * presence[kind]
            else:
                field = {"tilt": "tilt_range_deg", "obliquity": "drop_deg", "rotation": "rotation_deg",
                         "vertical": "vertical_cm"}[name]
                unit = 0.01 if name == "vertical" else np.pi / 180
                values = [s.value(field) * unit if s.kind == kind else 0.0 for s in segments]
                if kind == "run" and name == "vertical":
                    values = [min(v, _free_flight_limit(shapes["run"], s.value("cadence"))) if s.kind == "run" else v
                              for v, s in zip(values, segments)]
                amp = per_segment(values)
                if name in ("obliquity", "rotation"):
                    amp = amp * (1.0 + growth)
            # Vertical bounce is steadier stride to stride (CV ~2 %) than the angles (~6 %).
            cv = scenario.amplitude_cv / 3 if name == "vertical" else scenario.amplitude_cv
            if name == "rotation" and scenario.rotation_cv is not None:
                cv = scenario.rotation_cv
            amp = amp * (1.0 + smooth_noise(grid, rng, cv, 0.7))
            splines[f"amp_{kind}_{name}"] = grid.spline(amp)

    splines["obliquity_offset"] = grid.spline(sum(
        (splines[f"amp_{kind}_obliquity"](tk) * obliquity_offset(kind, scenario.drop_asymmetry) for kind in kinds),
        np.zeros_like(tk)))  # zero for a recording without any gait or riding (standing, bending)

    # Mean (stride-averaged) tilt relative to standing neutral.
    offsets = per_segment([s.value("tilt_offset_deg") if s.kind != "stand" else 0.0 for s in segments])
    slope = per_segment([s.grade_pct / 100.0 for s in segments])
    lean = GRADE_LEAN * np.degrees(np.arctan(slope)) * moving
    creep = sum(
        s.creep_deg * smooth_ramp(tk, st, en) for s, st, en in zip(segments, times.starts, times.ends) if s.creep_deg
    )
    wander = smooth_noise(grid, rng, scenario.tilt_noise_deg, 2.0) * moving
    neutral = np.radians(scenario.neutral_tilt_deg)
    splines["tilt_mean"] = grid.spline(neutral + np.radians(offsets + lean + creep * moving + wander))
    splines["rotation_offset"] = grid.spline(np.radians(scenario.rotation_asymmetry_deg) * moving)

    # Travel: heading from the turns, horizontal speed, and the height gained on slopes.
    turn_rate = per_segment([np.radians(s.turn_deg) / s.seconds for s in segments])
    splines["heading"] = grid.spline(grid.integral(turn_rate))
    # On a treadmill or a trainer the strides and pedal strokes are the same, the pelvis travels nowhere.
    speed = per_segment([s.value("speed_mps") if s.kind in GAIT_KINDS and not scenario.stationary else 0.0
                         for s in segments])
    splines["speed"] = grid.spline(speed)
    # lean into turns: atan(centripetal / g) with the centripetal v·ψ' of the travel
    splines["lean"] = grid.spline(np.arctan(speed * turn_rate / GRAVITY))
    splines["climb"] = grid.spline(grid.integral(speed * slope))

    mounts = _mounts(scenario, segments)
    for axis in ("yaw", "roll", "pitch"):
        splines[f"mount_{axis}"] = grid.spline(per_segment([np.radians(getattr(m, f"{axis}_deg")) for m in mounts]))

    ic_times, ic_sides = _initial_contacts(splines["theta"], tk, presence["walk"] + presence["run"])
    impact_g = per_segment([s.value("impact_g") if s.kind in ("walk", "run") else 0.0 for s in segments])
    ic_impact = np.interp(ic_times, tk, impact_g) * GRAVITY
    return MotionPlan(scenario, times, splines, shapes, ic_times, ic_sides, ic_impact, neutral)


def _zero_mean_per_segment(noise: np.ndarray, tk: np.ndarray, times: SegmentTimes, per_segment) -> np.ndarray:
    """Remove each segment's own mean from a stride-to-stride wobble, so that every segment keeps its
    commanded average (a knob asks for 176 spm; a one-minute hill repeat must give 176, not 175.5)."""
    means = [noise[(tk >= a) & (tk < b)].mean() for a, b in zip(times.starts, times.ends)]
    return noise - per_segment(means)


def _free_flight_limit(run_shape: np.ndarray, cadence_spm: float) -> float:
    """Largest vertical oscillation (m, peak-to-peak) whose flight phase stays above free fall (-1 g)
    at this cadence; beyond it the model would pull the runner down faster than gravity."""
    stride_rate = 2 * np.pi * cadence_spm / 120.0
    return 0.95 * GRAVITY / (-min_curvature(run_shape, "vertical") * stride_rate**2)


def _initial_contacts(theta: CubicSpline, tk: np.ndarray, gait_presence: np.ndarray):
    """Times where the cycle phase crosses a multiple of π while walking or running (even: left)."""
    th = theta(tk)
    n = np.floor(th / np.pi)
    j = np.nonzero(np.diff(n) > 0)[0]
    target = (n[j] + 1) * np.pi
    t = tk[j] + (target - th[j]) / (th[j + 1] - th[j]) * (tk[j + 1] - tk[j])
    for _ in range(3):  # Newton on the spline: microsecond-exact contact times
        t = t - (theta(t) - target) / theta(t, 1)
    keep = np.interp(t, tk, gait_presence) >= 0.5
    sides = np.where((n[j] + 1) % 2 == 0, "L", "R")
    return t[keep], sides[keep]
