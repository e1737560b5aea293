"""Two bumble devices on one virtual link: the Tiltguard (firmware BLE module on the MicroPython API
shim) and the host's central (under the bleak backend)."""
from __future__ import annotations

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink
from tiltguard.host.link.ble import BleBackend

from tests.bumble_bleak_backend import bumble_backends
from tests.bumble_mpy_bluetooth import BLE, UUID


class VirtualRadio:
    """Create inside a running event loop."""

    def __init__(self) -> None:
        self.link = LocalLink()
        self.devices = []
        for i, addr in enumerate(("C0:11:22:33:44:01", "C0:11:22:33:44:02")):
            ctrl = Controller(f"C{i}", link=self.link, public_address=addr)
            self.devices.append(Device(address=Address(addr), host=Host(ctrl, AsyncPipeSink(ctrl))))
        self.peripheral, self.central = self.devices

    async def power_on(self) -> None:
        for d in self.devices:
            await d.power_on()

    def mpy_ble(self) -> BLE:
        return BLE(self.peripheral)

    def bleak_backend(self) -> BleBackend:
        scanner, client = bumble_backends(self.central)
        return BleBackend(scanner=scanner, client=client)


__all__ = ["UUID", "VirtualRadio"]
