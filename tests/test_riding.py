"""Riding: pedal cadence from the pelvic rock, rock/rotation ranges and saddle tilt with its drift."""
import numpy as np
import pytest
from tiltguard.host.gait.activity import ActivitySegments, Bout, segment_activity
from tiltguard.host.gait.body_frame import level_signals
from tiltguard.host.gait.riding import analyse_ride, analyse_rides, pedal_phase


def test_phase_cadence_resolves_a_fraction_of_an_rpm():
    fs = 100.0
    t = np.arange(0, 60, 1 / fs)
    rpm = 87.3 + 2.0 * np.sin(2 * np.pi * t / 60)  # cadence wanders ±2 rpm over the minute
    phase = 2 * np.pi * np.cumsum(rpm / 60) / fs
    roll_rate = 0.3 * np.cos(phase) + 0.1 * np.cos(2 * phase + 0.4)  # with a second harmonic
    obliquity = np.radians(2.5) * np.sin(phase)
    tilt = np.radians(18.0) + np.radians(3.0) * t / 3600  # +3 deg per hour
    ride = analyse_ride(t, roll_rate, fs, Bout("riding", 0.0, 60.0), tilt, obliquity, obliquity)
    assert ride.cadence_rpm == pytest.approx(rpm.mean(), abs=0.1)
    true_windows = np.array([rpm[(t >= c - 5) & (t < c + 5)].mean() for c in ride.window_t])
    assert np.abs(ride.window_rpm - true_windows)[1:-1].max() < 0.3
    assert len(ride.revolutions) == pytest.approx(60 * rpm.mean() / 60, abs=1.5)
    assert np.degrees(ride.rock_range) == pytest.approx(5.0, abs=0.1)
    assert np.degrees(ride.saddle_tilt) == pytest.approx(18.0 + 3.0 * 30 / 3600, abs=0.01)
    assert np.degrees(ride.tilt_drift_per_hour) == pytest.approx(3.0, abs=0.05)
    # the unwrapped phase advances once per revolution
    assert (pedal_phase(roll_rate, fs)[-1] - pedal_phase(roll_rate, fs)[0]) / (2 * np.pi) == pytest.approx(
        rpm.mean() * (t[-1] - t[0]) / 60, abs=1.0)


def test_simulated_ride_cadence_rock_and_tilt():
    sim = pytest.importorskip("tiltguard.host.simulator")
    from tiltguard.host.pelvis import analyse_session
    from tiltguard_eval.simulated_gait import sensor_to_pelvis_matrix

    rec, truth = sim.simulate("ride-steady", minutes=2.0, rate_hz=100, seed=3)
    mount = sensor_to_pelvis_matrix(truth)[0]
    sig = level_signals(rec.acc, rec.gyr, rec.rate_hz, mount)
    activity = segment_activity(rec.acc, rec.gyr, rec.rate_hz, rec.t[0], mount)
    angles = analyse_session(rec.acc, rec.gyr, rec.rate_hz, mount)  # truth's mounting: absolute angles
    rides = analyse_rides(activity, sig.gyr[:, 0], rec.rate_hz, angles.tilt, angles.obliquity, angles.rotation)
    assert len(rides) == 1
    ride = rides[0]
    k = (truth.t >= ride.start_s) & (truth.t <= ride.end_s) & (truth.pedal_rpm > 0)
    assert ride.cadence_rpm == pytest.approx(truth.pedal_rpm[k].mean(), abs=1.0)
    inner = (ride.window_t > ride.start_s + 10) & (ride.window_t < ride.end_s - 10)
    truth_w = np.array([truth.pedal_rpm[(truth.t >= c - 5) & (truth.t < c + 5)].mean() for c in ride.window_t])
    assert np.abs(ride.window_rpm - truth_w)[inner].max() < 1.0
    idx = np.searchsorted(truth.t, ride.revolutions)
    true_rock = np.mean([np.ptp(truth.obliquity[a:b]) for a, b in zip(idx[:-1], idx[1:])])
    assert np.degrees(ride.rock_range) == pytest.approx(np.degrees(true_rock), abs=0.5)
    assert np.degrees(ride.saddle_tilt) == pytest.approx(np.degrees(truth.tilt[k].mean()), abs=2.0)


def test_no_ride_no_rides():
    fs = 100.0
    acc = np.tile([0.0, 0.0, 9.81], (3000, 1))
    activity = ActivitySegments(np.arange(3000) / fs, np.zeros(3000, np.int8), [])
    assert analyse_rides(activity, np.zeros(3000), fs) == []
    assert segment_activity(acc, np.zeros_like(acc), fs).bouts_of("riding") == []
