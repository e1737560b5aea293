"""`tiltguard live`: start the window, connected to the source given on the command line, or with the
connect dialog open on the built-in simulated device."""
from __future__ import annotations

import sys

from .link import Source


def source_from_args(args) -> Source | None:
    if getattr(args, "sim", None):
        # Qt loads when the live view starts, not for tiltguard --help
        from tiltguard.host.simulator import SCENARIOS

        if args.sim not in SCENARIOS:
            raise ValueError(f"unknown scenario {args.sim!r} (see `tiltguard scenarios`)")
        return Source("sim", args.sim, seed=args.seed, minutes=args.minutes, speed=args.speed)
    if getattr(args, "serial", None):
        return Source("serial", args.serial)
    if getattr(args, "ble", None):
        return Source("ble", args.ble)
    return None


def run_live(args) -> int:
    source = source_from_args(args)  # bad input fails here, before any window opens
    # Qt loads when the live view starts, not for tiltguard --help
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    # Qt loads when the live view starts, not for tiltguard --help
    from .settings import LiveSettings
    from .window import LiveWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Tiltguard live")
    settings = LiveSettings(getattr(args, "settings", None))
    win = LiveWindow(settings, db_path=args.db, record=False if getattr(args, "no_record", False) else None)
    win.show()
    if source is not None:
        win.connect_source(source)
    else:
        QTimer.singleShot(0, win.choose_source)
    return app.exec()
