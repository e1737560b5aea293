"""Bumble devices on one virtual link: the Tiltguard (firmware BLE module on the MicroPython API shim) and
the hosts' centrals (under the bleak backend): the owner's computer, and for the owner-only tests more
centrals (strangers) with addresses of their own."""
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
    """Create inside a running event loop. `centrals`: how many centrals besides the peripheral."""

    def __init__(self, centrals: int = 1) -> None:
        self.link = LocalLink()
        self.devices = []
        for i in range(centrals + 1):
            addr = "C0:11:22:33:44:%02X" % (i + 1)
            ctrl = Controller(f"C{i}", link=self.link, public_address=addr)
            self.devices.append(Device(address=Address(addr), host=Host(ctrl, AsyncPipeSink(ctrl))))
        self.peripheral = self.devices[0]
        self.centrals = self.devices[1:]
        self.central = self.centrals[0]

    async def power_on(self) -> None:
        for d in self.devices:
            await d.power_on()

    def mpy_ble(self) -> BLE:
        return BLE(self.peripheral)

    def bleak_backend(self, central: int = 0, answer_security: bool = True) -> BleBackend:
        scanner, client = bumble_backends(self.centrals[central], answer_security=answer_security)
        return BleBackend(scanner=scanner, client=client)


__all__ = ["UUID", "VirtualRadio"]
