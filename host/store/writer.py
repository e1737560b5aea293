"""SessionWriter: hands frames to the store in committed chunks, at least every `commit_every_s`.

Frames are buffered in memory by the receiving code (cheap, any thread) and a background thread commits
the buffer on a fixed beat, so a stalled event loop or a quiet link does not delay the commit: a host
killed with kill -9 loses at most the frames of the last beat (plus the commit in flight).
"""
from __future__ import annotations

import threading
import time


class SessionWriter:
    def __init__(self, store, session_id: int, commit_every_s: float = 0.25, keep_latencies: int = 200000):
        if not 0 < commit_every_s <= 1.0:
            raise ValueError("commit_every_s must be in (0, 1]: recording commits at least once a second")
        self.store = store
        self.session_id = session_id
        self.commit_every_s = commit_every_s
        self._buf: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_committed = 0
        self.commits = 0
        self.error: BaseException | None = None
        # arrival -> committed delay of every frame (s, host clock), for bench/link.py
        self.latencies: list[float] = []
        self._keep = keep_latencies

    def start(self) -> "SessionWriter":
        self._thread = threading.Thread(target=self._run, name=f"session-writer-{self.session_id}", daemon=True)
        self._thread.start()
        return self

    def add(self, rx_time: float, frame: bytes) -> None:
        with self._lock:
            self._buf.append((rx_time, bytes(frame)))

    def flush(self) -> int:
        with self._lock:
            batch, self._buf = self._buf, []
        try:
            self.store.append_frames(self.session_id, batch)
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

    def _run(self) -> None:
        while not self._stop.wait(self.commit_every_s):
            try:
                self.flush()
            except Exception as exc:  # a full disk or a locked file: keep buffering, retry next beat
                self.error = exc

    def close(self, state: str = "closed", analyse: bool = True) -> None:
        """Commit what is left and close the session (analysed)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        self.store.close_session(self.session_id, state=state, analyse=analyse)
