"""A small bleak backend (scanner + client) over a bumble device acting as central, for the BLE tests.

bleak's BleakScanner / BleakClient accept `backend=`: these classes implement bleak's backend interface
(bleak.backends.scanner.BaseBleakScanner, bleak.backends.client.BaseBleakClient) with bumble's GATT
client, so the host's BLE code runs unchanged against a real Bluetooth host stack on a virtual link.
`bumble_backends(device)` returns the pair bound to one bumble Device.

Security as a phone or BlueZ does it: when the peripheral asks for security (a Security Request) the
client re-encrypts with the bond it holds, or pairs (bonding) if it holds none or the bond is refused.
`bumble_backends(device, answer_security=False)` makes a central that ignores the request (a stranger
probing the pod). `pair()` pairs at once; `unpair()` forgets the peer's keys on this side.
"""
from __future__ import annotations

import asyncio
import struct
import uuid as uuidlib

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble.core import UUID as BumbleUUID
from bumble.device import Device, Peer
from bumble.hci import Address
from bumble.keys import MemoryKeyStore

REQUESTED_MTU = 247  # bumble truncates notifications to MTU - 3 without a word: always ask

_PROPS = ((0x01, "broadcast"), (0x02, "read"), (0x04, "write-without-response"), (0x08, "write"),
          (0x10, "notify"), (0x20, "indicate"), (0x40, "authenticated-signed-writes"),
          (0x80, "extended-properties"))


def _uuid_str(u: BumbleUUID) -> str:
    b = bytes(u.to_bytes(force_128=True))  # little-endian 128-bit
    return str(uuidlib.UUID(bytes=b[::-1]))


def parse_advertising(data: bytes) -> dict:
    """AD structures -> name, service UUIDs (once each), manufacturer data, service data, tx power.
    The virtual controller repeats structures when it merges advertising and scan-response data."""
    out = {"name": None, "uuids": [], "manufacturer": {}, "service_data": {}, "tx_power": None}
    pos = 0
    while pos < len(data):
        ln = data[pos]
        if ln == 0 or pos + 1 + ln > len(data):
            break
        t, v = data[pos + 1], bytes(data[pos + 2 : pos + 1 + ln])
        pos += 1 + ln
        if t in (0x08, 0x09):
            out["name"] = v.decode(errors="replace")
        elif t in (0x02, 0x03):
            for k in range(0, len(v) - 1, 2):
                out["uuids"].append(f"0000{struct.unpack_from('<H', v, k)[0]:04x}-0000-1000-8000-00805f9b34fb")
        elif t in (0x06, 0x07):
            for k in range(0, len(v) - 15, 16):
                out["uuids"].append(str(uuidlib.UUID(bytes=v[k : k + 16][::-1])))
        elif t == 0xFF and len(v) >= 2:
            out["manufacturer"][struct.unpack_from("<H", v)[0]] = v[2:]
        elif t == 0x16 and len(v) >= 2:
            out["service_data"][f"0000{struct.unpack_from('<H', v)[0]:04x}-0000-1000-8000-00805f9b34fb"] = v[2:]
        elif t == 0x0A and v:
            out["tx_power"] = struct.unpack("b", v[:1])[0]
    out["uuids"] = list(dict.fromkeys(out["uuids"]))
    return out


class _KeysByAddressBytes(MemoryKeyStore):
    """The central's bonds by the peer's address bytes: the virtual peripheral is found by a random-typed
    address with the bytes of the public identity it bonded with (a real OS resolves that by the IRK)."""

    async def get(self, name):
        return await super().get(name.split("/")[0])

    async def update(self, name, keys):
        await super().update(name.split("/")[0], keys)

    async def delete(self, name):
        await super().delete(name.split("/")[0])


def _we_are_cancelled() -> bool:
    task = asyncio.current_task()
    return bool(task and task.cancelling())


def bumble_backends(device: Device, answer_security: bool = True):
    if not isinstance(device.keystore, _KeysByAddressBytes):
        device.keystore = _KeysByAddressBytes()
    class BumbleScanner(BaseBleakScanner):
        def __init__(self, detection_callback=None, service_uuids=None, scanning_mode="active", **kwargs):
            super().__init__(detection_callback, service_uuids)
            self._active = scanning_mode != "passive"

        async def start(self) -> None:
            self.seen_devices = {}
            device.on("advertisement", self._on_advertisement)
            await device.start_scanning(active=self._active, filter_duplicates=False)

        async def stop(self) -> None:
            device.remove_listener("advertisement", self._on_advertisement)
            if device.is_scanning:
                await device.stop_scanning()

        def _on_advertisement(self, adv) -> None:
            raw = b"".join(bytes((len(v) + 1, int(t))) + bytes(v) for t, v in adv.data.ad_structures)
            info = parse_advertising(raw)
            if not self.is_allowed_uuid(info["uuids"]):
                return
            ad = AdvertisementData(info["name"], info["manufacturer"], info["service_data"], info["uuids"],
                                   info["tx_power"], adv.rssi, (adv,))
            addr = str(adv.address).split("/")[0]
            dev = self.create_or_update_device(addr, addr, info["name"], adv.address, ad)
            self.call_detection_callbacks(dev, ad)

    class BumbleClient(BaseBleakClient):
        def __init__(self, address_or_ble_device, *, disconnected_callback=None, timeout=10.0, **kwargs):
            super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
            if isinstance(address_or_ble_device, BLEDevice) and isinstance(address_or_ble_device.details, Address):
                self._peer_address = address_or_ble_device.details
            else:
                self._peer_address = Address(str(self.address), Address.RANDOM_DEVICE_ADDRESS)
            self._conn = None
            self._peer: Peer | None = None

        @property
        def name(self) -> str:
            return str(self._peer_address)

        @property
        def mtu_size(self) -> int:
            return self._conn.att_mtu if self._conn is not None else 23

        @property
        def is_connected(self) -> bool:
            return self._conn is not None

        async def connect(self, pair: bool = False, **kwargs) -> None:
            timeout = kwargs.get("timeout", self._timeout)
            try:
                conn = await asyncio.wait_for(device.connect(self._peer_address), timeout)
            except asyncio.TimeoutError:
                if device.is_le_connecting:
                    await device.cancel_connection()
                raise
            self._gone = asyncio.get_running_loop().create_future()
            conn.on("disconnection", lambda reason: self._on_disconnection(conn))
            if answer_security:
                conn.on("security_request", lambda auth_req: self._spawn_security(conn))
            self._conn = conn
            try:
                peer = Peer(conn)
                await self._gatt(peer.request_mtu(REQUESTED_MTU))
                await self._gatt(peer.discover_services())
                services = BleakGATTServiceCollection()
                for s in peer.services:
                    await self._gatt(s.discover_characteristics())
                    bs = BleakGATTService(s, s.handle, _uuid_str(s.uuid))
                    services.add_service(bs)
                    for c in s.characteristics:
                        await self._gatt(c.discover_descriptors())
                        props = [n for bit, n in _PROPS if c.properties & bit]
                        bc = BleakGATTCharacteristic(c, c.handle, _uuid_str(c.uuid), props,
                                                     lambda: self.mtu_size - 3, bs)
                        services.add_characteristic(bc)
                        for d in c.descriptors:
                            services.add_descriptor(BleakGATTDescriptor(d, d.handle, _uuid_str(d.type), bc))
                self._peer = peer
                self.services = services
            except asyncio.CancelledError:
                if not _we_are_cancelled():  # the peripheral dropped us mid-discovery
                    raise BleakError("disconnected during service discovery") from None
                if self._conn is not None:
                    await self._conn.disconnect()
                raise
            except BaseException:
                if self._conn is not None:
                    await self._conn.disconnect()
                raise

        async def _gatt(self, aw):
            """A GATT operation that ends with BleakError as soon as the link drops, as bleak's platform
            backends do (bumble would wait out its 30-s GATT timeout, or cancel the request)."""
            op = asyncio.ensure_future(aw)
            gone = self._gone
            try:
                await asyncio.wait({op, gone}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                op.cancel()
                raise
            if not op.done():
                op.cancel()
                raise BleakError("not connected: the peripheral disconnected")
            try:
                return op.result()
            except asyncio.CancelledError:
                raise BleakError("not connected: the peripheral disconnected") from None
            except Exception as exc:  # bumble's ATT errors and timeouts
                if isinstance(exc, BleakError):
                    raise
                raise BleakError(f"{type(exc).__name__}: {exc}") from exc

        def _spawn_security(self, conn) -> None:
            task = asyncio.ensure_future(self._security(conn))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._security_task = task

        async def _security(self, conn) -> None:
            keys = await device.keystore.get(str(conn.peer_address)) if device.keystore else None
            if keys is not None:
                try:
                    await conn.encrypt()
                    return
                except Exception:  # the peripheral lost our bond: pair again, as BlueZ does
                    pass
            await conn.pair()

        def _on_disconnection(self, conn) -> None:
            gone = getattr(self, "_gone", None)
            if gone is not None and not gone.done() and conn is self._conn:
                gone.set_result(None)
            if conn is not self._conn:
                return
            self._conn = None
            self._peer = None
            if self._disconnected_callback is not None:
                self._disconnected_callback()

        async def disconnect(self) -> None:
            conn = self._conn
            if conn is not None:
                await conn.disconnect()

        async def pair(self, *args, **kwargs) -> None:
            if self._conn is None:
                raise BleakError("not connected")
            task = getattr(self, "_security_task", None)
            if task is not None:  # the pod's security request already started it: one pairing at a time
                await asyncio.wait([task])
                if self._conn is not None and self._conn.is_encrypted and task.exception() is None:
                    return
            await self._conn.pair()

        async def unpair(self) -> bool:
            if device.keystore is not None:
                await device.keystore.delete(str(self._peer_address))
            return True

        def _need(self):
            if self._peer is None:
                raise BleakError("not connected")

        async def read_gatt_char(self, characteristic, *, use_cached=False, **kwargs) -> bytearray:
            self._need()
            return bytearray(await self._gatt(characteristic.obj.read_value()))

        async def read_gatt_descriptor(self, descriptor, *, use_cached=False, **kwargs) -> bytearray:
            self._need()
            return bytearray(await self._gatt(descriptor.obj.read_value()))

        async def write_gatt_char(self, characteristic, data, response: bool) -> None:
            self._need()
            await self._gatt(characteristic.obj.write_value(bytes(data), with_response=response))

        async def write_gatt_descriptor(self, descriptor, data) -> None:
            self._need()
            await self._gatt(descriptor.obj.write_value(bytes(data), with_response=True))

        async def start_notify(self, characteristic, callback, **kwargs) -> None:
            self._need()
            await self._gatt(characteristic.obj.subscribe(lambda value: callback(bytearray(value))))

        async def stop_notify(self, characteristic) -> None:
            self._need()
            await self._gatt(characteristic.obj.unsubscribe())

    return BumbleScanner, BumbleClient
