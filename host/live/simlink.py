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
