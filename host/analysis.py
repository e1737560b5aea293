"""A whole recorded session through the pipeline, in data-flow order:

samples → neutral stand → orientation → sensor-to-pelvis alignment → pelvic angles → gait events (activity,
initial contacts) → rotation along the strides' heading → per-stride / per-ride-window cycles → flags.

`mode="post"` is the report's best estimate (looks ahead and back); `mode="causal"` uses only the past at
every step where the stage has a causal variant (orientation), as the live view would see it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

import numpy as np
from tiltguard.calibration.accel_six_position import AccelCalibration
from tiltguard.calibration.alignment import Alignment, calibrate_from_session, direction_withheld
from tiltguard.calibration.errors import CalibrationRejected, DirectionUnclear
from tiltguard.calibration.reclip import mounting_periods
from tiltguard.calibration.stand import find_neutral_stand
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.flags import FLAG_TYPES, Flag, FlagSettings, detect_flags
from tiltguard.host.gait.activity import ActivitySegments
from tiltguard.host.gait.cadence import step_timing
from tiltguard.host.gait.contacts import InitialContacts
from tiltguard.host.gait.cycles import CycleTable
from tiltguard.host.gait.direction import direction_from_steps
from tiltguard.host.gait.events import detect_gait_events
from tiltguard.host.gait.stance import contact_balance_pct
from tiltguard.host.gait.session import GaitSession, analyse_strides
from tiltguard.host.orientation import estimate_orientation
from tiltguard.host.pelvis.angles import PelvicAngles, pelvic_angles
from tiltguard.host.pelvis.heading import follow_strides
from tiltguard.host.samples import RawRecording
from tiltguard.host.signal.stillness import still_mask


@dataclass
class SessionAnalysis:
    rec: RawRecording
    mode: str
    stand: tuple[int, int] | None  # samples of the neutral stand; None: there was none (see alignment)
    alignment: Alignment
    angles: PelvicAngles
    activity: ActivitySegments
    contacts: InitialContacts
    cycles: CycleTable
    flags: list[Flag]
    gait: GaitSession  # strides with their full metrics, bouts, rides (host.gait.session)

    def sides_known(self, activity: str | None = None) -> bool:
        """Whether left and right can be told apart (in `activity`'s steps; None: in every gait): the direction
        must be known and the gait's side cue must agree with the labelled steps (host.gait.sides)."""
        sides = self.contacts.sides
        if not self.alignment.direction_known:
            return False
        if sides is None:
            return True
        return sides.known if activity is None else sides.known_for(activity)

    def cadence_spm(self, activity: str = "running") -> float | None:
        """Median cadence over the strides of an activity (None if there were none). A stride runs from a left
        contact to the next: where the feet cannot be told apart, the activity's steps give it instead."""
        m = self.cycles.activity == activity
        if not m.any():
            return None
        if not self.sides_known(activity):  # a stride is then every other contact, whichever foot
            code = self.activity.codes[self.contacts.samples(len(self.activity.codes))]
            timing = step_timing(self.contacts.t[code == ACTIVITIES.index(activity)])
            strides = timing.stride_s[timing.stride_regular]
            if len(strides):
                return float(np.median(120.0 / strides))
        return float(np.median(120.0 / (self.cycles.t_end[m] - self.cycles.t_start[m])))


def analyse_gait(acc: np.ndarray, gyr: np.ndarray, rate_hz: float, t0: float = 0.0,
                 sensor_to_pelvis: np.ndarray | None = None, angles: PelvicAngles | None = None) -> GaitSession:
    """Gait events, then (with angles) rotation re-taken along the strides' heading, then the strides stage.
    The session's angles come back in `GaitSession.angles` with that rotation."""
    events = detect_gait_events(acc, gyr, rate_hz, t0, sensor_to_pelvis)
    if angles is not None:
        angles = follow_strides(angles, rate_hz, events.contacts.index)
    return analyse_strides(events, rate_hz, angles)


def analyse_recording(rec: RawRecording, mode: str = "post", settings: FlagSettings | None = None,
                      neutral_tilt_deg: float | None = None) -> SessionAnalysis:
    acc, gyr, rate = rec.acc, rec.gyr, rec.rate_hz
    try:
        stand = find_neutral_stand(acc, gyr, rate)
    except CalibrationRejected:
        stand = None  # set off without standing still: angles relative to the first bout's posture
    # a still stand gives the gyro's bias at once (as live): the filter then only follows its drift, whatever
    # its size (VQF clips its own estimate at 2°/s per axis) and however the pod is turned
    bias = None if stand is None else gyr[stand[0]:stand[1]].mean(axis=0)
    quat = estimate_orientation(acc, gyr, rate, mode=mode, travel=True, gyro_bias=bias).quat
    try:
        alignment = calibrate_from_session(acc, gyr, rate, stand, quat=quat, step_sign=direction_from_steps)
    except DirectionUnclear as unclear:
        # the cues could not tell forward from backward: keep the axis, withhold what its sign decides
        alignment = direction_withheld(unclear)
    to_pelvis = alignment.R_pelvis_sensor
    angles = pelvic_angles(quat, to_pelvis, rate, neutral_tilt_deg=neutral_tilt_deg, acc=acc)
    periods = mounting_periods(acc, still_mask(acc, gyr, rate), rate)
    if len(periods) > 1:  # the pod was re-clipped: each period gets its own neutral and forward axis
        angles = _angles_per_mounting(rec, quat, periods, angles, neutral_tilt_deg)
    gait = analyse_gait(acc, gyr, rate, t0=float(rec.t[0]), sensor_to_pelvis=to_pelvis, angles=angles)
    angles = gait.angles  # rotation now relative to the direction of travel along the strides
    sides = gait.contacts.sides
    unsided = () if sides is None else tuple(g for g in ("running", "walking") if not sides.known_for(g))
    return SessionAnalysis(rec, mode, stand, alignment, angles, gait.activity, gait.contacts, gait.cycles,
                           detect_flags(gait.cycles, settings, neutral=alignment.has_neutral,
                                        direction=alignment.direction_known, unsided=unsided), gait)


def _angles_per_mounting(rec: RawRecording, quat: np.ndarray, periods, first: PelvicAngles,
                         neutral_tilt_deg: float | None) -> PelvicAngles:
    """Angles of a session worn with several mountings: the first period keeps the session's calibration,
    every later one is calibrated from the stand it starts with and the bout that follows. A period that
    cannot be calibrated gets NaN angles: unknown, not guessed."""
    parts = [{name: getattr(first, name)[: periods[0][1]] for name in _ANGLE_FIELDS}]
    for a, b in periods[1:]:
        sl = slice(a, b)
        try:
            stand = find_neutral_stand(rec.acc[sl], rec.gyr[sl], rec.rate_hz)
            al = calibrate_from_session(rec.acc[sl], rec.gyr[sl], rec.rate_hz, stand, quat=quat[sl],
                                        step_sign=direction_from_steps)
            angles = pelvic_angles(quat[sl], al.R_pelvis_sensor, rec.rate_hz, neutral_tilt_deg=neutral_tilt_deg,
                                   acc=rec.acc[sl])
            parts.append({name: getattr(angles, name) for name in _ANGLE_FIELDS})
        except CalibrationRejected:
            parts.append({name: np.full((b - a,) + np.shape(getattr(first, name))[1:], np.nan)
                          for name in _ANGLE_FIELDS})
    joined = {name: np.concatenate([p[name] for p in parts]) for name in _ANGLE_FIELDS}
    return PelvicAngles(**joined, tilt_abs_sd=first.tilt_abs_sd)


_ANGLE_FIELDS = ("tilt", "obliquity", "rotation", "heading", "tilt_abs", "lean", "lean_force")


# What the sign of the forward axis decides: withheld, with the reason, when the direction is unknown
WITHHELD_WITHOUT_DIRECTION = ("tilt direction (anterior/posterior), left vs right, sustained anterior tilt, "
                              "drop per side")


# What the left and right labels decide: withheld, with the reason, when the side cue cannot tell the feet apart
WITHHELD_WITHOUT_SIDES = "left vs right: drop per side, contact-time balance, step-time asymmetry, excess pelvic drop"


def stance_summary(strides, activity: str, direction_known: bool, sides_known: bool = True) -> dict:
    """Median ground contact and flight time (ms), the left foot's share of contact time (%) and peak braking
    (m/s²) over an activity's strides; braking needs the direction, the share the sides as well, and absent
    values stay out."""
    if strides is None:
        return {}
    st = strides.select(strides.activity == activity)
    left, right = st.contact_left_s, st.contact_right_s
    both = np.r_[left, right]
    if len(st) == 0 or not np.isfinite(both).any():
        return {}
    out = {"contact_time_ms": round(1000 * float(np.nanmedian(both)), 1),
           "flight_time_ms": round(1000 * float(np.nanmedian(np.r_[st.flight_left_s, st.flight_right_s])), 1)}
    if direction_known and sides_known:
        share = contact_balance_pct(left, right)
        if share is not None:
            out["contact_time_balance_pct"] = round(share, 2)  # left foot's share; 50 = even
    if direction_known:
        braking = np.r_[st.braking_left_mps2, st.braking_right_mps2]
        if np.isfinite(braking).any():
            out["braking_mps2"] = round(float(np.nanmedian(braking)), 2)
    return out


def session_summary(a: SessionAnalysis) -> dict:
    """The numbers a session keeps in the store for its history (degrees and minutes at this edge)."""
    codes = a.activity.codes
    rate = a.rec.rate_hz
    shares = {name: round(float(np.mean(codes == i)), 4) for i, name in enumerate(ACTIVITIES) if np.any(codes == i)}
    out: dict = {"duration_min": round(a.rec.duration_s / 60, 2), "activity_share": shares,
                 "strides": int(np.isin(a.cycles.activity, ("walking", "running")).sum()),
                 "tilt_abs_uncertainty_deg": round(float(np.degrees(a.angles.tilt_abs_sd)), 1),
                 "forward_axis_from": a.alignment.forward_source, "neutral_from": a.alignment.neutral_from,
                 # which way is forward: the decision, every cue with its sign and strength, the reason
                 "direction": a.alignment.direction.to_record() if a.alignment.direction is not None else None,
                 # which foot is which: each gait's side cue with its strength (host.gait.sides)
                 "sides": a.contacts.sides.to_record() if a.contacts.sides is not None else None}
    not_assessed = {}
    if not a.alignment.has_neutral:
        not_assessed["tilt vs neutral, sustained anterior tilt"] = \
            "no 5-s still stand at the start: angles are relative to the first bout's posture"
    known = a.alignment.direction_known
    if not known:
        out["direction_unknown"] = a.alignment.withheld
        not_assessed[WITHHELD_WITHOUT_DIRECTION] = "direction unknown: " + a.alignment.withheld
    elif not a.sides_known():
        out["sides_unknown"] = a.contacts.sides.why_unknown()
        not_assessed[WITHHELD_WITHOUT_SIDES] = "sides unknown: " + out["sides_unknown"]
    if not_assessed:
        out["not_assessed"] = not_assessed
    for activity in ("running", "walking", "riding"):
        m = codes == ACTIVITIES.index(activity)
        if m.sum() < 30 * rate:
            continue
        tilt = np.degrees(a.angles.tilt[m])
        row = {"minutes": round(float(m.sum() / rate / 60), 2), "tilt_sd_deg": round(float(np.nanstd(tilt)), 2)}
        if a.alignment.has_neutral and known:  # without a stand the mean tilt is ~0 by construction
            row["tilt_mean_deg"] = round(float(np.nanmean(tilt)), 2)
            row["tilt_abs_mean_deg"] = round(float(np.degrees(np.nanmean(a.angles.tilt_abs[m]))), 2)
        cyc = a.cycles.activity == activity
        if activity != "riding" and cyc.any():
            row["cadence_spm"] = round(a.cadence_spm(activity), 1)
            if a.sides_known(activity):
                row["drop_left_deg"] = round(float(np.degrees(np.nanmedian(a.cycles.drop_left[cyc]))), 2)
                row["drop_right_deg"] = round(float(np.degrees(np.nanmedian(a.cycles.drop_right[cyc]))), 2)
            else:  # the two sides' drops, not knowing which is which
                both = np.r_[a.cycles.drop_left[cyc], a.cycles.drop_right[cyc]]
                row["drop_deg"] = round(float(np.degrees(np.nanmedian(both))), 2)
            row["rotation_range_deg"] = round(float(np.degrees(np.nanmedian(a.cycles.rot_range[cyc]))), 2)
            row.update(stance_summary(a.gait.strides, activity, known, a.sides_known(activity)))
        out[activity] = row
    sustained = [f for f in a.flags if f.type == "sustained_anterior_tilt"]
    if known:
        out["anterior_tilt_min"] = round(sum(f.end - f.start for f in sustained) / 60, 2)
    out["flags"] = [f.type for f in a.flags]
    return out


def stored_recording(store, session_id: int) -> RawRecording:
    """A stored session's samples as the analysis reads them: with its device's accelerometer calibration
    applied (`tiltguard calibrate accel`; the newest one made before the session started). The raw samples
    in the store stay as they were; `rec.meta["accel_calibration"]` says which calibration was used."""
    rec = store.recording(session_id)
    cal = store.calibration_for_session(session_id, "accel")
    if cal is None:
        return rec
    acc = AccelCalibration.from_record(cal.data).apply(rec.acc)
    return replace(rec, acc=acc, meta={**rec.meta, "accel_calibration": {"id": cal.id, "created_at": cal.created_at}})


def analyse_stored_session(store, session_id: int) -> dict:
    """The store's analyser: analyse a closed session, keep its summary and flags. A session that cannot
    be analysed (a ride without a stand, a pod never worn, too short) keeps the reason instead; its raw frames
    stay untouched."""
    rec = stored_recording(store, session_id)
    try:
        result = analyse_recording(rec)
    except ValueError as exc:  # CalibrationRejected and bad input alike: say why, in one line
        summary = {"error": str(exc)}
        store.save_analysis(session_id, "pelvis", summary)
        return summary
    summary = session_summary(result)
    summary["accel_calibration"] = rec.meta.get("accel_calibration")
    store.save_analysis(session_id, "pelvis", summary)
    for flag_type in FLAG_TYPES:
        store.add_flags(session_id, [], replace_kind=flag_type)
    store.add_flags(session_id, [
        (f.type, f.start, f.end, f.peak, json.dumps({"activity": f.activity, "mean": f.mean, "decided_at": f.decided_at,
                                                       "evidence": f.evidence}))
        for f in result.flags])
    return summary
