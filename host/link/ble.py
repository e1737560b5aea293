"""Bluetooth LE transport with bleak: scan, connect, subscribe, commands, automatic reconnect.

* Seam: `BleBackend(scanner=..., client=...)` takes bleak backend classes (bleak's `backend=`); the
  default None means the platform's (BlueZ, CoreBluetooth, WinRT). The tests pass a bumble-backed pair.
* Connect goes through bleak-retry-connector's `establish_connection` (retries with backoff, and on
  BlueZ clears stale connections and service caches): it is also how a dropped link is re-established.
* Frames: one notification = one frame on the stream characteristic; command responses come as
  notifications on the control characteristic; commands are written with response. Frame sizes are the
  device's business: it sizes them from the MTU it negotiated and announces `max_frame` in its hello.
  bleak's `mtu_size` is not used (BlueZ reports 23 whatever was negotiated).
* Owner only: the pod answers nothing but PING and HELLO, and streams nothing, on a link that is not bonded
  (docs/firmware.md). It asks for security as a central connects, and the OS re-encrypts with its bond;
  `connect()` returns once the pod accepts a bonded-only command (LOG_LIST), else it says to pair.
  `pair_device()` bonds this computer in the pod's pairing window; `forget_device()` makes the pod forget
  every owner and this computer forget the pod (`tiltguard device pair|forget --ble NAME`).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection
from tiltguard.firmware import protocol as P
from tiltguard.firmware.ble import CONTROL_UUID, PROVE_MS, SERVICE_UUID, STREAM_UUID
from tiltguard.host.link.transport import LinkDown, Transport

BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
CONNECT_ATTEMPTS = 4
BOND_WAIT_S = PROVE_MS / 1000.0 * 0.8  # the pod drops a central that proves no bond within PROVE_MS
PROBE_SEQ = 0xFFFFFF00  # command seqs of the bond probe: far from the recorder's own counter


class NotOwner(LinkDown):
    """The pod does not accept this computer: it is not bonded (pair it in the pod's pairing window)."""


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
        self._probes: dict[int, asyncio.Future] = {}
        self._probe_seq = PROBE_SEQ

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
            raise LinkDown(f"could not connect to {self.target}: {exc} (a pod with an owner drops other "
                           "computers: is this one paired? `tiltguard device pair`)") from exc
        try:
            await client.start_notify(STREAM_UUID, self._on_notify)
            await client.start_notify(CONTROL_UUID, self._on_notify)
            await self._await_bond(client)
        except (BleakError, asyncio.TimeoutError, LinkDown) as exc:
            try:
                await client.disconnect()
            except (BleakError, asyncio.TimeoutError, OSError):
                pass
            if isinstance(exc, LinkDown):
                raise
            raise LinkDown(f"subscribing failed: {exc} (a pod with an owner drops other computers: is this "
                           "one paired? `tiltguard device pair`)") from exc
        self._client = client
        self.connects += 1
        self._link(True)

    async def probe(self, client, cmd: int = P.C_LOG_LIST, timeout: float = 1.0) -> int:
        """Send a command on the side of the recorder's own; returns the status the pod answered."""
        self._probe_seq = PROBE_SEQ if self._probe_seq >= 0xFFFFFFFF else self._probe_seq + 1
        seq = self._probe_seq
        fut = asyncio.get_running_loop().create_future()
        self._probes[seq] = fut
        try:
            await client.write_gatt_char(CONTROL_UUID, P.encode_command(seq, 0, cmd), response=True)
            return (await asyncio.wait_for(fut, timeout)).status
        finally:
            self._probes.pop(seq, None)

    async def _await_bond(self, client) -> None:
        """Until the pod accepts a bonded-only command: the OS answers the pod's security request with
        its bond in a fraction of a second."""
        end = asyncio.get_running_loop().time() + BOND_WAIT_S
        refused = NotOwner(f"{self.target} does not accept this computer: it has another owner or none; "
                           "hold its button 6 s and run `tiltguard device pair`")
        while True:
            try:
                if await self.probe(client) != P.S_NOT_BONDED:
                    return
            except asyncio.TimeoutError:
                pass
            except BleakError as exc:  # an owned pod drops a central that paired without a bond
                raise refused from exc
            if asyncio.get_running_loop().time() > end:
                raise refused
            await asyncio.sleep(0.2)

    def _on_notify(self, _char, data: bytearray) -> None:
        frame = bytes(data)
        if self._probes and len(frame) >= P.OVERHEAD and frame[1] == P.T_RESPONSE:
            try:
                f = P.decode_frame(frame)
            except P.FrameError:
                f = None
            if f is not None and f.seq in self._probes:
                if not self._probes[f.seq].done():
                    self._probes[f.seq].set_result(f)
                return  # the probe's own answer: not the recorder's business
        self._arrived(frame)

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


async def pair_device(target: str, backend: BleBackend | None = None, scan_timeout: float = 10.0) -> str:
    """Bond with the pod in its pairing window and check it now takes this computer's commands.
    Returns a one-line result; raises LinkDown with a one-line reason."""
    t = BleTransport(target, backend=backend, scan_timeout=scan_timeout)
    t._device = await t._find()
    backend = t.backend
    try:
        client = await establish_connection(BleakClient, t._device, t._device.name or target,
                                            max_attempts=CONNECT_ATTEMPTS, backend=backend.client, **backend.kwargs)
    except (BleakError, asyncio.TimeoutError) as exc:
        raise LinkDown(f"could not connect to {target}: {exc} (a pod with an owner drops other computers "
                       "outside its pairing window: hold its button 6 s first)") from exc
    try:
        await client.start_notify(CONTROL_UUID, t._on_notify)
        try:
            await client.pair()
        except (BleakError, asyncio.TimeoutError, NotImplementedError) as exc:
            raise LinkDown(f"pairing with {target} failed: {exc}") from exc
        try:
            await t._await_bond(client)
        except NotOwner:
            raise NotOwner(f"{target} did not bond: open its pairing window first (hold the button 6 s until "
                           "it buzzes three times), then run this again within a minute") from None
        return f"paired with {t._device.name or target} ({t._device.address}): this computer is its owner"
    finally:
        try:
            await client.disconnect()
        except (BleakError, asyncio.TimeoutError, OSError):
            pass


async def forget_device(target: str, backend: BleBackend | None = None, scan_timeout: float = 10.0) -> str:
    """The pod forgets every owner (C_FORGET over this computer's bonded link) and this computer forgets
    the pod. Returns a one-line result; raises LinkDown with a one-line reason."""
    t = BleTransport(target, backend=backend, scan_timeout=scan_timeout)
    await t.connect()  # NotOwner if this computer is not an owner: a stranger cannot make it forget
    client = t._client
    try:
        status = await t.probe(client, P.C_FORGET)
        if status != P.S_OK:
            raise LinkDown(f"{target} refused to forget its owners (status {status})")
        try:
            await client.unpair()
        except (BleakError, NotImplementedError, OSError):
            pass  # the pod forgot us; the OS keeps a stale entry the user can remove
        return f"{t.device_name} forgot its owners; pair again in its pairing window to use it over Bluetooth"
    finally:
        await t.disconnect()


def owner_command(what: str, target: str) -> str:
    """`tiltguard device pair|forget --ble TARGET` on the platform's Bluetooth: one line back; raises
    LinkDown (or the platform's error) with a one-line reason."""
    fn = pair_device if what == "pair" else forget_device
    return asyncio.run(fn(target))
