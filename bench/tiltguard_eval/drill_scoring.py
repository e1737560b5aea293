"""Scoring a drill analysis against the drill simulator's truth (bench/drills.py, tests/test_drills.py).

Reps are matched one to one by time: a detected rep matches the true rep of the same set whose
[start, end] holds its top (nearest top first). Counts are per true set (detected reps whose top falls in
the set's window, ±1 s); reps whose top falls in no true set are false reps (rest and fidgets).

Left vs right is scored against what the person *did*: the engine's own rule (host.drills.results.
compare_sides: the smallest real difference, and Student's t on the person's rep-to-rep scatter) applied to
the true per-rep values, true sides and true faults (`truth_sides_verdict`). The simulated person's label
("left side 5-10° worse") is not the truth of a session whose reps cannot show it: a tight side whose two
holds were a partial and a faulty one, or a poor-control person whose faulty reps scatter as much as the
asymmetry, show no clear difference even to a perfect sensor. The label's own score is kept beside it
(`asymmetry_label_right_share`, `no_false_asymmetry_label_share`) as the share of labelled people the
engine finds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tiltguard.host.drills.results import RepResult, compare_sides

ANGLE_KEYS = ("tilt_deg", "obliquity_deg", "rotation_deg")


@dataclass
class DrillScore:
    count_errors: list[int] = field(default_factory=list)  # detected - true, per true set
    false_reps: int = 0
    rest_s: float = 0.0
    hold_errors: list[float] = field(default_factory=list)
    angle_errors: list[tuple[float, float, float]] = field(default_factory=list)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    side_calls: list[tuple[str, str]] = field(default_factory=list)  # (truth: what was done, detected)
    label_calls: list[tuple[str, str]] = field(default_factory=list)  # (the simulated person's label, detected)

    def add(self, other: DrillScore) -> None:
        for k in ("count_errors", "hold_errors", "angle_errors", "side_calls", "label_calls"):
            getattr(self, k).extend(getattr(other, k))
        for k in ("false_reps", "rest_s", "tp", "fp", "fn"):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def metrics(self) -> dict:
        ce = np.asarray(self.count_errors)
        ae = np.asarray(self.angle_errors) if self.angle_errors else np.empty((0, 3))
        out = {
            "sets": len(ce),
            "exact_count_share": float((ce == 0).mean()) if len(ce) else None,
            "within_one_share": float((np.abs(ce) <= 1).mean()) if len(ce) else None,
            "false_reps_per_10min": 600.0 * self.false_reps / self.rest_s if self.rest_s > 0 else None,
            "hold_error_s": float(np.sqrt(np.mean(np.square(self.hold_errors)))) if self.hold_errors else None,
            "hold_error_max_s": float(np.max(np.abs(self.hold_errors))) if self.hold_errors else None,
        }
        for i, name in enumerate(("tilt", "obliquity", "rotation")):
            out[f"{name}_excursion_rmse_deg"] = float(np.sqrt(np.mean(ae[:, i] ** 2))) if len(ae) else None
        out["fault_precision"] = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        out["fault_recall"] = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        out["asymmetry_right_share"], out["no_false_asymmetry_share"] = _side_shares(self.side_calls)
        out["asymmetry_label_right_share"], out["no_false_asymmetry_label_share"] = _side_shares(self.label_calls)
        return out


def _side_shares(calls: list[tuple[str, str]]) -> tuple[float | None, float | None]:
    """Asymmetric people called right (the worse side named), symmetric people not called asymmetric."""
    asym = [(t, d) for t, d in calls if t != "no clear difference"]
    sym = [(t, d) for t, d in calls if t == "no clear difference"]
    return (float(np.mean([t == d for t, d in asym])) if asym else None,
            float(np.mean([t == d for t, d in sym])) if sym else None)


def truth_reps(truth, spec) -> list[list[dict]]:
    """Per true set, each rep's truth under the engine's documented definitions (docs/drills.md): the angles
    averaged over the top (where the counted movement is within 10 %, at least 0.5°, of its peak; two-way
    drills: the peak of the positive turn), the largest excursion in each fault's direction over the rep,
    the faults past the drill's tolerances."""
    out = []
    for st in truth.sets:
        t, ang = st["t"], st["angles_deg"]
        reps = []
        for r in st["reps"]:
            sel = (t >= r["start_s"]) & (t <= r["end_s"])
            a, tt = ang[sel], t[sel]
            p = np.linalg.norm(a, axis=1) if spec.primary == "norm" else \
                spec.primary_sign * a[:, ("tilt", "obliquity", "rotation").index(spec.primary)]
            mag = np.where(p > 0, p, 0.0) if spec.two_way else p
            peak = float(mag.max())
            top = mag >= peak - max(0.5, 0.1 * abs(peak))
            vals = a[top].mean(axis=0)
            fv = {f.name: float(max(f.value(dict(zip(("tilt", "obliquity", "rotation"), row))) for row in a))
                  for f in spec.faults}
            reps.append({**r, "top_s": float(tt[top].mean()), "tilt_deg": float(vals[0]),
                         "obliquity_deg": float(vals[1]), "rotation_deg": float(vals[2]), "peak_deg": peak,
                         "range_deg": float(p.max() - p.min()) if spec.two_way else None,
                         "faults": [k for k, v in fv.items() if v > next(f.tolerance_deg for f in spec.faults
                                                                         if f.name == k)],
                         "fault_values_deg": fv})
        out.append(reps)
    return out


def score_result(result, truth, spec) -> DrillScore:
    sc = DrillScore(rest_s=truth.rest_s)
    true_reps = truth_reps(truth, spec)
    detected = list(result.reps)
    used = set()
    for st, reps in zip(truth.sets, true_reps):
        inside = [r for r in detected if st["start_s"] - 1.0 <= r.top_s <= st["end_s"] + 1.0]
        used.update(id(r) for r in inside)
        sc.count_errors.append(len(inside) - len(reps))
        free = list(reps)
        for r in sorted(inside, key=lambda r: r.top_s):
            cands = [t for t in free if t["start_s"] - 0.5 <= r.top_s <= t["end_s"] + 0.5]
            if not cands:
                continue
            t = min(cands, key=lambda t: abs(t["top_s"] - r.top_s))
            free.remove(t)
            sc.angle_errors.append(tuple(getattr(r, k) - t[k] for k in ANGLE_KEYS))
            if spec.hold_s > 0:
                sc.hold_errors.append(r.hold_s - t["hold_s"])
            for f in spec.faults:
                d, tr = f.name in r.faults, f.name in t["faults"]
                sc.tp += d and tr
                sc.fp += d and not tr
                sc.fn += tr and not d
    sc.false_reps = sum(1 for r in detected if id(r) not in used)
    if truth.sides_verdict is not None and spec.side_metric is not None and spec.sides != "none":
        detected_verdict = result.sides.verdict if result.sides else "none"
        sc.side_calls.append((truth_sides_verdict(true_reps, spec), detected_verdict))
        sc.label_calls.append((truth.sides_verdict, detected_verdict))
    return sc


def score_simulated(drill: str, seed: int, **simulate_options):
    """A simulated session of `drill` analysed by the engine and scored against its truth:
    (DrillScore, truth, result). `simulate_options` go to the simulator (rate_hz, person, sets, reps)."""
    from tiltguard.host.drills import DRILLS, analyse_recording
    from tiltguard.host.simulator.drills import simulate_drill

    rec, truth = simulate_drill(drill, seed=seed, **simulate_options)
    spec = DRILLS[drill]
    result = analyse_recording(rec, spec)
    return score_result(result, truth, spec), truth, result


def truth_sides_verdict(true_reps: list[list[dict]], spec) -> str:
    """The left-vs-right verdict in what the person did: the engine's documented rule on the true reps."""
    reps = [RepResult(r["start_s"], r["top_s"], r["end_s"], r["side"], r["hold_s"], r["tilt_deg"],
                      r["obliquity_deg"], r["rotation_deg"], r["peak_deg"], r["range_deg"], list(r["faults"]),
                      dict(r["fault_values_deg"]), r["partial"]) for reps in true_reps for r in reps]
    return compare_sides(spec, reps).verdict


def score_peer_counts(counts: list[int], truth, rest_counts: list[int]) -> DrillScore:
    sc = DrillScore(rest_s=truth.rest_s)
    for n, st in zip(counts, truth.sets):
        sc.count_errors.append(n - len(st["reps"]))
    sc.false_reps = int(sum(rest_counts))
    return sc
