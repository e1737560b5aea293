"""The running recordings (../shared/data/running: a virtual sacral IMU from real running kinematics, and a real
sacral accelerometer on an instrumented treadmill, Alcantara et al. 2022) load as the product reads them, their
truth hangs together, and the physics that direction and side rules may rely on holds in them.

The physics pins are facts about these data, on small excerpts (10 s of each virtual session, each 5-s
Alcantara trial), along the TRUE axes (virtual: the pelvis' forward axis from `mount_R`, levelled at the stand;
Alcantara: the antero-posterior channel levelled in the AP-vertical plane by the trial's mean specific force):

(a) the fore-aft acceleration is anti-correlated with the rate of change of the vertical acceleration: when the
    vertical rises (a foot loads) the body is pushed back, when it falls (push-off) forward;
(b) the fore-aft acceleration just after a true contact is negative (braking) over the first 15-25 % of the
    step, while over the first half of the step it is not (propulsion has taken over by then);
(c) the pelvis' roll rate about the forward axis after a contact has the sign of the swing side dropping.
    Sign convention (worked out from the truth, whose obliquity is "left side up +"): roll rate is about the
    level forward axis, right-handed in (forward, left, up), so POSITIVE = the left side rising / the right side
    dropping. After a LEFT contact the right (swing) side drops: positive; after a RIGHT contact negative. The
    truth's obliquity rate has the same sign there (d obliquity/dt > 0 after left contacts), and it matches this
    roll rate sample by sample.

Everything skips, saying why, where ../shared/data/running ($TILTGUARD_DATA/running) is absent.
"""
import numpy as np
import pytest
from tiltguard.host.gait.cadence import cadence_spm
from tiltguard.host.samples import GRAVITY
from tiltguard_eval.running_data import (
    ALCANTARA_RATE_HZ,
    ALCANTARA_SAMPLES,
    VIRTUAL_RATE_HZ,
    fore_aft_after_contacts,
    grf_contacts,
    load_alcantara,
    load_virtual,
)

EXCERPT_S = 10.0


@pytest.fixture(scope="module")
def virtual(virtual_dir):
    return load_virtual(virtual_dir)


@pytest.fixture(scope="module")
def alcantara(alcantara_dir):
    return load_alcantara(alcantara_dir)


def _excerpt(s) -> tuple[float, float]:
    """10 s of running, 2 s after it starts (the virtual runner is on the belt by then); an Alcantara trial whole."""
    a, b = s.truth.running_s
    if s.dataset == "virtual":
        a += 2.0
    return a, min(b, a + EXCERPT_S)


def _in(t, window):
    return (t >= window[0]) & (t <= window[1])


# ---------------------------------------------------------------- loading and truth
def test_virtual_sessions_load_as_raw_recordings(virtual):
    assert len(virtual) == 16
    assert len({s.name for s in virtual}) == 16 and all(s.name.startswith("vsi_subject") for s in virtual)
    for s in virtual:
        rec, tr = s.rec, s.truth
        n = len(rec)
        assert rec.rate_hz == VIRTUAL_RATE_HZ
        assert rec.acc.shape == rec.gyr.shape == (n, 3)
        assert np.allclose(np.diff(rec.t), 1 / VIRTUAL_RATE_HZ)
        assert tr.tilt_deg.shape == tr.obliquity_deg.shape == tr.rotation_deg.shape == (n,)
        stand = _in(rec.t, (tr.standing_s[0], tr.standing_s[1] - 0.01))
        assert np.linalg.norm(rec.acc[stand].mean(axis=0)) == pytest.approx(GRAVITY, abs=0.3)  # m/s², 1 g
        assert np.abs(rec.gyr[stand].mean(axis=0)).max() < np.radians(3)  # rad/s: only the 0.5-2 °/s bias
        for angle in (tr.tilt_deg, tr.obliquity_deg, tr.rotation_deg):
            assert np.abs(angle[stand]).max() < 0.5  # relative to the standing posture
        assert tr.standing_s[1] <= tr.ramp_s[0] and tr.ramp_s[1] <= tr.running_s[0]  # the ramp is never scored
        assert tr.running_s[1] - tr.running_s[0] >= 60.0 and tr.running_s[1] <= rec.t[-1] + 1e-9
        assert abs(np.linalg.norm(tr.up_sensor) - 1) < 1e-9 and abs(tr.up_sensor @ tr.forward_sensor) < 1e-9
        assert 2.0 <= tr.speed_mps <= 5.0


def test_virtual_truth_hangs_together(virtual):
    for s in virtual:
        tr = s.truth
        run = _in(tr.ic_s, tr.running_s)
        ic, left = tr.ic_s[run], tr.ic_left[run]
        # the cadence of the truth's contacts is the session's own cadence_spm
        assert cadence_spm(ic) == pytest.approx(tr.cadence_spm, abs=1.0), s.name
        assert np.all(left[1:] != left[:-1]), s.name  # left, right, left, ...
        assert np.all(np.diff(ic) > 0.2) and np.all(np.diff(ic) < 0.5)  # running steps, 120-300 spm
        # every contact has a toe-off of the same foot before that foot's next contact (stance, then flight)
        ct = tr.contact_time_s[run][:-2]
        assert np.all((ct > 0.15) & (ct < 0.4)), s.name
        assert np.all(ct < np.diff(ic)[:-1] * 2), s.name
        assert abs(int(left.sum()) - int((~left).sum())) <= 1


def test_virtual_truth_angles_turn_with_the_gyro(virtual):
    """The truth's angles are the product's conventions: their rates are the gyro's about the pelvis axes
    (tilt anterior + = pitching about the left axis, obliquity left up + = rolling about forward, rotation left
    + = yawing about up)."""
    for s in virtual:
        w = _in(s.rec.t, _excerpt(s))
        up, fwd = s.truth.up_sensor, s.truth.forward_sensor
        left = np.cross(up, fwd)
        fs = s.rec.rate_hz
        for angle, axis in ((s.truth.tilt_deg, left), (s.truth.obliquity_deg, fwd), (s.truth.rotation_deg, up)):
            rate = np.gradient(angle[w]) * fs
            assert np.corrcoef(rate, np.degrees(s.rec.gyr[w] @ axis))[0, 1] > 0.9, s.name


def test_alcantara_trials_load_with_two_axes_and_no_gyro(alcantara):
    assert len(alcantara) == 31
    for s in alcantara:
        rec, tr = s.rec, s.truth
        assert rec.rate_hz == ALCANTARA_RATE_HZ and len(rec) == ALCANTARA_SAMPLES
        assert rec.acc.shape == rec.gyr.shape == (ALCANTARA_SAMPLES, 3)
        assert np.allclose(np.diff(rec.t), 1 / ALCANTARA_RATE_HZ)
        assert not rec.gyr.any() and not rec.acc[:, 1].any()  # what it lacks is zeros, and says so
        assert len(rec.meta["missing"]) == 2
        assert rec.acc[:, 2].min() >= 0.0  # the vertical is clipped at 0 g in flight
        # m/s² (in the file: g). Over whole strides the mean specific force would be 1 g; clipping the flight
        # phase's negative readings to 0 lifts the vertical's mean to 1.0-1.3 g
        assert 1.0 * GRAVITY < rec.acc[:, 2].mean() < 1.4 * GRAVITY
        assert -0.9 * GRAVITY < rec.acc[:, 0].mean() < -0.1 * GRAVITY  # the sensor sits pitched on the sacrum
        assert tr.speed_mps in (2.5, 3.33, 4.17) and tr.slope_pct in (0, 5, -5, 10, -10)
        assert tr.ic_left is None and tr.grf_bw.shape == (ALCANTARA_SAMPLES,)


def test_alcantara_contacts_come_from_the_force_plate(alcantara):
    for s in alcantara:
        tr = s.truth
        assert 12 <= len(tr.ic_s) <= 21, s.name
        assert np.all(np.diff(tr.ic_s) > 0.2), s.name  # no flight-phase ringing taken for a contact
        # contacts and toe-offs alternate, and the stance lasts a running contact time
        both = np.sort(np.r_[tr.ic_s, tr.to_s])
        is_ic = np.isin(both, tr.ic_s)
        assert np.all(is_ic[1:] != is_ic[:-1]), s.name
        ct = tr.contact_time_s[np.isfinite(tr.contact_time_s)]
        assert np.all((ct > 0.15) & (ct < 0.32)), s.name
        # the force is up at the contacts' interpolated instants, and above 0.05 BW between IC and toe-off
        fs = s.rec.rate_hz
        for ic, c in zip(tr.ic_s, tr.contact_time_s):
            if np.isfinite(c):
                i0, i1 = int(np.ceil(ic * fs)), int(np.floor((ic + c) * fs))
                assert tr.grf_bw[i0:i1 + 1].min() >= 0.05 - 1e-9
        assert 140 < tr.cadence_spm < 240


def test_grf_contacts_ignore_flight_ringing():
    fs = 500.0
    t = np.arange(1000) / fs + 0.1  # the recording starts mid-stance
    grf = np.where((t % 0.3) < 0.2, 2.0 * np.sin(np.pi * (t % 0.3) / 0.2), 0.0)
    grf[90:96] = 0.06  # a 12-ms blip just above the threshold in flight (0.18-0.19 s), before the contact at 0.2 s
    ic, to, ct = grf_contacts(grf, fs)
    assert np.allclose(ic, [0.2, 0.5, 0.8, 1.1, 1.4, 1.7], atol=0.003)  # on the recording's clock (from 0)
    assert np.allclose(to, [0.1, 0.4, 0.7, 1.0, 1.3, 1.6, 1.9], atol=0.003)  # the first stance has no contact
    assert np.allclose(ct, 0.2, atol=0.006)


def test_grf_contacts_keep_a_stance_cut_by_the_recordings_end():
    fs = 500.0
    flight = np.zeros(100)
    rising = np.linspace(0.1, 1.0, 10)  # 20 ms of a foot strike, then the recording stops
    ic, to, ct = grf_contacts(np.r_[flight, rising], fs)
    assert np.allclose(ic, [99.5 / fs], atol=1e-4) and len(to) == 0 and np.isnan(ct).all()
    ringing = np.r_[flight, np.full(10, 0.08)]  # flight ringing just above the threshold at the end: no stance
    assert len(grf_contacts(ringing, fs)[0]) == 0


# ---------------------------------------------------------------- physics pins
def _fore_aft_vs_vertical_rate(s) -> float:
    w = _in(s.rec.t, _excerpt(s))
    return float(np.corrcoef(s.fore_aft()[w], np.gradient(s.vertical()[w]))[0, 1])


@pytest.mark.parametrize("name", ["virtual", "alcantara"])
def test_fore_aft_is_anti_correlated_with_the_vertical_rate(name, request):
    sessions = request.getfixturevalue(name)
    r = np.array([_fore_aft_vs_vertical_rate(s) for s in sessions])
    assert np.all(r < 0), dict(zip([s.name for s in sessions], r.round(2)))
    assert np.median(r) < -0.2


@pytest.mark.parametrize("name", ["alcantara", "virtual"])
def test_the_first_part_of_a_running_stance_brakes_and_the_first_half_does_not(name, request):
    sessions = request.getfixturevalue(name)
    half = []
    for s in sessions:
        w = _excerpt(s)
        for share in (0.15, 0.2):
            per_step = fore_aft_after_contacts(s, share, window=w)
            assert per_step.mean() < -1.0, (s.name, share)  # m/s²
            assert np.mean(per_step < 0) >= 0.9, (s.name, share)
        assert fore_aft_after_contacts(s, 0.25, window=w).mean() < 0, s.name
        half.append(fore_aft_after_contacts(s, 0.5, window=w).mean())
    # a rule that reads the first half of each step reads propulsion as often as not: here, mostly
    assert np.mean(np.asarray(half) > 0) >= 0.75, np.round(half, 2)


def test_roll_rate_after_a_contact_drops_the_swing_side(virtual):
    for s in virtual:
        w = _excerpt(s)
        fs = s.rec.rate_hz
        roll = s.rec.gyr @ s.truth.forward_sensor  # rad/s; + = left side rising, right side dropping
        obliquity_rate = np.gradient(s.truth.obliquity_deg) * fs  # deg/s; + = left side rising
        k = _in(s.truth.ic_s, (w[0], w[1] - 0.5))
        ic, left = s.truth.ic_s[k], s.truth.ic_left[k]
        n = int(0.2 * np.median(np.diff(ic)) * fs)
        start = np.round(ic * fs).astype(int)
        after = np.array([roll[i:i + n].mean() for i in start])
        truth_after = np.array([obliquity_rate[i:i + n].mean() for i in start])
        assert left.sum() >= 5 and (~left).sum() >= 5
        assert np.mean(after[left] > 0) >= 0.9 and np.mean(after[~left] < 0) >= 0.9, s.name
        assert np.all(np.sign(truth_after) == np.sign(after)), s.name  # the convention, from the truth


def test_steps_repeat_fore_aft_and_alternate_about_the_forward_axis(virtual):
    """(d) The step symmetry the forward axis is taken from (host.signal.step_symmetry): along the true axes, the
    horizontal acceleration repeats every step mostly fore-aft and the angular rate alternates mostly about the
    forward axis; the raw acceleration's major axis does not always point fore-aft (the sway of fast runners)."""
    from tiltguard.host.signal.step_symmetry import repeating_minus_alternating, step_period_samples

    for s in virtual:
        up, fwd = s.truth.up_sensor, s.truth.forward_sensor
        left = np.cross(up, fwd)
        a = int((s.truth.running_s[0] + 1.0) * VIRTUAL_RATE_HZ)
        sl = slice(a, a + int(EXCERPT_S * VIRTUAL_RATE_HZ))
        acc = s.rec.acc[sl] - s.rec.acc[sl].mean(axis=0)
        gyr = s.rec.gyr[sl] - s.rec.gyr[sl].mean(axis=0)
        period = step_period_samples(acc @ up, VIRTUAL_RATE_HZ)
        true_step = np.median(np.diff(s.truth.ic_s)) * VIRTUAL_RATE_HZ
        assert abs(period - true_step) <= 0.05 * true_step, s.name
        acc_c = repeating_minus_alternating(np.column_stack([acc @ fwd, acc @ left]), period)
        gyr_c = repeating_minus_alternating(np.column_stack([gyr @ fwd, gyr @ left]), period)
        # fore-aft repeats more than left-right does; roll alternates more than pitch does
        assert acc_c[0, 0] > acc_c[1, 1], s.name
        assert gyr_c[0, 0] < gyr_c[1, 1], s.name
