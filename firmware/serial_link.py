"""USB serial (CDC) link: COBS-framed frames over the REPL's stream, resynchronising after garbage.

The host counts as connected from its first valid frame until it has been silent for SILENCE_MS; it keeps
the link with a PING at least once a second. Over a cable the host is trusted like a bonded one (physical
access). The REPL's Ctrl-C handling is switched off while the app runs (binary data may contain 0x03);
the C_EXIT command switches it back on, which `tiltguard device flash` uses before mpremote takes over.
"""
from tiltguard.firmware import protocol as P

SILENCE_MS = 3000


class SerialLink:
    name = "usb"

    def __init__(self, stream_in, stream_out, ticks_ms, ticks_diff, max_frame=512):
        self.inp = stream_in
        self.out = stream_out
        self.ticks_ms = ticks_ms
        self.ticks_diff = ticks_diff
        self.max_frame = max_frame
        self.bonded = True
        self.deframer = P.SerialDeframer(max_frame, decode=False)
        self.last_heard = None
        self._poll = None
        try:
            import select

            self._poll = select.poll()
            self._poll.register(stream_in, select.POLLIN)
        except (ImportError, AttributeError, OSError):
            self._poll = None

    @property
    def connected(self):
        return self.last_heard is not None and self.ticks_diff(self.ticks_ms(), self.last_heard) < SILENCE_MS

    def send(self, frame):
        if not self.connected:
            return False
        try:
            self.out.write(P.cobs_encode(frame))
            return True
        except OSError:
            return False

    def poll(self):
        frames = []
        if self._poll is None:
            return frames
        while self._poll.poll(0):
            try:
                data = self.inp.read(1)  # USB CDC on MicroPython: read what is there, byte by byte
            except OSError:
                break  # nobody holds the other end (cable out): not an error of ours, try again later
            if not data:
                break
            frames.extend(self.deframer.feed(data))
        if frames:
            self.last_heard = self.ticks_ms()
        return frames

    def set_battery(self, pct):
        pass

    def set_cadence(self, spm):
        pass
