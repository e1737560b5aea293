"""A virtual USB CDC cable made of ptys, for a simulated device on the same machine (tests, bench).

The host sees a serial port at `port_path` (a symlink to the pty's slave end, like /dev/serial/by-id/...)
and opens it with pyserial like a real one. The device side is one fixed file descriptor (`device_fd`)
that the firmware's SerialLink reads and writes like the board's USB stream. `unplug()` removes the pty
pair: the host's reads fail and the port name disappears, exactly as when the cable is pulled; the
device's descriptor then leads nowhere (nothing to read, writes refused) until `replug()` puts a fresh
pty pair under the same descriptor number and port name.

`noise` makes the device side's writes imperfect on purpose: random garbage bytes between frames and
flipped bytes inside frames, so the host's resynchronisation and CRC checks are exercised.
"""
from __future__ import annotations

import errno
import fcntl
import os
import pty
import random
import socket
import threading
import tty
from pathlib import Path


class VirtualUsbCable:
    def __init__(self, port_path: str | os.PathLike) -> None:
        self.port_path = Path(port_path)
        self._lock = threading.Lock()
        master, self._slave = self._new_pair()
        self.device_fd = master  # fixed number from now on: only its target changes
        self._dead: tuple[socket.socket, socket.socket] | None = None
        self.plugged = True
        self._point_port()

    @staticmethod
    def _new_pair() -> tuple[int, int]:
        master, slave = pty.openpty()
        tty.setraw(slave)  # no line discipline: binary frames pass untouched, no echo
        fl = fcntl.fcntl(master, fcntl.F_GETFL)
        fcntl.fcntl(master, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        return master, slave

    def _point_port(self) -> None:
        tmp = self.port_path.with_name(self.port_path.name + ".new")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(os.ttyname(self._slave), tmp)
        os.replace(tmp, self.port_path)

    def unplug(self) -> None:
        with self._lock:
            if not self.plugged:
                return
            self.plugged = False
            if self.port_path.is_symlink():
                self.port_path.unlink()
            a, b = socket.socketpair()
            a.setblocking(False)
            self._dead = (a, b)
            os.dup2(a.fileno(), self.device_fd)  # closes the pty master: the host's side hangs up
            os.close(self._slave)

    def replug(self) -> None:
        with self._lock:
            if self.plugged:
                return
            master, self._slave = self._new_pair()
            os.dup2(master, self.device_fd)
            os.close(master)
            fl = fcntl.fcntl(self.device_fd, fcntl.F_GETFL)
            fcntl.fcntl(self.device_fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
            if self._dead:
                for s in self._dead:
                    s.close()
                self._dead = None
            self.plugged = True
            self._point_port()

    def device_streams(self, noise: "Noise | None" = None):
        """(stream_in, stream_out) for firmware.serial_link.SerialLink."""
        return _DeviceIn(self.device_fd), _DeviceOut(self.device_fd, noise)

    def close(self) -> None:
        self.unplug()
        os.close(self.device_fd)
        if self._dead:
            for s in self._dead:
                s.close()


class Noise:
    """Garbage between frames and damaged frames, at given probabilities per write, seeded."""

    def __init__(self, garbage: float = 0.02, corrupt: float = 0.01, seed: int = 0) -> None:
        self.garbage = garbage
        self.corrupt = corrupt
        self.rng = random.Random(seed)
        self.garbage_writes = 0
        self.corrupted_frames = 0

    def apply(self, data: bytes) -> bytes:
        out = bytearray()
        if self.rng.random() < self.garbage:
            self.garbage_writes += 1
            out += bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 40)))
        frame = bytearray(data)
        if self.rng.random() < self.corrupt and len(frame) > 4:
            self.corrupted_frames += 1
            k = self.rng.randrange(len(frame) - 1)  # keep the delimiter: the next frame must survive
            frame[k] ^= 1 << self.rng.randrange(8) or 1
            if frame[k] == 0:
                frame[k] = 0x55
        return bytes(out + frame)


class _DeviceIn:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def read(self, n: int) -> bytes:
        try:
            return os.read(self.fd, n)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.ENOTCONN):
                return b""  # no host on the other end
            raise


class _DeviceOut:
    """Writes whole or raises OSError (the app keeps the frame in its history and the host asks again)."""

    def __init__(self, fd: int, noise: Noise | None) -> None:
        self.fd = fd
        self.noise = noise

    def write(self, data) -> int:
        data = bytes(data)
        if self.noise is not None:
            data = self.noise.apply(data)
        view = memoryview(data)
        sent = 0
        while sent < len(data):
            try:
                sent += os.write(self.fd, view[sent:])
            except BlockingIOError:
                if sent == 0:
                    raise OSError(errno.EAGAIN, "USB buffer full") from None
                continue  # half a frame is out: finish it (the host drains quickly)
        return sent
