"""The last N seconds of stream frames kept in RAM, so the host can ask for a gap to be resent.

Preallocated bytearray blocks used as one ring, plus per-slot offset/length/seq arrays: no allocation per
frame and no heap fragmentation on the device. When the byte ring or the slot table is full, the oldest frames
go first.
"""
from array import array


class FrameHistory:
    def __init__(self, nbytes, nslots, block=0):
        """Room for `nbytes` of frames in blocks of `block` bytes (0: one block) and `nslots` frames. Blocks
        need not lie next to each other on the heap (`add_block` grows the ring before use): a fragmented heap
        still holds the history. A frame never straddles two blocks."""
        self.block = block or nbytes
        self.blocks = []
        self.nbytes = 0
        self.nslots = nslots
        # zeroed from a bytearray: a list of nslots ints would take twice the array's room on the heap first
        self.off = array("I", bytearray(4 * nslots))
        self.length = array("H", bytearray(2 * nslots))
        self.seqs = array("I", bytearray(4 * nslots))
        self.head = 0  # slot of the oldest frame
        self.count = 0
        self.write_at = 0  # byte offset for the next frame
        self.used = 0  # bytes held
        while self.nbytes < nbytes:
            self.add_block()

    def add_block(self):
        """One more block of ring (raises MemoryError when none fits). Only before the first frame."""
        self.blocks.append(bytearray(self.block))
        self.nbytes += self.block

    def add(self, seq, frame):
        n = len(frame)
        b = self.block
        if n > b or not self.blocks:
            return
        start = self.write_at if self.write_at < self.nbytes else 0
        waste = 0
        if start % b + n > b:  # it would straddle two blocks: skip to the next block (the first after the last)
            waste = b - start % b
            start = (start + waste) % self.nbytes
        while self.count and (self.used + waste + n > self.nbytes or self.count == self.nslots):
            self._drop_oldest()
        if self.count == 0:
            start = 0
            waste = 0
            self.used = 0
        o = start % b
        self.blocks[start // b][o : o + n] = frame
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
        k = o % self.block
        return memoryview(self.blocks[o // self.block])[k : k + self.length[slot]]

    def seconds_held(self, frames_per_s):
        return self.count / frames_per_s if frames_per_s else 0
