"""The Mobilise-D example recordings (lower-back IMU + INDIP reference gait events), as shared in
`../shared/data/mobgap/csv` (see that folder's README).

Files hold the McRoberts sensor's frame (x up, y right, z forward) in g and deg/s; this loader returns SI
samples in that sensor frame plus the fixed sensor-to-pelvis rotation, and the reference walking bouts.
Reference times are MATLAB-style (sample index = round(t·rate) − 1), so sample i is given the time
(i + 1) / rate: reference times then index the samples directly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tiltguard.host.samples import GRAVITY, RawRecording

# Rows are the pelvis axes (x forward, y left, z up) expressed in the sensor frame (x up, y right, z forward).
SENSOR_TO_PELVIS = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])


@dataclass
class ReferenceBout:
    """One reference walking bout: its extent, mean cadence and the initial contacts (NaN ones dropped)."""

    start_s: float
    end_s: float
    cadence_spm: float
    ic_s: np.ndarray  # (K,) initial-contact times, s
    ic_left: np.ndarray  # (K,) bool, True for a left foot


@dataclass
class LabRecording:
    participant: str  # e.g. "HA/001"
    name: str  # e.g. "TimeMeasure1_Test5_Trial1"
    raw: RawRecording  # sensor frame, SI
    bouts: list[ReferenceBout]

    @property
    def test(self) -> str:
        return self.name.split("_")[1]

    def pelvis_frame(self) -> tuple[np.ndarray, np.ndarray]:
        """acc (m/s²) and gyr (rad/s) rotated into the pelvis frame (x forward, y left, z up)."""
        return self.raw.acc @ SENSOR_TO_PELVIS.T, self.raw.gyr @ SENSOR_TO_PELVIS.T


def _read_csv(path: Path) -> np.ndarray:
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    if data.shape[1] != 7:
        raise ValueError(f"{path}: expected 7 columns (samples, acc_xyz, gyr_xyz), found {data.shape[1]}")
    return data


def _bouts(entries: list[dict]) -> list[ReferenceBout]:
    bouts = []
    for b in entries:
        ic = np.array([np.nan if t is None else t for t in b["initial_contacts_s"]], dtype=float)
        left = np.array([s == "Left" for s in b["initial_contact_side"]])
        keep = np.isfinite(ic)
        bouts.append(ReferenceBout(float(b["start_s"]), float(b["end_s"]), float(b["cadence_spm"]), ic[keep], left[keep]))
    return bouts


def load_recording(participant_dir: Path, name: str, reference: dict) -> LabRecording:
    data = _read_csv(participant_dir / f"{name}.csv")
    rate = float(reference["imu_rate_hz"])
    raw = RawRecording(
        t=(np.arange(len(data)) + 1) / rate,
        acc=data[:, 1:4] * GRAVITY,
        gyr=np.deg2rad(data[:, 4:7]),
        rate_hz=rate,
        sensor_model="McRoberts MoveMonitor+",
        meta={"source": "mobgap example data", "file": str(participant_dir / f"{name}.csv")},
    )
    participant = f"{participant_dir.parent.name}/{participant_dir.name}"
    return LabRecording(participant, name, raw, _bouts(reference["walking_bouts"]))


def load_all(mobgap_dir: str | Path) -> list[LabRecording]:
    """Every recording under `<mobgap_dir>/csv/<cohort>/<id>/` that has a reference entry, sorted by name."""
    csv_root = Path(mobgap_dir) / "csv"
    recordings = []
    for ref_path in sorted(csv_root.glob("*/*/reference.json")):
        references = json.loads(ref_path.read_text())
        for name in sorted(references):
            recordings.append(load_recording(ref_path.parent, name, references[name]))
    if not recordings:
        raise FileNotFoundError(f"no csv/<cohort>/<id>/reference.json recordings under {mobgap_dir}")
    return recordings
