"""The simulator is physically consistent: its gyro integrates to its orientation, its accelerometer is
Rᵀ(a − g), its acceleration is the derivative of its velocity, and foot strikes sit where they should."""
import numpy as np
import pytest
from tiltguard.host.samples import GRAVITY
from tiltguard.host.simulator import ACTIVITIES, SensorErrors, simulate

IDEAL = SensorErrors.none()


@pytest.fixture(scope="module")
def turns_1000hz():
    # Corners, a U-turn, a stop, walking and running: every term of the kinematics is exercised.
    return simulate("run-turns-stops", minutes=3, rate_hz=1000, seed=3, errors=IDEAL)


def _simpson_increments(w: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Rotation vector of each sample interval from rate samples: Simpson's rule with a cubic midpoint
    estimate plus the two-sample coning term (fourth-order accurate)."""
    mid = np.empty_like(w[:-1])
    mid[1:-1] = (-w[:-3] + 9 * w[1:-2] + 9 * w[2:-1] - w[3:]) / 16
    mid[0], mid[-1] = 0.5 * (w[0] + w[1]), 0.5 * (w[-2] + w[-1])
    h = dt[:, None]
    return h / 6 * (w[:-1] + 4 * mid + w[1:]) + np.cross(w[:-1], w[1:]) * h * h / 12


@pytest.mark.parametrize("scenario", ["run-turns-stops", "ride-steady", "run-sensor-reclipped", "stand-tie-shoes"])
def test_gyro_integrates_to_the_true_orientation(scenario):
    """Bound on the integrated-orientation error: the sum over all steps of |increment - true increment|
    (rotations compose, so the accumulated error can never exceed this sum)."""
    rec, truth = simulate(scenario, minutes=3, rate_hz=1000, seed=1, errors=IDEAL)
    q = truth.sensor_rotation()
    true_steps = (q[:-1].inv() * q[1:]).as_rotvec()
    steps = _simpson_increments(truth.clean_gyr, np.diff(truth.t))
    bound_deg = np.degrees(np.linalg.norm(steps - true_steps, axis=1)[1:-1].sum())
    assert bound_deg <= 0.01, f"{scenario}: gyro integration can be off by {bound_deg:.4f} deg"


def test_gyro_integration_at_200hz_stays_within_a_hundredth_of_a_degree():
    from scipy.spatial.transform import Rotation

    rec, truth = simulate("easy-run-neutral", minutes=1.5, rate_hz=200, seed=2, errors=IDEAL)
    q = truth.sensor_rotation()
    window = slice(6000, 18000)  # one minute of running, sample by sample
    steps = Rotation.from_rotvec(_simpson_increments(truth.clean_gyr[window], np.diff(truth.t[window])))
    est = q[window.start]
    for k in range(len(steps)):
        est = est * steps[k]
    err = np.degrees((est.inv() * q[window.stop - 1]).magnitude())
    assert err <= 0.01


def test_accelerometer_is_rotated_acceleration_minus_gravity(turns_1000hz):
    rec, truth = turns_1000hz
    expected = truth.sensor_rotation().apply(truth.acc_earth.astype(float) + [0, 0, GRAVITY], inverse=True)
    assert np.abs(truth.clean_acc - expected).max() < 1e-4  # float32 storage of the truth
    assert np.abs(rec.acc - truth.clean_acc).max() < 1e-4  # the ideal sensor adds nothing


def test_acceleration_is_the_derivative_of_velocity(turns_1000hz):
    _, truth = turns_1000hz
    vel = truth.vel_earth.astype(float)
    acc = truth.acc_earth.astype(float)
    dt = np.diff(truth.t)[:, None]
    integrated = vel[0] + np.concatenate([[[0, 0, 0]], np.cumsum(0.5 * (acc[1:] + acc[:-1]) * dt, axis=0)])
    assert np.abs(integrated - vel).max() < 2e-3  # m/s after 3 minutes of trapezoid integration


def test_standing_reads_gravity_and_no_rotation():
    rec, truth = simulate("easy-run-neutral", minutes=2, seed=4, errors=IDEAL)
    still = slice(200, 1400)  # the opening neutral stand, away from its end
    assert np.all(truth.activity[still] == ACTIVITIES.index("still"))
    assert np.allclose(np.linalg.norm(rec.acc[still], axis=1), GRAVITY, atol=1e-3)
    assert np.abs(rec.gyr[still]).max() < 1e-3


def test_foot_strike_jolt_follows_each_contact(turns_1000hz):
    _, truth = turns_1000hz
    az = truth.acc_earth[:, 2]
    running = truth.activity == ACTIVITIES.index("running")
    delays = []
    for t_ic in truth.ic_times:
        k = np.searchsorted(truth.t, t_ic)
        if not running[k]:
            continue
        window = slice(k - 40, k + 40)  # +- 40 ms at 1 kHz
        delays.append(truth.t[window][np.argmax(az[window])] - t_ic)
    assert len(delays) > 150
    assert np.median(delays) == pytest.approx(0.012, abs=0.004)
    assert az[running].max() / GRAVITY > 1.5  # with gravity: 2.5 g and more at impact
    assert az[running].min() / GRAVITY > -1.06  # flight is close to, never far below, free fall


def test_contacts_alternate_and_match_the_phase(turns_1000hz):
    _, truth = turns_1000hz
    sides = truth.ic_sides
    assert set(sides) == {"L", "R"}
    # Within a bout, left and right alternate.
    gaps = np.diff(truth.ic_times)
    same_bout = gaps < 1.0
    assert np.all(sides[1:][same_bout] != sides[:-1][same_bout])
    # No contacts while standing still.
    k = np.searchsorted(truth.t, truth.ic_times)
    assert not np.any(truth.activity[np.clip(k, 0, len(truth.t) - 1)] == ACTIVITIES.index("still"))


def test_sampling_jitter_moves_the_true_instants_not_the_timestamps():
    rec, truth = simulate("easy-run-neutral", minutes=1.5, seed=5)
    assert np.allclose(np.diff(rec.t), 1 / rec.rate_hz)
    jitter = truth.t - rec.t
    assert 10e-6 < jitter.std() < 100e-6


def test_rate_range_is_enforced():
    for rate in (50.0, 1000.0):
        rec, _ = simulate("walk-easy", minutes=1.0, rate_hz=rate, seed=1)
        assert len(rec) == pytest.approx(60 * rate, abs=2)
    with pytest.raises(ValueError, match="outside"):
        simulate("walk-easy", minutes=1.0, rate_hz=40.0)


def test_stance_follows_each_contact_and_the_swing_side_drops(turns_1000hz):
    """Event timing of the cycle shapes: after a contact the sacrum is loaded (stance), before it the runner
    is in flight; in left stance the right side drops (obliquity > 0), in right stance the left side."""
    _, truth = turns_1000hz
    az = truth.acc_earth[:, 2] / GRAVITY
    running = truth.activity == ACTIVITIES.index("running")
    k = np.searchsorted(truth.t, truth.ic_times)
    keep = (k > 100) & (k < len(truth.t) - 200)
    keep[keep] &= running[k[keep]]
    k, side = k[keep], truth.ic_sides[keep]
    after = np.array([az[i + 60 : i + 150].mean() for i in k])  # 60-150 ms into stance
    before = np.array([az[i - 40 : i - 5].mean() for i in k])  # the last 40 ms of flight
    assert len(k) > 150
    assert np.median(after) > 0.5 and np.median(before) < -0.7
    mid_stance = np.array([truth.obliquity[i + 40 : i + 120].mean() for i in k])
    assert np.all(mid_stance[side == "L"] > 0) and np.all(mid_stance[side == "R"] < 0)
