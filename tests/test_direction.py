"""Which way is forward: the decision rule over the cues, and the steps' cues on the real running sets."""
import numpy as np
import pytest
from tiltguard.calibration.alignment import (
    MIN_CONFLICTING_DV,
    MIN_INITIATION_DV,
    Alignment,
    alignment_from_axes,
)
from tiltguard.calibration.forward_sign import DirectionCue, decide
from tiltguard.host.gait.direction import direction_from_steps


def speed(v):
    return DirectionCue("speed gained", int(np.sign(v)), abs(v), decisive=MIN_INITIATION_DV,
                        conflicting=MIN_CONFLICTING_DV)


def step(name, sign, t):
    return DirectionCue(name, sign, t)


def test_one_decisive_cue_and_none_against_decides():
    d = decide([speed(+0.8), step("loading brakes", +1, 1.0)])
    assert d.sign == 1 and "speed gained" in d.reason


def test_weak_cues_give_no_guess():
    d = decide([speed(+0.1), step("loading brakes", -1, 1.5)])
    assert d.sign == 0 and "no cue is strong enough" in d.reason


def test_a_clear_start_against_strong_steps_is_a_disagreement_not_a_guess():
    d = decide([speed(+1.5), step("loading brakes", -1, 9.0)])
    assert d.sign == 0 and "disagree" in d.reason


def test_a_small_speed_artefact_does_not_veto_consistent_steps():
    # a treadmill belt starting under the wearer moves the sacrum a few tenths of a m/s
    d = decide([speed(+0.45), step("loading brakes", -1, 30.0), step("loading-braking coupling", -1, 40.0)])
    assert d.sign == -1


def test_the_decision_is_kept_with_the_alignment():
    al = alignment_from_axes(np.array([0.0, 0, 1]), np.array([1.0, 0, 0]), "walking")
    d = decide([speed(+0.8)])
    rec = Alignment(al.R_pelvis_sensor, al.up_sensor, al.forward_sensor, "walking", direction=d).to_record()
    assert rec["direction"]["sign"] == 1 and rec["direction"]["cues"][0]["cue"] == "speed gained"


def test_the_steps_turn_either_sign_of_the_axis_forward_on_real_running(running_dir):
    from tiltguard_eval.running_data import load_alcantara, load_virtual

    sessions = load_virtual(running_dir / "virtual")[::5] + load_alcantara(running_dir / "alcantara")[::10]
    for s in sessions:
        rec, tr = s.rec, s.truth
        a = int((tr.running_s[0] - rec.t[0] + 1) * rec.rate_hz)
        b = int((tr.running_s[1] - rec.t[0]) * rec.rate_hz)
        for sign in (1, -1):
            d = direction_from_steps(rec.acc, rec.gyr, rec.rate_hz, tr.up_sensor, sign * tr.forward_sensor, (a, b))
            assert d.sign == sign, (s.name, sign, d.reason)


@pytest.fixture(scope="module")
def running_dir():
    from tiltguard_eval.datasets import DatasetMissing
    from tiltguard_eval.running_data import running_dir as find

    try:
        return find()
    except DatasetMissing as exc:
        pytest.skip(str(exc))


def _read_over_the_run(a, truth):
    """What a post-session analysis `a` read over the scored running window (from 1 s in): tilt (deg) and the
    truth's tilt, and per detected contact inside it the side read and the side of the nearest true contact."""
    t = a.rec.t
    run = (t > truth.running_s[0] + 1) & (t < truth.running_s[1])
    t_det = np.asarray(a.contacts.t)
    inside = (t_det > truth.running_s[0] + 1) & (t_det < truth.running_s[1])
    nearest = np.abs(truth.ic_s[None, :] - t_det[inside, None]).argmin(axis=1)
    return np.degrees(a.angles.tilt[run]), truth.tilt_deg[run], np.asarray(a.contacts.left)[inside], \
        truth.ic_left[nearest]


@pytest.mark.parametrize("axis, degrees", [("x", 180.0), ("z", 180.0), ("y", 90.0)])
def test_a_runner_with_the_pod_clipped_any_way_round_is_read_the_right_way_round(virtual_dir, axis, degrees):
    """The virtual runners' own mounting is near upright (pitch 15 ± 3°, yaw/roll ± 4°): the same real running
    read on a pod clipped upside down, back to front or on its side must give the same tilt, sign and sides."""
    from dataclasses import replace

    from scipy.spatial.transform import Rotation
    from tiltguard.host.analysis import analyse_recording
    from tiltguard_eval.running_data import load_virtual_session

    s = load_virtual_session(virtual_dir / "vsi_subject03_run4.npz")
    q = Rotation.from_euler(axis, degrees, degrees=True).as_matrix()
    a = analyse_recording(replace(s.rec, acc=s.rec.acc @ q.T, gyr=s.rec.gyr @ q.T), mode="post")
    assert a.alignment.direction_known, a.alignment.withheld
    tilt, true_tilt, left, true_left = _read_over_the_run(a, s.truth)
    assert np.corrcoef(tilt, true_tilt)[0, 1] > 0.9
    assert np.sqrt(np.mean((tilt - true_tilt) ** 2)) < 1.0
    assert len(left) > 100 and np.all(left == true_left)  # every contact's side


@pytest.mark.parametrize("name", ["vsi_subject02_run3", "vsi_subject04_run2"])
def test_the_mirror_image_runner_gets_the_sides_swapped_and_the_same_tilt(virtual_dir, name):
    """A runner is not fitted to: the same real running reflected left for right (a runner whose every asymmetry
    is the other way round, read on the same pod) must come out with every contact's side swapped, the tilt
    unchanged and the obliquity mirrored, against that runner's own truth."""
    from dataclasses import replace

    from tiltguard.host.analysis import analyse_recording
    from tiltguard_eval.running_data import load_virtual_session

    s = load_virtual_session(virtual_dir / f"{name}.npz")
    tr = s.truth
    left = np.cross(tr.up_sensor, tr.forward_sensor)
    m = np.eye(3) - 2 * np.outer(left, left) / (left @ left)  # reflection through the sagittal plane
    a = analyse_recording(replace(s.rec, acc=s.rec.acc @ m.T, gyr=-(s.rec.gyr @ m.T)), mode="post")
    assert a.alignment.direction_known, a.alignment.withheld
    tilt, true_tilt, left, true_left = _read_over_the_run(a, tr)
    run = (s.rec.t > tr.running_s[0] + 1) & (s.rec.t < tr.running_s[1])
    assert np.sqrt(np.mean((tilt - true_tilt) ** 2)) < 1.0
    assert np.corrcoef(np.degrees(a.angles.obliquity[run]), -tr.obliquity_deg[run])[0, 1] > 0.9
    assert len(left) > 100 and np.all(left == ~true_left)


def test_the_pelvis_centre_read_from_the_flights_is_where_the_pod_is_not(virtual_dir):
    """In flight the body falls freely, so the pelvis' centre reads ~no specific force: fitted over the flights it
    lies forward of and below the sacral pod, and a pod worn 10 cm higher finds the same point 10 cm lower."""
    from tiltguard.calibration.axes import pelvis_frame
    from tiltguard.host.gait.body_frame import level_signals
    from tiltguard.host.gait.lever_arm import centre_from_flights
    from tiltguard_eval.running_data import load_virtual_session

    s = load_virtual_session(virtual_dir / "vsi_subject04_run3.npz")
    up, forward = s.truth.up_sensor, s.truth.forward_sensor
    found = []
    for rec in (s.rec, s.pod_moved(10.0, 0.0)):
        sig = level_signals(rec.acc, rec.gyr, rec.rate_hz, pelvis_frame(up, forward))
        centre = centre_from_flights(rec.acc, rec.gyr, rec.rate_hz, sig.vertical)
        assert centre is not None
        found.append(centre.r)
    assert 0.03 < found[0] @ forward < 0.15 and -0.15 < found[0] @ up < 0.0  # forward of and below the pod
    assert abs((found[1] - found[0]) @ up + 0.10) < 0.005  # the same point, seen from 10 cm higher
    assert np.linalg.norm((found[1] - found[0]) - ((found[1] - found[0]) @ up) * up) < 0.005


def test_no_gyro_no_centre(virtual_dir):
    """An accelerometer-only recording (the real treadmill set has no gyro) cannot say where the pelvis' centre
    is, however many flights it has: the pod's own reading is used."""
    from tiltguard.host.gait.lever_arm import MIN_FLIGHT_S, centre_from_flights
    from tiltguard_eval.running_data import load_virtual_session

    s = load_virtual_session(virtual_dir / "vsi_subject04_run3.npz")
    vertical = s.rec.acc @ s.truth.up_sensor - 9.81
    assert (vertical < -0.7 * 9.81).sum() > 10 * MIN_FLIGHT_S * s.rec.rate_hz  # flights aplenty
    assert centre_from_flights(s.rec.acc, s.rec.gyr, s.rec.rate_hz, vertical) is not None
    assert centre_from_flights(s.rec.acc, np.zeros_like(s.rec.gyr), s.rec.rate_hz, vertical) is None


@pytest.mark.parametrize("name, up_cm, left_cm", [("vsi_subject04_run3", 12.0, 0.0),
                                                  ("vsi_subject04_run4", 12.0, 6.0)])
def test_a_pod_worn_higher_or_off_the_spine_still_reads_forward(virtual_dir, name, up_cm, left_cm):
    """Worn higher on the back the pod's fore-aft reading carries the pelvis' pitch acceleration times the height,
    as large as the braking: the step cues are read at the pelvis' centre, so the direction, the tilt and the
    sides come out as at the sacrum (here the pod's own reading once refused one runner and reversed the other)."""
    from tiltguard.host.analysis import analyse_recording
    from tiltguard_eval.running_data import load_virtual_session

    s = load_virtual_session(virtual_dir / f"{name}.npz")
    a = analyse_recording(s.pod_moved(up_cm, left_cm), mode="post")
    assert a.alignment.direction_known, a.alignment.withheld
    assert "pelvis' centre" in a.alignment.direction.cues[-1].detail
    tilt, true_tilt, left, true_left = _read_over_the_run(a, s.truth)
    assert np.corrcoef(tilt, true_tilt)[0, 1] > 0.9
    assert np.sqrt(np.mean((tilt - true_tilt) ** 2)) < 1.0
    assert len(left) > 100 and np.mean(left == true_left) > 0.98
