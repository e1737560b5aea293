"""What the recorder needs from a transport (BLE, USB serial, in-process simulation).

A transport moves whole protocol frames: `write(frame)` sends one command frame, and every frame that
arrives is handed to `on_frame(frame bytes, host arrival time)`; framing (COBS on serial, one
notification per frame on BLE) is the transport's business. `connect()` (re)establishes the link and
returns once frames can flow; a link that drops calls `on_link(False)`, after which the recorder calls
`connect()` again until it succeeds.
"""
from __future__ import annotations

import time
from collections.abc import Callable


class LinkDown(ConnectionError):
    """The link is not up (write refused, or it dropped while waiting)."""


class Transport:
    name = "abstract"
    keepalive_s: float | None = None  # send a PING at least this often (USB serial: the device's liveness)
    reconnect_delay_s = 0.2

    def __init__(self) -> None:
        self.address = ""
        self.device_name = ""
        self.connected = False
        self.on_frame: Callable[[bytes, float], None] = lambda frame, rx: None
        self.on_link: Callable[[bool], None] = lambda up: None
        self.integrity_errors = 0  # frames dropped by the transport's own framing (serial COBS/CRC)

    async def connect(self) -> None:
        raise NotImplementedError

    async def write(self, frame: bytes) -> None:
        raise NotImplementedError

    async def disconnect(self) -> None:
        raise NotImplementedError

    # helpers for implementations
    def _arrived(self, frame: bytes) -> None:
        self.on_frame(frame, time.time())

    def _link(self, up: bool) -> None:
        if up != self.connected:
            self.connected = up
            self.on_link(up)
