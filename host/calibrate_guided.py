"""The guided six-position accelerometer calibration over a link (`tiltguard calibrate accel`) and the list of
kept calibrations (`tiltguard calibrate list`); the command's arguments are in host/calibrate.py."""
from __future__ import annotations

import asyncio
import sys
import threading
import time

import numpy as np
from tiltguard.calibration.accel_six_position import guided_six_position, pose_prompt
from tiltguard.calibration.errors import CalibrationRejected
from tiltguard.calibration.still import GRAVITY
from tiltguard.host.live.link import LiveLink, Source
from tiltguard.host.live.simlink import start_device_on
from tiltguard.host.signal.stillness import is_still
from tiltguard.host.simulator.poses import SimulatedPosePod
from tiltguard.host.store import SessionStore
from tiltguard.host.text import printable

MAX_JOLT = np.radians(5.0)  # rad/s: no sample of a still window may turn faster than this about its mean
KEEP_S = 30.0  # samples kept for the still-window search


class LinkEnded(RuntimeError):
    """The pod stopped streaming (or never started) while a pose was awaited."""


class StillWindows:
    """Samples from the link thread (`add`); `wait_still` (the user's thread) returns the first window of
    `seconds` that lies wholly after the call and is still. After `timeout_s` it returns the newest window
    anyway, and the pose check then says why it was refused (it moved)."""

    def __init__(self, link_error=lambda: None) -> None:
        self._cond = threading.Condition()
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._link_error = link_error  # () -> message once the link has ended, else None

    def add(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        with self._cond:
            self._blocks.append((np.array(t), np.array(acc), np.array(gyr)))
            while len(self._blocks) > 1 and self._blocks[-1][0][-1] - self._blocks[1][0][0] > KEEP_S:
                self._blocks.pop(0)
            self._cond.notify_all()

    def _after(self, t0: float):
        t, acc, gyr = (np.concatenate(x) for x in zip(*self._blocks))
        keep = t > t0
        return t[keep], acc[keep], gyr[keep]

    def wait_streaming(self, timeout_s: float) -> None:
        """Return once samples flow; LinkEnded (with the link's reason) if the pod cannot be reached."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._cond:
                if self._blocks:
                    return
                self._cond.wait(0.25)
            error = self._link_error()
            if error is None and time.monotonic() > deadline:
                error = f"no samples from the pod in {timeout_s:.0f} s"
            if error is not None:
                raise LinkEnded(error)

    def wait_still(self, seconds: float, timeout_s: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
        with self._cond:
            t0 = self._blocks[-1][0][-1] if self._blocks else -np.inf
        deadline = time.monotonic() + timeout_s
        window = (np.zeros((0, 3)), np.zeros((0, 3)))
        while True:
            with self._cond:
                self._cond.wait(0.25)
                got = self._after(t0) if self._blocks else None
            if got is not None and len(got[0]) > 1:
                t, acc, gyr = got
                if t[-1] - t[0] >= seconds:
                    last = t >= t[-1] - seconds
                    window = acc[last], gyr[last]
                    if is_still(*window) and np.abs(window[1] - window[1].mean(axis=0)).max() <= MAX_JOLT:
                        return window
            error = self._link_error()
            if error is not None:
                raise LinkEnded(error)
            if time.monotonic() > deadline:
                return window


def cmd_calibrate_accel(args) -> int:

    pod = open_source = ask = None
    if args.sim:
        pod = SimulatedPosePod(seed=args.seed)
        source = Source("sim", "pose-pod", seed=args.seed, speed=args.speed)

        async def open_source(_source):
            transport, device = await asyncio.to_thread(start_device_on, pod, f"sim:pose-pod:{args.seed}", args.speed)

            async def close():
                await asyncio.to_thread(device.stop)

            return transport, close

        def ask(pose: str) -> None:
            print(f"{pose_prompt(pose)}  [simulated user: turns the pod]", flush=True)
            pod.place(pose)
    else:
        source = Source("serial", args.serial) if args.serial else Source("ble", args.ble)

    link = LiveLink(source, args.db, record=False, open_source=open_source)

    def link_error():
        if link.finished.is_set():
            return link.result.error or f"the pod stopped streaming ({link.status.message or 'link closed'})"
        return None

    windows = StillWindows(link_error)
    link.on_raw = windows.add
    link.start()
    print(f"connecting to {source.label()} ...", flush=True)
    try:
        windows.wait_streaming(args.timeout)
        cal = guided_six_position(lambda s: windows.wait_still(s, args.timeout), args.seconds, ask=ask)
    except (CalibrationRejected, LinkEnded) as exc:
        why = link.status.message
        print(f"calibration not kept: {exc}{f' (last link error: {why})' if why and why not in str(exc) else ''}",
              file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\ncalibration cancelled, nothing kept", file=sys.stderr)
        return 130
    finally:
        link.stop()
        link.join(15)
    hello, address = link.recorder.hello, link.recorder.t.address
    with SessionStore(args.db) as store:
        device = store.device(hello.name or "Tiltguard", address, hello.sensor, hello.firmware)
        cid = store.save_calibration(device, "accel", cal.to_record())
    print(f"kept as calibration {cid} of {printable(hello.name)} ({address}) in {store.path}; sessions this pod "
          f"records from now on are analysed with it")
    if pod is not None:
        err_mg = (cal.bias - pod.true_acc_bias) / GRAVITY * 1000
        err_pct = (cal.scale * pod.true_acc_scale - 1) * 100
        print(f"simulated pod's truth: bias error {np.round(err_mg, 2)} mg, scale error {np.round(err_pct, 3)} %")
    return 0


def cmd_calibrate_list(args) -> int:
    with SessionStore(args.db) as store:
        rows = store.calibrations()
        if not rows:
            print(f"no calibrations in {store.path}")
        for c in rows:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.created_at))
            print(f"{c.id:5d}  {when}  {c.kind:10} {printable(c.device_name or '?', 32):16} "
                  f"{printable(c.device_address or '?', 40):24} "
                  f"{_describe(c.kind, c.data)}")
    return 0


def _describe(kind: str, data: dict) -> str:
    if kind == "accel":
        bias_mg = np.asarray(data["bias"]) / GRAVITY * 1000
        scale_pct = (np.asarray(data["scale"]) - 1) * 100
        return (f"bias {' '.join(f'{b:+.1f}' for b in bias_mg)} mg, scale {' '.join(f'{s:+.2f}' for s in scale_pct)} %, "
                f"residual {data['residual_rms'] * 1000:.0f} mm/s²")
    if kind == "alignment":
        return f"sensor-to-pelvis, forward from {data.get('forward_source', '?')}"
    return ""
