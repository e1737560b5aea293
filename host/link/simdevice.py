"""The firmware's own device app (firmware/app.py) running on CPython in (scaled) real time.

The board is simulated: a register-level IMU emulator (sensors.emulated) fed with a host.simulator
recording (or a live source: the pose pod of host.simulator.poses) and clocked by the host's monotonic clock, so the real driver reads its FIFO, the real app
timestamps, fuses, frames, keeps its resend history and logs to flash (a temporary directory). Links are
whatever the caller passes: firmware.serial_link.SerialLink on a pty, firmware.ble.BleLink on a
MicroPython-`bluetooth` shim over bumble, or LoopbackLink (below) for `tiltguard record --sim`.
`speed` > 1 runs the device's clock faster than the wall clock (for short tests of long runs).
"""
from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tiltguard.firmware import config as cfgmod
from tiltguard.firmware.app import Device
from tiltguard.host.samples import RawRecording
from tiltguard.sensors.emulated import FakeI2C, FunctionSource, ICM42688Emulator

if TYPE_CHECKING:
    from tiltguard.host.simulator.poses import SimulatedPosePod

TICKS_PERIOD = 1 << 30  # the ESP32 port's ticks_us period


class ScaledClock:
    """Microseconds since start, `speed` times the host's monotonic clock (the emulator's clock too)."""

    def __init__(self, speed: float = 1.0, start_us: int = 0) -> None:
        self.speed = speed
        self.start_us = start_us
        self._t0 = time.monotonic_ns()

    def now_us(self) -> int:
        return self.start_us + int((time.monotonic_ns() - self._t0) * self.speed) // 1000

    @property
    def t(self) -> int:
        return self.now_us()


class SimBoard:
    """The `board` the app expects (firmware/core.py docstring), simulated in real time."""

    def __init__(self, rec: RawRecording | SimulatedPosePod, folder: Path, speed: float = 1.0, odr_error: float = 0.0005,
                 start_us: int = TICKS_PERIOD - 5_000_000) -> None:
        self.clock = ScaledClock(speed, start_us)  # the tick counter wraps 5 s into the run
        self.speed = speed
        sample = getattr(rec, "sample", None)  # a live source (the pose pod) answers sample(k) itself
        if sample is None:  # a recording plays in a loop
            rows = np.hstack([rec.acc, rec.gyr]).tolist()
            n = len(rows)

            def sample(k):
                return rows[k % n]
        self.i2c = FakeI2C()
        self.emu = ICM42688Emulator(FunctionSource(sample), self.clock, odr_error=odr_error)
        self.i2c.attach(self.emu)
        folder.mkdir(parents=True, exist_ok=True)
        self.config_path = str(folder / "config.json")
        self.log_root = str(folder / "logs")
        self.buzzing = False
        self.buzzes: list[tuple[float, float]] = []  # (s since the board started, ms) of every pulse the motor made
        self.on_buzz = None  # callable(s, ms) as each pulse ends (`tiltguard drill --sim` prints them)
        self._buzz_from = 0

    def ticks_us(self) -> int:
        return self.clock.now_us() % TICKS_PERIOD

    def ticks_ms(self) -> int:
        return (self.clock.now_us() // 1000) % TICKS_PERIOD

    def ticks_diff(self, a: int, b: int) -> int:
        half = TICKS_PERIOD // 2
        return ((a - b + half) % TICKS_PERIOD) - half

    def sleep_ms(self, ms: float):
        return asyncio.sleep(ms / 1000.0 / self.speed)

    def button_pressed(self) -> bool:
        return False

    def battery_mv(self) -> int:
        return 3950

    def buzz(self, on: bool) -> None:
        now = self.clock.now_us()
        if on and not self.buzzing:
            self._buzz_from = now
        elif not on and self.buzzing:
            pulse = ((self._buzz_from - self.clock.start_us) / 1e6, (now - self._buzz_from) / 1000.0)
            self.buzzes.append(pulse)
            if self.on_buzz is not None:
                self.on_buzz(*pulse)
        self.buzzing = on

    def mem_free(self) -> int:
        return 4 * 1024 * 1024  # an ESP32 with PSRAM: room for the full 60 s history


class SimulatedDevice:
    """firmware.app.Device on a SimBoard. `await run()` in the loop that also drives its links."""

    def __init__(self, rec: RawRecording | SimulatedPosePod, links, folder: str | Path | None = None, speed: float = 1.0,
                 config: dict | None = None) -> None:
        self._tmp = None
        if folder is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tiltguard-simdev-")
            folder = self._tmp.name
        self.board = SimBoard(rec, Path(folder), speed)
        cfg = dict(cfgmod.DEFAULTS)
        cfg["rate_hz"] = int(round(rec.rate_hz))
        cfg.update(config or {})
        self.device = Device(self.board, links, cfg)

    async def run(self) -> None:
        await self.device.run()

    def stop(self) -> None:
        self.device.exit = True


class LoopbackLink:
    """Device end of an in-process link (same event loop): frames go straight to the host transport."""

    name = "loopback"

    def __init__(self, max_frame: int = 244) -> None:
        self.connected = False
        self.bonded = True
        self.max_frame = max_frame
        self.inbox: list[bytes] = []
        self.host = None  # host.link.loopback.LoopbackTransport

    def send(self, frame) -> bool:
        if not self.connected or self.host is None:
            return False
        self.host._arrived(bytes(frame))
        return True

    def poll(self):
        got, self.inbox = self.inbox, []
        return got

    def set_battery(self, pct) -> None:
        pass

    def set_cadence(self, spm) -> None:
        pass


class DeviceThread:
    """A SimulatedDevice on its own thread and event loop (serial tests and bench: the device side must
    keep running while the host's loop is busy, as a real device would)."""

    def __init__(self, rec: RawRecording | SimulatedPosePod, make_links, speed: float = 1.0, config: dict | None = None) -> None:
        self.rec = rec
        self.make_links = make_links  # board -> [links]; called on the device thread
        self.speed = speed
        self.config = config
        self.sim: SimulatedDevice | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="sim-device", daemon=True)

    def start(self) -> "DeviceThread":
        self._thread.start()
        self._ready.wait(10)
        if self.error:
            raise self.error
        return self

    def _main(self) -> None:
        async def main():
            try:
                self.sim = SimulatedDevice(self.rec, [], speed=self.speed, config=self.config)
                self.sim.device.links.extend(self.make_links(self.sim.board))
            except BaseException as exc:
                self.error = exc
                raise
            finally:
                self._ready.set()
            await self.sim.run()

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported to the caller through .error
            self.error = exc

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.stop()
        self._thread.join(5)
