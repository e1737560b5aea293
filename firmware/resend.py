"""Frames the host missed, sent again: the RAM history's size, the queue of requested seqs, the resend pump.

Every stream frame goes into the history as it is emitted (core.emit); a host that sees a gap in the
sequence numbers asks for the range (C_RESEND) and gets the frames still held, flagged F_RESENT, a few
per control-loop tick so that resends never starve the live stream.
"""
import gc

from tiltguard.firmware import protocol as P
from tiltguard.firmware.history import FrameHistory

HEAP_MARGIN = 24 * 1024  # free heap kept for the app's working objects when sizing the history
BLOCK_FRAMES = 8  # frames a block of the history's ring holds


class Resender:
    def __init__(self, core):
        self.core = core
        self.queue = []  # seqs still to resend, in request order

    def alloc_history(self, rate_hz, spf):
        """Room for history_s seconds of frames, or as much as the heap allows (announced in hello). The ring
        is taken block by block (BLOCK_FRAMES frames each) while HEAP_MARGIN stays free: a heap fragmented by
        the parts made before it has room in many small holes and no large one."""
        core = self.core
        frame = P.OVERHEAD + P.SAMPLES_HEAD_SIZE + P.QUAT_SIZE + P.SAMPLE_SIZE * spf
        fps = rate_hz / spf
        gc.collect()
        budget = core.board.mem_free() - HEAP_MARGIN
        per_s = int(fps * (frame + 1) + 12 * fps) + 64  # ring bytes, slot arrays and list overhead a second
        seconds = min(core.cfg["history_s"], max(1, budget // per_s))
        history = FrameHistory(0, int(fps * seconds) + 8, BLOCK_FRAMES * (frame + 1))
        want = int(fps * (frame + 1) * seconds) + 2 * frame
        while history.nbytes < want and core.board.mem_free() - history.block > HEAP_MARGIN:
            try:
                history.add_block()
            except MemoryError:  # no hole left for a block: the history holds what it has
                break
        core.history = history
        # blocks round the ring up; the slot table holds `seconds` of frames at most
        core.history_s = min(seconds, int(history.nbytes / (fps * (frame + 1))))

    def request(self, first, last):
        """Queue the held frames of first..last (inclusive, modulo 2**32).

        Returns (status, oldest seq held, frames queued), or None when the range is longer than the history
        could ever hold."""
        history = self.core.history
        oldest = history.oldest_seq()
        count = ((last - first) & 0xFFFFFFFF) + 1
        if count > history.nslots:
            return None
        queued = 0
        missing = 0
        for k in range(count):
            s = (first + k) & 0xFFFFFFFF
            if history.find(s) >= 0:
                self.queue.append(s)
                queued += 1
            else:
                missing += 1
        return (P.S_GONE if missing else P.S_OK), (oldest if oldest is not None else 0), queued

    def pump(self, budget=24):
        """Send up to `budget` queued frames to the current link; stops early while the link is busy."""
        core = self.core
        link = core.link
        if link is None:
            return
        while self.queue and budget:
            s = self.queue[0]
            fr = core.history.get(s)
            if fr is not None:
                if not link.send(P.restamp_flags(fr, P.F_RESENT)):
                    return  # link busy: try again next tick
                core.stats["resent"] += 1
            self.queue.pop(0)
            budget -= 1
