"""USB serial (CDC) transport with pyserial: COBS frames with 0x00 delimiters (firmware/protocol.py).

A reader thread pulls bytes and splits them with the protocol's SerialDeframer, which skips garbage and
damaged frames (counted) and picks up at the next delimiter. A pulled cable shows up as a read error or
the port vanishing: the link goes down, and connect() opens the same port name again once it is back.
The device treats the host as present while it hears from it, so the recorder pings once a second.
"""
from __future__ import annotations

import asyncio
import threading
import time

import serial
from tiltguard.firmware import protocol as P
from tiltguard.host.link.transport import LinkDown, Transport


class SerialTransport(Transport):
    name = "serial"
    keepalive_s = 1.0
    reconnect_delay_s = 0.2

    def __init__(self, port: str, baudrate: int = 921600) -> None:
        super().__init__()
        self.address = port
        self.device_name = port
        self.baudrate = baudrate
        self._ser: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deframer = P.SerialDeframer(4096, decode=False)
        self._write_lock = threading.Lock()

    @property
    def integrity_errors(self) -> int:  # garbage between frames and frames that failed their CRC
        return self._deframer.errors

    @integrity_errors.setter
    def integrity_errors(self, value) -> None:
        pass  # counted by the deframer

    async def connect(self) -> None:
        self._loop = asyncio.get_running_loop()
        ser = await self._loop.run_in_executor(None, self._open)
        self._ser = ser
        self._deframer = _carry_errors(self._deframer)
        self._thread = threading.Thread(target=self._reader, args=(ser,), name="serial-reader", daemon=True)
        self._thread.start()
        self._link(True)

    def _open(self) -> serial.Serial:
        # exclusive: a second program on the same port would steal half the bytes
        return serial.Serial(self.address, self.baudrate, timeout=0.05, exclusive=True)

    def _reader(self, ser: serial.Serial) -> None:
        try:
            while True:
                data = ser.read(max(1, ser.in_waiting))
                if ser is not self._ser:
                    return
                if data:
                    rx = time.time()
                    for frame in self._deframer.feed(data):
                        self._loop.call_soon_threadsafe(self.on_frame, frame, rx)
        except (serial.SerialException, OSError, TypeError, AttributeError):
            # pulled cable: read error / port gone (TypeError, AttributeError: closed under our feet)
            pass
        finally:
            if ser is self._ser:
                self._loop.call_soon_threadsafe(self._dropped, ser)

    def _dropped(self, ser: serial.Serial) -> None:
        if ser is not self._ser:
            return
        self._ser = None
        try:
            ser.close()
        except Exception:
            pass
        self._link(False)

    async def write(self, frame: bytes) -> None:
        ser = self._ser
        if ser is None or not self.connected:
            raise LinkDown("serial port not open")
        try:
            with self._write_lock:
                ser.write(bytes(P.cobs_encode(frame)))
        except (serial.SerialException, OSError) as exc:
            self._dropped(ser)
            raise LinkDown(f"serial write failed: {exc}") from exc

    async def disconnect(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            ser.close()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self._link(False)


def _carry_errors(old: P.SerialDeframer) -> P.SerialDeframer:
    """A fresh deframer for a new connection (no half frame carried over), keeping the error count."""
    new = P.SerialDeframer(old.max_frame, decode=False)
    new.errors = old.errors
    return new
