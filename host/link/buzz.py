"""The pod's buzzer, driven from the host (C_BUZZ): a guided drill's reps felt on the sacrum, phone in a pocket.

`PodBuzzer(command, loop)` never blocks whoever asks (the live window's Qt thread, or a task on the link's own
loop): `buzz()` only hands the pattern to the link's loop, where one worker sends the patterns one at a
time, in order, and paces them: the next is sent once the pod has played the last (its length after the
pod's answer), so a rep's pulse and a set's end never play over each other and the pod keeps no queue (its
RAM). `command` is the link's own `async command(cmd, *args) -> response frame`
(host.store.recorder.Recorder.command on USB serial, BLE and the simulated pod alike), so a buzz shares the
link with the recording and its resends.

What the pod answers decides the rest:
* S_UNKNOWN: firmware older than the command. `supported` becomes False, `on_unsupported(text)` is called
  once, and nothing more is sent (a drill goes on without the buzzer).
* S_BUSY (its last pattern still plays, e.g. a simulated pod's clock runs slower than thought): asked again
  shortly. A link that is down costs that one buzz (counted in `dropped`).
A buzz not played within STALE_S of being asked is dropped unsent: a rep felt two seconds late is a wrong count.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tiltguard.firmware import protocol as P
from tiltguard.host.link.transport import LinkDown

STALE_S = 1.5  # a buzz not sent by then is dropped
PACE_MARGIN_S = 0.03  # after a pattern's length, before the next: the pod's 10-ms control tick and some
BUSY_RETRY_S = 0.05
MAX_WAITING = 4  # buzzes waiting on the host; an older one gives way to a newer
UNSUPPORTED_TEXT = ("the pod's firmware has no buzz command (it answered 'unknown command'): the reps are "
                    "not buzzed; `tiltguard device flash` updates it")


@dataclass
class Buzz:
    what: str  # what it tells the wearer ("rep 3", "set done")
    pattern: tuple[int, ...]  # on, off, on, ... ms
    asked: float  # host monotonic s
    status: int | None = None  # the pod's answer (P.S_*), None: not sent (dropped, stale, link down)


def buzz_args(pattern) -> tuple[int, ...]:
    """C_BUZZ's arguments for a pattern (on, off, on, ... ms, ints); ValueError for one the pod would refuse."""
    pattern = tuple(pattern)
    if not all(isinstance(ms, int) and not isinstance(ms, bool) for ms in pattern) or not P.buzz_ok(pattern):
        raise ValueError(f"buzz pattern {pattern!r}: the pod takes {P.BUZZ_RULE}")
    return (len(pattern), *pattern, *(0,) * (P.BUZZ_STEPS - len(pattern)))


class PodBuzzer:
    def __init__(self, command: Callable[..., Awaitable], loop: asyncio.AbstractEventLoop,
                 on_unsupported: Callable[[str], None] | None = None, stale_s: float = STALE_S,
                 pod_speed: float = 1.0) -> None:
        """`pod_speed`: how many times faster than the host's clock the pod's runs (a simulated pod: --speed)."""
        self.command = command
        self.loop = loop
        self.pod_speed = pod_speed
        self.on_unsupported = on_unsupported
        self.stale_s = stale_s
        self.supported: bool | None = None  # None until the pod first answers
        self.done: list[Buzz] = []  # every buzz asked for, with the pod's answer (or None)
        self.dropped = 0
        self._waiting: deque[Buzz] = deque()
        self._working = False
        self._free_at = 0.0  # host monotonic s at which the pod has played the last pattern sent
        self._open = 0  # buzzes asked for, not yet answered or dropped
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    def buzz(self, pattern, what: str = "") -> bool:
        """Queue a pattern (on, off, on, ... ms) from any thread; returns at once. ValueError for a pattern
        the pod would refuse (P.BUZZ_RULE); False when it will not be sent (not supported, link closed)."""
        pattern = tuple(pattern)
        buzz_args(pattern)  # the pod's rule, checked here: a bad pattern is the caller's bug
        if self.supported is False:
            return False
        b = Buzz(what, pattern, time.monotonic())
        with self._lock:
            self._open += 1
            self._idle.clear()
        try:
            self.loop.call_soon_threadsafe(self._enqueue, b)
        except RuntimeError:  # the link's loop has closed: the drill goes on without buzzes
            self._drop(b)
            return False
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Until every buzz asked for so far has been answered or dropped (tests, and before closing)."""
        return self._idle.wait(timeout)

    # --- on the link's loop --------------------------------------------------------------------------
    def _enqueue(self, b: Buzz) -> None:
        self._waiting.append(b)
        while len(self._waiting) > MAX_WAITING:
            self._drop(self._waiting.popleft())
        if not self._working:
            self._working = True
            asyncio.ensure_future(self._work())

    async def _work(self) -> None:
        try:
            while self._waiting:
                b = self._waiting.popleft()
                await self._send(b)
        finally:
            self._working = False

    async def _send(self, b: Buzz) -> None:
        while True:
            wait = self._free_at - time.monotonic()
            if wait > 0:  # the pod still plays the last pattern
                await asyncio.sleep(wait)
            if self.supported is False or time.monotonic() - b.asked > self.stale_s:
                self._drop(b)
                return
            try:
                r = await self.command(P.C_BUZZ, *buzz_args(b.pattern))
            except (LinkDown, ConnectionError, TimeoutError, OSError, AttributeError):
                # AttributeError: the link has no recorder yet (still connecting)
                self._drop(b)
                return
            if r.status == P.S_BUSY:
                self._free_at = time.monotonic() + BUSY_RETRY_S
                continue
            b.status = r.status
            if r.status == P.S_OK:
                self.supported = True
                self._free_at = time.monotonic() + sum(b.pattern) / 1000.0 / self.pod_speed + PACE_MARGIN_S
            self._finished(b)
            if r.status == P.S_UNKNOWN:
                self._unsupported()
            elif r.status != P.S_OK:
                self.dropped += 1
            return

    def _drop(self, b: Buzz) -> None:
        self.dropped += 1
        self._finished(b)

    def _finished(self, b: Buzz) -> None:
        self.done.append(b)
        with self._lock:
            self._open -= 1
            if self._open == 0:
                self._idle.set()

    def _unsupported(self) -> None:
        first = self.supported is not False
        self.supported = False
        while self._waiting:
            self._drop(self._waiting.popleft())
        if first and self.on_unsupported is not None:
            self.on_unsupported(UNSUPPORTED_TEXT)
