"""Running bench: the whole product, post-session and live, on running it was not built from.

    python bench/running.py [--running DIR] [--sessions PATTERN] [--scenarios all|none|name,...] [--minutes 3]
                            [--seed 1] [--no-live] [--remount N] [--mirror]
                            [--off-centre CM] [--pod-at UP,LEFT;...] [--rate HZ] [--noise ACC,GYRO]
                            [--per-session] [--json FILE]

Data (../shared/data/running, or $TILTGUARD_DATA/running, or --running DIR; a set that is absent is skipped
with a line saying so):
  virtual    16 sessions of a virtual sacral IMU from real treadmill-running kinematics (4 runners, 2-5 m/s):
             10-s stand, 2-s ramp (never scored), >= 60 s of running; truth contacts with side, angles.
  alcantara  31 trials of a real sacral accelerometer on a treadmill (4.96 s, 500 Hz): vertical + antero-
             posterior only, no gyroscope, no stand; truth contacts from the force plate (no sides).
  simulator  every simulator scenario with running in it, --minutes each (a scenario whose fixed segments are
             longer: their length rounded up to the minute, + 1 min), --seed.
  virtual mirrored (--mirror) every virtual session as its mirror-image runner: the motion reflected left for
             right (sides swapped, obliquity and rotation negated): runners whose asymmetries are the other way round.
  virtual pod moved (--off-centre CM: CM to the left and to the right of the midline; --pod-at 'UP,LEFT;...' cm:
             anywhere else on the low back) every virtual session with the pod clipped there: the same rigid pelvis
             read at that point (the gyro's angular terms moved to it).
  virtual at HZ (--rate HZ) every virtual session as a pod with a lower output data rate (200 Hz divided by a
             whole number): low-passed and decimated, as a sensor's own filter does.
  virtual noisier (--noise ACC,GYRO) every virtual session read by a noisier pod: white noise and a constant bias
             of ACC m/s² and GYRO °/s RMS per axis on top of the data's own (a consumer IMU: ~0.02 m/s², ~0.1 °/s).
  virtual remounted (--remount N) every virtual session again with the pod re-clipped N other ways round: upside
             down, back to front, on its side, then random orientations (seeded); the data's own mounting is only
             pitch 15 ± 3°, yaw/roll ± 4°, so this is what shows "any way round" on real running kinematics.

Modes: `post` is tiltguard.host.analysis.analyse_recording(rec, mode="post") on the whole recording; `live` is
tiltguard.host.live_analysis.LivePipeline fed 10-sample blocks (the device's frames), with the neutral stand
requested at the first sample when the session opens with one (virtual, simulator). Everything is on the
sensor's own axes: the product calibrates its mounting itself.

Per set and mode (rows named "tiltguard"):
  sessions / refused_sessions   refused: the analysis raised or withheld the direction (post: "direction
                                unknown", the session analysed without sign or sides), or the live view never
                                calibrated (live);
                                the reasons are printed. Refused sessions are left out of every other number.
  reversed_sessions             tilt correlates negatively with the truth over the scored running window
                                (the forward axis came out backwards: anterior reads as posterior)
  tilt_rmse_deg, tilt_bias_deg  product − truth over the running window, both relative to the standing neutral;
                                mean over sessions
  obliquity/rotation_range_error_deg   per stride (true left contact to the next), |range − true range|; mean
                                over strides, then sessions
  ic_f1_50ms                    contacts matched one-to-one, mutually nearest, within 50 ms; pooled counts
  ic_median_abs_err_ms, side_accuracy   over the contacts matched within MATCH_TOL_S (under half the
                                shortest running step, so a match is the same foot strike), pooled
  sides_withheld_sessions       sessions whose every contact the product left without a side (its side cue
                                did not agree with its labels, host.gait.sides); withheld sides (live: per
                                contact, side_unknown_contacts) are not in side_accuracy or the balance
  cadence_error_spm             |cadence of the detected − of the true contacts| per running window (the
                                Mobilise-D mean over strides, host.gait.cadence, both sides), mean over windows;
                                cadence_error_worst_spm and windows_cadence_within_1spm per window (a 5-s real
                                trial holds ~8 strides: its first or last contacts 30 ms off move its cadence by ~1 spm;
                                its running window is the whole trial, the steps cut by its ends included)
  cadence_readout_error_spm     live: |the cadence readout after each contact (host.gait.stride_stream, over its
                                last steps, some from before the calibration) − the same rule on the true contacts
                                of those steps|, mean over readouts; _worst_spm and readouts_cadence_within_1spm
  contact_balance_*_error_pp    the left foot's share of ground contact time (host.gait.stance), product −
                                force plate, per session (detected contacts matched within MATCH_TOL_S); the
                                set row gives its median and worst |error| and sessions_balance_within_1pp;
                                the real accelerometer set has no sides: its feet are the force plate's
                                alternate contacts, the same split for the product and the plate; live, the
                                contact times the live view measured per step (LiveUpdate.stance; the 5-s real
                                trials end before a live stride's stance is measured)
  contact_time_foot_error_*_ms  per session, the mean contact-time error of one foot minus the other's (the
                                balance's error before the ratio; 10 ms is ~1 pp at a 250-ms contact), and
                                what the steps' scatter about each foot's mean would give by chance
                                (_by_chance); the set row gives their RMS over sessions: an error that stays
                                with a foot would not average away over a longer run
  ic_f1_50ms_lag_removed        the virtual set (no impact spike): F1 at 50 ms after removing each session's
                                median lag, beside the plain ic_f1_50ms
Live contacts are scored from the live calibration to MAX_LATENCY_S before the end (before calibration the live
view has no step detector; it starts with the stream's last 6 s in its window, so it needs no warm-up; at the end
a contact cannot be reported yet).

The Alcantara set has no gyroscope, no medio-lateral axis and no stand, 5 s a trial: both pipelines run on it
(live: aligned to the first steps, calibration.moving_posture), and its rows "tiltguard contacts, axes given" then score what the two
channels can give, with the true axes handed to the product's detectors: contacts and cadence from the
post-session detector (host.gait.contacts on its level signals) and the streaming one (host.gait.streaming), and
the direction from the product's direction-from-steps stage (host.gait.direction.direction_from_steps on the true vertical
and the antero-posterior axis: +1 right, 0 unclear, -1 reversed). On the virtual set the same rule is asked on
the true axes too.
Braking facts (true contacts, true level forward axis, per step then per session): the mean fore-aft
acceleration over the first WALKING_BRAKING_SHARE of each step (the walking window) and over
the first 20 %; negative = braking.

--json FILE writes {"rows": [...]}: one row per set and mode, and one per session and mode (name = session id).
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tiltguard.calibration.forward_sign import BRAKING_MIN_STEPS  # noqa: E402
from tiltguard.host.activities import ACTIVITIES  # noqa: E402
from tiltguard.host.analysis import analyse_recording  # noqa: E402
from tiltguard.host.gait.cadence import cadence_spm  # noqa: E402
from tiltguard.host.gait.contacts import detect_initial_contacts  # noqa: E402
from tiltguard.host.gait.direction import WALKING_BRAKING_SHARE, direction_from_steps  # noqa: E402
from tiltguard.host.gait.stance import contact_balance_pct  # noqa: E402
from tiltguard.host.gait.streaming import MAX_LATENCY_S, stream_contacts  # noqa: E402
from tiltguard.host.live_analysis import LivePipeline  # noqa: E402
from tiltguard.host.samples import RawRecording  # noqa: E402
from tiltguard.host.signal.windows import centred_mean  # noqa: E402
from tiltguard_eval.datasets import DatasetMissing  # noqa: E402
from tiltguard_eval.gait_scoring import ContactScore, alternate_sides, contacts_in_window, true_readout  # noqa: E402
from tiltguard_eval.running_data import (  # noqa: E402
    RunningSession,
    fore_aft_after_contacts,
    load_alcantara,
    load_virtual,
    running_dir,
)

from bench.options import add_data_options  # noqa: E402

F1_TOL_S = 0.05
MATCH_TOL_S = 0.15  # < half of a 0.3-s step (200 spm)
LIVE_WARMUP_S = 0.0  # the live step detector starts primed with the recent past (host.live_analysis)
BLOCK = 10  # samples per live feed, as the device's frames come
EARLY_SHARE = 0.2  # the braking fact's short window (share of a step after the contact)
METRICS = ("side_accuracy", "tilt_rmse_deg", "tilt_bias_deg", "obliquity_range_error_deg",
           "rotation_range_error_deg", "ic_f1_50ms", "ic_median_abs_err_ms", "cadence_error_spm")
NAN = float("nan")


# ---------------------------------------------------------------- what is scored
@dataclass
class Scored:
    """A session as the bench scores it: the recording the product reads and its truth on `clock`
    (per sample; the simulator's true sampling instants, else the recording's clock)."""

    name: str
    dataset: str
    rec: RawRecording
    clock: np.ndarray
    windows: list[tuple[float, float]]  # running windows, on `clock`
    ic_s: np.ndarray
    ic_left: np.ndarray | None
    tilt_deg: np.ndarray | None = None
    obliquity_deg: np.ndarray | None = None
    rotation_deg: np.ndarray | None = None
    forward_sensor: np.ndarray | None = None  # the true forward axis in sensor axes (first mounting)
    has_stand: bool = True
    source: RunningSession | None = None  # the data set's session (for the braking facts)


@dataclass
class Output:
    """What one product run gave, on the recording's samples."""

    refused: str | None = None
    tilt_deg: np.ndarray | None = None
    obliquity_deg: np.ndarray | None = None
    rotation_deg: np.ndarray | None = None
    ic_index: np.ndarray = field(default_factory=lambda: np.zeros(0))  # fractional sample index
    ic_left: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    forward_sensor: np.ndarray | None = None
    up_sensor: np.ndarray | None = None
    forward_source: str | None = None
    calibrated_at_s: float | None = None  # live: stream time of the calibration
    direction: int | None = None  # the direction rule's answer on the true axes (+1, 0, -1)
    seconds: float = 0.0
    contact_s: np.ndarray | None = None  # per detected contact: ground contact time (NaN unmeasured)
    toe_off_t: np.ndarray | None = None  # per detected contact: toe-off, on the recording's clock
    side_known: np.ndarray | None = None  # per detected contact: its side is known (host.gait.sides); None: all
    cadence_readouts: list | None = None  # live: the cadence readout after each contact (CadenceReadout)


def from_dataset(s: RunningSession) -> Scored:
    tr = s.truth
    return Scored(s.name, s.dataset, s.rec, s.rec.t, tr.windows, tr.ic_s, tr.ic_left, tr.tilt_deg,
                  tr.obliquity_deg, tr.rotation_deg, tr.forward_sensor, has_stand=tr.standing_s is not None,
                  source=s)


# The first re-clips: upside down, back to front, on its side (then random ones)
REMOUNTS_FIXED = (("x", 180.0), ("z", 180.0), ("y", 90.0))


def remounted(s: Scored, n: int, seed: int = 7) -> list[Scored]:
    """`s` with the pod re-clipped `n` other ways round: the same motion read on rotated sensor axes."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    turns = [Rotation.from_euler(axis, deg, degrees=True) for axis, deg in REMOUNTS_FIXED]
    while len(turns) < n:
        turns.append(Rotation.random(random_state=int(rng.integers(1 << 30))))
    out = []
    for k, turn in enumerate(turns[:n]):
        q = turn.as_matrix()
        rec = replace(s.rec, acc=s.rec.acc @ q.T, gyr=s.rec.gyr @ q.T)
        out.append(replace(s, name=f"{s.name}@m{k}", dataset="virtual remounted", rec=rec,
                           forward_sensor=None if s.forward_sensor is None else q @ s.forward_sensor))
    return out


def mirrored(s: Scored) -> Scored:
    """`s` as the mirror-image runner: the motion reflected through the sagittal plane (left for right), read
    on the same sensor. A new runner for the cues, whose every left/right asymmetry is the other way round:
    a side or direction rule fitted to these runners' own asymmetries would fail here. Truth: sides swapped,
    obliquity and rotation negated, tilt, contacts and toe-offs as they were."""
    tr = s.source.truth
    left = np.cross(tr.up_sensor, tr.forward_sensor)
    m = np.eye(3) - 2 * np.outer(left, left) / (left @ left)
    rec = replace(s.rec, acc=s.rec.acc @ m.T, gyr=-(s.rec.gyr @ m.T))  # the angular rate is an axial vector
    truth = replace(tr, ic_left=~tr.ic_left, to_left=~tr.to_left, obliquity_deg=-tr.obliquity_deg,
                    rotation_deg=-tr.rotation_deg)
    source = replace(s.source, name=f"{s.name}@mirror", rec=rec, truth=truth)
    return replace(s, name=f"{s.name}@mirror", dataset="virtual mirrored", rec=rec, ic_left=~s.ic_left,
                   obliquity_deg=-s.obliquity_deg, rotation_deg=-s.rotation_deg, source=source)


def pod_moved(s: Scored, offsets_cm: list[tuple[float, float]]) -> list[Scored]:
    """`s` with the pod clipped elsewhere on the low back, at each (up, left) offset in cm from the data's own
    point: the same rigid pelvis read there (the specific force moved by the angular terms,
    alpha x r + omega x (omega x r), from the session's own gyro: host.gait.lever_arm.at_point). Truth as it
    was: the pelvis, its contacts and sides do not move."""
    out = []
    for up_cm, left_cm in offsets_cm:
        rec = s.source.pod_moved(up_cm, left_cm)
        name = f"{s.name}@up{up_cm:+.0f}left{left_cm:+.0f}cm"
        out.append(replace(s, name=name, dataset="virtual pod moved", rec=rec,
                           source=replace(s.source, name=name, rec=rec)))
    return out


def resampled(s: Scored, rate_hz: float) -> Scored:
    """`s` as a pod with a lower output data rate: the samples low-passed and decimated by an integer factor
    (as a sensor's own digital filter does before it outputs), the per-sample truth taken at the kept samples."""
    from scipy.signal import resample_poly

    k = int(round(s.rec.rate_hz / rate_hz))
    if k < 2 or abs(s.rec.rate_hz / k - rate_hz) > 1e-6 * rate_hz:
        raise SystemExit(f"--rate wants {s.rec.rate_hz:g} Hz divided by a whole number of at least 2, got {rate_hz:g}")

    def kept(x):
        return None if x is None else x[::k]

    rec = replace(s.rec, t=s.rec.t[::k], acc=resample_poly(s.rec.acc, 1, k, axis=0),
                  gyr=resample_poly(s.rec.gyr, 1, k, axis=0), rate_hz=s.rec.rate_hz / k,
                  temp_c=kept(s.rec.temp_c))
    tr = s.source.truth
    truth = replace(tr, tilt_deg=kept(tr.tilt_deg), obliquity_deg=kept(tr.obliquity_deg),
                    rotation_deg=kept(tr.rotation_deg), grf_bw=kept(tr.grf_bw))
    name = f"{s.name}@{rate_hz:g}Hz"
    return replace(s, name=name, dataset=f"virtual at {rate_hz:g} Hz", rec=rec, clock=kept(s.clock),
                   tilt_deg=kept(s.tilt_deg), obliquity_deg=kept(s.obliquity_deg), rotation_deg=kept(s.rotation_deg),
                   source=replace(s.source, name=name, rec=rec, truth=truth))


def noisier(s: Scored, acc_sd: float, gyr_sd_dps: float, seed: int = 11) -> Scored:
    """The same session read by a noisier, more biased pod: white noise of acc_sd m/s² and gyr_sd_dps °/s RMS per
    axis on top of the data's own, and a constant bias per axis drawn with the same spreads (seeded per session)."""
    rng = np.random.default_rng([seed, sum(map(ord, s.name))])
    gyr_sd = np.radians(gyr_sd_dps)
    acc = s.rec.acc + rng.normal(0.0, acc_sd, s.rec.acc.shape) + rng.normal(0.0, acc_sd, 3)
    gyr = s.rec.gyr + rng.normal(0.0, gyr_sd, s.rec.gyr.shape) + rng.normal(0.0, gyr_sd, 3)
    name = f"{s.name}+noise"
    rec = replace(s.rec, acc=acc, gyr=gyr)
    return replace(s, name=name, dataset="virtual noisier", rec=rec, source=replace(s.source, name=name, rec=rec))


def parse_noise(text: str) -> tuple[float, float]:
    """'ACC,GYRO' -> (m/s², °/s)."""
    try:
        acc_sd, gyr_sd = (float(v) for v in text.split(","))
    except ValueError:
        raise SystemExit(f"--noise wants ACC,GYRO (m/s² and °/s RMS, e.g. 0.05,0.3), got {text!r}") from None
    return acc_sd, gyr_sd


def parse_offsets(text: str) -> list[tuple[float, float]]:
    """'UP,LEFT;UP,LEFT...' in cm (negative: down, right) -> [(up, left), ...]."""
    try:
        pairs = [tuple(float(v) for v in item.split(",")) for item in text.split(";") if item.strip()]
    except ValueError:
        pairs = []
    if not pairs or any(len(p) != 2 for p in pairs):
        raise SystemExit(f"--pod-at wants 'UP,LEFT;UP,LEFT...' in cm, got {text!r}")
    return pairs


def running_scenarios() -> list[str]:
    from tiltguard.host.simulator import SCENARIOS

    return [name for name, sc in SCENARIOS.items() if any(seg.kind == "run" for seg in sc.segments)]


def from_simulator(name: str, minutes: float, seed: int) -> Scored:
    from tiltguard.host.simulator import ACTIVITIES, get_scenario, simulate
    from tiltguard_eval.simulated_gait import sensor_to_pelvis_matrix

    sc = get_scenario(name)
    fixed_min = sum(seg.seconds for seg in sc.segments if not seg.stretch) / 60
    use = max(minutes, np.ceil(fixed_min) + 1.0) if any(seg.stretch for seg in sc.segments) else minutes
    rec, truth = simulate(sc, minutes=use, rate_hz=200, seed=seed)
    windows = []
    for seg in truth.segments:  # contiguous run segments (a corner, a sprint, a lap's bend) make one window
        if seg["kind"] != "run":
            continue
        if windows and abs(windows[-1][1] - seg["start_s"]) < 1e-6:
            windows[-1] = (windows[-1][0], seg["end_s"])
        else:
            windows.append((seg["start_s"], seg["end_s"]))
    assert np.any(truth.activity == ACTIVITIES.index("running"))
    if use != minutes:
        print(f"  {name}: its fixed segments need {fixed_min:.1f} min: simulated {use:g} min", file=sys.stderr)
    return Scored(name, "simulator", rec, truth.t, windows,
                  np.asarray(truth.ic_times, float), np.asarray(truth.ic_sides) == "L",
                  np.degrees(truth.tilt_rel), np.degrees(truth.obliquity), np.degrees(truth.rotation),
                  sensor_to_pelvis_matrix(truth)[0][0])


# ---------------------------------------------------------------- product runs
def run_post(s: Scored) -> Output:
    t0 = time.perf_counter()
    try:
        a = analyse_recording(s.rec, mode="post")
    except Exception as exc:  # CalibrationRejected / DirectionUnclear and anything else: a refusal, with why
        return Output(refused=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0)
    al = a.alignment
    if not al.direction_known:  # analysed, with the angles' sign and the sides withheld: a refusal of direction
        return Output(refused=f"direction unknown: {al.withheld}", seconds=time.perf_counter() - t0)
    return Output(None, np.degrees(a.angles.tilt), np.degrees(a.angles.obliquity), np.degrees(a.angles.rotation),
                  np.asarray(a.contacts.index, float), np.asarray(a.contacts.left, bool), al.forward_sensor,
                  al.up_sensor, al.forward_source, seconds=time.perf_counter() - t0,
                  contact_s=a.gait.stance.contact_s, toe_off_t=a.gait.stance.toe_off_t,
                  side_known=_sides_known_per_contact(a))


def _sides_known_per_contact(a) -> np.ndarray:
    """Whether each contact's side is known: the side cue of its gait decided (host.gait.sides)."""
    codes = a.activity.codes[a.contacts.samples(len(a.activity.codes))]
    gait = {code: "running" if ACTIVITIES[code] == "running" else "walking" for code in np.unique(codes)}
    return np.array([a.sides_known(gait[c]) for c in codes], bool)


def run_live(s: Scored) -> Output:
    rec = s.rec
    t0 = time.perf_counter()
    p = LivePipeline(rec.rate_hz)
    if s.has_stand:
        p.request_stand()
    angles = {k: [] for k in ("tilt", "obliquity", "rotation")}
    contacts, events, stance, readouts = [], [], {}, []
    calibrated_at = None
    try:
        for i in range(0, len(rec.t), BLOCK):
            u = p.feed(rec.t[i:i + BLOCK], rec.acc[i:i + BLOCK], rec.gyr[i:i + BLOCK])
            for k in angles:
                angles[k].append(getattr(u, k))
            contacts += u.contacts
            readouts += u.cadence
            events += u.calibration
            stance.update(u.stance)  # contact time -> its ground contact time, as the live readout has it
            if calibrated_at is None and p.calibrated:
                calibrated_at = float(rec.t[min(i + BLOCK, len(rec.t)) - 1])
        p.finish()
    except Exception as exc:
        return Output(refused=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    if not p.calibrated:
        said = "; ".join(f"{e.kind}: {e.message}" for e in events if e.kind.endswith("rejected"))
        return Output(refused=f"not calibrated in the {rec.duration_s:.1f}-s recording (calibration state "
                              f"'{p.calibration.state}'{'; ' + said if said else ', nothing said'})", seconds=seconds)
    al = p.calibration.alignment
    idx = np.array([(c.t - rec.t[0]) * rec.rate_hz for c in contacts])
    contact_s = np.array([stance.get(c.t, np.nan) for c in contacts])
    return Output(None, *(np.degrees(np.concatenate(angles[k])) for k in ("tilt", "obliquity", "rotation")),
                  idx, np.array([c.left for c in contacts], bool), al.forward_sensor, al.up_sensor,
                  al.forward_source, calibrated_at, seconds=seconds,
                  contact_s=contact_s, toe_off_t=np.array([c.t for c in contacts]) + contact_s,
                  side_known=np.array([c.side_known for c in contacts], bool), cadence_readouts=readouts)


def _true_axes(s: Scored) -> tuple[np.ndarray, np.ndarray]:
    return s.source.truth.up_sensor, s.source.truth.forward_sensor


def _axes_matrix(up: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Rows: pelvis x forward, y left, z up, in sensor axes."""
    return np.vstack([forward, np.cross(up, forward), up])


def braking_sign(s: Scored) -> int:
    """The product's direction rule on the true vertical and the true forward axis, over the first running window."""
    up, fwd = _true_axes(s)
    a, b = s.windows[0]
    i0, i1 = np.searchsorted(s.clock, [a, b])
    return direction_from_steps(s.rec.acc, s.rec.gyr, s.rec.rate_hz, up, fwd, (int(i0), int(i1))).sign


def run_detector(s: Scored, mode: str) -> Output:
    """The contact detectors alone with the true axes given (the accelerometer-only set)."""
    rec = s.rec
    R = _axes_matrix(*_true_axes(s))
    t0 = time.perf_counter()
    if mode == "post":
        ic = detect_initial_contacts(rec.acc, rec.gyr, rec.rate_hz, t0=float(rec.t[0]), sensor_to_pelvis=R)
        idx, left = np.asarray(ic.index, float), np.asarray(ic.left, bool)
        direction = braking_sign(s)
        calibrated = None
    else:
        live = stream_contacts(rec.acc, rec.gyr, rec.rate_hz, sensor_to_pelvis=R, t0=float(rec.t[0]), chunk=BLOCK)
        idx = np.array([(c.t - rec.t[0]) * rec.rate_hz for c in live])
        left = np.array([c.left for c in live], bool)
        direction = None
        calibrated = float(rec.t[0]) + 2.0  # axes given: the detector starts with the stream, its first run at 2 s
    return Output(None, ic_index=idx, ic_left=left, calibrated_at_s=calibrated, direction=direction,
                  seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------- scoring
@dataclass
class Tally:
    """One set × mode × product path, pooled over sessions."""

    sessions: int = 0
    refused: list = field(default_factory=list)  # (session, reason)
    reversed: list = field(default_factory=list)  # session names
    per_session: dict = field(default_factory=lambda: {k: [] for k in
                                                       ("tilt_rmse_deg", "tilt_bias_deg", "obliquity_range_error_deg",
                                                        "rotation_range_error_deg", "forward_axis_error_deg",
                                                        "rotation_about_travel_range_error_deg",
                                                        "calibrated_at_s")})
    f1: ContactScore = field(default_factory=ContactScore)
    match: ContactScore = field(default_factory=ContactScore)
    cadence_errors: list = field(default_factory=list)
    readout_errors: list = field(default_factory=list)  # live: |cadence readout − the plate's over its steps|
    readouts_without_truth: int = 0  # live: readouts whose true steps make none
    directions: list = field(default_factory=list)
    braking: dict = field(default_factory=lambda: {"product": [], "early": []})
    seconds: float = 0.0
    live_scored: int = 0  # live sessions with a scored window (over 1 s) after their calibration
    sides_withheld: int = 0  # sessions whose every contact's side the product withheld (host.gait.sides)
    stance: dict = field(default_factory=lambda: {"toe_off": [], "contact": [], "balance": [], "lagged_f1": [],
                                                  "foot": []})


def _mean(x) -> float:
    x = [v for v in x if v is not None and np.isfinite(v)]
    return float(np.mean(x)) if x else NAN


def _stride_range_errors(s: Scored, est: np.ndarray, true: np.ndarray, windows) -> list[float]:
    if est is None or true is None or s.ic_left is None:
        return []
    out = []
    for a, b in windows:
        lefts = s.ic_s[s.ic_left & (s.ic_s >= a) & (s.ic_s <= b)]
        idx = np.searchsorted(s.clock, lefts)
        for i, j in zip(idx[:-1], idx[1:]):
            e = est[i:j]
            if j - i > 2 and np.all(np.isfinite(e)):
                out.append(abs(np.ptp(e) - np.ptp(true[i:j])))
    return out


def _about_stride_heading(s: Scored) -> np.ndarray | None:
    """The truth's rotation about its own stride-averaged heading, as the product defines rotation (relative to
    the direction of travel, host.pelvis.heading): the lab's truth is relative to the treadmill, so a runner
    whose yaw wobbles from stride to stride (a few degrees over 2-3 strides) has it in the truth's rotation and,
    for the product, in the heading."""
    if s.rotation_deg is None or s.ic_left is None or len(s.ic_s) < 3:
        return None
    step = float(np.median(np.diff(s.ic_s))) * s.rec.rate_hz
    return s.rotation_deg - centred_mean(s.rotation_deg, np.full(len(s.rotation_deg), 2.0 * step))


def _forward_error_deg(s: Scored, out: Output) -> float:
    if s.forward_sensor is None or out.forward_sensor is None or out.up_sensor is None:
        return NAN
    up = out.up_sensor / np.linalg.norm(out.up_sensor)
    fwd = s.forward_sensor - (s.forward_sensor @ up) * up
    fwd /= np.linalg.norm(fwd)
    f = out.forward_sensor / np.linalg.norm(out.forward_sensor)
    return float(np.degrees(np.arccos(np.clip(f @ fwd, -1.0, 1.0))))


def score_session(s: Scored, out: Output, mode: str, tally: Tally) -> dict:
    """Score one run into `tally` and return the session's own row metrics."""
    tally.sessions += 1
    tally.seconds += out.seconds
    row = {"sessions": 1, "refused_sessions": int(out.refused is not None), "reversed_sessions": 0,
           **{k: NAN for k in METRICS}, "seconds": round(out.seconds, 3)}
    if out.refused is not None:
        tally.refused.append((s.name, out.refused))
        row["refusal_reason"] = out.refused
        return row
    windows = list(s.windows)
    if mode == "live" and out.calibrated_at_s is not None:
        end = float(s.clock[-1]) - MAX_LATENCY_S
        start = float(np.interp((out.calibrated_at_s - s.rec.t[0]) * s.rec.rate_hz, np.arange(len(s.clock)), s.clock))
        windows = [(max(a, start + LIVE_WARMUP_S), min(b, end)) for a, b in windows]
        windows = [(a, b) for a, b in windows if b - a > 1.0]
        tally.live_scored += bool(windows)
        row["calibrated_at_s"] = out.calibrated_at_s
        tally.per_session["calibrated_at_s"].append(out.calibrated_at_s)
    in_run = np.zeros(len(s.clock), bool)
    for a, b in windows:
        in_run |= (s.clock >= a) & (s.clock <= b)
    # angles
    if out.tilt_deg is not None and s.tilt_deg is not None:
        k = in_run & np.isfinite(out.tilt_deg)
        if k.sum() > s.rec.rate_hz:
            err = out.tilt_deg[k] - s.tilt_deg[k]
            corr = float(np.corrcoef(out.tilt_deg[k], s.tilt_deg[k])[0, 1])
            row.update(tilt_rmse_deg=float(np.sqrt(np.mean(err**2))), tilt_bias_deg=float(err.mean()),
                       tilt_correlation=corr)
            if corr < 0:
                row["reversed_sessions"] = 1
                tally.reversed.append(s.name)
        for name in ("obliquity", "rotation"):
            errs = _stride_range_errors(s, getattr(out, f"{name}_deg"), getattr(s, f"{name}_deg"), windows)
            row[f"{name}_range_error_deg"] = float(np.mean(errs)) if errs else NAN
        errs = _stride_range_errors(s, out.rotation_deg, _about_stride_heading(s), windows)
        row["rotation_about_travel_range_error_deg"] = float(np.mean(errs)) if errs else NAN
        for k in ("tilt_rmse_deg", "tilt_bias_deg", "obliquity_range_error_deg", "rotation_range_error_deg",
                  "rotation_about_travel_range_error_deg"):
            tally.per_session[k].append(row[k])
    if out.forward_sensor is not None:
        row["forward_axis_error_deg"] = _forward_error_deg(s, out)
        row["forward_source"] = out.forward_source
        tally.per_session["forward_axis_error_deg"].append(row["forward_axis_error_deg"])
        if s.tilt_deg is None and row["forward_axis_error_deg"] > 90.0:  # no truth angles: the axis tells
            row["reversed_sessions"] = 1
            tally.reversed.append(s.name)
    # contacts
    det_t = np.interp(out.ic_index, np.arange(len(s.clock)), s.clock) if len(out.ic_index) else np.zeros(0)
    # a side the product withheld (its side cue too weak, host.gait.sides) is not scored: NaN
    known = np.ones(len(det_t), bool) if out.side_known is None else np.asarray(out.side_known, bool)
    det_left = np.where(known, out.ic_left, np.nan) if len(det_t) else np.zeros(0)
    row["side_unknown_contacts"] = int((~known).sum())
    row["sides_withheld_sessions"] = int(bool(len(known)) and not known.any())
    tally.sides_withheld += row["sides_withheld_sessions"]
    f1, match, cad = ContactScore(), ContactScore(), []
    for a, b in windows:
        ref = contacts_in_window(s.ic_s, a, b)
        ref_left = None if s.ic_left is None else s.ic_left[ref]
        for tol, sc in ((F1_TOL_S, f1), (MATCH_TOL_S, match)):
            d = _window_detections(det_t, s.ic_s, a, b, tol)
            for target in (sc, tally.f1 if sc is f1 else tally.match):
                target.add(det_t[d], s.ic_s[ref], tol, det_left[d] if ref_left is not None else None, ref_left)
        true_cad = cadence_spm(s.ic_s[ref])
        if np.isfinite(true_cad):
            got = cadence_spm(det_t[contacts_in_window(det_t, a, b)])
            cad.append(abs(got - true_cad) if np.isfinite(got) else abs(true_cad))
    tally.cadence_errors += cad
    if out.cadence_readouts is not None:
        errs = readout_errors(s, out.cadence_readouts, windows)
        tally.readouts_without_truth += int(np.sum(np.isnan(errs)))
        errs = [e for e in errs if np.isfinite(e)]
        tally.readout_errors += errs
        row["cadence_readout_error_spm"] = _mean(errs)
    row.update(ic_f1_50ms=f1.f1, ic_median_abs_err_ms=1000 * match.median_abs_error_s,
               ic_median_err_ms=1000 * float(np.median(match.errors_s)) if match.errors_s else NAN,
               side_accuracy=match.laterality_accuracy, cadence_error_spm=_mean(cad),
               tp_50ms=f1.tp, fp_50ms=f1.fp, fn_50ms=f1.fn)
    score_stance(s, out, det_t, windows, tally, row)
    if out.direction is not None:
        tally.directions.append(out.direction)
        row["direction_rule_sign"] = out.direction
        if out.direction < 0:
            row["reversed_sessions"] = 1
            tally.reversed.append(s.name)
    return row


def readout_errors(s: Scored, readouts: list, scored: list[tuple[float, float]]) -> list[float]:
    """|live cadence readout − the same readout of the true contacts over the same steps| (spm), for the readouts
    made in a scored window whose steps all lie in one of the session's running windows. The truth's readout is
    the product's rule (host.gait.stride_stream.RecentCadence) fed the true contacts of that span."""
    out = []
    for r in readouts:
        t, since = (np.interp((x - s.rec.t[0]) * s.rec.rate_hz, np.arange(len(s.clock)), s.clock)
                    for x in (r.t, r.since_t))
        if not any(a <= t <= b for a, b in scored) or not any(a <= since and t <= b for a, b in s.windows):
            continue
        true = true_readout(s.ic_s, since, t, F1_TOL_S)
        out.append(abs(r.spm - true.spm) if true is not None else NAN)  # NaN: the true steps make no readout
    return out


def _window_detections(det_t: np.ndarray, ref_s: np.ndarray, a: float, b: float, tol: float) -> np.ndarray:
    """Detections scored in the window [a, b]: those inside it, and those within `tol` outside it unless they are
    the detection of a true contact outside it (neither a hit nor a false one here: a short window, such as a
    live one after its calibration, must not count its edge contacts as false)."""
    d = contacts_in_window(det_t, a - tol, b + tol)
    if len(ref_s) == 0:
        return d
    j = np.clip(np.searchsorted(ref_s, det_t[d]), 1, len(ref_s) - 1) if len(ref_s) > 1 else np.zeros(len(d), int)
    nearest = np.where(np.abs(ref_s[j - 1] - det_t[d]) < np.abs(ref_s[j] - det_t[d]), ref_s[j - 1], ref_s[j]) \
        if len(ref_s) > 1 else np.full(len(d), ref_s[0])
    outside = ((nearest < a) | (nearest > b)) & (np.abs(nearest - det_t[d]) <= tol)
    return d[~outside]


def score_stance(s: Scored, out: Output, det_t: np.ndarray, windows, tally: Tally, row: dict) -> None:
    """Toe-off and ground contact time against the force plate (the data sets' truth), per matched contact,
    the left foot's share of contact time, and contact F1 with the session's constant lag removed."""
    truth = s.source.truth if s.source is not None else None
    if truth is None or truth.contact_time_s is None:
        return
    if len(det_t) and truth.ic_left is not None:
        # The virtual set has no impact spike (skin-marker kinematics, docs/validation.md), so the sacrum first
        # shows a contact at the loading rise, a near-constant lag behind the force plate. Its timing is judged
        # against that missing impact: F1 at 50 ms after removing the session's median lag (stated with it).
        ref = np.concatenate([s.ic_s[contacts_in_window(s.ic_s, a, b)] for a, b in windows]) if windows else []
        lag = ContactScore()
        lag.add(det_t, np.asarray(ref), MATCH_TOL_S)
        shift = float(np.median(lag.errors_s)) if lag.errors_s else 0.0
        lagged = ContactScore()
        for a, b in windows:
            d = contacts_in_window(det_t - shift, a - F1_TOL_S, b + F1_TOL_S)
            lagged.add((det_t - shift)[d], s.ic_s[contacts_in_window(s.ic_s, a, b)], F1_TOL_S)
        tally.stance["lagged_f1"].append((lagged.tp, lagged.fp, lagged.fn))
        row.update(ic_lag_ms=1000 * shift, ic_f1_50ms_lag_removed=lagged.f1)
    if out.contact_s is None:
        return
    to_err, ct_err, mine, true = [], [], {True: [], False: []}, {True: [], False: []}
    foot_err = {True: [], False: []}  # contact-time error per foot (the balance's own error, split)
    sides = truth.ic_left if truth.ic_left is not None else alternate_sides(truth.ic_s)
    for k, t in enumerate(det_t):
        j = int(np.argmin(np.abs(truth.ic_s - t))) if len(truth.ic_s) else -1
        if j < 0 or abs(truth.ic_s[j] - t) > MATCH_TOL_S or not any(a <= t <= b for a, b in windows):
            continue
        if not (np.isfinite(out.contact_s[k]) and np.isfinite(truth.contact_time_s[j])):
            continue
        to_err.append(out.toe_off_t[k] - (truth.ic_s[j] + truth.contact_time_s[j]))
        ct_err.append(out.contact_s[k] - truth.contact_time_s[j])
        if truth.ic_left is not None:
            if out.side_known is not None and not out.side_known[k]:
                continue
            mine[bool(out.ic_left[k])].append(out.contact_s[k])
            true[bool(truth.ic_left[j])].append(truth.contact_time_s[j])
            foot_err[bool(truth.ic_left[j])].append(ct_err[-1])
        elif sides is not None:  # no sides in the data: the balance of the measurement alone, on the plate's
            mine[bool(sides[j])].append(out.contact_s[k])
            true[bool(sides[j])].append(truth.contact_time_s[j])
            foot_err[bool(sides[j])].append(ct_err[-1])
    tally.stance["toe_off"] += to_err
    tally.stance["contact"] += ct_err
    row.update(toe_off_median_abs_err_ms=1000 * float(np.median(np.abs(to_err))) if to_err else NAN,
               contact_time_median_abs_err_ms=1000 * float(np.median(np.abs(ct_err))) if ct_err else NAN,
               contact_time_median_err_ms=1000 * float(np.median(ct_err)) if ct_err else NAN)
    if all(mine.values()) and all(true.values()):
        # the truth is the share of the time itself (means); the product reads each foot's median
        row["contact_balance_error_pp"] = (contact_balance_pct(mine[True], mine[False])
                                           - 100 * np.mean(true[True]) / (np.mean(true[True]) + np.mean(true[False])))
        tally.stance["balance"].append(row["contact_balance_error_pp"])
    if min(len(v) for v in foot_err.values()) >= 2:
        # Does the error stay with a foot, or would a longer run average it away? Compare the two feet's mean
        # errors with what the steps' own scatter about them would give by chance.
        a, b = (np.asarray(foot_err[side]) for side in (True, False))
        pooled_var = (a.var(ddof=1) * (len(a) - 1) + b.var(ddof=1) * (len(b) - 1)) / (len(a) + len(b) - 2)
        row.update(contact_time_foot_error_ms=1000 * float(a.mean() - b.mean()),
                   contact_time_foot_error_by_chance_ms=1000 * float(np.sqrt(pooled_var * (1 / len(a) + 1 / len(b)))))
        tally.stance["foot"].append((row["contact_time_foot_error_ms"], row["contact_time_foot_error_by_chance_ms"]))


def braking_facts(s: Scored, tally: Tally, row: dict) -> None:
    src = s.source
    product = fore_aft_after_contacts(src, WALKING_BRAKING_SHARE).mean()
    early = fore_aft_after_contacts(src, EARLY_SHARE).mean()
    tally.braking["product"].append(product)
    tally.braking["early"].append(early)
    row.update(fore_aft_product_window_mps2=float(product), fore_aft_first_20pct_mps2=float(early))


def tally_row(name: str, dataset: str, mode: str, t: Tally) -> dict:
    scored = t.sessions - len(t.refused)
    row = dict(name=name, peer=False, dataset=dataset, mode=mode, sessions=t.sessions,
               reversed_sessions=len(t.reversed), refused_sessions=len(t.refused),
               sides_withheld_sessions=t.sides_withheld,
               side_accuracy=t.match.laterality_accuracy,
               **{k: _mean(t.per_session[k]) for k in ("tilt_rmse_deg", "tilt_bias_deg", "obliquity_range_error_deg",
                                                       "rotation_range_error_deg",
                                                       "rotation_about_travel_range_error_deg")},
               ic_f1_50ms=t.f1.f1 if scored else NAN,
               ic_median_abs_err_ms=1000 * t.match.median_abs_error_s,
               ic_median_err_ms=1000 * float(np.median(t.match.errors_s)) if t.match.errors_s else NAN,
               cadence_error_spm=_mean(t.cadence_errors),
               cadence_error_worst_spm=max(t.cadence_errors) if t.cadence_errors else NAN,
               windows_cadence_within_1spm=int(np.sum(np.asarray(t.cadence_errors) <= 1.0)),
               cadence_windows=len(t.cadence_errors),
               **({} if not t.readout_errors else dict(
                   cadence_readout_error_spm=_mean(t.readout_errors),
                   cadence_readout_error_worst_spm=max(t.readout_errors),
                   readouts_cadence_within_1spm=int(np.sum(np.asarray(t.readout_errors) <= 1.0)),
                   cadence_readouts=len(t.readout_errors), readouts_without_truth=t.readouts_without_truth)),
               tp_50ms=t.f1.tp, fp_50ms=t.f1.fp, fn_50ms=t.f1.fn,
               forward_axis_error_deg=_mean(t.per_session["forward_axis_error_deg"]),
               seconds=round(t.seconds, 2), reversed=list(t.reversed))
    for k in ("tilt_rmse_deg", "obliquity_range_error_deg", "rotation_range_error_deg",
              "rotation_about_travel_range_error_deg"):
        x = [v for v in t.per_session[k] if v is not None and np.isfinite(v)]
        if x:  # the acceptance speaks of the median and the worst session
            row[k.replace("_deg", "_median_deg")], row[k.replace("_deg", "_worst_deg")] = float(np.median(x)), max(x)
    if t.per_session["calibrated_at_s"]:
        row["calibrated_at_median_s"] = float(np.median(t.per_session["calibrated_at_s"]))
        row["live_scored_sessions"] = t.live_scored
    reasons: dict[str, list[str]] = {}
    for session, why in t.refused:
        reasons.setdefault(why, []).append(session)
    row["refusals"] = reasons
    if t.directions:
        d = np.asarray(t.directions)
        row.update(direction_rule_right=int((d > 0).sum()), direction_rule_unclear=int((d == 0).sum()),
                   direction_rule_reversed=int((d < 0).sum()))
    st = t.stance
    if st["toe_off"]:
        row.update(toe_off_median_abs_err_ms=1000 * float(np.median(np.abs(st["toe_off"]))),
                   contact_time_median_abs_err_ms=1000 * float(np.median(np.abs(st["contact"]))),
                   contact_time_median_err_ms=1000 * float(np.median(st["contact"])))
    if st["balance"]:
        row["contact_balance_max_abs_error_pp"] = float(np.max(np.abs(st["balance"])))
        row["contact_balance_median_abs_error_pp"] = float(np.median(np.abs(st["balance"])))
        row["sessions_balance_within_1pp"] = int(np.sum(np.abs(st["balance"]) <= 1.0))
    if st["foot"]:
        foot, chance = np.asarray(st["foot"]).T
        row.update(contact_time_foot_error_rms_ms=float(np.sqrt(np.mean(foot**2))),
                   contact_time_foot_error_by_chance_rms_ms=float(np.sqrt(np.mean(chance**2))),
                   contact_time_foot_error_median_abs_ms=float(np.median(np.abs(foot))))
    if st["lagged_f1"]:
        tp, fp, fn = (sum(x[i] for x in st["lagged_f1"]) for i in range(3))
        row["ic_f1_50ms_lag_removed"] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    if t.braking["product"]:
        p, e = np.asarray(t.braking["product"]), np.asarray(t.braking["early"])
        row.update(walking_braking_share=WALKING_BRAKING_SHARE, fore_aft_product_window_mps2=float(p.mean()),
                   sessions_braking_in_product_window=int((p < 0).sum()), fore_aft_first_20pct_mps2=float(e.mean()),
                   sessions_braking_first_20pct=int((e < 0).sum()))
    return row


# ---------------------------------------------------------------- running a set
def bench_set(dataset: str, sessions: list[Scored], live: bool, per_session_rows: list[dict],
              accel_only: bool = False) -> list[dict]:
    rows = []
    modes = ("post", "live") if live else ("post",)
    for mode in modes:
        pipeline, detector = Tally(), Tally()
        for s in sessions:
            out = run_post(s) if mode == "post" else run_live(s)
            r = score_session(s, out, mode, pipeline)
            # the direction rule and braking facts on the true axes: the data set's own mounting only
            if s.source is not None and s.source.truth.tilt_deg is not None and mode == "post" \
                    and dataset not in ("virtual remounted", "virtual mirrored", "virtual pod moved"):
                r["direction_rule_sign_true_axes"] = braking_sign(s)
                pipeline.directions.append(r["direction_rule_sign_true_axes"])
                braking_facts(s, pipeline, r)
            per_session_rows.append(dict(name=s.name, peer=False, dataset=dataset, mode=mode, path="tiltguard", **r))
            if accel_only:
                dout = run_detector(s, mode)
                r = score_session(s, dout, mode, detector)
                if mode == "post":
                    braking_facts(s, detector, r)
                per_session_rows.append(dict(name=s.name, peer=False, dataset=dataset, mode=mode,
                                             path="tiltguard contacts, axes given", **r))
            print(f"  {dataset} {mode} {s.name}: " + (f"refused ({out.refused[:90]})" if out.refused else
                                                       f"ok {out.seconds:.1f} s"), file=sys.stderr)
        row = tally_row("tiltguard", dataset, mode, pipeline)
        if pipeline.directions:  # the direction rule asked on the true axes: not the pipeline's own decision
            row["direction_rule_true_axes"] = {k: row.pop(f"direction_rule_{k}") for k in ("right", "unclear", "reversed")}
        rows.append(row)
        if accel_only:
            rows.append(tally_row("tiltguard contacts, axes given", dataset, mode, detector))
    return rows


# ---------------------------------------------------------------- report
def _f(x, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def print_table(rows: list[dict]) -> None:
    head = (f"{'dataset':<17} {'name':<30} {'mode':<4} {'n':>3} {'refus':>5} {'revrs':>5} {'side':>5} "
            f"{'tilt RMSE°':>10} {'bias°':>6} {'obl rng°':>8} {'rot rng°':>8} {'F1@50ms':>7} {'|err|ms':>7} "
            f"{'cad spm':>7} {'fwd err°':>8} {'s':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['dataset']:<17} {r['name']:<30} {r['mode']:<4} {r['sessions']:>3} {r['refused_sessions']:>5} "
              f"{r['reversed_sessions']:>5} {_f(r['side_accuracy'], '5.3f'):>5} {_f(r['tilt_rmse_deg'], '10.2f'):>10} "
              f"{_f(r['tilt_bias_deg'], '+6.2f'):>6} {_f(r['obliquity_range_error_deg'], '8.2f'):>8} "
              f"{_f(r['rotation_range_error_deg'], '8.2f'):>8} {_f(r['ic_f1_50ms'], '7.3f'):>7} "
              f"{_f(r['ic_median_abs_err_ms'], '7.1f'):>7} {_f(r['cadence_error_spm'], '7.2f'):>7} "
              f"{_f(r['forward_axis_error_deg'], '8.1f'):>8} {r['seconds']:6.1f}")
    print(f"refus = refused (analysis raised / live never calibrated); revrs = tilt anti-correlated with the truth "
          f"(axes given: the direction rule said backward); side and |err| on contacts matched within "
          f"{1000 * MATCH_TOL_S:.0f} ms; fwd err = angle of the calibrated forward axis from the true one")
    print()
    for r in rows:
        tag = f"{r['dataset']} {r['mode']} {r['name']}"
        for why, who in r["refusals"].items():
            print(f"refused  {tag}: {len(who)} x {why}   [{', '.join(who[:6])}{', ...' if len(who) > 6 else ''}]")
        if r.get("sides_withheld_sessions"):
            print(f"sides withheld  {tag}: {r['sides_withheld_sessions']} of {r['sessions']} sessions "
                  "(their side cue did not tell the feet apart)")
        if r["reversed"]:
            print(f"reversed {tag}: {', '.join(r['reversed'])}")
        if "direction_rule_true_axes" in r:
            print(f"direction rule on the true axes, {tag}: right/unclear/reversed = "
                  f"{'/'.join(str(x) for x in r['direction_rule_true_axes'].values())}")
        elif "direction_rule_right" in r:
            print(f"direction rule, {tag}: right/unclear/reversed = {r['direction_rule_right']}/"
                  f"{r['direction_rule_unclear']}/{r['direction_rule_reversed']} (it asks for >= {BRAKING_MIN_STEPS} "
                  f"steps)")
        if "fore_aft_product_window_mps2" in r:
            print(f"braking facts, {r['dataset']} (true contacts and axes): mean fore-aft over the first "
                  f"{100 * r['walking_braking_share']:.0f} % of the step (the walking window) "
                  f"{r['fore_aft_product_window_mps2']:+.2f} m/s², braking in {r['sessions_braking_in_product_window']}"
                  f"/{r['sessions']} sessions; over the first {100 * EARLY_SHARE:.0f} % "
                  f"{r['fore_aft_first_20pct_mps2']:+.2f} m/s², braking in {r['sessions_braking_first_20pct']}/"
                  f"{r['sessions']}")
        if "toe_off_median_abs_err_ms" in r:
            bal = r.get("contact_balance_max_abs_error_pp")
            print(f"stance, {tag}: toe-off median |err| {r['toe_off_median_abs_err_ms']:.1f} ms, ground contact "
                  f"time median |err| {r['contact_time_median_abs_err_ms']:.1f} ms (median "
                  f"{r['contact_time_median_err_ms']:+.1f})" + (
                      f", left share of contact time |err| median {r['contact_balance_median_abs_error_pp']:.2f} "
                      f"worst {bal:.2f} pp, within 1 pp in {r['sessions_balance_within_1pp']} sessions"
                      if bal is not None else ""))
        if "contact_time_foot_error_rms_ms" in r:
            print(f"contact-time error that stays with a foot, {tag}: the two feet's mean errors differ by "
                  f"{r['contact_time_foot_error_rms_ms']:.1f} ms RMS over sessions (median "
                  f"{r['contact_time_foot_error_median_abs_ms']:.1f}); the steps' own scatter would give "
                  f"{r['contact_time_foot_error_by_chance_rms_ms']:.1f} ms by chance")
        if r.get("cadence_windows"):
            print(f"cadence per running window, {tag}: |err| mean {r['cadence_error_spm']:.2f} worst "
                  f"{r['cadence_error_worst_spm']:.2f} spm, within 1 spm in {r['windows_cadence_within_1spm']} of "
                  f"{r['cadence_windows']}")
        if r.get("cadence_readouts"):
            print(f"live cadence readout (what the view shows after each contact) against the same readout of the "
                  f"true contacts, {tag}: |err| mean {r['cadence_readout_error_spm']:.2f} worst "
                  f"{r['cadence_readout_error_worst_spm']:.2f} spm, within 1 spm in "
                  f"{r['readouts_cadence_within_1spm']} of {r['cadence_readouts']}"
                  + (f" ({r['readouts_without_truth']} more where the true steps make none)"
                     if r["readouts_without_truth"] else ""))
        if "ic_f1_50ms_lag_removed" in r:
            print(f"contacts judged against the missing impact, {tag}: F1 at 50 ms {r['ic_f1_50ms_lag_removed']:.3f} "
                  f"with each session's median lag removed")
        if "tilt_rmse_median_deg" in r:
            print(f"angles per session, {tag}: tilt RMSE median {r['tilt_rmse_median_deg']:.2f}° worst "
                  f"{r['tilt_rmse_worst_deg']:.2f}°; per-stride range error median / worst: obliquity "
                  f"{r['obliquity_range_error_median_deg']:.2f} / {r['obliquity_range_error_worst_deg']:.2f}°, rotation "
                  f"{r['rotation_range_error_median_deg']:.2f} / {r['rotation_range_error_worst_deg']:.2f}°, rotation "
                  f"about the truth's own stride heading {r['rotation_about_travel_range_error_median_deg']:.2f} / "
                  f"{r['rotation_about_travel_range_error_worst_deg']:.2f}°")
        if "calibrated_at_median_s" in r and r["mode"] == "live" and r["name"] == "tiltguard":
            print(f"live calibration, {r['dataset']}: median at {r['calibrated_at_median_s']:.1f} s of the stream; "
                  f"scored after it (more than 1 s left) in {r['live_scored_sessions']} of {r['sessions']} sessions")


def print_sessions(rows: list[dict]) -> None:
    print()
    head = (f"{'session':<34} {'path':<8} {'mode':<4} {'refused':<8} {'corr':>6} {'tilt RMSE°':>10} {'bias°':>6} "
            f"{'obl°':>5} {'rot°':>5} {'F1@50':>6} {'|err|ms':>7} {'err ms':>7} {'side':>5} {'cad':>6} {'fwd°':>6} "
            f"{'brake 50%':>9} {'20%':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        path = "pipeline" if r["path"] == "tiltguard" else "axes"
        print(f"{r['name'][:34]:<34} {path:<8} {r['mode']:<4} {'yes' if r['refused_sessions'] else '':<8} "
              f"{_f(r.get('tilt_correlation', NAN), '6.2f'):>6} {_f(r['tilt_rmse_deg'], '10.2f'):>10} "
              f"{_f(r['tilt_bias_deg'], '+6.2f'):>6} {_f(r['obliquity_range_error_deg'], '5.2f'):>5} "
              f"{_f(r['rotation_range_error_deg'], '5.2f'):>5} {_f(r['ic_f1_50ms'], '6.3f'):>6} "
              f"{_f(r['ic_median_abs_err_ms'], '7.1f'):>7} {_f(r.get('ic_median_err_ms', NAN), '+7.1f'):>7} "
              f"{_f(r['side_accuracy'], '5.3f'):>5} {_f(r['cadence_error_spm'], '6.2f'):>6} "
              f"{_f(r.get('forward_axis_error_deg', NAN), '6.1f'):>6} "
              f"{_f(r.get('fore_aft_product_window_mps2', NAN), '+9.2f'):>9} "
              f"{_f(r.get('fore_aft_first_20pct_mps2', NAN), '+6.2f'):>6}")


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    return x


def _wanted(name: str, patterns: list[str] | None) -> bool:
    return patterns is None or any(fnmatch.fnmatch(name, p) for p in patterns)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(ap, reads=("running",))  # the running folder holds virtual/ and alcantara/
    ap.add_argument("--sessions", metavar="PATTERN",
                    help="only sessions whose id matches (shell-style, comma-separated), e.g. 'vsi_subject01_*', "
                         "'alcantara_t0*', 'treadmill-run'")
    ap.add_argument("--scenarios", default="all",
                    help="simulator scenarios: 'all' (every one with running in it), 'none', or comma-separated names")
    ap.add_argument("--minutes", type=float, default=3.0, help="length of each simulated recording")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-live", action="store_true", help="post-session analysis only")
    ap.add_argument("--remount", type=int, default=0, metavar="N",
                    help="also run every virtual session with the pod re-clipped N other ways round")
    ap.add_argument("--mirror", action="store_true",
                    help="also run every virtual session as its mirror-image runner (left for right)")
    ap.add_argument("--off-centre", type=float, default=0.0, metavar="CM",
                    help="also run every virtual session with the pod clipped CM to the left and to the right")
    ap.add_argument("--pod-at", metavar="UP,LEFT;...",
                    help="also run every virtual session with the pod at these offsets (cm; negative: down, right)")
    ap.add_argument("--rate", type=float, default=0.0, metavar="HZ",
                    help="also run every virtual session resampled to HZ (a pod with a lower output data rate)")
    ap.add_argument("--noise", metavar="ACC,GYRO",
                    help="also run every virtual session read by a noisier pod: white noise and a bias of ACC m/s² "
                         "and GYRO °/s RMS per axis")
    ap.add_argument("--per-session", action="store_true", help="also print every session's numbers")
    ap.add_argument("--json", help="write {'rows': [...]} here")
    args = ap.parse_args(argv)
    patterns = [p.strip() for p in args.sessions.split(",")] if args.sessions else None
    started = time.perf_counter()

    sets: dict[str, tuple[list[Scored], bool]] = {}
    try:
        root = running_dir(args.running)
    except DatasetMissing as exc:
        print(f"skipping the running data sets (virtual, alcantara): {exc}")
        root = None
    if root is not None:
        for dataset, loader, accel_only in (("virtual", load_virtual, False), ("alcantara", load_alcantara, True)):
            folder = root / dataset
            if not folder.is_dir():
                print(f"skipping running/{dataset}: no folder {folder}")
                continue
            try:
                found = [from_dataset(s) for s in loader(folder)]
            except (OSError, ValueError, KeyError) as exc:
                print(f"skipping running/{dataset}: cannot read {folder}: {exc}")
                continue
            chosen = [s for s in found if _wanted(s.name, patterns)]
            if chosen:
                sets[dataset] = (chosen, accel_only)
            if chosen and dataset == "virtual" and args.remount > 0:
                sets["virtual remounted"] = ([m for s in chosen for m in remounted(s, args.remount)], False)
            if chosen and dataset == "virtual" and args.mirror:
                sets["virtual mirrored"] = ([mirrored(s) for s in chosen], False)
            offsets = ([(0.0, args.off_centre), (0.0, -args.off_centre)] if args.off_centre else []) + \
                (parse_offsets(args.pod_at) if args.pod_at else [])
            if chosen and dataset == "virtual" and args.rate:
                sets[f"virtual at {args.rate:g} Hz"] = ([resampled(s, args.rate) for s in chosen], False)
            if chosen and dataset == "virtual" and args.noise:
                acc_sd, gyr_sd = parse_noise(args.noise)
                sets["virtual noisier"] = ([noisier(s, acc_sd, gyr_sd) for s in chosen], False)
            if chosen and dataset == "virtual" and offsets:
                sets["virtual pod moved"] = ([m for s in chosen for m in pod_moved(s, offsets)], False)
    if args.scenarios != "none":
        names = running_scenarios() if args.scenarios == "all" else [n.strip() for n in args.scenarios.split(",")]
        sims = []
        for name in names:
            if _wanted(name, patterns):
                print(f"simulating {name}", file=sys.stderr)
                sims.append(from_simulator(name, args.minutes, args.seed))
        if sims:
            sets["simulator"] = (sims, False)
    if not sets:
        print("nothing to run: no running data, no matching sessions and no simulator scenarios", file=sys.stderr)
        return 2

    rows, per_session = [], []
    for dataset, (sessions, accel_only) in sets.items():
        print(f"{dataset}: {len(sessions)} session(s)", file=sys.stderr)
        rows.extend(bench_set(dataset, sessions, not args.no_live, per_session, accel_only))
    print_table(rows)
    if args.per_session:
        print_sessions(per_session)
    print(f"\nwhole run {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": _jsonable(rows + per_session)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
