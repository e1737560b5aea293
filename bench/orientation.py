"""Orientation bench: inclination RMSE and throughput of Tiltguard's filter and its peers, in one run.

    python bench/orientation.py [--broad DIR] [--scenarios running_easy,...] [--minutes 3] [--json out.json]
                                [--skip-slow]

BROAD (Laidig et al. 2021): per trial the RMS inclination error over the movement samples with a valid optical
reference, then the mean over trials. Simulator scenarios: the same measure against the simulated truth.
Throughput is samples per second of wall time for the whole batch (one trial at a time, this machine).
Ratios are to the best peer of the same mode on the same data set (RMSE: < 1 is better; speed: > 1 is faster).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tiltguard.host.orientation import estimate_orientation  # noqa: E402
from tiltguard_eval.datasets import DatasetMissing, dataset_dir  # noqa: E402
from tiltguard_eval.orientation_filters import run_filter  # noqa: E402
from tiltguard_eval.orientation_metrics import inclination_rmse_deg  # noqa: E402

from bench.options import add_data_options  # noqa: E402

# (row name, method, mode, is peer, slow) — slow peers loop in Python (ahrs), ~1 min each on BROAD
ROWS = [
    ("tiltguard", "tiltguard", "causal", False, False),
    ("tiltguard", "tiltguard", "post", False, False),
    ("VQF 6D", "vqf", "causal", True, False),
    ("offlineVQF 6D", "offline_vqf", "post", True, False),
    ("imufusion 6D", "imufusion", "causal", True, False),
    ("ahrs Madgwick 6D", "madgwick", "causal", True, True),
    ("ahrs Mahony 6D", "mahony", "causal", True, True),
    ("ahrs EKF 6D", "ekf", "causal", True, True),
]


def load_broad(folder: Path) -> list[dict]:
    trials = []
    for path in sorted(folder.glob("*.npz")):
        d = np.load(path)
        trials.append(
            dict(
                name=path.stem,
                acc=np.ascontiguousarray(d["imu_acc"], float),
                gyr=np.ascontiguousarray(d["imu_gyr"], float),
                q_ref=np.asarray(d["opt_quat"], float),
                mask=np.asarray(d["movement"], bool),
                rate_hz=float(d["sampling_rate"]),
            )
        )
    if not trials:
        raise DatasetMissing(f"no BROAD .npz trials in {folder}")
    return trials


def load_scenarios(names: list[str], minutes: float, seed: int) -> dict[str, list[dict]]:
    """Simulated recordings with truth; the reference is the sensor's true orientation."""
    from tiltguard.host.simulator import simulate

    out = {}
    for name in names:
        rec, truth = simulate(name, minutes=minutes, rate_hz=200, seed=seed)
        q_ref = truth.quat_sensor
        out[name] = [
            dict(name=name, acc=rec.acc, gyr=rec.gyr, q_ref=q_ref, mask=np.ones(len(q_ref), bool),
                 rate_hz=float(rec.rate_hz))
        ]
    return out


def score(trials: list[dict], method: str, mode: str) -> tuple[float, float, list[float]]:
    errors, n_samples, seconds = [], 0, 0.0
    for tr in trials:
        t0 = time.perf_counter()
        result = run_filter(tr["acc"], tr["gyr"], tr["rate_hz"], mode=mode, method=method)
        seconds += time.perf_counter() - t0
        n_samples += len(tr["acc"])
        errors.append(inclination_rmse_deg(result.quat, tr["q_ref"], tr["mask"]))
    return float(np.mean(errors)), n_samples / seconds, errors


# every scenario with running in it (the issue: "all running scenarios")
RUNNING_SCENARIOS = ("easy-run-neutral", "run-fatigue-creep", "run-sustained-anterior", "run-hill-repeats",
                     "run-hill-sprints", "run-asymmetric-drop", "run-unstable-rotation", "walk-to-run",
                     "run-turns-stops", "run-street-corners", "treadmill-run", "track-intervals", "stand-tie-shoes",
                     "sensor-upside-down", "run-sensor-reclipped")
MOUNTS = {"default": None, "pitch +30": dict(pitch_deg=30.0), "pitch -30": dict(pitch_deg=-30.0),
          "upside down": dict(pitch_deg=-15.0, roll_deg=180.0), "sideways": dict(pitch_deg=-15.0, roll_deg=90.0)}


def pelvis_on_simulator(names, minutes: float, seed: int, all_mounts: bool = False,
                        accel_calibrated: bool = False) -> list[dict]:
    """End-to-end pelvic angles (post orientation, alignment from the session's neutral stand + first bout)
    against the simulator's truth, while running; plus the same run with other mountings (the first scenario
    only, or every one with `all_mounts`). With `accel_calibrated` the pod's accelerometer was first
    calibrated in six positions on a table (the same chip, simulated) and the calibration applied, as the
    analysis does for a device with a stored one."""
    from dataclasses import replace

    from tiltguard.calibration.alignment import calibrate_from_session
    from tiltguard.host.analysis import analyse_gait, analyse_recording
    from tiltguard.host.gait.direction import direction_from_steps
    from tiltguard.host.pelvis import pelvic_angles, per_stride_ranges
    from tiltguard.host.pelvis.heading import follow_strides
    from tiltguard.host.simulator import Mount, get_scenario, simulate
    from tiltguard.host.simulator.poses import SimulatedPosePod
    from tiltguard_eval.six_position_sim import six_position_on_table

    rows = []
    for name in names:
        base = None
        reclipped = any(seg.mount is not None for seg in get_scenario(name).segments)
        for mount_name, mount in MOUNTS.items():
            if mount_name != "default" and name != names[0] and not all_mounts:
                continue  # mount equivalence on the first scenario only (keeps the bench short)
            if mount_name != "default" and reclipped:
                continue  # re-clipped: its own mountings
            sc = get_scenario(name)
            if mount:
                sc = replace(sc, mount=Mount(**mount))
            try:
                rec, truth = simulate(sc, minutes=minutes, rate_hz=200, seed=seed)
            except ValueError:  # scenario's fixed segments are longer than `minutes`: use its own length
                rec, truth = simulate(sc, minutes=None, rate_hz=200, seed=seed)
            if accel_calibrated:
                pod = SimulatedPosePod(seed=seed + 1, chip_acc=(truth.acc_bias, truth.acc_scale))
                rec = replace(rec, acc=six_position_on_table(pod).apply(rec.acc))
            fs = rec.rate_hz
            t0 = time.perf_counter()
            q = estimate_orientation(rec.acc, rec.gyr, fs, mode="post", travel=True).quat
            stand = (int(1.0 * fs), int(6.5 * fs))  # the scenarios open with a 10-s neutral stand
            al = calibrate_from_session(rec.acc, rec.gyr, fs, stand, quat=q, step_sign=direction_from_steps)
            if reclipped:
                # re-clipped mid-run: each mounting calibrated at its own stand, as the session analysis does
                # (timed with its gait stage, so `s` is the whole analysis here)
                ang = analyse_recording(rec).angles
                seconds = time.perf_counter() - t0
            else:
                ang = pelvic_angles(q, al.R_pelvis_sensor, fs, acc=rec.acc)  # obliquity against the lean into turns
                seconds = time.perf_counter() - t0
                # rotation relative to the direction of travel along the strides: needs the contacts, which the
                # gait stage finds (timed in bench/gait.py); only the heading step is added to the time here
                contacts = analyse_gait(rec.acc, rec.gyr, fs, sensor_to_pelvis=al.R_pelvis_sensor).contacts.index
                t1 = time.perf_counter()
                ang = follow_strides(ang, fs, contacts)
                seconds += time.perf_counter() - t1
            run = truth.activity == 2
            # the live view's tilt: causal orientation (travel model included), the same alignment
            q_live = estimate_orientation(rec.acc, rec.gyr, fs, mode="causal", travel=True).quat
            live_part = run.copy()
            reclips = [seg["start_s"] for seg in truth.segments if "mount" in seg]
            if reclips:  # the live view is not re-calibrated here: score it up to the re-clip
                live_part &= truth.t < reclips[0]
            live_err = np.degrees(pelvic_angles(q_live, al.R_pelvis_sensor, fs).tilt - truth.tilt_rel)[live_part]
            turn_rate = np.abs(np.gradient(np.unwrap(truth.heading), truth.t))
            turning = run & (turn_rate > np.radians(5))
            obl_err = np.degrees(ang.obliquity - truth.obliquity)
            rot_err = np.degrees(ang.rotation - truth.rotation)
            rot_err -= np.median(rot_err[run])  # 6D: the heading's origin is arbitrary
            err = np.degrees(ang.tilt - truth.tilt_rel)[run]
            ic = np.searchsorted(truth.t, truth.ic_times)[::2]
            ic = ic[run[np.minimum(ic, len(run) - 1)]]
            range_err = {k: float(np.degrees(np.mean(np.abs(per_stride_ranges(getattr(ang, k), ic)
                                                             - per_stride_ranges(getattr(truth, k), ic)))))
                         for k in ("obliquity", "rotation")}
            row = dict(name="tiltguard pelvis", peer=False, mode="post", dataset=name, mount=mount_name,
                       accel_calibrated=accel_calibrated,
                       tilt_rmse_deg=float(np.sqrt(np.mean(err**2))), tilt_bias_deg=float(err.mean()),
                       tilt_rmse_live_deg=float(np.sqrt(np.mean(live_err**2))),
                       obliquity_range_err_deg=range_err["obliquity"], rotation_range_err_deg=range_err["rotation"],
                       obliquity_rmse_deg=float(np.sqrt(np.mean(obl_err[run] ** 2))),
                       obliquity_rmse_turning_deg=(float(np.sqrt(np.mean(obl_err[turning] ** 2)))
                                                   if turning.sum() > fs else None),
                       rotation_rmse_deg=float(np.sqrt(np.mean(rot_err[run] ** 2))),
                       rotation_rmse_turning_deg=(float(np.sqrt(np.mean(rot_err[turning] ** 2)))
                                                  if turning.sum() > fs else None),
                       inclination_rmse_deg=inclination_rmse_deg(q, truth.quat_sensor),
                       samples_per_s=len(rec.acc) / seconds, seconds=seconds)
            if base is None:
                base = ang
            else:
                row["max_rms_diff_to_default_mount_deg"] = float(max(
                    np.degrees(np.sqrt(np.mean((getattr(ang, k) - getattr(base, k)) ** 2)))
                    for k in ("tilt", "obliquity", "rotation")))
            rows.append(row)
    return rows


def fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def print_pelvis(rows: list[dict]) -> None:
    head = (f"{'scenario':<24} {'mount':<12} {'tilt RMSE °':>11} {'tilt bias °':>11} {'obl rng err °':>13} "
            f"{'rot rng err °':>13} {'obl RMSE °':>10} {'in turns °':>10} {'rot RMSE °':>10} {'in turns °':>10} "
            f"{'vs default °':>12} {'s':>6} "
            f"{'live tilt RMSE °':>16}")
    print("\nPelvic angles on the simulator, while running (relative to the neutral stand; post mode, and the live\n"
          "tilt from the causal filter)")
    print(head)
    print("-" * len(head))
    for r in rows:
        diff = r.get("max_rms_diff_to_default_mount_deg")
        print(f"{r['dataset']:<24} {r['mount']:<12} {r['tilt_rmse_deg']:11.2f} {r['tilt_bias_deg']:+11.2f} "
              f"{r['obliquity_range_err_deg']:13.2f} {r['rotation_range_err_deg']:13.2f} "
              f"{r['obliquity_rmse_deg']:10.2f} {fmt(r['obliquity_rmse_turning_deg']):>10} "
              f"{r['rotation_rmse_deg']:10.2f} {fmt(r['rotation_rmse_turning_deg']):>10} "
              f"{fmt(diff):>12} {r['seconds']:6.2f} {r['tilt_rmse_live_deg']:16.2f}")


def add_ratios(rows: list[dict]) -> None:
    for row in rows:
        peers = [r for r in rows if r["peer"] and r["mode"] == row["mode"] and r["dataset"] == row["dataset"]]
        if not peers:
            continue
        best = min(peers, key=lambda r: r["inclination_rmse_deg"])
        row["best_peer"] = best["name"]
        row["rmse_ratio_to_best_peer"] = row["inclination_rmse_deg"] / best["inclination_rmse_deg"]
        row["speed_ratio_to_best_peer"] = row["samples_per_s"] / best["samples_per_s"]


def print_table(rows: list[dict]) -> None:
    head = f"{'dataset':<18} {'name':<18} {'mode':<7} {'incl RMSE °':>11} {'samples/s':>11} {'RMSE/best':>9} {'speed/best':>10}  best peer"
    print(head)
    print("-" * len(head))
    for r in rows:
        name = r["name"] + ("" if r["peer"] else " *")
        ratio = f"{r.get('rmse_ratio_to_best_peer', float('nan')):9.3f}"
        speed = f"{r.get('speed_ratio_to_best_peer', float('nan')):10.2f}"
        print(f"{r['dataset']:<18} {name:<18} {r['mode']:<7} {r['inclination_rmse_deg']:11.3f} "
              f"{r['samples_per_s']:11.3g} {ratio} {speed}  {r.get('best_peer', '')}")
    print("* = this project's filter; ratios are to the best peer of the same mode on the same data")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(ap, reads=("broad",))
    ap.add_argument("--scenarios", default="", help="comma-separated simulator scenarios ('all' = every one)")
    ap.add_argument("--minutes", type=float, default=3.0, help="length of each simulated recording")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-slow", action="store_true", help="leave out the ahrs peers (Python loops, slow)")
    ap.add_argument("--per-trial", action="store_true", help="also print every trial's RMSE")
    ap.add_argument("--pelvis", action="store_true",
                    help="also score pelvic angles end to end on the running scenarios (+ mountings, 2-h run)")
    ap.add_argument("--all-mounts", action="store_true",
                    help="with --pelvis: every running scenario with every mounting (±30° pitch, upside down, "
                         "sideways; ~5x longer), not just the first")
    ap.add_argument("--accel-calibrated", action="store_true",
                    help="with --pelvis: the simulated pods' accelerometers calibrated in six positions first "
                         "(the uncalibrated bias tips the vertical and makes mountings differ by up to ~0.5°)")
    ap.add_argument("--json", help="write {'rows': [...]} here")
    args = ap.parse_args(argv)

    datasets: dict[str, list[dict]] = {}
    try:
        datasets["broad"] = load_broad(dataset_dir("broad", args.broad))
    except DatasetMissing as exc:
        print(f"skipping BROAD: {exc}", file=sys.stderr)
    if args.scenarios:
        from tiltguard.host.simulator import SCENARIOS

        names = list(SCENARIOS) if args.scenarios == "all" else args.scenarios.split(",")
        datasets.update(load_scenarios(names, args.minutes, args.seed))
    if not datasets and not args.pelvis:
        print("nothing to run: no BROAD data and no --scenarios", file=sys.stderr)
        return 2

    rows = []
    for dataset, trials in datasets.items():
        n = sum(len(t["acc"]) for t in trials)
        print(f"{dataset}: {len(trials)} recording(s), {n} samples", file=sys.stderr)
        for name, method, mode, peer, slow in ROWS:
            if slow and args.skip_slow:
                continue
            rmse, speed, per_trial = score(trials, method, mode)
            rows.append(dict(name=name, peer=peer, mode=mode, dataset=dataset, method=method,
                             inclination_rmse_deg=rmse, samples_per_s=speed,
                             per_trial_deg={t["name"]: e for t, e in zip(trials, per_trial)}))
            print(f"  {name:<18} {mode:<7} {rmse:.3f}° {speed:.3g} samples/s", file=sys.stderr)
            if args.per_trial:
                print("   ", " ".join(f"{e:.2f}" for e in per_trial), file=sys.stderr)
    add_ratios(rows)
    print_table(rows)
    if args.pelvis:
        pel = pelvis_on_simulator(list(RUNNING_SCENARIOS), args.minutes, args.seed, args.all_mounts,
                                  args.accel_calibrated)
        long_run = pelvis_on_simulator(["easy-run-neutral"], 120.0, args.seed)[0]
        long_run["dataset"] = "easy-run-neutral 2 h"
        pel.append(long_run)
        print_pelvis(pel)
        rows.extend(pel)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
