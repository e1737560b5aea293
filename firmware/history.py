"""The last N seconds of stream frames kept in RAM, so the host can ask for a gap to be resent.

One preallocated bytearray used as a ring, plus per-slot offset/length/seq arrays: no allocation per frame
and no heap fragmentation on the device. When the byte ring or the slot table is full, the oldest frames
go first.
"""
from array import array


class FrameHistory:
    def __init__(self, nbytes, nslots):
        self.buf = bytearray(nbytes)
        self.nbytes = nbytes
        self.nslots = nslots
        self.off = array("I", [0] * nslots)
        self.length = array("H", [0] * nslots)
        self.seqs = array("I", [0] * nslots)
        self.head = 0  # slot of the oldest frame
        self.count = 0
        self.write_at = 0  # byte offset for the next frame
        self.used = 0  # bytes held

    def add(self, seq, frame):
        n = len(frame)
        if n > self.nbytes:
            return
        # a frame never wraps the ring: if it does not fit before the end, skip to offset 0
        start = self.write_at
        waste = 0
        if start + n > self.nbytes:
            waste = self.nbytes - start
            start = 0
        while self.count and (self.used + waste + n > self.nbytes or self.count == self.nslots):
            self._drop_oldest()
        if self.count == 0:
            start = 0
            waste = 0
            self.used = 0
        self.buf[start : start + n] = frame
        slot = (self.head + self.count) % self.nslots
        self.off[slot] = start
        self.length[slot] = n
        self.seqs[slot] = seq
        self.count += 1
        self.used += waste + n
        self.write_at = start + n

    def _drop_oldest(self):
        h = self.head
        nxt = (h + 1) % self.nslots
        if self.count > 1:
            # bytes freed run from this frame's start to the next frame's start (covers a skipped tail)
            freed = (self.off[nxt] - self.off[h]) % self.nbytes or self.nbytes
        else:
            freed = self.used
        self.used -= freed
        self.head = nxt
        self.count -= 1

    def oldest_seq(self):
        return self.seqs[self.head] if self.count else None

    def newest_seq(self):
        return self.seqs[(self.head + self.count - 1) % self.nslots] if self.count else None

    def find(self, seq):
        """Slot index of frame seq, or -1 (sequence numbers are consecutive within the history)."""
        if not self.count:
            return -1
        k = (seq - self.seqs[self.head]) & 0xFFFFFFFF
        if k >= self.count:
            return -1
        slot = (self.head + k) % self.nslots
        return slot if self.seqs[slot] == seq else -1

    def get(self, seq):
        """A memoryview of frame seq, or None if it has left the history."""
        slot = self.find(seq)
        if slot < 0:
            return None
        o = self.off[slot]
        return memoryview(self.buf)[o : o + self.length[slot]]

    def seconds_held(self, frames_per_s):
        return self.count / frames_per_s if frames_per_s else 0
