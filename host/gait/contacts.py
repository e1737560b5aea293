"""Initial contacts (foot strikes) with side, from a lower-back IMU, post-session mode.

1. Candidates: peaks of the vertical jerk. At initial contact the trunk stops falling and is pushed up, so
   vertical acceleration rises steeply (Zijlstra & Hof 2003; the loading response).
2. First pass: candidates salient relative to the last 2 s, chosen by the rhythm-aware sequence model
   (sequence.py) with the stride period of rhythm.py.
3. Side of the confident first-pass steps, from the side cue of their gait (host.gait.sides): walking, the
   medio-lateral sway; running, the pelvis' roll at mid-stance (the swing side dropped).
4. A left and a right multi-channel template (acc and gyro, ±0.25 s) averaged over those steps: this
   wearer's own step shapes, learnt per stretch of one kind of gait (walking and running stretches from
   the activity segmentation, activity.py). Normalised cross-correlation with them finds the weak steps (a stiff or
   shuffling leg) and tells each step's side far better than any single-sample sign rule. Within a quarter
   second of the recording's ends, over the part of the template inside it (a recording cut mid-run).
5. Sequence model again on the template matches, now also preferring alternating sides.
6. Timing: on the wide-band vertical jerk, the first strong pulse up to 0.1 s before the loading rise
   (a foot-strike impact, if the wearer has one: running, heel striking), and the half-maximum point on
   its rising edge — the onset of loading rather than its steepest part. Further back than a share of the
   step, only the strongest pulse: the late flight of a fast run holds pulses from the pelvis' rotation.
   After a flight (running), also the moment the vertical specific force climbs through half a body
   weight, if that is earlier: in flight the body falls freely (0 g), so weight on the foot is the first
   thing that lifts it, and a landing without an impact spike (a soft fore-foot strike, a sensor in a
   padded pouch) builds up to its loading peak 20-60 ms after the contact.
7. No contacts while the activity is still or riding (a rider's pelvis rocks in rhythm too).
8. Whether the labels can be trusted: the cue is asked whether it agrees with the labelled steps, per gait
   (host.gait.sides: templates and alternation make any labels alternate, even from a cue of noise).

Where the pod has flights and a gyro, steps 1-5 read the level signals at the pelvis' centre (host.gait.lever_arm),
and step 6 reads each contact's time there and at the pod and takes their mean. At the pod the vertical carries
the pelvis' angular acceleration (20-50 rad/s² RMS in running) times the pod's distance from the centre: a pod
worn 5 cm below the sacrum lost one runner's steps (contact F1 0.76, cadence 12.6 spm off), and 12-16 cm above
and 6 cm to the side read another's one foot over 50 ms late (F1 0.50); at the centre every one of those
sessions is found (F1 1.000, live too; bench/running.py --pod-at). Timed at the centre alone, the contacts read
~6 ms later at the data's own point, and the left/right balance of contact time worse (median 0.62 -> 1.21 pp);
the mean of the two readings costs 2.5 ms (0.72 pp). No flights (walking) or no gyro: the pod's alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import find_peaks, oaconvolve
from tiltguard.host.activities import ACTIVITIES
from tiltguard.host.samples import GRAVITY

from .activity import (
    RIDING,
    RUNNING,
    STILL,
    WALKING,
    ActivitySegments,
    segment_level_signals,
)
from .body_frame import LevelSignals, level_signals
from .lever_arm import level_signals_at_centre
from .rhythm import StridePeriod, stride_period
from .sequence import MIN_STEP_S, select_steps
from .sides import RUNNING_STEP_GUESS_S, SideDecision, decide_sides, filled_step_periods, side_score

MIN_CANDIDATE_GAP_S = 0.12
JERK_FLOOR = 10.0  # m/s³: what counts as a step while standing still (sensor noise + sway stay below)
CONTEXT_S = 2.0  # salience is relative to the strongest jerk in this window
FIRST_PASS_THRESHOLD = 0.3
CONFIDENT_SALIENCE = 0.5
TEMPLATE_HALF_S = 0.25  # about half a fast walking step, the shape of one loading response
GYRO_WEIGHT = 3.0  # (m/s²)/(rad/s): puts typical trunk angular rates on the scale of its accelerations
MIN_TEMPLATE_ENERGY = 0.4  # window/template energy ratio under which a match is discounted
MATCH_THRESHOLD = 0.45
RHYTHM_WEIGHT = 0.5
SAME_SIDE_PENALTY = 0.2
MIN_TEMPLATE_STEPS = 4
STRETCH_MIN_STEPS = 10  # per side; a stretch with fewer confident steps uses the whole recording's templates
TIMING_SEARCH_S = 0.06
IMPACT_LOOKBACK_S = 0.1  # an impact precedes the loading peak by up to ~0.1 s (Lee 2010; running force curves)
# Further back than this share of the step, only the strongest pulse of the look-back counts as an impact: in the
# late flight of a fast run the pelvis' own rotation makes pulses half to three quarters the size of the loading
# rise's, 50-90 ms before it (virtual sacral IMU at 5 m/s, where a 0.3-s step gives 54 ms), while a real foot
# strike's impact is the sharpest pulse of the step wherever it falls.
IMPACT_LOOKBACK_STEP_SHARE = 0.18  # = 0.1 s at a 0.56-s walking step, where IMPACT_LOOKBACK_S takes over
MASK_MARGIN_S = 0.5  # activity boundaries are blurred by its 2-s windows: keep contacts this close to gait
IMPACT_RELATIVE = 0.5  # a pulse counts as the impact if at least half the strongest one nearby
ONSET_FRACTION = 0.5
# Loading after a flight (module docstring, step 6), specific force in g. In flight the pelvis reads 0 g give or
# take its own rotation (±0.3 g: the virtual runners' flight); half a body weight is above that, and running
# loading rates (30-100 BW/s) reach it 5-15 ms after the contact. A flight is a fall under FLIGHT_G within half
# a step before the loading pulse; walking (double support, never under ~0.6 g) has none and keeps step 6's rule.
LOADING_G = 0.45
FLIGHT_G = 0.15
FLIGHT_SEARCH_STEP_SHARE = 0.5


@dataclass
class InitialContacts:
    t: np.ndarray  # (K,) s, same clock as the input
    left: np.ndarray  # (K,) bool
    confidence: np.ndarray  # (K,) template match in [0, 1]
    index: np.ndarray  # (K,) fractional sample index of each contact
    sides: SideDecision | None = None  # whether `left` can be trusted, per gait (host.gait.sides)

    def samples(self, n: int) -> np.ndarray:
        """Each contact's nearest sample (int), within a recording of n samples: for per-sample labels such as
        the activity codes."""
        return np.clip(np.round(self.index).astype(int), 0, n - 1)

    def times_on(self, clock: np.ndarray) -> np.ndarray:
        """Contact times on another per-sample clock (e.g. true time in a simulation)."""
        return np.interp(self.index, np.arange(len(clock)), clock)

    def __len__(self) -> int:
        return len(self.t)


def _vertical_jerk(sig: LevelSignals) -> np.ndarray:
    return np.gradient(sig.vertical) * sig.rate_hz


def _first_pass(sig: LevelSignals, jerk: np.ndarray, step_period_at) -> tuple[np.ndarray, np.ndarray]:
    fs = sig.rate_hz
    context = maximum_filter1d(np.maximum(jerk, 0.0), max(1, int(CONTEXT_S * fs)))
    cand, _ = find_peaks(jerk, distance=max(1, int(MIN_CANDIDATE_GAP_S * fs)), height=0.3 * JERK_FLOOR)
    salience = np.minimum(jerk[cand] / np.maximum(context[cand], JERK_FLOOR), 1.0)
    chosen = select_steps(cand / fs, salience, step_period_at(cand / fs), FIRST_PASS_THRESHOLD, RHYTHM_WEIGHT)
    return cand[chosen], salience[chosen]


def _features(sig: LevelSignals) -> np.ndarray:
    return np.hstack([sig.acc, GYRO_WEIGHT * sig.gyr])


def _templates(x: np.ndarray, idx: np.ndarray, left: np.ndarray, half: int,
               min_steps: int = MIN_TEMPLATE_STEPS) -> dict[bool, np.ndarray]:
    inside = (idx - half >= 0) & (idx + half < len(x))
    out = {}
    for side in (True, False):
        sel = idx[inside & (left == side)]
        if len(sel) >= min_steps:
            out[side] = _mean_window(x, sel, half)
    if len(out) == 1:  # too few steps of one side (e.g. a short bout): mirror the other side's template
        side, tpl = next(iter(out.items()))
        mirrored = tpl.copy()
        mirrored[:, [1, 3, 5]] *= -1  # lateral acc, roll and yaw rate change sign between sides
        out[not side] = mirrored
    return out


def _mean_window(x: np.ndarray, centres: np.ndarray, half: int, block: int = 256) -> np.ndarray:
    """Mean of x[c - half : c + half + 1] over the centres, gathered a block of steps at a time (one
    gather is fast; the whole of a 2-h run's steps at once would need hundreds of MB)."""
    offsets = np.arange(-half, half + 1)
    total = np.zeros((len(offsets), x.shape[1]))
    for i in range(0, len(centres), block):
        total += x[centres[i : i + block, None] + offsets].sum(axis=0)
    return total / len(centres)


def template_match(x: np.ndarray, template: np.ndarray, partial_ends: tuple[bool, bool] = (False, False)
                   ) -> np.ndarray:
    """Normalised cross-correlation of every centred window of x with the template, energy-discounted; -1 where
    the window runs past an end of x, or, at an end marked in `partial_ends` (start, end), over the part inside."""
    m = len(template)
    half = m // 2
    tpl = template - template.mean(axis=0)
    tpl_norm = np.sqrt((tpl**2).sum())
    num = oaconvolve(x, tpl[::-1], mode="valid", axes=0).sum(axis=1)  # every channel in one call
    c1 = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    c2 = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x**2]), axis=0)
    s1, s2 = c1[m:] - c1[:-m], c2[m:] - c2[:-m]
    energy = np.sqrt(np.maximum((s2 - s1**2 / m).sum(axis=1), 1e-12))
    out = np.full(len(x), -1.0)
    out[half : half + len(energy)] = _discounted(num / (energy * tpl_norm), energy, tpl_norm)
    before = range(min(half, len(x))) if partial_ends[0] else range(0)
    after = range(half + len(energy), len(x)) if partial_ends[1] else range(0)
    for c in (*before, *after):
        out[c] = _partial_match(x, tpl, c - half)
    return out


def _discounted(r, energy, tpl_norm):
    """A window's correlation, scaled down where the window's energy is under MIN_TEMPLATE_ENERGY times the
    template's: a faint wiggle of the right shape is not a step."""
    return r * np.minimum(1.0, energy / tpl_norm / MIN_TEMPLATE_ENERGY)


def _partial_match(x: np.ndarray, tpl: np.ndarray, start: int) -> float:
    """template_match for a window that runs past an end of x: over the part of the template that overlaps x, if
    at least half of it does (a recording cut mid-run still has its first and last steps)."""
    a, b = max(start, 0), min(start + len(tpl), len(x))
    if 2 * (b - a) < len(tpl):
        return -1.0
    part = tpl[a - start : b - start]
    part = part - part.mean(axis=0)
    win = x[a:b] - x[a:b].mean(axis=0)
    part_norm, energy = np.sqrt((part**2).sum()), np.sqrt((win**2).sum())
    if part_norm <= 0 or energy <= 0:
        return -1.0
    return float(_discounted((part * win).sum() / (energy * part_norm), energy, part_norm))


def _onset_times(jerk: np.ndarray, wide_jerk: np.ndarray, idx: np.ndarray, fs: float,
                 step_s: np.ndarray | None = None, vertical_wide: np.ndarray | None = None) -> np.ndarray:
    """Contact instants (fractional samples): for the loading pulse of `jerk` nearest each index, the first
    strong pulse of `wide_jerk` from IMPACT_LOOKBACK_S before it (before IMPACT_LOOKBACK_STEP_SHARE of the step
    `step_s` at that contact, only the strongest), at half its maximum on its rising edge; or, after a flight,
    where `vertical_wide` (m/s², gravity removed) climbed through LOADING_G, if that is earlier."""
    w = max(1, int(TIMING_SEARCH_S * fs))
    lookback = int(IMPACT_LOOKBACK_S * fs)
    near_s = np.full(len(idx), IMPACT_LOOKBACK_S)
    steps = np.full(len(idx), RUNNING_STEP_GUESS_S)
    if step_s is not None and len(idx):
        steps = filled_step_periods(step_s)
        near_s = np.minimum(near_s, IMPACT_LOOKBACK_STEP_SHARE * steps)
    nears = np.round(near_s * fs).astype(int)
    flight_searches = (FLIGHT_SEARCH_STEP_SHARE * steps * fs).astype(int)
    after = max(1, int(0.03 * fs))
    back = max(1, int(0.1 * fs))
    n = len(jerk)
    out = np.empty(len(idx))
    for k, (i, near, flight_search) in enumerate(zip(idx, nears, flight_searches)):
        lo, hi = max(i - w, 1), min(i + w + 1, n - 1)
        p = lo + int(np.argmax(jerk[lo:hi]))
        a, b = max(p - lookback, 1), min(p + after + 1, n - 1)
        seg = wide_jerk[a:b]
        top = seg.max()
        inner = (seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:]) & (seg[1:-1] >= IMPACT_RELATIVE * top)
        inner &= (np.arange(a + 1, b - 1) >= p - near) | (seg[1:-1] >= top)
        peaks = np.flatnonzero(inner) + 1
        q0 = a + (int(peaks[0]) if len(peaks) else int(np.argmax(seg)))
        level = ONSET_FRACTION * wide_jerk[q0]
        q = q0
        while q > 1 and wide_jerk[q - 1] > level and q0 - q < back:
            q -= 1
        y0, y1 = wide_jerk[q - 1], wide_jerk[q]
        out[k] = q - 1 + (level - y0) / (y1 - y0) if y1 > y0 and y0 <= level else float(q)
        if vertical_wide is not None:
            out[k] = min(out[k], _loading_after_flight(vertical_wide, p, int(flight_search)))
    return out


def _loading_after_flight(vertical_wide: np.ndarray, p: int, search: int) -> float:
    """The last upward crossing of LOADING_G before the loading pulse at sample `p` (fractional sample), if the
    specific force fell under FLIGHT_G within `search` samples before it; else inf."""
    a = max(p - search, 0)
    force_g = vertical_wide[a : p + 1] / GRAVITY + 1.0
    if len(force_g) < 2 or force_g.min() > FLIGHT_G:
        return float("inf")
    below = np.flatnonzero(force_g[:-1] < LOADING_G)
    if len(below) == 0:
        return float("inf")
    j = int(below[-1])
    y0, y1 = force_g[j], force_g[j + 1]
    return a + j + ((LOADING_G - y0) / (y1 - y0) if y1 > y0 else 0.0)


def detect_initial_contacts(
    acc: np.ndarray,
    gyr: np.ndarray,
    rate_hz: float,
    t0: float = 0.0,
    sensor_to_pelvis: np.ndarray | None = None,
    activity: ActivitySegments | None = None,
) -> InitialContacts:
    """Initial contacts of a whole recording (post-session). acc m/s², gyr rad/s, sensor frame; the
    returned times are t0 + sample index / rate_hz. `activity` (host.gait.activity) is segmented here
    if not given: templates are learnt per walking/running stretch and no contact is reported while the
    wearer is still or riding."""
    sig = level_signals(acc, gyr, rate_hz, sensor_to_pelvis)
    return detect_in_level_signals(sig, t0, activity=activity,
                                   centre=level_signals_at_centre(acc, gyr, sig, sensor_to_pelvis))


def detect_in_level_signals(sig: LevelSignals, t0: float = 0.0, rhythm: StridePeriod | None = None,
                            activity: ActivitySegments | None = None, centre: LevelSignals | None = None,
                            recording_ends: bool = True) -> InitialContacts:
    """`centre`: the same samples' level signals at the pelvis' centre (host.gait.lever_arm), where known:
    the steps and their sides are found there, and each contact's time is the mean of its reading there and at
    the pod (step 6). `recording_ends`: the samples' ends are the recording's, so a step cut by them is still
    looked for (step 4); False for a window of a stream, whose newest steps are not over yet."""
    fs = sig.rate_hz
    if rhythm is None:
        rhythm = stride_period(sig.vertical, sig.acc[:, 1], fs)
    if activity is None:
        activity = segment_level_signals(sig, t0, rhythm)
    running = activity.codes == RUNNING
    ic = _without_non_gait(_detect(sig, t0, rhythm, gait_stretches(activity.codes), running, centre, recording_ends),
                           activity.codes, fs)
    # the labels alternate whatever the cue says: ask the cue whether it agrees with them (host.gait.sides)
    steps = ic.samples(len(running))
    cue = side_score(sig if centre is None else centre, steps, rhythm.step_period_at(steps / fs), running)
    ic.sides = decide_sides(cue, ic.left, running[steps])
    return ic


def _contact_times(signals: list[LevelSignals], idx: np.ndarray, step_s: np.ndarray) -> np.ndarray:
    """Step 6 on each of `signals` (the same samples read at different points of the pelvis), averaged."""
    fs = signals[0].rate_hz
    return np.mean([_onset_times(_vertical_jerk(s), np.gradient(s.vertical_wide) * fs, idx, fs, step_s,
                                 s.vertical_wide) for s in signals], axis=0)


def _detect(pod: LevelSignals, t0: float, rhythm: StridePeriod, stretches: list[tuple[int, int]],
            running: np.ndarray | None = None, centre: LevelSignals | None = None, recording_ends: bool = True
            ) -> InitialContacts:
    # steps and sides at the pelvis' centre where known, each contact timed there and at the pod (module docstring)
    sig = pod if centre is None else centre
    timed_on = [sig] if centre is None else [pod, centre]
    fs = sig.rate_hz
    jerk = _vertical_jerk(sig)
    first, salience = _first_pass(sig, jerk, rhythm.step_period_at)
    empty = InitialContacts(np.zeros(0), np.zeros(0, bool), np.zeros(0), np.zeros(0))
    confident = first[salience >= CONFIDENT_SALIENCE]
    if len(confident) < MIN_TEMPLATE_STEPS:
        if len(first) == 0:
            return empty
        index = _contact_times(timed_on, first, rhythm.step_period_at(first / fs))
        left = side_score(sig, first, rhythm.step_period_at(first / fs), running) > 0
        return InitialContacts(t0 + index / fs, left, salience, index)

    x = _features(sig)
    half = int(TEMPLATE_HALF_S * fs)
    side = side_score(sig, confident, rhythm.step_period_at(confident / fs), running) > 0
    global_templates = _templates(x, confident, side, half)
    if not global_templates:
        return empty
    picks, lefts, matches = [], [], []
    for lo, hi in stretches:
        mine = (confident >= lo) & (confident < hi)
        templates = _templates(x, confident[mine], side[mine], half, STRETCH_MIN_STEPS) or global_templates
        idx, left, match = _match_stretch(x, templates, lo, hi, fs, rhythm.step_period_at, recording_ends)
        picks.append(idx)
        lefts.append(left)
        matches.append(match)
    idx, left, match = np.concatenate(picks), np.concatenate(lefts), np.concatenate(matches)
    idx, left, match = _one_per_step(idx, left, match, fs)
    index = _contact_times(timed_on, idx, rhythm.step_period_at(idx / fs))
    return InitialContacts(t0 + index / fs, left, np.clip(match, 0.0, 1.0), index)


def _one_per_step(idx, left, match, fs):
    """Two stretches can both pick the same step at their common edge: keep the better match."""
    order = np.argsort(idx, kind="stable")
    idx, left, match = idx[order], left[order], match[order]
    keep = np.ones(len(idx), bool)
    gap = MIN_STEP_S * fs
    for k in np.flatnonzero(np.diff(idx) < gap):
        drop = k if match[k] < match[k + 1] else k + 1
        keep[drop] = False
    return idx[keep], left[keep], match[keep]


def gait_stretches(codes: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges of one kind of gait, each learning its own step templates: the recording is cut
    midway between a walking and a running stretch (and back). Pauses and other activity between two
    bouts of the same gait do not cut: the same wearer walks the same way after a stop."""
    n = len(codes)
    gait = np.flatnonzero((codes == WALKING) | (codes == RUNNING))
    if len(gait) == 0:
        return [(0, n)]
    kind = codes[gait]
    change = np.flatnonzero(kind[1:] != kind[:-1])
    cuts = [(int(gait[c]) + int(gait[c + 1]) + 1) // 2 for c in change]
    edges = [0, *cuts, n]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _without_non_gait(ic: InitialContacts, codes: np.ndarray, fs: float) -> InitialContacts:
    """Drops contacts while still or riding (more than MASK_MARGIN_S from any other activity): a rider's
    pelvis rocks in rhythm, and a still wearer has no steps. 'other' keeps its contacts (an unusual walk)
    unless it lies between stillness and riding only (getting on or off the bike, slowing to a stop)."""
    blocked = (codes == STILL) | (codes == RIDING)
    blocked |= _other_between(codes, blocked)
    margin = int(MASK_MARGIN_S * fs)
    if margin > 0:
        free = ~blocked
        near_free = maximum_filter1d(free.astype(np.int8), 2 * margin + 1).astype(bool)
        blocked = blocked & ~near_free
    keep = ~blocked[ic.samples(len(codes))]
    return InitialContacts(ic.t[keep], ic.left[keep], ic.confidence[keep], ic.index[keep])


def _other_between(codes: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """'other' stretches whose neighbours on both sides are blocked (still or riding), never walking or running."""
    other = codes == ACTIVITIES.index("other")
    edges = np.flatnonzero(np.diff(np.r_[0, other.astype(np.int8), 0]))
    out = np.zeros_like(other)
    for a, b in zip(edges[::2], edges[1::2]):
        before = blocked[a - 1] if a > 0 else True
        after = blocked[b] if b < len(codes) else True
        if before and after:
            out[a:b] = True
    return out


def _match_stretch(x, templates, lo, hi, fs, step_period_at, recording_ends: bool = True
                   ) -> tuple[np.ndarray, np.ndarray]:
    half = len(templates[True]) // 2
    a, b = max(lo - half, 0), min(hi + half, len(x))
    seg = x[a:b]
    partial = (recording_ends and a == 0, recording_ends and b == len(x))  # steps cut by the recording's ends
    match_left = template_match(seg, templates[True], partial)
    match_right = template_match(seg, templates[False], partial)
    match = np.maximum(match_left, match_right)
    cand, _ = find_peaks(match, distance=max(1, int(MIN_CANDIDATE_GAP_S * fs)), height=0.1)
    cand = cand[(cand + a >= lo) & (cand + a < hi)]
    is_left = match_left[cand] >= match_right[cand]
    chosen = select_steps(
        (cand + a) / fs, np.clip(match[cand], 0.0, 1.0), step_period_at((cand + a) / fs),
        MATCH_THRESHOLD, RHYTHM_WEIGHT, is_left, SAME_SIDE_PENALTY,
    )
    return cand[chosen] + a, is_left[chosen], match[cand[chosen]]
