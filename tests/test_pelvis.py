"""Pelvic angles: sign conventions pinned with hand-made rotations; heading split; end to end on the simulator."""
import numpy as np
import pytest
from tiltguard.host.orientation import quaternion as Q
from tiltguard.host.pelvis import pelvic_angles, split_heading

FS = 100.0


def rz(a): return Q.from_axis_angle([0, 0, 1], np.radians(a))
def rx(a): return Q.from_axis_angle([1, 0, 0], np.radians(a))
def ry(a): return Q.from_axis_angle([0, 1, 0], np.radians(a))


def angles_deg(q_earth_pelvis, R_ps=np.eye(3)):
    q = np.tile(q_earth_pelvis, (300, 1))
    a = pelvic_angles(q, R_ps, FS)
    return np.degrees([a.tilt[150], a.obliquity[150], a.rotation[150] + a.heading[150]])


def test_pure_anterior_tilt_reads_plus_10():
    assert np.allclose(angles_deg(ry(10)), [10, 0, 0], atol=1e-9)
    # and the forward axis really tips down
    assert Q.rotate(ry(10), [1.0, 0, 0])[2] < 0


def test_left_side_up_is_positive_obliquity():
    assert np.allclose(angles_deg(rx(10)), [0, 10, 0], atol=1e-9)
    assert Q.rotate(rx(10), [0, 1.0, 0])[2] > 0  # the left (+y) side rises


def test_left_turn_is_positive_yaw_and_baker_order():
    assert np.allclose(angles_deg(rz(10)), [0, 0, 10], atol=1e-9)
    q = Q.multiply(Q.multiply(rz(20), rx(-5)), ry(8))  # rotation, then obliquity, then tilt
    assert np.allclose(angles_deg(q), [8, -5, 20], atol=1e-9)


def test_sensor_mounting_is_removed():
    mount = Q.multiply(rx(180), ry(-15))  # upside down and leaning back: R_pelvis<-sensor
    q_es = Q.multiply(ry(10), mount)  # earth<-pelvis · pelvis<-sensor
    assert np.allclose(angles_deg(q_es, Q.to_matrix(mount)), [10, 0, 0], atol=1e-9)


def test_turns_go_to_heading_and_stride_swing_stays_in_rotation():
    t = np.arange(int(60 * FS)) / FS
    turn = np.radians(90) * 0.5 * (1 - np.cos(np.pi * np.clip((t - 20) / 20, 0, 1)))  # smooth 90° left turn, 20 s
    swing = np.radians(6) * np.sin(2 * np.pi * 1.4 * t)  # running stride rotation
    heading, rotation = split_heading(turn + swing, FS)
    inner = slice(int(5 * FS), int(55 * FS))
    assert np.abs(np.degrees(rotation - swing)[inner]).max() < 0.5
    assert np.abs(np.degrees(heading - turn)[inner]).max() < 0.5


def test_a_street_corner_leaves_rotation_once_the_strides_set_the_heading():
    """90° left in ~3 s (30°/s at its peak) while running with the cadence rising 160 -> 180 steps/min: the
    low-pass heading lags the corner and rotation reads part of it; the heading along the strides (mean yaw
    over each local stride, from the contacts) keeps rotation within a fraction of a degree of the swing."""
    from tiltguard.host.pelvis.heading import follow_strides

    fs = 200.0
    t = np.arange(int(40 * fs)) / fs
    stride_hz = np.interp(t, [0, 40], [80 / 60, 90 / 60])  # strides/s: half the cadence
    phase = 2 * np.pi * np.cumsum(stride_hz) / fs
    swing = np.radians(6) * np.sin(phase) + np.radians(1) * np.sin(2 * phase + 0.4)  # with a harmonic
    corner = np.radians(90) * 0.5 * (1 - np.cos(np.pi * np.clip((t - 20) / 3, 0, 1)))
    contacts = np.interp(np.arange(np.pi, phase[-1], np.pi), phase, np.arange(len(t)))  # a step every half stride
    q = Q.from_axis_angle(np.array([0, 0, 1.0]), corner + swing)
    low = pelvic_angles(q, np.eye(3), fs)
    along = follow_strides(low, fs, contacts)
    inner = slice(int(3 * fs), int(37 * fs))
    err_low = np.degrees(low.rotation - swing)[inner]
    err = np.degrees(along.rotation - swing)[inner]
    assert np.abs(err_low).max() > 3  # what the corner did to rotation before
    assert np.abs(err).max() < 0.5
    assert np.sqrt(np.mean(err**2)) < 0.15
    np.testing.assert_allclose(along.heading + along.rotation, low.heading + low.rotation)  # yaw itself unchanged
    np.testing.assert_array_equal(along.tilt, low.tilt)


def test_without_steps_the_heading_stays_the_low_pass():
    from tiltguard.host.pelvis.heading import follow_strides

    fs = 200.0
    t = np.arange(int(20 * fs)) / fs
    a = pelvic_angles(Q.from_axis_angle(np.array([0, 0, 1.0]), 0.3 * np.sin(0.5 * t)), np.eye(3), fs)
    same = follow_strides(a, fs, np.array([100.0, 900.0, 3000.0]))  # no three steps in a row within 0.25-1.2 s
    np.testing.assert_array_equal(same.rotation, a.rotation)


def test_absolute_tilt_carries_its_uncertainty():
    a = pelvic_angles(np.tile(ry(4), (50, 1)), np.eye(3), FS, neutral_tilt_deg=12, neutral_tilt_sd_deg=2)
    assert np.degrees(a.tilt_abs[0]) == pytest.approx(16) and np.degrees(a.tilt_abs_sd) == pytest.approx(2)
    default = pelvic_angles(np.tile(ry(4), (50, 1)), np.eye(3), FS)
    assert np.degrees(default.tilt_abs_sd) > 2  # population value: wider


@pytest.mark.parametrize("mount", [None, dict(pitch_deg=-15.0, roll_deg=180.0)])
def test_simulated_run_end_to_end(mount):
    simulator = pytest.importorskip("tiltguard.host.simulator")
    from dataclasses import replace

    from tiltguard.calibration.alignment import calibrate_from_session
    from tiltguard.host.orientation import estimate_orientation

    sc = simulator.get_scenario("easy-run-neutral")
    if mount:
        sc = replace(sc, mount=simulator.Mount(**mount))
    rec, truth = simulator.simulate(sc, minutes=3, rate_hz=200, seed=4)
    q = estimate_orientation(rec.acc, rec.gyr, rec.rate_hz, mode="post", travel=True).quat
    al = calibrate_from_session(rec.acc, rec.gyr, rec.rate_hz, (200, 1300), quat=q)
    ang = pelvic_angles(q, al.R_pelvis_sensor, rec.rate_hz)
    run = truth.activity == 2
    err = np.degrees(ang.tilt - truth.tilt_rel)[run]
    assert np.sqrt(np.mean(err**2)) < 1.0 and abs(err.mean()) < 0.5
