"""Each scenario's truth matches its knobs: cadence, tilt offset and creep, asymmetry, mounting, labels."""
from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest
from tiltguard.host.samples import GRAVITY
from tiltguard.host.simulator import (
    ACTIVITIES,
    SCENARIOS,
    SensorErrors,
    get_scenario,
    simulate,
)

RATE = 100.0  # the knobs are rate-independent; 100 Hz keeps the suite quick


@lru_cache(maxsize=None)
def sim(name: str, seed: int = 7):
    return simulate(name, rate_hz=RATE, seed=seed)


def segment_rows(truth, kind=None):
    return [s for s in truth.segments if kind is None or s["kind"] == kind]


def core(truth, seg, margin=10.0):
    """Mask of the samples inside a segment, away from its transitions."""
    return (truth.t >= seg["start_s"] + margin) & (truth.t <= seg["end_s"] - margin)


def test_library_has_ten_documented_scenarios():
    assert len(SCENARIOS) >= 10
    for sc in SCENARIOS.values():
        assert len(sc.description) > 20, sc.name
    with pytest.raises(KeyError, match="unknown scenario"):
        get_scenario("marathon-on-the-moon")


def test_same_seed_same_data_other_seed_other_data():
    a, ta = simulate("walk-easy", minutes=1.0, seed=11)
    b, tb = simulate("walk-easy", minutes=1.0, seed=11)
    c, _ = simulate("walk-easy", minutes=1.0, seed=12)
    assert np.array_equal(a.acc, b.acc) and np.array_equal(a.gyr, b.gyr)
    assert np.array_equal(ta.ic_times, tb.ic_times)
    assert not np.array_equal(a.acc, c.acc)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_commanded_cadence_is_what_the_contacts_show(name):
    rec, truth = sim(name)
    sc = get_scenario(name)
    checked = 0
    for seg, spec in zip(truth.segments, sc.timed_segments()):
        if seg["end_s"] - seg["start_s"] < 60:
            continue
        if spec.kind in ("walk", "run"):
            ic = truth.ic_times[(truth.ic_times > seg["start_s"] + 10) & (truth.ic_times < seg["end_s"] - 10)]
            ic = ic[: len(ic) - (len(ic) - 1) % 2]  # whole strides: step-time asymmetry cancels
            cadence = 60.0 * (len(ic) - 1) / (ic[-1] - ic[0])
            assert cadence == pytest.approx(spec.value("cadence"), abs=0.5), seg
            checked += 1
        elif spec.kind == "ride":
            rpm = truth.pedal_rpm[core(truth, seg)].mean()
            assert rpm == pytest.approx(spec.value("cadence"), abs=0.5), seg
            assert not np.any((truth.ic_times > seg["start_s"]) & (truth.ic_times < seg["end_s"]))
            checked += 1
    if any(s.kind in ("walk", "run", "ride") for s in sc.segments):
        assert checked > 0


def _mean_tilt_deg(truth, mask):
    return float(np.degrees(truth.tilt_rel[mask].mean()))


def test_tilt_offsets_are_commanded_relative_to_neutral():
    _, truth = sim("run-sustained-anterior")
    runs = segment_rows(truth, "run")
    assert _mean_tilt_deg(truth, core(truth, runs[0])) == pytest.approx(3.0, abs=0.2)
    assert _mean_tilt_deg(truth, core(truth, runs[1])) == pytest.approx(9.0, abs=0.2)
    _, ride = sim("ride-drops")
    rides = segment_rows(ride, "ride")
    assert _mean_tilt_deg(ride, core(ride, rides[1])) - _mean_tilt_deg(ride, core(ride, rides[0])) == pytest.approx(
        8.0, abs=0.3)


@pytest.mark.parametrize("name,creep", [("run-fatigue-creep", 6.0), ("ride-fatigue", 5.0)])
def test_tilt_creep_matches_the_knob(name, creep):
    _, truth = sim(name)
    seg = max(truth.segments, key=lambda s: s["end_s"] - s["start_s"])
    a, b = seg["start_s"], seg["end_s"]
    early = (truth.t > a + 60) & (truth.t < a + 180)
    late = (truth.t > b - 180) & (truth.t < b - 60)
    expected = creep * ((b - 120) - (a + 120)) / (b - a)  # linear creep between the window centres
    assert _mean_tilt_deg(truth, late) - _mean_tilt_deg(truth, early) == pytest.approx(expected, abs=0.2)


def _stride_extremes(truth, signal, start, end):
    """Per-stride (from a left contact to the next) max and min of a signal."""
    left = truth.ic_times[(truth.ic_sides == "L") & (truth.ic_times > start) & (truth.ic_times < end)]
    k = np.searchsorted(truth.t, left)
    return np.array([(signal[a:b].max(), signal[a:b].min()) for a, b in zip(k[:-1], k[1:])])


def test_running_angle_ranges_are_realistic():
    _, truth = sim("easy-run-neutral")
    seg = segment_rows(truth, "run")[0]
    for signal, lo, hi in ((truth.tilt, 4, 10), (truth.obliquity, 8, 16), (truth.rotation, 8, 20)):
        ext = _stride_extremes(truth, np.degrees(signal), seg["start_s"] + 10, seg["end_s"] - 10)
        rng = np.median(ext[:, 0] - ext[:, 1])
        assert lo <= rng <= hi
    # Vertical oscillation of the sacrum per step, 5-12 cm (integrate velocity within each stride).
    mask = core(truth, seg)
    z = np.cumsum(truth.vel_earth[:, 2].astype(float)) / RATE
    ext = _stride_extremes(truth, z, seg["start_s"] + 10, seg["end_s"] - 10)
    assert 0.05 <= np.median(ext[:, 0] - ext[:, 1]) <= 0.12
    assert mask.sum() > 0


def test_asymmetric_drop_and_step_time():
    _, truth = sim("run-asymmetric-drop")
    seg = segment_rows(truth, "run")[0]
    ext = _stride_extremes(truth, np.degrees(truth.obliquity), seg["start_s"] + 10, seg["end_s"] - 10)
    right_drop, left_drop = np.median(ext[:, 0]), -np.median(ext[:, 1])
    assert right_drop / left_drop == pytest.approx(1.3 / 0.7, rel=0.1)
    ic = truth.ic_times[(truth.ic_times > seg["start_s"] + 10) & (truth.ic_times < seg["end_s"] - 10)]
    sides = truth.ic_sides[(truth.ic_times > seg["start_s"] + 10) & (truth.ic_times < seg["end_s"] - 10)]
    steps = np.diff(ic)
    left_steps = steps[sides[:-1] == "L"]  # from a left contact to the next (right) one
    right_steps = steps[sides[:-1] == "R"]
    asym = (right_steps.mean() - left_steps.mean()) / (0.5 * (right_steps.mean() + left_steps.mean()))
    assert asym == pytest.approx(0.04, abs=0.01)


def test_upside_down_mounting_reads_gravity_downwards():
    rec, truth = sim("sensor-upside-down")
    stand = core(truth, segment_rows(truth, "stand")[0], margin=2)
    assert rec.acc[stand, 2].mean() < -0.8 * GRAVITY
    mount = truth.quat_mount[stand][0]
    assert abs(mount[1]) > 0.95  # 180 degrees about the pelvis x axis (plus the pitch)
    # The pelvis itself does not care how the pod sits: same truth angles as a normal mount.
    _, normal = sim("easy-run-neutral")
    assert np.degrees(truth.tilt_rel[stand].mean()) == pytest.approx(np.degrees(normal.tilt_rel[stand].mean()), abs=0.2)


def test_reclipped_sensor_changes_mounting_during_the_stop():
    _, truth = sim("run-sensor-reclipped")
    runs = segment_rows(truth, "run")
    before = truth.quat_mount[core(truth, runs[0])].mean(axis=0)
    after = truth.quat_mount[core(truth, runs[1])].mean(axis=0)
    assert np.abs(before - after).max() > 0.1


def test_activity_labels_follow_the_segments():
    _, truth = sim("stand-tie-shoes")
    for seg in truth.segments:
        expect = {"stand": "still", "walk": "walking", "run": "running", "bend": "other"}[seg["kind"]]
        labels = truth.activity_names[core(truth, seg, margin=2.0)]
        assert np.all(labels == expect), seg
    bend = segment_rows(truth, "bend")[0]
    assert np.degrees(truth.tilt_rel[core(truth, bend, margin=2.0)]).mean() == pytest.approx(50, abs=1)
    _, ride = sim("ride-steady")
    assert np.mean(ride.activity == ACTIVITIES.index("riding")) > 0.95
    assert len(ride.ic_times) == 0


def test_sustained_tilt_intervals():
    _, truth = sim("run-sustained-anterior")
    (a, b), = truth.sustained_tilt_intervals()
    seg = segment_rows(truth, "run")[1]
    assert a == pytest.approx(seg["start_s"], abs=3) and b == pytest.approx(seg["end_s"], abs=3)
    for negative in ("easy-run-neutral", "run-hill-repeats", "stand-tie-shoes", "ride-drops"):
        assert sim(negative)[1].sustained_tilt_intervals() == [], negative
    _, creep = sim("run-fatigue-creep")
    (a, b), = creep.sustained_tilt_intervals()
    run = segment_rows(creep, "run")[0]
    # 3 deg running offset + 6 deg creep: crosses the 5 deg threshold a third of the way in.
    assert a == pytest.approx(run["start_s"] + (run["end_s"] - run["start_s"]) / 3, abs=60)


def test_sensor_errors_bias_quantisation_and_clipping():
    errors = SensorErrors(acc_range_g=2.0, gyro_range_dps=250.0)
    sc = replace(get_scenario("easy-run-neutral"), errors=errors)
    rec, truth = simulate(sc, minutes=2, rate_hz=200, seed=3)
    acc_lsb = 2.0 * GRAVITY / 32768
    assert np.allclose(rec.acc / acc_lsb, np.round(rec.acc / acc_lsb), atol=1e-6)
    assert rec.acc.max() <= 2.0 * GRAVITY and truth.clean_acc.max() > 2.0 * GRAVITY  # clipped impacts
    still = slice(200, 1600)
    measured_bias = rec.gyr[still].mean(axis=0)
    assert np.allclose(measured_bias, truth.gyro_bias[still].mean(axis=0), atol=np.radians(0.02))
    assert np.abs(truth.gyro_bias[still].mean(axis=0)).max() > np.radians(0.02)  # there is a bias to find
    assert truth.gyro_bias.std(axis=0).max() > 0  # and it drifts as the pod warms up
    assert rec.temp_c[-1] - rec.temp_c[0] > 2
