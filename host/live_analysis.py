"""The live pipeline: decoded samples in, everything the live view shows out. No Qt, no threads.

    samples -> streaming orientation (VQF, causal) -> guided calibration (stand, then first strides)
            -> causal pelvic angles -> streaming step detector (contacts 0.3-0.45 s late)
            -> stride records + step means + cadence -> LiveFlagEngine -> flag notices with advice
            (riding: 10-s windows -> ride records -> LiveFlagEngine; pedal cadence every 2 s)

`feed(t, acc, gyr)` takes a block of contiguous samples (stream time in s, m/s², rad/s, sensor axes) and
returns a LiveUpdate with what that block produced. Angles are NaN until calibrated.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from tiltguard.calibration.alignment import Alignment
from tiltguard.calibration.live import CalibrationEvent, LiveCalibration
from tiltguard.calibration.moving_posture import MovingPostureAlignment
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.flags import (
    Flag,
    FlagEvent,
    FlagSettings,
    LiveFlagEngine,
    UserProfile,
)
from tiltguard.host.flags.advice import AdviceContext, advise
from tiltguard.host.gait.activity import segment_activity
from tiltguard.host.gait.cycles import RIDE_WINDOW_S
from tiltguard.host.gait.direction import direction_from_steps
from tiltguard.host.gait.riding import CRANK_BAND_HZ, cadence_rpm
from tiltguard.host.gait.stance import contact_balance_pct, stance_of_running_steps
from tiltguard.host.gait.streaming import WINDOW_S as STEP_WINDOW_S
from tiltguard.host.gait.streaming import LiveContact, StreamingStepDetector
from tiltguard.host.gait.stride_stream import (
    CadenceReadout,
    LiveStrides,
    SampleRing,
    StrideRecord,
    ride_window,
)
from tiltguard.host.orientation.streaming import OrientationStream
from tiltguard.host.pelvis.streaming import CausalPelvicAngles

ACTIVITY_WINDOW_S = 4.0  # activity of a stride: segmentation of the last seconds around it
STANCE_STEPS = 12  # the live contact-time readout: median of the last 12 running steps
# A running step's stance is read from the raw samples around it, centred on the step, once this much has
# arrived after it: the level frame's 0.3-Hz gravity filter needs seconds on both sides. With 3 s a step's toe-off
# is the post-session reading to within 0.6 ms (virtual runners, the same contacts; 2 s: p90 1.2, max 10.8 ms).
# Read at the data's edge as soon as a stride ended, its second step was read differently from its first, and so
# one foot from the other (mirrored virtual runners: balance median 1.18 pp against 0.63 unmirrored).
STANCE_MARGIN_S = 3.0
RING_S = 12.0  # angles and raw samples kept for stride records and ride windows
PEDAL_EVERY_S = 2.0  # the pedal cadence readout: the last RIDE_WINDOW_S, recomputed this often
MIN_RIDING_SHARE = 0.8  # of the window, for a pedal cadence (as for a ride record)
GAIT = (ACTIVITIES.index("walking"), ACTIVITIES.index("running"))
RIDING = ACTIVITIES.index("riding")
STEPS_STOPPED_S = 3.0  # no contact for this long (longest step 1.2 s + the detector's 0.45-s delay, twice): not stepping


@dataclass
class FlagNotice:
    kind: str  # 'start', 'ongoing', 'end'
    flag: Flag
    advice: str | None  # the most important advice line (during the session), if any applies
    t: float  # stream time it was decided


@dataclass
class LiveUpdate:
    t: np.ndarray  # stream time of each new sample, s
    tilt: np.ndarray  # rad, relative to neutral; NaN before calibration
    obliquity: np.ndarray
    rotation: np.ndarray
    contacts: list[LiveContact] = field(default_factory=list)
    cadence: list[CadenceReadout] = field(default_factory=list)  # after a contact
    pedal: list[tuple[float, float]] = field(default_factory=list)  # (stream time, rpm) while riding
    strides: list[StrideRecord] = field(default_factory=list)
    stance: list[tuple[float, float]] = field(default_factory=list)  # (contact time, ground contact time s), running
    flags: list[FlagNotice] = field(default_factory=list)
    calibration: list[CalibrationEvent] = field(default_factory=list)


class LivePipeline:
    def __init__(self, rate_hz: float, profile: UserProfile | None = None,
                 settings: FlagSettings | None = None) -> None:
        self.rate_hz = float(rate_hz)
        self.profile = profile or UserProfile()
        self.settings = settings or self.profile.settings()
        self.orientation = OrientationStream(rate_hz, travel=True)  # starts, stops, corners: not tilt
        self.calibration = LiveCalibration(rate_hz, step_sign=direction_from_steps)
        self.auto_alignment = MovingPostureAlignment(rate_hz, step_sign=direction_from_steps)  # if no stand is ever done
        self.flags = LiveFlagEngine(self.settings)
        self._requests: deque[str] = deque()  # from other threads: deque append/popleft are atomic
        self._angles: CausalPelvicAngles | None = None
        self._steps: StreamingStepDetector | None = None
        self._strides: LiveStrides | None = None
        self._angle_ring = SampleRing(rate_hz, RING_S, ("tilt", "obliquity", "rotation"))
        self._raw_ring = SampleRing(rate_hz, RING_S, ("ax", "ay", "az", "gx", "gy", "gz"))
        self._next_ride_t: float | None = None
        self._last_contact_t: float | None = None
        self._next_pedal_t: float | None = None
        self.t_now = 0.0
        # readouts
        self.cadence_spm: float | None = None
        self._contact_s: deque = deque(maxlen=STANCE_STEPS)  # (left foot? None: unknown; contact time s), recent steps
        self._stance_due: deque[list[LiveContact]] = deque()  # running steps (contact, next) awaiting samples after them
        self.pedal_rpm: float | None = None  # None unless pedalling now
        self.saddle_tilt_deg: float | None = None  # mean tilt vs standing neutral over the same window
        self.activity = "still"
        self.recent: deque[tuple[float, float]] = deque()  # (stride end, tilt rad) within the smoothing span
        self.anterior_s = 0.0  # time in strides above the flag threshold
        self.moving_s = 0.0  # time in strides (walking/running)

    # ------------------------------------------------------------------ control (any thread)
    def request_stand(self) -> None:
        """Start (or repeat) the guided neutral stand with the next block of samples."""
        self._requests.append("stand")

    def set_alignment(self, alignment: Alignment, t_now: float | None = None) -> list[FlagNotice]:
        """Use a known sensor-to-pelvis alignment (e.g. the one just calibrated) from now on."""
        self.calibration.alignment = alignment
        self.calibration.state = "done"
        return self._start_angles(alignment, self.t_now if t_now is None else t_now)

    @property
    def calibrated(self) -> bool:
        return self._angles is not None

    @property
    def tilt_avg_deg(self) -> float | None:
        """Stride-averaged tilt over the flag rule's smoothing span (what the flag compares)."""
        if not self.recent:
            return None
        return float(np.degrees(np.mean([v for _, v in self.recent])))

    # ------------------------------------------------------------------ samples
    def feed(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, early=None) -> LiveUpdate:
        """Run a block through the pipeline. `early(update)`, if given, gets the block's angles as soon as
        they are known, before the step detector runs (the slow part): the view can draw them at once, and
        the update returned then carries only the events (contacts, strides, flags)."""
        while self._requests:
            if self._requests.popleft() == "stand":
                self.calibration.start_stand()
        n = len(t)
        self.t_now = float(t[-1])
        quat = self.orientation.update(acc, gyr)
        up = LiveUpdate(t, *(np.full(n, np.nan) for _ in range(3)))
        state = self.calibration.state
        if state in ("stand", "forward", "refine", "done") or (state == "moving" and self.auto_alignment.done):
            up.calibration = self.calibration.feed(acc, gyr, quat, self.t_now)  # done, moving: direction watch
        elif self._angles is None or state == "moving":
            up.calibration = self._align_to_movement(acc, gyr, quat)
        for ev in up.calibration:
            if ev.gyro_bias is not None:
                self.orientation.set_gyro_bias(ev.gyro_bias)
            if ev.alignment is not None:
                up.flags += self._start_angles(ev.alignment, float(t[0]))
        self._raw_ring.append(t, *acc.T, *gyr.T)
        if self._angles is None:
            return up
        up.tilt, up.obliquity, up.rotation = self._angles.update(quat, acc)
        self._angle_ring.append(t, up.tilt, up.obliquity, up.rotation)
        if early is not None:
            early(up)
            up = LiveUpdate(t[:0], *(np.zeros(0) for _ in range(3)))
        for c in self._steps.update(acc, gyr):
            if c.before_start:
                self._strides.add_earlier(c)
            else:
                self._contact(c, up)
        while self._stance_due and self._stance_due[0][-1].t + STANCE_MARGIN_S <= self.t_now:
            self._stance(self._stance_due.popleft(), up)
        if self._last_contact_t is not None and self.t_now - self._last_contact_t > STEPS_STOPPED_S:
            self._angles.set_stride(None)  # standing or riding: back to the low-pass heading
            self._last_contact_t = None
        if self.t_now >= self._next_pedal_t:
            self._next_pedal_t = self.t_now + PEDAL_EVERY_S
            self._pedal(up)
        if self.t_now >= self._next_ride_t:
            self._next_ride_t = self.t_now + RIDE_WINDOW_S
            self._ride(up)
        return up

    def _align_to_movement(self, acc, gyr, quat) -> list[CalibrationEvent]:
        """No stand: the alignment from the first seconds of steps, then again from the bout's first minute."""
        moving = self.auto_alignment.feed(acc, gyr, quat)
        if moving is None:
            return []
        self.calibration.alignment, self.calibration.state = moving, "moving"
        if self.auto_alignment.done:
            message = "Aligned again to your movement over the first minute: a steadier reference."
        else:
            message = ("No neutral stand: aligned to your first steps, angles are relative to how you move. "
                       "Press N and stand still for 5 s to see tilt against standing.")
        return [CalibrationEvent("moving_ok", message, self.t_now, moving)]

    def _start_angles(self, alignment: Alignment, t0: float) -> list[FlagNotice]:
        """Angles, steps and strides from now on with this alignment; the flags that a change between a
        standing neutral and none ends (their rules start or stop counting)."""
        ended = []
        if self.flags.neutral != alignment.has_neutral:
            ended = self._close_flags(t0)  # what holds ends at the switch
            closed = self.flags.flags
            self.flags = LiveFlagEngine(self.settings, neutral=alignment.has_neutral)
            self.flags.flags = closed  # the session's record keeps what was already flagged
        R = alignment.R_pelvis_sensor
        self._last_contact_t = None
        self._angles = CausalPelvicAngles(R, self.rate_hz)
        self._steps = self._primed_steps(R, t0)
        self._strides = LiveStrides(self.rate_hz, self._angle_ring)
        self._next_ride_t = t0 + RIDE_WINDOW_S
        self._next_pedal_t = t0 + RIDE_WINDOW_S
        return ended

    def _primed_steps(self, R: np.ndarray, t0: float) -> StreamingStepDetector:
        """A step detector that starts at t0 with the raw samples just before it in its window, where they are
        contiguous (no outage): the strides before the calibration give the first contacts' sides."""
        past = self._raw_ring.view()
        past = past[:, past[0] >= t0 - STEP_WINDOW_S]
        dt = 1.0 / self.rate_hz
        if past.shape[1] < 2 or np.any(np.diff(past[0]) > 1.5 * dt) or abs(t0 - past[0, -1] - dt) > 0.5 * dt:
            return StreamingStepDetector(self.rate_hz, R, t0=t0)
        steps = StreamingStepDetector(self.rate_hz, R, t0=float(past[0, 0]))
        steps.prime(past[1:4].T, past[4:7].T)
        return steps

    def _activity_at(self, t_mid: float, span_s: float = ACTIVITY_WINDOW_S) -> int:
        v = self._raw_ring.view()
        keep = v[0] >= self.t_now - span_s
        if keep.sum() < self.rate_hz:
            return ACTIVITIES.index("other")
        seg = segment_activity(v[1:4, keep].T, v[4:7, keep].T, self.rate_hz, t0=float(v[0, keep][0]),
                               sensor_to_pelvis=self.calibration.alignment.R_pelvis_sensor)
        i = int(np.clip(np.searchsorted(v[0, keep], t_mid), 0, len(seg.codes) - 1))
        return int(seg.codes[i])

    def _contact(self, c: LiveContact, up: LiveUpdate) -> None:
        up.contacts.append(c)
        code = ACTIVITIES.index("walking")
        if c.left and len(self._strides.contacts) >= 2:  # this contact may complete a stride: classify it
            code = self._activity_at(0.5 * (self._strides.contacts[-2].t + c.t))
        rec, cadence = self._strides.add_contact(c, code)
        self._last_contact_t = c.t
        self._angles.set_stride(120.0 / cadence.spm if cadence is not None else None)  # the heading follows the strides
        if cadence is not None:
            self.cadence_spm = cadence.spm
            up.cadence.append(cadence)
        if rec is None or code not in GAIT:
            return
        up.strides.append(rec)
        if code == ACTIVITIES.index("running"):
            first, middle, last = list(self._strides.contacts)[-3:]
            self._stance_due += ([first, middle], [middle, last])  # each step read centred in its own samples
        cyc = rec.cycle
        self.activity = cyc.activity
        dur = cyc.t_end - cyc.t_start
        self.moving_s += dur
        if np.degrees(cyc.tilt) > self.settings.tilt_threshold_deg:
            self.anterior_s += dur
        self.recent.append((cyc.t_end, cyc.tilt))
        while self.recent and self.recent[0][0] < cyc.t_end - self.settings.tilt_smoothing_s:
            self.recent.popleft()
        up.flags += [self._notice(e) for e in self.flags.feed(cyc, sided=c.side_known)]

    def _stance(self, contacts: list[LiveContact], up: LiveUpdate) -> None:
        """Ground contact time of the steps that start at `contacts[:-1]` (host.gait.stance), from the raw samples
        around them: STANCE_MARGIN_S either side."""
        v = self._raw_ring.view()
        keep = (v[0] >= contacts[0].t - STANCE_MARGIN_S) & (v[0] <= contacts[-1].t + STANCE_MARGIN_S)
        if keep.sum() < self.rate_hz:
            return
        seg = v[:, keep]
        st = stance_of_running_steps(seg[1:4].T, seg[4:7].T, self.rate_hz, self.calibration.alignment.R_pelvis_sensor,
                                     float(seg[0, 0]), np.array([c.t for c in contacts]),
                                     np.array([c.left for c in contacts]))
        for c, ct in zip(contacts[:-1], st.contact_s[:-1]):
            if np.isfinite(ct):
                self._contact_s.append((c.left if c.side_known else None, float(ct)))
                up.stance.append((c.t, float(ct)))

    @property
    def contact_ms(self) -> float | None:
        """Median ground contact time of the last running steps, ms (None before the first)."""
        return 1000 * float(np.median([ct for _, ct in self._contact_s])) if self._contact_s else None

    @property
    def sides_known(self) -> bool:
        """False while any recent running step's side is a guess (host.gait.sides)."""
        return all(is_left is not None for is_left, _ in self._contact_s)

    @property
    def contact_left_pct(self) -> float | None:
        """The left foot's share of the recent ground contact time, % (50 = even); None while any of those steps'
        side is unknown (the detector's side cue did not agree with its labels: host.gait.sides)."""
        if not self.sides_known:
            return None
        return contact_balance_pct([ct for is_left, ct in self._contact_s if is_left],
                                   [ct for is_left, ct in self._contact_s if is_left is False])

    def _pedal(self, up: LiveUpdate) -> None:
        """Pedal cadence of the last RIDE_WINDOW_S, if it was (nearly) all seated pedalling: the crank phase of
        the pelvis's roll rate, as the post-session ride analysis measures it (host.gait.riding)."""
        r = self._raw_ring.view()
        keep = r[0] > self.t_now - RIDE_WINDOW_S
        self.pedal_rpm = self.saddle_tilt_deg = None
        if keep.sum() < MIN_RIDING_SHARE * RIDE_WINDOW_S * self.rate_hz:
            return
        R = self.calibration.alignment.R_pelvis_sensor
        seg = segment_activity(r[1:4, keep].T, r[4:7, keep].T, self.rate_hz, sensor_to_pelvis=R)
        if np.mean(seg.codes == RIDING) < MIN_RIDING_SHARE:
            return
        roll_rate = r[4:7, keep].T @ R[0]  # about the pelvis's forward axis
        rpm = cadence_rpm(roll_rate, self.rate_hz)
        if 60 * CRANK_BAND_HZ[0] <= rpm <= 60 * CRANK_BAND_HZ[1]:
            self.pedal_rpm = rpm
            self.activity = "riding"
            a = self._angle_ring.view()
            self.saddle_tilt_deg = float(np.degrees(np.nanmean(a[1, a[0] > self.t_now - RIDE_WINDOW_S])))
            up.pedal.append((self.t_now, rpm))

    def _ride(self, up: LiveUpdate) -> None:
        v = self._angle_ring.view()
        keep = v[0] > self.t_now - RIDE_WINDOW_S
        if keep.sum() < 0.8 * RIDE_WINDOW_S * self.rate_hz:
            return
        r = self._raw_ring.view()
        rk = r[0] > self.t_now - RIDE_WINDOW_S
        seg = segment_activity(r[1:4, rk].T, r[4:7, rk].T, self.rate_hz,
                               sensor_to_pelvis=self.calibration.alignment.R_pelvis_sensor)
        n = min(keep.sum(), len(seg.codes))
        cyc = ride_window(v[0, keep][-n:], v[1, keep][-n:], v[2, keep][-n:], seg.codes[-n:], RIDE_WINDOW_S)
        if cyc is not None:
            self.activity = "riding"
            up.flags += [self._notice(e) for e in self.flags.feed(cyc)]

    def _notice(self, e: FlagEvent) -> FlagNotice:
        advice = None
        if e.kind == "start":
            ctx = AdviceContext("during", e.flag.activity or self.activity, self.profile, self.cadence_spm)
            found = advise([e.flag], ctx)
            advice = found[0].text if found else None
        return FlagNotice(e.kind, e.flag, advice, e.t)

    def finish(self, t_end: float | None = None) -> list[FlagNotice]:
        """The session (or this pipeline's stretch of it) is over at stream time `t_end`, by default the newest
        sample: a flag that still holds ends there (Stop pressed mid-flag: it ends at the stop), one that was
        already below its off level where it went below."""
        return self._close_flags(self.t_now if t_end is None else t_end)

    def _close_flags(self, t: float) -> list[FlagNotice]:
        # the engine closes at the time of its last record (a stride's end); what is open has held until t
        self.flags.last_t = max(self.flags.last_t, t)
        return [self._notice(e) for e in self.flags.finish()]

    def flag_list(self) -> list[Flag]:
        """Every flag of this pipeline: closed ones, then those still open (end None), in start order."""
        return sorted([*self.flags.flags, *self.flags.open.values()], key=lambda f: (f.start, f.type))
