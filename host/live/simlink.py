"""The built-in simulated device for the live view, on its own thread.

The device app (host.link.simdevice.DeviceThread: the firmware's app on CPython, emulated IMU fed by the
simulator) runs on a thread and event loop of its own, as a real device runs on its own chip: a busy
window cannot starve it, and its CPU is told apart from the app's (bench/live.py). Frames cross to the
host's loop through call_soon_threadsafe, commands come back through a thread-safe queue; on the host side
it is an ordinary Transport, so the Recorder, the store and the pipeline see the real protocol.
"""
from __future__ import annotations

import asyncio
from collections import deque

import numpy as np
from tiltguard.host.link.loopback import LoopbackTransport
from tiltguard.host.link.simdevice import DeviceThread, LoopbackLink


class ThreadedLoopbackLink(LoopbackLink):
    """Device end: `send` hands the frame to the host's loop; `poll` drains commands written by the host."""

    def __init__(self, max_frame: int = 244) -> None:
        super().__init__(max_frame)
        self.inbox = deque()
        self.host_loop: asyncio.AbstractEventLoop | None = None

    def send(self, frame) -> bool:
        host, loop = self.host, self.host_loop
        if not self.connected or host is None or loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(host._arrived, bytes(frame))
        except RuntimeError:  # the host's loop closed meanwhile
            return False
        return True

    def poll(self):
        got = []
        while self.inbox:
            got.append(self.inbox.popleft())
        return got


class ThreadedLoopbackTransport(LoopbackTransport):
    async def connect(self) -> None:
        self.dev.host_loop = asyncio.get_running_loop()
        await super().connect()


def start_simulated_device(scenario: str, minutes: float | None = None, seed: int = 0,
                           speed: float = 1.0) -> tuple[ThreadedLoopbackTransport, DeviceThread]:
    """(host transport, running device thread) for a simulator scenario; stop the thread with .stop()."""
    # the simulator loads only for the built-in simulated device
    from tiltguard.host.simulator import simulate

    rec, _ = simulate(scenario, minutes=minutes, seed=seed)
    return start_device_on(rec, f"sim:{scenario}:{seed}", speed)


def start_device_on(source, address: str, speed: float = 1.0) -> tuple[ThreadedLoopbackTransport, DeviceThread]:
    """(host transport, running device thread) for the device app fed by a recording or a live sample
    source (host.simulator.poses.SimulatedPosePod)."""
    link = ThreadedLoopbackLink()
    transport = ThreadedLoopbackTransport(link, address=address)
    device = DeviceThread(source, lambda board: [link], speed=speed).start()
    return transport, device


class PersonOnPod:
    """A simulated person's recording as the sensor of the pod they wear: standing as at the recording's first
    sample until the host starts the stream (a pod boots and connects before anyone starts a drill), then the
    recording from its start, then its last sample held. `start_k`: the sensor sample the recording began at."""

    def __init__(self, rec) -> None:
        self.rate_hz = rec.rate_hz
        self.length = len(rec)
        self._rows = np.hstack([rec.acc, rec.gyr]).tolist()
        self.start_k: int | None = None

    def sample(self, k: int):
        if self.start_k is None or k < self.start_k:
            return self._rows[0]
        return self._rows[min(k - self.start_k, self.length - 1)]


def start_person_pod(rec, address: str, speed: float = 1.0):
    """(host transport, running device thread, PersonOnPod): the device app on a simulated person whose
    recording begins when the host starts the stream (`tiltguard drill --sim`)."""
    person = PersonOnPod(rec)
    transport, device = start_device_on(person, address, speed)
    dev, board = device.sim.device, device.sim.board

    def started() -> None:  # after the sampler's reset (registered first): the next sample is the recording's first
        if person.start_k is None:
            person.start_k = board.emu.generated

    dev.on_start.append(started)
    if dev.running:
        started()
    return transport, device, person
