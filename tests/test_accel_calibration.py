"""The six-position accelerometer calibration end to end: the guided CLI on the simulated pod (the firmware's
app on CPython, the emulated chip, the wire protocol), kept per device with its time in a SQLite store, and
applied to the sessions that device records afterwards — never to older ones."""
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from tiltguard.calibration.accel_six_position import fit_ellipsoid
from tiltguard.calibration.errors import CalibrationRejected
from tiltguard.host.analysis import (
    analyse_recording,
    analyse_stored_session,
    stored_recording,
)
from tiltguard.host.rawcsv import write_raw
from tiltguard.host.simulator import simulate
from tiltguard.host.simulator.poses import SimulatedPosePod
from tiltguard.host.store import SessionStore

G = 9.80665


def tiltguard(*args):
    return subprocess.run([sys.executable, "-m", "tiltguard.host.cli", *args], capture_output=True, text=True, timeout=120)


def test_guided_cli_on_the_simulated_pod_recovers_its_bias_and_scale_and_keeps_them(tmp_path):
    db = tmp_path / "tg.sqlite3"
    done = tiltguard("calibrate", "accel", "--sim", "--seed", "5", "--speed", "4", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Place the pod") == 6 and "kept as calibration" in done.stdout
    truth = SimulatedPosePod(seed=5)  # the same pod: its errors are drawn first, from the seed
    with SessionStore(db) as store:
        (cal,) = store.calibrations("accel")
    assert (cal.device_name, cal.device_address) == ("Tiltguard", "sim:pose-pod:5")
    assert abs(cal.created_at - time.time()) < 120
    bias, scale = np.array(cal.data["bias"]), np.array(cal.data["scale"])
    assert np.abs(truth.true_acc_bias).max() > 0.1  # the pod is off by tens of mg ...
    assert np.abs(bias - truth.true_acc_bias).max() < 0.005  # ... and the fit finds it within 0.5 mg
    assert np.abs(scale * truth.true_acc_scale - 1).max() < 2e-4  # and its scale within 0.02 %
    assert len(cal.data["pose_means"]) == 6 and np.abs(cal.data["gyro_at_rest"]).max() < np.radians(2)
    listed = tiltguard("calibrate", "list", "--db", str(db))
    assert listed.returncode == 0 and "accel" in listed.stdout and "sim:pose-pod:5" in listed.stdout


def test_a_fit_of_readings_in_g_is_refused_with_the_reason():
    dirs = np.vstack([np.eye(3), -np.eye(3)])
    with pytest.raises(CalibrationRejected, match="m/s²"):
        fit_ellipsoid(dirs * 1.0 + 0.01)  # g, not m/s²


def test_sessions_are_analysed_with_the_calibration_made_before_them(tmp_path):
    rec, _ = simulate("easy-run-neutral", minutes=2, rate_hz=200, seed=2)
    bias, scale = np.array([0.6, -0.4, 0.5]), np.array([1.04, 0.96, 1.03])  # a badly off accelerometer
    write_raw(tmp_path / "good.csv", rec)
    write_raw(tmp_path / "off.csv", replace(rec, acc=rec.acc * scale + bias))
    with SessionStore(tmp_path / "tg.sqlite3") as store:
        good = store.import_csv(tmp_path / "good.csv", device_name="pod-good")
        pod = store.device("pod-off", "file")
        made = store.save_calibration(pod, "accel", {"bias": bias, "scale": 1 / scale, "residual_rms": 0.0},
                                      created_at=time.time() - 60)
        off = store.import_csv(tmp_path / "off.csv", device_name="pod-off")
        store.save_calibration(pod, "accel", {"bias": [0.0, 0.0, 0.0], "scale": [1.0, 1.0, 1.0],
                                              "residual_rms": 0.0}, created_at=time.time() + 60)  # made later
        analyse_stored_session(store, off)
        assert store.analyses(off)["pelvis"]["accel_calibration"]["id"] == made
        assert store.analyses(good)["pelvis"]["accel_calibration"] is None
        tilt_good = analyse_recording(stored_recording(store, good)).angles.tilt
        tilt_off = analyse_recording(stored_recording(store, off)).angles.tilt
        tilt_raw = analyse_recording(store.recording(off)).angles.tilt
        assert np.allclose(store.recording(off).acc, rec.acc * scale + bias, atol=1e-3)  # raw samples untouched
    calibrated_err = np.degrees(np.nanmax(np.abs(tilt_off - tilt_good)))
    uncalibrated_err = np.degrees(np.nanmax(np.abs(tilt_raw - tilt_good)))
    assert calibrated_err < 0.01 and uncalibrated_err > 10 * calibrated_err


def test_the_live_view_reads_the_pod_through_its_calibration_and_hands_raw_samples_on(tmp_path):
    from tiltguard.host.live.link import LiveLink, Source

    db = tmp_path / "tg.sqlite3"
    with SessionStore(db) as store:
        pod = store.device("Tiltguard", "sim:easy-run-neutral:0")
        made = store.save_calibration(pod, "accel", {"bias": [1.0, 0.0, 0.0], "scale": [1.0, 1.0, 1.0],
                                                     "residual_rms": 0.0})
    raw = []
    link = LiveLink(Source("sim", "easy-run-neutral", minutes=2, seed=0, speed=4.0), db, record=False,
                    on_raw=lambda t, acc, gyr: raw.append(acc)).start()
    deadline = time.monotonic() + 30
    while sum(map(len, raw)) < 400 and time.monotonic() < deadline and not link.finished.is_set():
        time.sleep(0.1)
    link.stop()
    assert link.join(30)
    assert link.accel_calibration is not None and link.accel_calibration.id == made
    rec, _ = simulate("easy-run-neutral", minutes=2, seed=0)
    first = np.concatenate(raw)[:200].mean(axis=0)
    assert np.allclose(first, rec.acc[:200].mean(axis=0), atol=0.02)  # on_raw: as the chip measured


def test_a_pod_that_cannot_be_reached_is_said_in_one_line_and_nothing_is_kept(tmp_path):
    done = tiltguard("calibrate", "accel", "--serial", str(tmp_path / "no-such-port"), "--timeout", "2",
                     "--db", str(tmp_path / "tg.sqlite3"))
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("calibration not kept: no samples from the pod") and "could not open port" in line
    with SessionStore(tmp_path / "tg.sqlite3") as store:
        assert store.calibrations() == []


def test_guided_cli_over_usb_serial_with_a_person_at_the_keyboard(tmp_path):
    """The interactive path: `calibrate accel --serial` on a pty, the firmware app with its SerialLink on the
    other end, and a 'person' who reads each prompt, turns the pod (once into the wrong pose) and presses Enter."""
    import os
    import re
    import select

    from tiltguard.firmware.serial_link import SerialLink
    from tiltguard.host.link.simdevice import DeviceThread
    from tiltguard_eval.virtual_usb import VirtualUsbCable

    pod = SimulatedPosePod(seed=7)
    cable = VirtualUsbCable(tmp_path / "ttyTiltguard")
    inp, out = cable.device_streams()
    dev = DeviceThread(pod, lambda board: [SerialLink(inp, out, board.ticks_ms, board.ticks_diff)],
                       speed=2.0).start()  # the device's clock at twice real time: a shorter test
    db = tmp_path / "tg.sqlite3"
    proc = subprocess.Popen([sys.executable, "-m", "tiltguard.host.cli", "calibrate", "accel", "--serial", str(cable.port_path),
                             "--db", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    said, answered, wrong_once = b"", 0, True
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if not ready:
                continue
            said += os.read(proc.stdout.fileno(), 4096)
            prompts = re.findall(rb"with its ([+-][xyz] up)[^\n]*press Enter", said)
            if len(prompts) > answered:
                pose = prompts[-1].decode()
                if wrong_once and pose == "-x up":
                    pod.place("+y up")  # a slip: the person turns it the wrong way first
                    wrong_once = False
                else:
                    pod.place(pose)
                answered = len(prompts)
                proc.stdin.write(b"\n")
                proc.stdin.flush()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        dev.stop()
        cable.close()
    text = said.decode()
    assert proc.returncode == 0, proc.stderr.read().decode() + text
    assert "that looked like '+y up', not '-x up'" in text and answered == 7
    with SessionStore(db) as store:
        (cal,) = store.calibrations("accel")
    assert cal.device_address == str(cable.port_path)
    assert np.abs(np.array(cal.data["bias"]) - pod.true_acc_bias).max() < 0.005
    assert np.abs(np.array(cal.data["scale"]) * pod.true_acc_scale - 1).max() < 2e-4


def _tilt_while_running(sc, seed, errors, calibrate: bool):
    from tiltguard_eval.six_position_sim import six_position_on_table

    rec, truth = simulate(sc, minutes=3, rate_hz=200, seed=seed, errors=errors)
    if calibrate:  # the same chip, turned through the six poses on a table before the run
        cal = six_position_on_table(SimulatedPosePod(seed=seed + 1, chip_acc=(truth.acc_bias, truth.acc_scale)))
        assert np.abs(cal.bias - truth.acc_bias).max() < 0.005
        rec = replace(rec, acc=cal.apply(rec.acc))
    return np.degrees(analyse_recording(rec).angles.tilt[truth.activity == 2])


def test_a_calibrated_chip_reads_the_same_tilt_upside_down():
    """An accelerometer bias tips the vertical the filter finds, and which way depends on how the pod is
    clipped on: the pelvis's rotation swing then leaks into tilt differently per mounting. Six poses on a
    table before the run take the bias out, and with it the difference."""
    from tiltguard.host.simulator import Mount, SensorErrors, get_scenario

    errors = SensorErrors(acc_bias_mg=60.0)  # a chip at the high end of the datasheet's spread
    normal = get_scenario("easy-run-neutral")
    upside_down = replace(normal, mount=Mount(pitch_deg=-15.0, roll_deg=180.0))

    def mount_difference(calibrate):
        a, b = (_tilt_while_running(sc, 3, errors, calibrate) for sc in (normal, upside_down))
        return float(np.sqrt(np.mean((a - b) ** 2)))

    raw, calibrated = mount_difference(False), mount_difference(True)
    assert calibrated < 0.15 and calibrated < 0.5 * raw, (raw, calibrated)
