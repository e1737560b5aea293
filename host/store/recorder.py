"""Recorder: a transport's frames -> a gap-free stored session.

* every frame that arrives is stored as received (chunks, committed at least once a second);
* stream sequence numbers are tracked: a hole (a dropped link, a damaged frame) is asked for again with
  C_RESEND as soon as the link is up, until it is filled or the device says it no longer holds it;
* a dropped link is re-established by the transport's own connect() (bleak-retry-connector for BLE, the
  port reappearing for USB), then the device's fresh hello re-joins the same session;
* device time is mapped to host time (host.clock.ClockMap), for live views and latency figures.
Frames that fail their CRC are counted, never fatal.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import struct
import time
from dataclasses import dataclass, field

from tiltguard.firmware import protocol as P
from tiltguard.host.clock import ClockMap, DeviceTime, SeqTracker
from tiltguard.host.link.transport import LinkDown, Transport
from tiltguard.host.store import SessionStore, SessionWriter, space
from tiltguard.host.store.writer import store_error_text

log = logging.getLogger(__name__)

RESEND_RETRY_S = 1.5  # ask again for a hole not filled within this time
RESEND_MAX = 200  # frames per C_RESEND request (the device refuses more than its history slots)
COMMAND_TIMEOUT_S = 2.0


@dataclass
class LinkStats:
    frames: int = 0
    stream_frames: int = 0
    samples_decoded: int = 0
    integrity_errors: int = 0  # frames that failed CRC / length checks here
    duplicates: int = 0
    reordered: int = 0
    resend_requests: int = 0
    frames_filled: int = 0
    frames_given_up: int = 0  # holes the device could no longer fill
    link_drops: int = 0
    reconnects: int = 0
    decode_latency_s: list = field(default_factory=list)  # arrival -> decoded and handed on, per frame
    last_error: str | None = None


class Recorder:
    def __init__(self, transport: Transport, store: SessionStore, *, start_stream: bool = True,
                 commit_every_s: float = 0.25, on_samples=None, on_problem=None) -> None:
        """`on_problem(kind, message)`: the store cannot take the recording (it goes on into a spool), the
        disk is nearly full, the device restarted: one line for the user, at once (any thread)."""
        self.t = transport
        self.store = store
        self.on_problem = on_problem
        self.problems: list[tuple[str, str]] = []
        self.restarts: list[float] = []  # host time at which each restart of the device was seen
        self._writers: list[SessionWriter] = []  # every session this recorder wrote, in order
        self.space_warned = False
        self._continue: SessionWriter | None = None  # the writer a restarted device's recording goes on in
        self._last_rx = None
        self.start_stream = start_stream
        self.commit_every_s = commit_every_s
        self.on_samples = on_samples  # callback(frame, host time of first sample) for live views
        self.stats = LinkStats()
        self.tracker = SeqTracker()
        self.clock = ClockMap()
        self._devtime = DeviceTime()
        self._cmd_seq = 1
        self._pending: dict[int, asyncio.Future] = {}
        self._requested: dict[int, float] = {}  # missing seq -> when last asked for
        self._sessions: list[tuple[int, int, SessionWriter]] = []  # (hello seq, device session, writer)
        self._orphans: list[tuple[float, bytes, int]] = []  # stream frames before the first hello
        self.hello: P.Frame | None = None
        self._hellos: list[tuple[int, P.Frame]] = []  # (unwrapped seq, hello)
        self._asked_hello = False
        self.stream_stopped = asyncio.Event()
        self._up = asyncio.Event()
        self._down = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        transport.on_frame = self._on_frame
        transport.on_link = self._on_link

    # ------------------------------------------------------------------ sessions
    @property
    def session_ids(self) -> list[int]:
        return [w.session_id for w in self._writers if w.session_id is not None]

    @property
    def spools(self) -> list:
        """Spool files still holding frames the store could not take (moved in at the next start)."""
        return [w.spool.path for w in self._writers if w.spool is not None and w.spool.path.exists()]

    def check_space(self) -> float | None:
        """Before recording: seconds of recording the disk under the store holds; tells below 10 min."""
        left = space.seconds_left(self.store.path, space.bytes_per_second(None))
        if left is not None and left < space.WARN_S and not self.space_warned:
            self.space_warned = True
            self._problem("disk_low", space.low_space_message(self.store.path, left))
        return left

    def _problem(self, kind: str, message: str) -> None:
        if kind == "disk_low":
            self.space_warned = True
        self.problems.append((kind, message))
        if kind in ("store_error", "spooling", "spool_failed"):
            self.stats.last_error = message
        if self.on_problem is not None:
            self.on_problem(kind, message)

    def _writer_for(self, seq: int) -> SessionWriter | None:
        s = self.tracker.unwrap(seq)
        best = None
        for hseq, _, w in self._sessions:
            if hseq <= s:
                best = w
        return best if best is not None else (self._sessions[0][2] if self._sessions else None)

    def _hello_for(self, seq_unwrapped: int) -> tuple[int, P.Frame] | None:
        best = None
        for hseq, h in self._hellos:
            if hseq <= seq_unwrapped and (best is None or hseq > best[0]):
                best = (hseq, h)
        if best is None and self._hellos:  # joined mid-stream: the hello asked for came after the samples
            best = (seq_unwrapped, min(self._hellos, key=lambda x: x[0])[1])
        return best

    def _session_for_samples(self, seq_unwrapped: int) -> None:
        """A store session starts with the first samples of a device session (an idle device's hello
        makes none); a new device session number starts a new store session."""
        found = self._hello_for(seq_unwrapped)
        if found is None:
            return
        hseq, f = found
        if any(ds == f.session for _, ds, _ in self._sessions):
            return
        if self._sessions and hseq < self._sessions[-1][0]:
            return  # a resent frame of an earlier device session
        if self._continue is not None:  # the device restarted: its recording goes on in the same store session
            w, self._continue = self._continue, None
            self._sessions.append((hseq, f.session, w))
            for rx, raw, seq in self._orphans:
                if self.tracker.unwrap(seq) >= hseq:
                    w.add(rx, raw)
            self._orphans.clear()
            return
        device = {"name": f.name or self.t.device_name or "Tiltguard", "address": self.t.address,
                  "sensor": f.sensor, "firmware": f.firmware}
        session = {"source": "live", "transport": self.t.name, "device_session": f.session, "rate_hz": f.rate_hz,
                   "sensor": f.sensor, "acc_scale": f.acc_scale, "gyr_scale": f.gyr_scale,
                   "meta": {"firmware": f.firmware, "max_frame": f.max_frame, "history_s": f.history_s,
                            "samples_per_frame": f.samples_per_frame}}
        started = time.time()
        try:
            dev = self.store.device(**device)
            sid = self.store.begin_session(dev, started_at=started, **session)
        except (sqlite3.Error, OSError) as exc:  # the store cannot be written: the writer spools (and says so)
            sid, why = None, f"cannot store the recording: {store_error_text(exc)}"
        else:
            why = None
        w = SessionWriter(self.store, sid, self.commit_every_s, spool_header={
            "device": device, "session": session, "started_at": started}, on_problem=self._problem,
            rate_hz=f.rate_hz, samples_per_frame=f.samples_per_frame, spool_reason=why,
            space_warned=self.space_warned).start()
        self._writers.append(w)
        self._sessions.append((hseq, f.session, w))
        for rx, raw, seq in self._orphans:
            if self.tracker.unwrap(seq) >= hseq:
                w.add(rx, raw)
        self._orphans.clear()

    # ------------------------------------------------------------------ arrivals
    def _on_frame(self, raw: bytes, rx: float) -> None:
        self.stats.frames += 1
        try:
            f = P.decode_frame(raw)
        except P.FrameError as exc:
            self.stats.integrity_errors += 1
            self.stats.last_error = str(exc)
            return
        if f.type == P.T_RESPONSE:
            fut = self._pending.pop(f.seq, None)
            if fut is not None and not fut.done():
                fut.set_result(f)
            return
        if f.type == P.T_COMMAND:
            return
        self.stats.stream_frames += 1
        resent = bool(f.flags & P.F_RESENT)
        if f.type == P.T_HELLO and self._is_restart(f, resent):
            self._restart(f, rx)
        self._last_rx = rx
        what = self.tracker.add(f.seq, resent)
        s = self.tracker.unwrap(f.seq)
        if what == "duplicate":
            self.stats.duplicates += 1
        elif what == "filled":
            self.stats.frames_filled += 1
            self._requested.pop(s, None)
        if f.type == P.T_HELLO:
            self.hello = f
            self._hellos.append((s, f))
            waiting = [self.tracker.unwrap(q) for _, raw_, q in self._orphans if raw_[1] == P.T_SAMPLES]
            if waiting and not self._sessions:
                self._session_for_samples(min(waiting))
        elif f.type == P.T_SAMPLES and what != "duplicate":
            if self._hello_for(s) is None and not self._asked_hello:
                self._asked_hello = True  # joined mid-stream: the device describes itself on request
                self._spawn(self._ask_hello())
            self._session_for_samples(s)
        w = self._writer_for(f.seq)
        if w is None:
            self._orphans.append((rx, bytes(raw), f.seq))
        else:
            w.add(rx, raw)  # every copy, as received
        if what == "duplicate":
            return
        if f.type == P.T_SAMPLES:
            t_last = self._devtime.unwrap(f.t_us) + (f.n - 1) * f.period_ns / 1000.0
            if not resent:
                self.clock.add(t_last, rx)
            self.stats.samples_decoded += f.n
            if self.on_samples is not None:
                self.on_samples(f)
            self.stats.decode_latency_s.append(time.time() - rx)
        elif f.type == P.T_EVENT and f.code == P.E_STREAM and f.arg == 0:
            self.stream_stopped.set()

    def _is_restart(self, f: P.Frame, resent: bool) -> bool:
        """A hello from a new power-up of the device: a new boot id, or (a device without one) a fresh
        hello numbered below what this boot already sent."""
        if self.hello is None:
            return False
        old, new = getattr(self.hello, "boot_id", None), getattr(f, "boot_id", None)
        if old is not None and new is not None:
            return old != new
        s = self.tracker.unwrap(f.seq)
        return not resent and self.tracker.highest is not None and s < self.tracker.highest \
            and s not in self.tracker.missing

    def _restart(self, f: P.Frame, rx: float) -> None:
        """The device restarted (brown-out, watchdog): its counters start again. The recording goes on in the
        same store session as a new segment; nothing of the new boot is matched against the old one."""
        gap = rx - self._last_rx if self._last_rx is not None else 0.0
        self.restarts.append(rx)
        self._problem("restart", f"the pod restarted ({gap:.1f} s without data); recording goes on as a new "
                                 "segment of the same session")
        self.tracker = SeqTracker()
        self._devtime = DeviceTime()
        self.clock = ClockMap()
        self._requested.clear()
        self._hellos = []
        self._orphans.clear()
        if self._sessions:  # the new boot's first recording continues the current store session
            self._continue = self._sessions[-1][2]
            self._sessions = []

    def _on_link(self, up: bool) -> None:
        if up:
            self._down.clear()
            self._up.set()
        else:
            self.stats.link_drops += 1
            self._up.clear()
            self._down.set()
            self._requested.clear()  # ask again for everything once the link is back
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(LinkDown("link dropped while waiting for a response"))
            self._pending.clear()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        task.add_done_callback(_quiet)

    async def _ask_hello(self) -> None:
        try:
            await self.command(P.C_HELLO)
        except (LinkDown, asyncio.TimeoutError):
            pass

    # ------------------------------------------------------------------ commands
    async def command(self, cmd: int, *args, timeout: float = COMMAND_TIMEOUT_S) -> P.Frame:
        if not self.t.connected:
            raise LinkDown("not connected")
        seq = self._cmd_seq
        self._cmd_seq = (seq + 1) & 0xFFFFFFFF or 1
        fut = asyncio.get_running_loop().create_future()
        self._pending[seq] = fut
        try:
            await self.t.write(bytes(P.encode_command(seq, int(time.monotonic() * 1e6), cmd, *args)))
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(seq, None)

    # ------------------------------------------------------------------ gap recovery
    async def fill_gaps(self) -> None:
        """Ask for every hole not asked for recently; give up on what the device no longer holds."""
        now = time.monotonic()
        for a, b in self.tracker.missing_ranges():
            span = [s for s in range(self.tracker.unwrap(a), self.tracker.unwrap(a) + ((b - a) % 2**32) + 1)
                    if now - self._requested.get(s, -1e9) > RESEND_RETRY_S]
            if not span:
                continue
            for k in range(0, len(span), RESEND_MAX):
                part = span[k : k + RESEND_MAX]
                first, last = part[0], part[-1]
                for s in range(first, last + 1):
                    self._requested[s] = now
                self.stats.resend_requests += 1
                r = await self.command(P.C_RESEND, first % 2**32, last % 2**32)
                if r.status == P.S_GONE and len(r.data) >= 4:
                    (oldest,) = struct.unpack_from("<I", r.data, 0)
                    gone_to = self.tracker.unwrap(oldest) - 1
                    if gone_to >= first:
                        self.stats.frames_given_up += self.tracker.give_up(first % 2**32, min(gone_to, last) % 2**32)

    # The background tasks end once `stop` is set, not only when cancelled: in Python 3.11 a task cancelled while
    # asyncio.wait_for awaits a command's reply that has just arrived returns the reply and loses the cancel, and
    # run() would then wait on that task for ever after Stop.
    async def _gap_task(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(0.1)
            if self.t.connected and self.tracker.missing and self._sessions:
                try:
                    await self.fill_gaps()
                except (LinkDown, asyncio.TimeoutError, ConnectionError) as exc:
                    self.stats.last_error = f"resend: {exc}"

    async def _keepalive_task(self, stop: asyncio.Event) -> None:
        while self.t.keepalive_s and not stop.is_set():
            await asyncio.sleep(self.t.keepalive_s)
            if self.t.connected:
                try:
                    await self.command(P.C_PING)
                except (LinkDown, asyncio.TimeoutError, ConnectionError):
                    pass

    async def _link_task(self, stop: asyncio.Event) -> None:
        """Keep the link up: connect, then after every drop reconnect (transport-specific retries)."""
        first = True
        while not stop.is_set():
            if not self.t.connected:
                try:
                    await self.t.connect()
                except (OSError, ConnectionError, asyncio.TimeoutError, RuntimeError) as exc:
                    if f"connect: {exc}" != self.stats.last_error:  # a new reason (not the owner, ...): say it once
                        self._problem("connect_failed", f"cannot connect: {exc}; retrying")
                    self.stats.last_error = f"connect: {exc}"
                    await asyncio.sleep(self.t.reconnect_delay_s)
                    continue
                if not first:
                    self.stats.reconnects += 1
                first = False
                self._spawn(self._after_connect())
            await _wait_any(stop, self._down)

    async def _after_connect(self) -> None:
        try:
            if self.t.keepalive_s:
                await self.command(P.C_PING)  # a serial device counts a host as present from its first frame
            if self.start_stream:
                await self.command(P.C_START)
            if self.hello is None or self.stats.reconnects:  # after a reconnect: has the device restarted?
                await self.command(P.C_HELLO)
        except (LinkDown, asyncio.TimeoutError, ConnectionError) as exc:
            self.stats.last_error = f"start: {exc}"

    # ------------------------------------------------------------------ run
    async def run(self, duration_s: float | None = None, stop: asyncio.Event | None = None,
                  drain_s: float = 5.0, stop_device: bool = True) -> list[int]:
        """Record until `duration_s` has passed or `stop` is set; returns the store session ids."""
        stop = stop or asyncio.Event()
        tasks = [asyncio.ensure_future(c) for c in (self._link_task(stop), self._gap_task(stop),
                                                   self._keepalive_task(stop))]
        try:
            if duration_s is not None:
                try:
                    await asyncio.wait_for(stop.wait(), duration_s)
                except asyncio.TimeoutError:
                    pass
            else:
                await stop.wait()
            stop.set()
            await self._finish(drain_s, stop_device)
        finally:
            stop.set()  # (also when run() itself is cancelled): the tasks end even if a cancel is lost
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for w in self._writers:
                w.close()
            self.stats.integrity_errors += self.t.integrity_errors
            try:
                await self.t.disconnect()
            except Exception:  # closing a link that is already gone
                pass
        return self.session_ids

    async def _finish(self, drain_s: float, stop_device: bool) -> None:
        """Stop the stream, then wait (bounded) for its last frames and for the holes to be filled."""
        deadline = time.monotonic() + drain_s
        if stop_device and self.t.connected:
            try:
                await self.command(P.C_STOP)
                await asyncio.wait_for(self.stream_stopped.wait(), max(0.1, deadline - time.monotonic()))
            except (LinkDown, asyncio.TimeoutError, ConnectionError):
                pass
        while self.tracker.missing and time.monotonic() < deadline:
            if self.t.connected:
                try:
                    await self.fill_gaps()
                except (LinkDown, asyncio.TimeoutError, ConnectionError):
                    pass
            await asyncio.sleep(0.05)


async def _wait_any(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


def _quiet(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("background task failed: %r", task.exception())
