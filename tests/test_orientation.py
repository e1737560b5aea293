"""Orientation: conventions pinned with hand-made motion, modes agree with their definitions, BROAD sanity."""
import numpy as np
import pytest
from tiltguard.host.orientation import OrientationStream, estimate_orientation
from tiltguard.host.orientation import quaternion as Q
from tiltguard_eval.orientation_filters import run_filter
from tiltguard_eval.orientation_metrics import (
    inclination_error_rad,
    inclination_rmse_deg,
)

G = 9.80665
FS = 200.0


def static_recording(q_earth_sensor, seconds=10.0):
    """Specific force of a still sensor with orientation q (sensor -> earth): R^T · (0, 0, +g)."""
    n = int(seconds * FS)
    acc = np.tile(Q.rotate(Q.conjugate(q_earth_sensor), [0.0, 0.0, G]), (n, 1))
    return acc, np.zeros((n, 3))


def test_rotate_matches_matrix_and_right_hand_rule():
    q = Q.from_axis_angle([0, 0, 1], np.radians(90))
    assert np.allclose(Q.rotate(q, [1.0, 0, 0]), [0, 1, 0], atol=1e-12)  # x -> y about +z
    R = Q.to_matrix(q)
    assert np.allclose(R @ [1.0, 0, 0], [0, 1, 0], atol=1e-12)
    assert np.allclose(Q.from_matrix(R), q, atol=1e-12)


@pytest.mark.parametrize("mode", ["causal", "post"])
def test_static_tilt_is_recovered_in_both_modes(mode):
    q_true = Q.from_axis_angle([1, 2, 0], np.radians(25))
    acc, gyr = static_recording(q_true)
    res = estimate_orientation(acc, gyr, FS, mode=mode)
    err = np.degrees(inclination_error_rad(res.quat[-1], q_true))
    assert err < 0.05


def test_inclination_error_ignores_heading_and_sees_tilt():
    q = Q.from_axis_angle([0.3, -0.2, 1], 0.7)
    assert inclination_error_rad(Q.multiply(Q.from_axis_angle([0, 0, 1], 1.0), q), q) < 1e-6
    tilted = Q.multiply(Q.from_axis_angle([1, 0, 0], np.radians(3)), q)
    assert np.isclose(np.degrees(inclination_error_rad(tilted, q)), 3.0, atol=1e-9)


def rotating_recording(seconds=60.0, bias=(0.01, -0.02, 0.015), impacts=False, seed=0):
    """A sensor rocking about x and y (±20°) with a constant gyro bias; optional 3-g foot strikes."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    t = np.arange(n) / FS
    roll = np.radians(20) * np.sin(2 * np.pi * 0.4 * t)
    pitch = np.radians(15) * np.sin(2 * np.pi * 0.27 * t + 1.0)
    q = Q.multiply(Q.from_axis_angle(np.tile([0, 1.0, 0], (n, 1)), pitch),
                   Q.from_axis_angle(np.tile([1.0, 0, 0], (n, 1)), roll))
    # body angular rate from the quaternion derivative: w = 2 q* ⊗ dq/dt
    dq = np.gradient(q, 1 / FS, axis=0)
    gyr_true = 2 * Q.multiply(Q.conjugate(q), dq)[:, 1:]
    f_earth = np.tile([0.0, 0.0, G], (n, 1))
    if impacts:  # 3 g vertical spikes every 0.17 s (a runner's foot strikes), zero mean over a step
        phase = (t % 0.17) / 0.17
        spike = np.exp(-0.5 * ((phase - 0.1) / 0.03) ** 2)
        spike -= spike.mean()
        f_earth[:, 2] += 3 * G * spike / spike.max()
    acc = Q.rotate(Q.conjugate(q), f_earth) + rng.normal(0, 0.05, (n, 3))
    gyr = gyr_true + np.asarray(bias) + rng.normal(0, 0.002, (n, 3))
    return acc, gyr, q


@pytest.mark.parametrize("mode", ["causal", "post"])
def test_bias_is_learned_and_impacts_do_not_pull_inclination(mode):
    acc, gyr, q_true = rotating_recording(impacts=True)
    res = estimate_orientation(acc, gyr, FS, mode=mode)
    second_half = np.arange(len(acc)) > len(acc) // 2
    assert inclination_rmse_deg(res.quat, q_true, second_half) < 1.0
    # x and y tip through gravity and their bias is learned; z stays near vertical here, and a bias about
    # the vertical only turns the heading, which no 6D filter can observe (nor does inclination need it)
    assert np.abs(res.gyro_bias[-1, :2] - [0.01, -0.02]).max() < 0.004


def test_streaming_equals_batch_causal():
    acc, gyr, _ = rotating_recording(seconds=10)
    batch = estimate_orientation(acc, gyr, FS, mode="causal").quat
    stream = OrientationStream(FS)
    parts = [stream.update(acc[a:a + 37], gyr[a:a + 37]) for a in range(0, len(acc), 37)]
    assert np.allclose(np.vstack(parts), batch, atol=1e-12)


def test_peers_are_selectable_and_agree_on_a_static_tilt():
    q_true = Q.from_axis_angle([0, 1, 0], np.radians(10))
    acc, gyr = static_recording(q_true, seconds=20)
    for method in ("vqf", "madgwick", "mahony", "ekf"):
        res = run_filter(acc, gyr, FS, mode="causal", method=method)
        assert np.degrees(inclination_error_rad(res.quat[-1], q_true)) < 1.0, method


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="mode"):
        estimate_orientation(np.zeros((5, 3)), np.zeros((5, 3)), FS, mode="live")
    with pytest.raises(ValueError, match="NaN"):
        estimate_orientation(np.full((5, 3), np.nan), np.zeros((5, 3)), FS)
    with pytest.raises(ValueError, match="only runs in mode"):
        run_filter(np.zeros((5, 3)), np.zeros((5, 3)), FS, mode="post", method="madgwick")


def test_broad_first_trial_is_scored_like_the_benchmark(broad_dir):
    d = np.load(sorted(broad_dir.glob("*.npz"))[0])
    n = 20000
    acc, gyr = d["imu_acc"][:n].astype(float), d["imu_gyr"][:n].astype(float)
    fs = float(d["sampling_rate"])
    post = estimate_orientation(acc, gyr, fs, mode="post")
    causal = estimate_orientation(acc, gyr, fs, mode="causal")
    e_post = inclination_rmse_deg(post.quat, d["opt_quat"][:n], d["movement"][:n])
    e_causal = inclination_rmse_deg(causal.quat, d["opt_quat"][:n], d["movement"][:n])
    assert e_post < 1.0 and e_causal < 1.5


def test_travel_acceleration_no_longer_pulls_tilt_and_obliquity():
    """A city run (corners at 30°/s, a U-turn, two stops at crossings): without the travel model, every
    start, stop and corner reads as tilt/obliquity for seconds; with it, the inclination follows the pelvis."""
    simulator = pytest.importorskip("tiltguard.host.simulator")
    from tiltguard.calibration.alignment import calibrate_from_session
    from tiltguard.host.pelvis import pelvic_angles

    rec, truth = simulator.simulate("run-street-corners", minutes=3, rate_hz=200, seed=4)
    run = truth.activity == 2
    errors = {}
    for travel in (False, True):
        q = estimate_orientation(rec.acc, rec.gyr, rec.rate_hz, mode="post", travel=travel).quat
        al = calibrate_from_session(rec.acc, rec.gyr, rec.rate_hz, (200, 1300), quat=q)
        ang = pelvic_angles(q, al.R_pelvis_sensor, rec.rate_hz)
        tilt = np.degrees(ang.tilt - truth.tilt_rel)[run]
        # against the horizon (no accelerometer given): the truth's obliquity plus the runner's lean into corners
        obliquity = np.degrees(ang.obliquity - (truth.obliquity - truth.lean))[run]
        obliquity -= np.median(obliquity)  # the forward axis' small yaw error: not what this is about
        errors[travel] = (np.sqrt(np.mean(tilt**2)), np.sqrt(np.mean(obliquity**2)), np.abs(tilt).max())
    assert errors[False][0] > 1.2 and errors[False][1] > 1.2  # what the starts and corners did before
    assert errors[True][0] < 0.6 and errors[True][1] < 0.6
    assert errors[True][2] < 1.5
    # live (causal, the same model as a Kalman filter): without the future it gets less, but most of it
    for travel, tilt_rmse, tilt_max, obliquity_rmse in ((False, 1.8, 4.5, 1.4), (True, 1.0, 2.5, 1.0)):
        q = estimate_orientation(rec.acc, rec.gyr, rec.rate_hz, mode="causal", travel=travel).quat
        ang = pelvic_angles(q, al.R_pelvis_sensor, rec.rate_hz)
        tilt = np.degrees(ang.tilt - truth.tilt_rel)[run]
        obliquity = np.degrees(ang.obliquity - (truth.obliquity - truth.lean))[run]
        obliquity -= np.median(obliquity)
        rms = np.sqrt(np.mean(tilt**2)), np.abs(tilt).max(), np.sqrt(np.mean(obliquity**2))
        if travel:
            assert rms[0] < tilt_rmse and rms[1] < tilt_max and rms[2] < obliquity_rmse, rms
        else:
            assert rms[0] > tilt_rmse and rms[1] > tilt_max and rms[2] > obliquity_rmse, rms


def test_streaming_with_the_travel_model_equals_batch():
    acc, gyr, _ = rotating_recording(seconds=20)
    batch = estimate_orientation(acc, gyr, FS, mode="causal", travel=True).quat
    stream = OrientationStream(FS, travel=True)
    parts = [stream.update(acc[a:a + 37], gyr[a:a + 37]) for a in range(0, len(acc), 37)]
    assert np.allclose(np.vstack(parts), batch, atol=1e-9)
    assert not np.allclose(batch, estimate_orientation(acc, gyr, FS, mode="causal").quat, atol=1e-6)


@pytest.mark.parametrize("rate_hz", [FS, 104.0, 285.71])
def test_travel_model_leaves_a_still_or_short_recording_alone(rate_hz):
    q_true = Q.from_axis_angle([1, 1, 0], np.radians(20))
    acc, gyr = static_recording(q_true, seconds=30 * rate_hz / FS)
    acc = acc + np.random.default_rng(0).normal(0, 0.02, acc.shape)
    plain = estimate_orientation(acc, gyr, rate_hz, mode="post").quat
    travel = estimate_orientation(acc, gyr, rate_hz, mode="post", travel=True).quat
    assert np.degrees(inclination_error_rad(travel, plain)).max() < 0.01
    short = estimate_orientation(acc[:300], gyr[:300], rate_hz, mode="post", travel=True).quat
    assert np.degrees(inclination_error_rad(short[-1], q_true)) < 0.5
    live = estimate_orientation(acc, gyr, rate_hz, mode="causal", travel=True).quat
    live_plain = estimate_orientation(acc, gyr, rate_hz, mode="causal").quat
    assert np.degrees(inclination_error_rad(live, live_plain)).max() < 0.01


def test_gyro_lag_behind_a_reference_is_measured_to_a_sixteenth_of_a_sample():
    from tiltguard.host.simulator import simulate
    from tiltguard_eval.orientation_metrics import gyro_lag_samples

    rec, truth = simulate("easy-run-neutral", minutes=1.5, seed=2)
    assert gyro_lag_samples(rec.gyr, truth.quat_sensor, rec.rate_hz) == 0.0  # the simulator samples on time
    k = np.arange(len(rec.gyr))
    for delay in (1.5, -0.75):  # a sensor whose output comes late (a filter's group delay) or early
        late = np.stack([np.interp(k - delay, k, rec.gyr[:, i]) for i in range(3)], axis=1)
        assert gyro_lag_samples(late, truth.quat_sensor, rec.rate_hz) == pytest.approx(delay, abs=1 / 16)


def test_broad_gyro_lags_its_optical_reference(broad_dir):
    """The floor under every filter's BROAD score (docs/validation.md): the IMU's rate trails the optical
    reference's by more than a sample, which no filter can see in the IMU data."""
    from tiltguard_eval.orientation_metrics import gyro_lag_samples

    d = np.load(sorted(broad_dir.glob("*.npz"))[0])
    lag = gyro_lag_samples(d["imu_gyr"], d["opt_quat"], float(d["sampling_rate"]), d["movement"])
    assert 1.0 < lag < 2.0
