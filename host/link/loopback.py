"""Host end of the in-process link to a SimulatedDevice (`tiltguard record --sim`)."""
from __future__ import annotations

from tiltguard.host.link.simdevice import LoopbackLink
from tiltguard.host.link.transport import LinkDown, Transport


class LoopbackTransport(Transport):
    name = "sim"

    def __init__(self, device_link: LoopbackLink, address: str = "sim:0") -> None:
        super().__init__()
        self.dev = device_link
        self.dev.host = self
        self.address = address

    async def connect(self) -> None:
        self.dev.connected = True
        self._link(True)

    async def write(self, frame: bytes) -> None:
        if not self.connected:
            raise LinkDown("not connected")
        self.dev.inbox.append(bytes(frame))

    async def disconnect(self) -> None:
        self.dev.connected = False
        self._link(False)
