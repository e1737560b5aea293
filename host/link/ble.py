"""Bluetooth LE transport with bleak: scan, connect, subscribe, commands, automatic reconnect.

* Seam: `BleBackend(scanner=..., client=...)` takes bleak backend classes (bleak's `backend=`); the
  default None means the platform's (BlueZ, CoreBluetooth, WinRT). The tests pass a bumble-backed pair.
* Connect goes through bleak-retry-connector's `establish_connection` (retries with backoff, and on
  BlueZ clears stale connections and service caches): it is also how a dropped link is re-established.
* Frames: one notification = one frame on the stream characteristic; command responses come as
  notifications on the control characteristic; commands are written with response. Frame sizes are the
  device's business: it sizes them from the MTU it negotiated and announces `max_frame` in its hello.
  bleak's `mtu_size` is not used (BlueZ reports 23 whatever was negotiated).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection
from tiltguard.firmware.ble import CONTROL_UUID, SERVICE_UUID, STREAM_UUID
from tiltguard.host.link.transport import LinkDown, Transport

BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
CONNECT_ATTEMPTS = 4


@dataclass
class BleBackend:
    scanner: type | None = None  # bleak.backends.scanner.BaseBleakScanner subclass; None: the platform's
    client: type | None = None  # bleak.backends.client.BaseBleakClient subclass
    kwargs: dict = field(default_factory=dict)


@dataclass
class FoundDevice:
    name: str
    address: str
    rssi: int
    battery: int | None
    ble_device: object


async def scan(timeout: float = 5.0, backend: BleBackend | None = None, read_battery: bool = True) -> list[FoundDevice]:
    """Tiltguard devices advertising the Tiltguard service, strongest first; battery read over GATT."""
    backend = backend or BleBackend()
    found = await BleakScanner.discover(timeout=timeout, return_adv=True, service_uuids=[SERVICE_UUID],
                                        backend=backend.scanner)
    out = []
    for dev, adv in found.values():
        battery = None
        if read_battery:
            try:
                async with BleakClient(dev, backend=backend.client, timeout=timeout) as c:
                    battery = (await c.read_gatt_char(BATTERY_LEVEL_UUID))[0]
            except (BleakError, asyncio.TimeoutError, OSError, IndexError):
                pass
        out.append(FoundDevice(adv.local_name or dev.name or "?", dev.address, adv.rssi, battery, dev))
    return sorted(out, key=lambda d: -d.rssi)


class BleTransport(Transport):
    name = "ble"
    reconnect_delay_s = 0.1

    def __init__(self, target: str, backend: BleBackend | None = None, scan_timeout: float = 10.0) -> None:
        super().__init__()
        self.target = target  # advertised name or address
        self.backend = backend or BleBackend()
        self.scan_timeout = scan_timeout
        self.address = target
        self.device_name = target
        self._device = None
        self._client: BleakClient | None = None
        self.connects = 0

    def _matches(self, dev, adv) -> bool:
        t = self.target.lower()
        return dev.address.lower() == t or (adv.local_name or "").lower() == t or (dev.name or "").lower() == t

    async def _find(self):
        dev = await BleakScanner.find_device_by_filter(self._matches, timeout=self.scan_timeout,
                                                       service_uuids=[SERVICE_UUID], backend=self.backend.scanner)
        if dev is None:
            raise LinkDown(f"no Tiltguard device {self.target!r} advertising")
        return dev

    async def connect(self) -> None:
        if self._device is None:
            self._device = await self._find()
            self.address = self._device.address
            self.device_name = self._device.name or self.target
        try:
            client = await establish_connection(BleakClient, self._device, self.device_name,
                                                disconnected_callback=self._on_disconnect,
                                                max_attempts=CONNECT_ATTEMPTS, backend=self.backend.client,
                                                **self.backend.kwargs)
        except (BleakError, asyncio.TimeoutError) as exc:
            raise LinkDown(f"could not connect to {self.target}: {exc}") from exc
        try:
            await client.start_notify(STREAM_UUID, self._on_notify)
            await client.start_notify(CONTROL_UUID, self._on_notify)
        except (BleakError, asyncio.TimeoutError) as exc:
            await client.disconnect()
            raise LinkDown(f"subscribing failed: {exc}") from exc
        self._client = client
        self.connects += 1
        self._link(True)

    def _on_notify(self, _char, data: bytearray) -> None:
        self._arrived(bytes(data))

    def _on_disconnect(self, client) -> None:
        if client is self._client or self._client is None:
            self._client = None
            asyncio.get_running_loop().call_soon(self._link, False)

    async def write(self, frame: bytes) -> None:
        client = self._client
        if client is None or not self.connected:
            raise LinkDown("not connected")
        try:
            await client.write_gatt_char(CONTROL_UUID, frame, response=True)
        except (BleakError, asyncio.TimeoutError, OSError) as exc:
            raise LinkDown(f"write failed: {exc}") from exc

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.disconnect()
            except (BleakError, asyncio.TimeoutError, OSError):
                pass
        self._link(False)
