"""SessionWriter: hands frames to the store in committed chunks, at least every `commit_every_s`.

Frames are buffered in memory by the receiving code (cheap, any thread) and a background thread commits
the buffer on a fixed beat, so a stalled event loop or a quiet link does not delay the commit: a host
killed with kill -9 loses at most the frames of the last beat (plus the commit in flight).

When the store cannot take a commit (read-only or immutable file, full disk, damaged file) the writer says
so at once (`on_problem`, one line) and goes on into a spool file (host/store/spool.py) that the next start
moves into the database; it also watches the free space and warns when less than 10 minutes fit.
"""
from __future__ import annotations

import sqlite3
import threading
import time

from tiltguard.host.store import space
from tiltguard.host.store.spool import Spool, SpoolError


def store_error_text(exc: BaseException) -> str:
    """A write error of the store in words, for one line."""
    msg = str(exc) or type(exc).__name__
    if "readonly" in msg or "read-only" in msg or isinstance(exc, PermissionError):
        return f"the session database is read-only ({msg})"
    if "full" in msg or getattr(exc, "errno", None) == 28:
        return f"the disk is full ({msg})"
    if "malformed" in msg or "not a database" in msg:
        return f"the session database is damaged ({msg})"
    return msg


class SessionWriter:
    def __init__(self, store, session_id: int | None, commit_every_s: float = 0.25, keep_latencies: int = 200000,
                 *, spool_header: dict | None = None, on_problem=None, rate_hz: float | None = None,
                 samples_per_frame: int | None = None, space_check_s: float = 5.0, spool_reason: str | None = None,
                 space_warned: bool = False):
        """`session_id` None: the store could not even begin the session, everything goes to the spool.
        `spool_header`: what the spool needs to begin the session later (device, hello fields); without it
        a store error is only kept in `error` and the frames stay buffered (retried each beat).
        `on_problem(kind, message)`: 'store_error', 'spooling', 'spool_failed', 'disk_low', 'recovered'."""
        if not 0 < commit_every_s <= 1.0:
            raise ValueError("commit_every_s must be in (0, 1]: recording commits at least once a second")
        self.store = store
        self.session_id = session_id
        self.commit_every_s = commit_every_s
        self._buf: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_committed = 0
        self.commits = 0
        self.error: BaseException | None = None
        self.spool: Spool | None = None
        self.spool_header = spool_header
        self.spool_reason = spool_reason  # why the session could not be begun in the store (session_id None)
        self.on_problem = on_problem
        self.problems: list[tuple[str, str]] = []
        self.bps = space.bytes_per_second(rate_hz, samples_per_frame)
        self.space_check_s = space_check_s
        self._next_space_check = 0.0
        self._space_warned = space_warned  # told already (e.g. by the check before the recording)
        # arrival -> committed delay of every frame (s, host clock), for bench/link.py
        self.latencies: list[float] = []
        self._keep = keep_latencies

    def start(self) -> "SessionWriter":
        self.check_space()
        self._thread = threading.Thread(target=self._run, name=f"session-writer-{self.session_id}", daemon=True)
        self._thread.start()
        return self

    def add(self, rx_time: float, frame: bytes) -> None:
        with self._lock:
            self._buf.append((rx_time, bytes(frame)))

    def _tell(self, kind: str, message: str) -> None:
        self.problems.append((kind, message))
        if self.on_problem is not None:
            try:
                self.on_problem(kind, message)
            except Exception:  # noqa: BLE001 - a view that fails to show a message must not stop the recording
                pass

    @property
    def spooling(self) -> bool:
        return self.spool is not None

    def flush(self) -> int:
        with self._flush_lock:
            with self._lock:
                batch, self._buf = self._buf, []
            try:
                self._write(batch)
            except BaseException:
                with self._lock:  # nothing is dropped: the batch goes back in front of what came since
                    self._buf[:0] = batch
                raise
        done = time.time()
        self.frames_committed += len(batch)
        self.commits += 1
        if len(self.latencies) < self._keep:
            self.latencies.extend(done - rx for rx, _ in batch)
        return len(batch)

    def _write(self, batch: list[tuple[float, bytes]]) -> None:
        if self.spool is None and self.session_id is not None:
            try:
                self.store.append_frames(self.session_id, batch)
                return
            except (sqlite3.Error, OSError) as exc:
                self.error = exc
                if self.spool_header is None:
                    raise
                self._start_spool(f"cannot store the recording: {store_error_text(exc)}")
        if self.spool is None:
            self._start_spool(self.spool_reason or "the session database cannot be written")
        self.spool.append(batch)

    def _start_spool(self, why: str) -> None:
        header = dict(self.spool_header or {}, session_id=self.session_id)
        try:
            self.spool = Spool.create(self.store.path, header)
        except SpoolError as exc:
            self.error = exc
            if not any(k == "spool_failed" for k, _ in self.problems):
                self._tell("spool_failed", f"{why}; and {exc}: frames kept in memory, retried every beat")
            raise
        self._tell("spooling", f"{why}; recording continues into {self.spool.path} "
                               "(moved into the database at the next start)")

    def check_space(self) -> float | None:
        """Seconds of recording left where it is written; warns once below 10 minutes."""
        where = self.spool.path if self.spool is not None else self.store.path
        left = space.seconds_left(where, self.bps)
        if left is not None and left < space.WARN_S and not self._space_warned:
            self._space_warned = True
            self._tell("disk_low", space.low_space_message(where, left))
        return left

    def _run(self) -> None:
        while not self._stop.wait(self.commit_every_s):
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - no spool either: keep buffering, retry next beat
                self.error = exc
            now = time.monotonic()
            if now >= self._next_space_check:
                self._next_space_check = now + self.space_check_s
                self.check_space()

    def close(self, state: str = "closed", analyse: bool = True) -> None:
        """Commit what is left and close the session (analysed). A spooled session stays open in the
        database: its spool is moved in (and the session closed) now if the database takes it, else at the
        next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.flush()
        except (sqlite3.Error, OSError) as exc:  # neither the store nor any spool takes them: say what is lost
            self._tell("lost", f"{len(self._buf)} frames could not be written anywhere ({store_error_text(exc)})")
            return
        if self.spool is None:
            try:
                self.store.close_session(self.session_id, state=state, analyse=analyse)
            except (sqlite3.Error, OSError) as exc:  # stored but not closed: recovered at the next start
                self._tell("store_error", f"session {self.session_id} is stored but could not be closed "
                                          f"({store_error_text(exc)}); it is closed at the next start")
            return
        self.spool.close()
        try:
            done = self.store.recover_spools(only=[self.spool.path], state=state)
        except (sqlite3.Error, OSError, AttributeError):
            done = []
        if done:
            self.session_id = done[0]
            self._tell("recovered", f"the spooled recording is now stored as session {done[0]}")
