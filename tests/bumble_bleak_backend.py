"""A small bleak backend (scanner + client) over a bumble device acting as central, for the BLE tests.

bleak's BleakScanner / BleakClient accept `backend=`: these classes implement bleak's backend interface
(bleak.backends.scanner.BaseBleakScanner, bleak.backends.client.BaseBleakClient) with bumble's GATT
client, so the host's BLE code runs unchanged against a real Bluetooth host stack on a virtual link.
`bumble_backends(device)` returns the pair bound to one bumble Device.
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


def bumble_backends(device: Device):
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
            conn.on("disconnection", lambda reason: self._on_disconnection(conn))
            self._conn = conn
            try:
                peer = Peer(conn)
                await peer.request_mtu(REQUESTED_MTU)
                await peer.discover_services()
                services = BleakGATTServiceCollection()
                for s in peer.services:
                    await s.discover_characteristics()
                    bs = BleakGATTService(s, s.handle, _uuid_str(s.uuid))
                    services.add_service(bs)
                    for c in s.characteristics:
                        await c.discover_descriptors()
                        props = [n for bit, n in _PROPS if c.properties & bit]
                        bc = BleakGATTCharacteristic(c, c.handle, _uuid_str(c.uuid), props,
                                                     lambda: self.mtu_size - 3, bs)
                        services.add_characteristic(bc)
                        for d in c.descriptors:
                            services.add_descriptor(BleakGATTDescriptor(d, d.handle, _uuid_str(d.type), bc))
                self._peer = peer
                self.services = services
            except BaseException:
                if self._conn is not None:
                    await self._conn.disconnect()
                raise

        def _on_disconnection(self, conn) -> None:
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
            await self._conn.pair()

        async def unpair(self) -> None:
            raise NotImplementedError("unpair is not needed by the tests")

        def _need(self):
            if self._peer is None:
                raise BleakError("not connected")

        async def read_gatt_char(self, characteristic, *, use_cached=False, **kwargs) -> bytearray:
            self._need()
            return bytearray(await characteristic.obj.read_value())

        async def read_gatt_descriptor(self, descriptor, *, use_cached=False, **kwargs) -> bytearray:
            self._need()
            return bytearray(await descriptor.obj.read_value())

        async def write_gatt_char(self, characteristic, data, response: bool) -> None:
            self._need()
            await characteristic.obj.write_value(bytes(data), with_response=response)

        async def write_gatt_descriptor(self, descriptor, data) -> None:
            self._need()
            await descriptor.obj.write_value(bytes(data), with_response=True)

        async def start_notify(self, characteristic, callback, **kwargs) -> None:
            self._need()
            await characteristic.obj.subscribe(lambda value: callback(bytearray(value)))

        async def stop_notify(self, characteristic) -> None:
            self._need()
            await characteristic.obj.unsubscribe()

    return BumbleScanner, BumbleClient
