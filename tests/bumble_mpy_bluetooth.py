"""MicroPython's `bluetooth.BLE` / `bluetooth.UUID` API, implemented on a bumble device, so the firmware's
own BLE module (firmware/ble.py) runs on CPython against a real Bluetooth host stack.

Covers what firmware/ble.py uses: active, config, irq, gatts_register_services, gatts_read/write/notify,
gatts_set_buffer, gap_advertise, gap_disconnect, gattc_exchange_mtu, gap_pair; IRQ events central connect /
disconnect, GATTS write and MTU exchanged, with MicroPython's event numbers and data tuples.
`out_of_range(seconds)` simulates walking away from the host: the link is dropped with a connection
timeout and the device's advertisements reach nobody until it comes back.

Security, as MicroPython's NimBLE port does it: `config(bond=, mitm=, io=, le_secure=)` is the pairing
configuration of bumble's Security Manager, read at each pairing; `gap_pair(conn)` from the peripheral
sends a Security Request. Bond keys live with the application: bumble's key store calls _IRQ_GET_SECRET /
_IRQ_SET_SECRET (sec_type 2, the peer's keys; key = the peer's address), and stores nothing when `bond`
is off (NimBLE then pairs without bonding). _IRQ_ENCRYPTION_UPDATE (conn, encrypted, authenticated,
bonded, key_size) comes once a pairing ends (bonded: its keys were stored) or when a central re-encrypts
(bonded: with keys from the store).
"""
from __future__ import annotations

import asyncio
import errno
import json

from bumble import hci
from bumble.core import UUID as BumbleUUID
from bumble.device import Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.keys import KeyStore, PairingKeys
from bumble.pairing import PairingConfig, PairingDelegate

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30
SEC_PEER = 2

_FLAG_READ = 0x0002
_FLAG_WRITE_NO_RESPONSE = 0x0004
_FLAG_WRITE = 0x0008
_FLAG_NOTIFY = 0x0010
_FLAG_INDICATE = 0x0020

MAX_PENDING_NOTIFICATIONS = 32  # NimBLE runs out of mbufs about here: gatts_notify raises ENOMEM


class UUID:
    def __init__(self, value) -> None:
        if isinstance(value, int):
            self.bumble = BumbleUUID.from_16_bits(value)
        else:
            self.bumble = BumbleUUID(str(value))
        self.value = value

    def __eq__(self, other) -> bool:
        return isinstance(other, UUID) and self.bumble == other.bumble

    def __hash__(self) -> int:
        return hash(self.bumble)

    def __repr__(self) -> str:
        return f"UUID({self.value!r})"


class _Slot:
    """One characteristic value: its handle, once registered, and the bytes it holds."""

    def __init__(self, ble: "BLE") -> None:
        self.ble = ble
        self.handle = 0
        self.value = b""
        self.characteristic: Characteristic | None = None

    def read(self, connection) -> bytes:
        return self.value

    def write(self, connection, value) -> None:
        self.value = bytes(value)
        handle = self.ble._handle_of.get(connection)
        if handle is not None:
            self.ble._irq(_IRQ_GATTS_WRITE, (handle, self.handle))


def _peer(name: str) -> str:
    """A peer by its address bytes: a bumble central reconnects from a random address with the bytes of the
    public identity it bonded with (where a phone's resolvable address resolves to its identity)."""
    return name.split("/")[0]


class _AppKeyStore(KeyStore):
    """bumble's key store, kept by the application through the secret IRQs (as NimBLE's store is)."""

    def __init__(self, ble: "BLE") -> None:
        self.ble = ble

    async def get(self, name: str) -> PairingKeys | None:
        name = _peer(name)
        v = self.ble._irq(_IRQ_GET_SECRET, (SEC_PEER, None, name.encode()))
        return PairingKeys.from_dict(json.loads(bytes(v))["keys"]) if v else None

    async def update(self, name: str, keys: PairingKeys) -> None:
        name = _peer(name)
        if not self.ble.config_values.get("bond"):
            return  # NimBLE without bonding: the pairing encrypts this link, nothing is kept
        value = json.dumps({"name": name, "keys": keys.to_dict()}).encode()
        if self.ble._irq(_IRQ_SET_SECRET, (SEC_PEER, name.encode(), value)):
            self.ble._stored.add(name)

    async def delete(self, name: str) -> None:
        self.ble._irq(_IRQ_SET_SECRET, (SEC_PEER, _peer(name).encode(), None))

    async def get_all(self) -> list[tuple[str, PairingKeys]]:
        out, i = [], 0
        while (v := self.ble._irq(_IRQ_GET_SECRET, (SEC_PEER, i, None))) is not None:
            d = json.loads(bytes(v))
            out.append((d["name"], PairingKeys.from_dict(d["keys"])))
            i += 1
        return out


class BLE:
    def __init__(self, device: Device) -> None:
        self.device = device
        self._handler = None
        self._mtu = 23
        self._slots: dict[int, _Slot] = {}
        self._conns: dict[int, object] = {}  # conn handle -> bumble Connection
        self._handle_of: dict[object, int] = {}
        self._adv: tuple | None = None  # the last gap_advertise request
        self._radio_on = True
        self._pending = 0
        self._tasks: set[asyncio.Task] = set()
        self.notifications_sent = 0
        self.damage_every = 0  # test control: flip a byte in every n-th notification (radio noise)
        self.damaged = 0
        self.config_values: dict = {}
        self._stored: set[str] = set()  # peers whose keys the application took during a pairing
        self._pairing: set[int] = set()  # conn handles with a pairing under way
        device.keystore = _AppKeyStore(self)
        device.pairing_config_factory = self._pairing_config
        device.on("connection", self._on_connection)

    # ---------------------------------------------------------------- configuration
    def active(self, on=None) -> bool:
        return True

    def config(self, *args, **kwargs):
        if args:
            key = args[0]
            if key == "mtu":
                return self._mtu
            if key == "gap_name":
                return self.device.name
            return self.config_values.get(key)
        for k, v in kwargs.items():
            if k == "mtu":
                self._mtu = int(v)
            elif k == "gap_name":
                self.device.name = v
            self.config_values[k] = v
        return None

    def _pairing_config(self, connection) -> PairingConfig:
        c = self.config_values
        io = c.get("io", PairingDelegate.NO_OUTPUT_NO_INPUT)
        return PairingConfig(sc=bool(c.get("le_secure", False)), mitm=bool(c.get("mitm", False)),
                             bonding=bool(c.get("bond", False)),
                             delegate=PairingDelegate(io_capability=PairingDelegate.IoCapability(io)))

    def irq(self, handler) -> None:
        self._handler = handler

    def _irq(self, event, data):
        if self._handler is not None:
            return self._handler(event, data)
        return None

    # ---------------------------------------------------------------- GATT server
    def gatts_register_services(self, definitions):
        services, handles = [], []
        for service_uuid, chars in definitions:
            slots, characteristics = [], []
            for cdef in chars:
                uuid, flags = cdef[0], cdef[1]
                slot = _Slot(self)
                perms = 0
                if flags & (_FLAG_READ | _FLAG_NOTIFY | _FLAG_INDICATE):
                    perms |= Characteristic.READABLE
                if flags & (_FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE):
                    perms |= Characteristic.WRITEABLE
                c = Characteristic(uuid.bumble, Characteristic.Properties(flags & 0xFF), perms,
                                   CharacteristicValue(read=slot.read, write=slot.write))
                slot.characteristic = c
                slots.append(slot)
                characteristics.append(c)
            services.append(Service(service_uuid.bumble, characteristics))
            handles.append(slots)
        self.device.add_services(services)
        out = []
        for slots in handles:
            for slot in slots:
                slot.handle = slot.characteristic.handle
                self._slots[slot.handle] = slot
            out.append(tuple(s.handle for s in slots))
        return tuple(out)

    def gatts_read(self, handle: int) -> bytes:
        return self._slots[handle].value

    def gatts_write(self, handle: int, data, send_update: bool = False) -> None:
        self._slots[handle].value = bytes(data)

    def gatts_set_buffer(self, handle: int, size: int, append: bool = False) -> None:
        pass  # bumble keeps whole values

    def gatts_notify(self, conn_handle: int, value_handle: int, data=None) -> None:
        conn = self._conns.get(conn_handle)
        if conn is None:
            raise OSError(errno.ENOTCONN, "not connected")
        if self._pending >= MAX_PENDING_NOTIFICATIONS:
            raise OSError(errno.ENOMEM, "notification queue full")
        slot = self._slots[value_handle]
        value = bytes(data) if data is not None else slot.value
        self._count = getattr(self, "_count", 0) + 1
        if self.damage_every and self._count % self.damage_every == 0 and len(value) > 20:
            value = value[:15] + bytes((value[15] ^ 0x40,)) + value[16:]  # what a CRC must catch
            self.damaged += 1
        self._pending += 1
        self._spawn(self._notify(conn, slot.characteristic, value))

    async def _notify(self, conn, characteristic, value) -> None:
        try:
            await self.device.notify_subscriber(conn, characteristic, value)
            self.notifications_sent += 1
        finally:
            self._pending -= 1

    # ---------------------------------------------------------------- GAP
    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True) -> None:
        if interval_us is None:
            self._adv = None
            self._spawn(self._stop_advertising())
            return
        self._adv = (interval_us, bytes(adv_data or b""), bytes(resp_data or b""))
        if self._radio_on:
            self._spawn(self._start_advertising())

    async def _start_advertising(self) -> None:
        if self._adv is None or not self._radio_on:
            return
        interval_us, adv, resp = self._adv
        if self.device.is_advertising:
            await self.device.stop_advertising()
        ms = interval_us / 1000.0
        await self.device.start_advertising(advertising_data=adv, scan_response_data=resp,
                                            advertising_interval_min=ms, advertising_interval_max=ms)

    async def _stop_advertising(self) -> None:
        if self.device.is_advertising:
            await self.device.stop_advertising()

    def gap_disconnect(self, conn_handle: int) -> bool:
        conn = self._conns.get(conn_handle)
        if conn is None:
            return False
        self._spawn(conn.disconnect())
        return True

    def gap_pair(self, conn_handle: int) -> None:
        conn = self._conns.get(conn_handle)
        if conn is None:
            raise OSError(errno.ENOTCONN, "not connected")
        conn.request_pairing()  # a peripheral asks for security: the central pairs or re-encrypts

    def gattc_exchange_mtu(self, conn_handle: int) -> None:
        conn = self._conns.get(conn_handle)
        if conn is None:
            raise OSError(errno.ENOTCONN, "not connected")
        self._spawn(conn.gatt_client.request_mtu(self._mtu))

    # ---------------------------------------------------------------- link events
    def _on_connection(self, conn) -> None:
        h = conn.handle
        self._conns[h] = conn
        self._handle_of[conn] = h
        addr = conn.peer_address
        conn.on("disconnection", lambda reason: self._on_disconnection(conn, reason))
        conn.on("connection_att_mtu_update", lambda: self._irq(_IRQ_MTU_EXCHANGED, (h, conn.att_mtu)))
        conn.on("pairing_start", lambda: self._pairing.add(h))
        conn.on("pairing", lambda keys: self._paired(conn, h, True))
        conn.on("pairing_failure", lambda reason: self._paired(conn, h, False))
        conn.on("connection_encryption_change", lambda: self._encrypted(conn, h))
        conn.on("connection_encryption_failure", lambda err: self._irq(_IRQ_ENCRYPTION_UPDATE, (h, False, False, False, 0)))
        self._irq(_IRQ_CENTRAL_CONNECT, (h, addr.address_type, bytes(addr.address_bytes)))

    def _paired(self, conn, h: int, ok: bool) -> None:
        self._pairing.discard(h)
        if h not in self._conns:
            return
        bonded = ok and _peer(str(conn.peer_address)) in self._stored
        self._stored.discard(_peer(str(conn.peer_address)))
        self._irq(_IRQ_ENCRYPTION_UPDATE, (h, ok and conn.is_encrypted, ok and conn.authenticated, bonded,
                                           conn.encryption_key_size if ok else 0))

    def _encrypted(self, conn, h: int) -> None:
        if h in self._pairing:
            return  # reported when the pairing ends, keys exchanged
        self._spawn(self._re_encrypted(conn, h))

    async def _re_encrypted(self, conn, h: int) -> None:
        keys = await self.device.keystore.get(str(conn.peer_address))  # encrypted with a stored bond?
        if h in self._conns:
            self._irq(_IRQ_ENCRYPTION_UPDATE, (h, conn.is_encrypted, bool(conn.authenticated), keys is not None,
                                               conn.encryption_key_size))

    def _on_disconnection(self, conn, reason) -> None:
        h = self._handle_of.pop(conn, None)
        if h is None:
            return
        self._conns.pop(h, None)
        addr = conn.peer_address
        self._irq(_IRQ_CENTRAL_DISCONNECT, (h, addr.address_type, bytes(addr.address_bytes)))

    # ---------------------------------------------------------------- test controls
    async def out_of_range(self, seconds: float) -> None:
        """Lose the link (supervision timeout) and stay unreachable for `seconds`."""
        self._radio_on = False
        await self._stop_advertising()
        for conn in list(self._conns.values()):
            try:
                await conn.disconnect(reason=hci.HCI_CONNECTION_TIMEOUT_ERROR)
            except Exception:  # already going down
                pass
        await asyncio.sleep(seconds)
        self._radio_on = True
        await self._start_advertising()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # a notification on a link that just went down: nothing to do
