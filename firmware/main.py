"""Device entry point: `import tiltguard.firmware.main` from the board's /main.py (see `tiltguard device flash`)."""
import sys

import asyncio

BONDS_PATH = "/tiltguard_bonds.json"  # the owner's bond keys (firmware/ble.py)


def run():
    # imported at start-up of the app, not at import: the board's modules and the radio are optional
    from tiltguard.firmware.app import Device
    from tiltguard.firmware.board import Board
    from tiltguard.firmware.config import VERSION, load_checked
    from tiltguard.firmware.serial_link import SerialLink

    board = Board()
    cfg, problems = load_checked(board.config_path)  # a damaged file: defaults, and the hello says why
    # the order does not matter: links.py gives USB the stream over BLE whatever it is
    links = [SerialLink(sys.stdin.buffer, sys.stdout.buffer, board.ticks_ms, board.ticks_diff)]
    try:
        import bluetooth

        from tiltguard.firmware.ble import BleLink

        links.append(BleLink(bluetooth.BLE(), bluetooth.UUID, cfg["name"], firmware=VERSION,
                             secrets_path=BONDS_PATH))
    except ImportError:
        pass  # a build without Bluetooth: USB only
    try:
        import micropython

        micropython.kbd_intr(-1)  # binary frames on stdin must not raise KeyboardInterrupt
        device = Device(board, links, cfg, problems)
        for lk in links:
            if lk.name == "ble":
                lk.set_model(device.sampler.drv.MODEL)
        asyncio.run(device.run())
    finally:
        import micropython

        micropython.kbd_intr(3)


run()
