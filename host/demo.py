"""`tiltguard demo`: a simulated run through everything Tiltguard has so far, printed as text.

Each stage of the pipeline adds a section: the simulated sensor and its ground truth, then what the
analysis recovers from the sensor alone.
"""
from __future__ import annotations

import numpy as np
from tiltguard.host.analysis import SessionAnalysis, analyse_recording
from tiltguard.host.flags.advice import AdviceContext, advise
from tiltguard.host.gait.strides import stride_metrics
from tiltguard.host.samples import RawRecording
from tiltguard.host.simulator import ACTIVITIES, Truth, simulate

DEMO_SCENARIO = "run-sustained-anterior"


def _fmt_time(s: float) -> str:
    return f"{int(s // 60)}:{s % 60:04.1f}"


def describe_recording(rec: RawRecording) -> list[str]:
    acc_norm = np.linalg.norm(rec.acc, axis=1) / 9.80665
    return [
        f"Sensor: {rec.sensor_model}, {rec.rate_hz:g} Hz, {len(rec)} samples over {_fmt_time(rec.duration_s)} min",
        f"  |acc| median {np.median(acc_norm):.2f} g, peak {acc_norm.max():.2f} g; "
        f"|gyr| peak {np.degrees(np.linalg.norm(rec.gyr, axis=1).max()):.0f} deg/s",
    ]


def describe_truth(truth: Truth) -> list[str]:
    lines = ["Ground truth (what the simulated runner did):"]
    for code, name in enumerate(ACTIVITIES):
        share = float(np.mean(truth.activity == code))
        if share > 0:
            lines.append(f"  {name:8} {share * 100:5.1f} % of the time")
    running = truth.activity == ACTIVITIES.index("running")
    if running.any():
        tilt = np.degrees(truth.tilt_rel[running])
        lines += [
            f"  running cadence {np.mean(truth.cadence_spm[running]):.1f} spm, "
            f"{int(np.sum((truth.ic_times >= truth.t[running][0]) & (truth.ic_times <= truth.t[running][-1])))} steps",
            f"  running pelvic tilt vs standing neutral: mean {tilt.mean():+.1f} deg, "
            f"range {tilt.min():+.1f} to {tilt.max():+.1f} deg (absolute neutral {np.degrees(truth.neutral_tilt):.1f} deg)",
            f"  obliquity +-{np.degrees(np.abs(truth.obliquity[running])).max():.1f} deg, "
            f"rotation +-{np.degrees(np.abs(truth.rotation[running])).max():.1f} deg",
        ]
    spans = truth.sustained_tilt_intervals()
    lines.append(f"  sustained anterior tilt: {len(spans)} interval(s)" +
                 "".join(f" {_fmt_time(a)}-{_fmt_time(b)}" for a, b in spans))
    return lines


def describe_pelvis(result: SessionAnalysis, truth: Truth) -> list[str]:
    """Pelvic angles (calibrated on the opening stand and the first steps, post-session orientation),
    side by side with the simulator's truth."""
    angles = result.angles
    running = truth.activity == ACTIVITIES.index("running")
    d = np.degrees
    tilt, tilt_true = d(angles.tilt[running]), d(truth.tilt_rel[running])
    return [
        f"Pelvic angles measured from the sensor (neutral stand + first {result.alignment.forward_source} for alignment):",
        f"  running tilt vs neutral: mean {tilt.mean():+.1f} deg (truth {tilt_true.mean():+.1f}), "
        f"RMS error {np.sqrt(np.mean((tilt - tilt_true) ** 2)):.2f} deg",
        f"  absolute tilt estimate: {d(angles.tilt_abs[running]).mean():.1f} +- {d(angles.tilt_abs_sd):.0f} deg "
        f"(truth {d(truth.tilt[running]).mean():.1f}; the absolute value rests on a population neutral)",
        f"  obliquity sd {d(angles.obliquity[running]).std():.1f} deg (truth {d(truth.obliquity[running]).std():.1f}), "
        f"rotation sd {d(angles.rotation[running]).std():.1f} deg (truth {d(truth.rotation[running]).std():.1f})",
    ]


def describe_gait(result: SessionAnalysis, truth: Truth) -> list[str]:
    """Activity, cadence and per-stride pelvic metrics from the sensor alone, beside the truth."""
    gait = result.gait
    true_strides = stride_metrics(truth.t, truth.tilt_rel, truth.obliquity, truth.rotation, truth.ic_times,
                                  truth.ic_sides == "L", truth.acc_earth[:, 2], truth.activity)
    d = np.degrees
    lines = ["Gait from the sensor alone (activity, contacts, strides; truth in brackets):"]
    for b in gait.activity.bouts:
        pauses = f", {len(b.pauses)} pause(s)" if b.pauses else ""
        lines.append(f"  {b.activity:8} {_fmt_time(b.start_s)}-{_fmt_time(b.end_s)}{pauses}")
    for bout in gait.bouts:
        if bout.activity != "running":
            continue
        ref = true_strides.select((true_strides.t_start >= bout.start_s) & (true_strides.t_end <= bout.end_s))
        a, r = bout.angles, ref.angles
        lines += [
            f"  running {_fmt_time(bout.start_s)}-{_fmt_time(bout.end_s)}: {bout.strides} strides, cadence "
            f"{bout.cadence_spm:.1f} spm [{np.mean(120 / ref.stride_s):.1f}], stride time CV {bout.stride_time_cv * 100:.1f} %",
            "    per stride, deg   mean     min     max   range  (range sd)",
        ]
        for name in ("tilt", "obliquity", "rotation"):
            lines.append(f"    {name:10} {d(a[name]['mean']):+7.1f} {d(a[name]['min']):+7.1f} {d(a[name]['max']):+7.1f} "
                         f"{d(a[name]['range']):7.1f} [{d(np.mean(r[name]['range'])):.1f}]  ({d(bout.angle_range_sd[name]):.1f})")
        lines.append(f"    drop left {d(bout.drop_left):.1f} [{d(np.mean(ref.drop_left)):.1f}], right "
                     f"{d(bout.drop_right):.1f} [{d(np.mean(ref.drop_right)):.1f}] deg; vertical oscillation "
                     f"{bout.vertical_left * 100:.1f}/{bout.vertical_right * 100:.1f} cm L/R "
                     f"[{np.mean(ref.vertical_left_step) * 100:.1f}/{np.mean(ref.vertical_right_step) * 100:.1f}]")
    return lines


def describe_flags(result: SessionAnalysis, truth: Truth) -> list[str]:
    """Flags from the sensor alone (post-session engine) and the advice for during and after the run."""
    lines = ["Flags from the sensor alone (truth: sustained anterior tilt " +
             (", ".join(f"{_fmt_time(a)}-{_fmt_time(b)}" for a, b in truth.sustained_tilt_intervals()) or "none") + "):"]
    for f in result.flags:
        lines.append(f"  {f.type.replace('_', ' ')} {_fmt_time(f.start)}-{_fmt_time(f.end)} while {f.activity}: "
                     f"peak {f.peak:.1f}, mean {f.mean:.1f} {f.evidence.get('unit', '')} "
                     f"(threshold {f.evidence['threshold']:g}; decided at {_fmt_time(f.decided_at)})")
    if not result.flags:
        lines.append("  none")
    main_activity = "riding" if (result.cycles.activity == "riding").any() else "running"
    cadence = result.cadence_spm(main_activity) if main_activity != "riding" else None
    for phase, heading, most in (("during", "What the live view says while the flag holds:", 2),
                                 ("after", "Advice after the session:", 4)):
        advice = advise(result.flags, AdviceContext(phase, main_activity, cadence_spm=cadence))[:most]
        if advice:
            lines.append(heading)
            for a in advice:
                lines += [f"  - {a.text}", f"    why: {a.reason}"]
    return lines


def run_demo(scenario: str = DEMO_SCENARIO, minutes: float | None = None, seed: int = 1) -> str:
    rec, truth = simulate(scenario, minutes=minutes, seed=seed)
    result = analyse_recording(rec)
    lines = [f"Tiltguard demo: simulated scenario '{scenario}' (seed {seed})", ""]
    lines += describe_recording(rec) + [""] + describe_truth(truth)
    for section in (describe_pelvis, describe_gait, describe_flags):
        lines += [""] + section(result, truth)
    return "\n".join(lines)
