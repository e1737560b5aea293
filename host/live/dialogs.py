"""The connect and calibrate dialogs."""
from __future__ import annotations

import asyncio
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from . import palette as C
from .link import Source


def _font(pt: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(pt)
    f.setBold(bold)
    return f


class _ScanResults(QObject):
    done = Signal(list, str)  # found devices, error text


class ConnectDialog(QDialog):
    """Pick the built-in simulated device (default), a USB serial port, or a scanned BLE device."""

    def __init__(self, last: tuple[str, str] = ("sim", ""), parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect")
        self.setFont(_font(C.STATUS_PT + 1))
        grid = QGridLayout(self)
        self.kind = QButtonGroup(self)
        self.sim = QRadioButton("Simulated device (built in)")
        self.serial = QRadioButton("USB serial port")
        self.ble = QRadioButton("Bluetooth LE")
        for i, b in enumerate((self.sim, self.serial, self.ble)):
            self.kind.addButton(b, i)
        # loaded when the dialog needs it: keeps the window's start-up fast
        from tiltguard.host.demo import DEMO_SCENARIO
        from tiltguard.host.simulator import SCENARIOS

        self.scenario = QComboBox()
        self.scenario.addItems(sorted(SCENARIOS))
        self.scenario.setCurrentText(DEMO_SCENARIO)
        self.speed = QDoubleSpinBox()
        self.speed.setRange(0.5, 8.0)
        self.speed.setValue(1.0)
        self.speed.setSuffix(" x real time")
        self.port = QComboBox()
        self.port.setEditable(True)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self._list_ports)
        self.found = QListWidget()
        self.scan_btn = QPushButton("Scan")
        self.scan_btn.clicked.connect(self._scan)
        self.scan_note = QLabel("")
        grid.addWidget(self.sim, 0, 0)
        grid.addWidget(self.scenario, 0, 1)
        grid.addWidget(self.speed, 0, 2)
        grid.addWidget(self.serial, 1, 0)
        grid.addWidget(self.port, 1, 1)
        grid.addWidget(refresh, 1, 2)
        grid.addWidget(self.ble, 2, 0)
        grid.addWidget(self.scan_btn, 2, 2)
        grid.addWidget(self.found, 3, 0, 1, 3)
        grid.addWidget(self.scan_note, 4, 0, 1, 3)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, 5, 0, 1, 3)
        self._scan_results = _ScanResults()
        self._scan_results.done.connect(self._scanned)
        self._list_ports()
        kind, target = last
        {"serial": self.serial, "ble": self.ble}.get(kind, self.sim).setChecked(True)
        if kind == "sim" and target in SCENARIOS:
            self.scenario.setCurrentText(target)
        elif kind == "serial":
            self.port.setCurrentText(target)

    def _list_ports(self) -> None:
        # loaded when the dialog needs it: keeps the window's start-up fast
        from serial.tools import list_ports

        self.port.clear()
        self.port.addItems([p.device for p in list_ports.comports()])

    def _scan(self) -> None:
        self.scan_btn.setEnabled(False)
        self.scan_note.setText("Scanning for 5 s ...")
        results = self._scan_results

        def work():
            try:
                from tiltguard.host.link.ble import scan

                found = asyncio.run(scan(5.0))
                results.done.emit(found, "")
            except Exception as exc:  # noqa: BLE001 - no adapter, no permission: say so
                results.done.emit([], f"scan failed: {exc}")

        threading.Thread(target=work, daemon=True).start()

    def _scanned(self, found: list, error: str) -> None:
        self.scan_btn.setEnabled(True)
        self.found.clear()
        for d in found:
            batt = f"{d.battery}%" if d.battery is not None else "?"
            item = QListWidgetItem(f"{d.name}   {d.address}   {d.rssi} dBm   battery {batt}")
            item.setData(Qt.UserRole, (d.address, d.rssi))
            self.found.addItem(item)
        if found:
            self.ble.setChecked(True)
            self.found.setCurrentRow(0)
        self.scan_note.setText(error or f"{len(found)} Tiltguard device(s) found")

    def source(self) -> Source | None:
        if self.serial.isChecked():
            port = self.port.currentText().strip()
            return Source("serial", port) if port else None
        if self.ble.isChecked():
            item = self.found.currentItem()
            if item is None:
                return None
            address, rssi = item.data(Qt.UserRole)
            return Source("ble", address, rssi=rssi)
        return Source("sim", self.scenario.currentText(), speed=self.speed.value())


class CalibrateDialog(QDialog):
    """Guided neutral stand: instructions, a countdown on the device's clock, then the first strides.
    A stand that was not still (or not upright) is refused with the reason and a Retry button."""

    start_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibrate")
        self.setModal(False)
        self.setMinimumWidth(720)
        lay = QVBoxLayout(self)
        self.instructions = QLabel("Stand tall, weight over mid-foot.\nStay still for 5 s.")
        self.instructions.setWordWrap(True)
        self.instructions.setFont(_font(C.BANNER_PT - 4, bold=True))
        self.instructions.setAlignment(Qt.AlignCenter)
        self.countdown = QLabel("")
        self.countdown.setFont(_font(C.READOUT_PT + 16, bold=True))
        self.countdown.setAlignment(Qt.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setFont(_font(C.STATUS_PT + 3))
        self.message.setAlignment(Qt.AlignCenter)
        row = QHBoxLayout()
        self.start_btn = QPushButton("Start (Enter)")
        self.start_btn.setFont(_font(C.STATUS_PT + 3, bold=True))
        self.start_btn.setDefault(True)
        self.start_btn.clicked.connect(self._start)
        self.close_btn = QPushButton("Close")
        self.close_btn.clicked.connect(self.hide)
        row.addWidget(self.start_btn)
        row.addWidget(self.close_btn)
        for w in (self.instructions, self.countdown, self.progress, self.message):
            lay.addWidget(w)
        lay.addLayout(row)
        self.state = "ready"  # ready, counting, walking, done, rejected

    def _start(self) -> None:
        self.state = "counting"
        self.message.setText("")
        self.message.setStyleSheet("")
        self.start_btn.setEnabled(False)
        self.start_btn.setText("Stand still ...")
        self.start_requested.emit()

    def show_progress(self, state: str, seconds_left: float, fraction: float) -> None:
        """The calibration's state as the pipeline sees it (called by the window's timer)."""
        if state == "stand":
            self.countdown.setText(f"{max(1, int(seconds_left + 0.999))}")
            self.progress.setValue(int(100 * fraction))

    def show_event(self, kind: str, message: str) -> None:
        ok = kind in ("stand_ok", "forward_ok", "forward_refined")
        self.message.setText(message if ok else f"Not accepted: {message}")
        colours = C.CLEAR_BANNER if ok else C.FLAG_BANNER
        self.message.setStyleSheet(f"background:{colours[0]}; color:{colours[1]}; padding:8px;")
        if kind == "stand_ok":
            self.state = "walking"
            self.countdown.setText("Go")
            self.progress.setValue(100)
            self.start_btn.setText("Hip hinge, walking or running ...")
        elif kind == "hinge_rejected":  # the calibration goes on waiting for a hinge or the strides
            self.message.setText(message)
        elif kind in ("forward_ok", "forward_refined"):
            self.state = "done"
            self.countdown.setText("✓")
            self.start_btn.setText("Calibrate again (Enter)")
            self.start_btn.setEnabled(True)
        else:
            self.state = "rejected"
            self.countdown.setText("Retry")
            self.start_btn.setText("Retry (Enter)")
            self.progress.setValue(0)
            self.start_btn.setEnabled(True)
            self.start_btn.setFocus()
