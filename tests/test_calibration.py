"""Calibration: bias at rest, ellipsoid fit, stand/hinge alignment for any mounting, rejections, store."""

import numpy as np
import pytest
from tiltguard.calibration.accel_six_position import fit_ellipsoid, guided_six_position
from tiltguard.calibration.alignment import (
    alignment_from_axes,
    check_upright,
    stand_vertical,
)
from tiltguard.calibration.errors import CalibrationRejected
from tiltguard.calibration.gyro_bias import gyro_bias_at_rest
from tiltguard.calibration.hinge import forward_from_hinge
from tiltguard.host.orientation import quaternion as Q
from tiltguard.host.store import SessionStore

G = 9.80665
FS = 200.0
rng = np.random.default_rng(3)


def still_block(up_sensor, seconds=5.0, gyr_bias=(0, 0, 0), acc_noise=0.02, gyr_noise=0.002):
    n = int(seconds * FS)
    up = np.asarray(up_sensor, float) / np.linalg.norm(up_sensor)
    acc = G * up + rng.normal(0, acc_noise, (n, 3))
    gyr = np.asarray(gyr_bias, float) + rng.normal(0, gyr_noise, (n, 3))
    return acc, gyr


def test_gyro_bias_at_rest_and_rejection_when_moving():
    acc, gyr = still_block([0, 0, 1], gyr_bias=(0.01, -0.004, 0.002))
    assert np.allclose(gyro_bias_at_rest(acc, gyr, FS), [0.01, -0.004, 0.002], atol=5e-4)
    gyr[::50] += 0.5  # someone bumped it
    with pytest.raises(CalibrationRejected, match="not still"):
        gyro_bias_at_rest(acc, gyr, FS)


def test_ellipsoid_fit_recovers_bias_and_scale():
    bias, scale = np.array([0.2, -0.15, 0.3]), np.array([1.01, 0.985, 1.02])
    dirs = np.vstack([np.eye(3), -np.eye(3), [[0.6, 0.8, 0], [0, -0.6, 0.8]]])
    raw = G * dirs / scale + bias  # f = scale * (raw - bias)
    cal = fit_ellipsoid(raw)
    assert np.allclose(cal.bias, bias, atol=1e-6) and np.allclose(cal.scale, scale, atol=1e-7)
    with pytest.raises(CalibrationRejected, match="z axis"):
        fit_ellipsoid(raw[[0, 1, 3, 4, 6, 6]])


def test_guided_six_position_reasks_a_wrong_pose():
    poses = iter([[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    said = []
    cal = guided_six_position(lambda s: still_block(next(poses), s), ask=lambda pose: None, say=said.append)
    assert any("not '-x up'" in m for m in said)  # the second pose was +y, rejected and asked again
    assert np.allclose(cal.scale, 1, atol=0.01)


def pelvis_to_sensor(mount_q):
    """A sensor mounted with R_pelvis<-sensor = mount_q: specific force of a neutral stand and of a 30° hinge."""
    up_p = np.array([0, 0, 1.0])
    hinge = Q.from_axis_angle([0, 1, 0], np.radians(30))  # anterior tilt: rotation about +y
    up_hinged_p = Q.rotate(Q.conjugate(hinge), up_p)  # earth up seen from the tipped pelvis
    to_s = Q.conjugate(mount_q)
    return Q.rotate(to_s, up_p), Q.rotate(to_s, up_hinged_p)


@pytest.mark.parametrize("mount_deg", [(0, 0, 0), (180, 0, 0), (90, -15, 0), (0, 30, 25), (0, -30, -70)])
def test_stand_and_hinge_find_the_pelvis_axes_for_any_mounting(mount_deg):
    roll, pitch, yaw = np.radians(mount_deg)
    mount = Q.multiply(Q.multiply(Q.from_axis_angle([0, 0, 1], yaw), Q.from_axis_angle([1, 0, 0], roll)),
                       Q.from_axis_angle([0, 1, 0], pitch))
    up_s, hinged_s = pelvis_to_sensor(mount)
    acc_stand, gyr_stand = still_block(up_s)
    acc_hinge, _ = still_block(hinged_s)
    up = stand_vertical(acc_stand, gyr_stand, FS)
    al = alignment_from_axes(up, forward_from_hinge(acc_stand, acc_hinge, up), "hinge")
    assert np.allclose(al.R_pelvis_sensor, Q.to_matrix(mount), atol=0.01)


def test_stand_rejections_say_why():
    acc, gyr = still_block([0, 0, 1], seconds=2)
    with pytest.raises(CalibrationRejected, match="lasted 2.0 s"):
        stand_vertical(acc, gyr, FS)
    acc, gyr = still_block([0, 0, 1], acc_noise=0.8)
    with pytest.raises(CalibrationRejected, match="not still"):
        stand_vertical(acc, gyr, FS)
    with pytest.raises(CalibrationRejected, match="not upright"):  # sitting: pelvis ~45° back
        check_upright([0, 0, 1], [np.sin(np.radians(45)), 0, np.cos(np.radians(45))])
    assert check_upright([0, 0, 1], [np.sin(np.radians(5)), 0, np.cos(np.radians(5))]) == pytest.approx(5)
    with pytest.raises(CalibrationRejected, match="bend further"):
        s, _ = still_block([0, 0, 1])
        h, _ = still_block([0.1, 0, 1])
        forward_from_hinge(s, h, [0, 0, 1])


def test_store_keeps_every_calibration_per_device_with_its_time(tmp_path):
    with SessionStore(tmp_path / "tg.sqlite3") as store:
        pod, other = store.device("Tiltguard", "AA:BB"), store.device("Tiltguard", "CC:DD")
        assert store.device_calibration("Tiltguard", "AA:BB", "accel") is None
        store.save_calibration(pod, "accel", {"bias": np.array([0.1, 0.2, 0.3])}, created_at=1000.0)
        store.save_calibration(pod, "accel", {"bias": np.array([0.4, 0.5, 0.6])}, created_at=2000.0)
        store.save_calibration(other, "accel", {"bias": [9, 9, 9]}, created_at=3000.0)
    with SessionStore(tmp_path / "tg.sqlite3") as store:  # on disk, not in memory
        newest = store.device_calibration("Tiltguard", "AA:BB", "accel")
        assert newest.data["bias"] == [0.4, 0.5, 0.6] and newest.created_at == 2000.0
        assert [c.created_at for c in store.calibrations("accel")] == [1000.0, 2000.0, 3000.0]


def test_neutral_stand_is_found_at_the_start_and_its_absence_is_explained():
    from tiltguard.calibration.stand import find_neutral_stand
    from tiltguard.host.simulator import simulate

    rec, truth = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=4)
    a, b = find_neutral_stand(rec.acc, rec.gyr, rec.rate_hz)
    assert (b - a) == 1000 and np.all(truth.activity_names[a:b] == "still")
    moving = slice(20 * 200, None)  # starts mid-walk: no stand to be found
    with pytest.raises(CalibrationRejected, match="no 5-s still stand"):
        find_neutral_stand(rec.acc[moving], rec.gyr[moving], rec.rate_hz)


def test_a_ride_without_steps_is_aligned_from_the_pedalling_rock():
    from dataclasses import replace

    from tiltguard.calibration.alignment import calibrate_from_session
    from tiltguard.calibration.stand import find_neutral_stand
    from tiltguard.host.frames import rotation_from_wxyz
    from tiltguard.host.simulator import Mount, get_scenario, simulate

    sc = replace(get_scenario("ride-steady"), mount=Mount(pitch_deg=20.0, roll_deg=180.0, yaw_deg=6.0))
    rec, truth = simulate(sc, minutes=3, rate_hz=200, seed=2)
    al = calibrate_from_session(rec.acc, rec.gyr, rec.rate_hz, find_neutral_stand(rec.acc, rec.gyr, rec.rate_hz))
    assert al.forward_source == "pedalling"
    # Angles are relative to the neutral stand, so the calibrated "pelvis" frame is the anatomical one
    # tipped back by the standing tilt: R_neutral<-sensor = Ry(neutral tilt) · R_pelvis<-sensor.
    from scipy.spatial.transform import Rotation
    true_mount = rotation_from_wxyz(truth.quat_mount[0].astype(float)).as_matrix()
    expected = Rotation.from_euler("y", truth.neutral_tilt).as_matrix() @ true_mount
    cos = (np.trace(al.R_pelvis_sensor @ expected.T) - 1) / 2
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))) < 3.0


def test_a_pod_that_was_never_worn_is_said_so():
    from tiltguard.calibration.alignment import calibrate_from_session
    from tiltguard.calibration.stand import find_neutral_stand
    from tiltguard.host.simulator.poses import SimulatedPosePod

    pod = SimulatedPosePod(seed=2)  # lying on a table, with a real chip's noise and bias
    rows = np.array([pod.sample(k) for k in range(int(120 * FS))])
    acc, gyr = rows[:, :3], rows[:, 3:]
    stand = find_neutral_stand(acc, gyr, FS)
    with pytest.raises(CalibrationRejected, match="hardly moved in the 1.9 min after the stand: was it worn"):
        calibrate_from_session(acc, gyr, FS, stand)
