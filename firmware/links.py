"""Which host link the stream goes to, and the control loop that reads every link's commands.

Only a bonded link carries the stream (a USB cable counts as bonded; a BLE central must have bonded in a
pairing window). Among those, a wired link wins over the radio whatever the order of `core.links`, so a
BLE central that connects never takes the stream from a USB recording; between links of one kind the one
streaming keeps it. Switching matters to the rest of the app: losing the host moves a running session to
a flash log; gaining one closes that log, sizes the frames to the link's largest frame and announces the
device with a hello.
"""
from tiltguard.firmware import protocol as P

TICK_MS = 10  # control-loop period


class LinkSelector:
    def __init__(self, core, sampler, resender, battery):
        self.core = core
        self.sampler = sampler
        self.resender = resender
        self.battery = battery

    def pick(self):
        """The link the stream goes to: bonded and connected, wired first, the current one on a tie."""
        core = self.core
        best = None
        for lk in core.links:
            if not (lk.connected and lk.bonded):
                continue
            rank = 0 if lk.name == "usb" else 1
            if best is None or rank < best[0] or (rank == best[0] and lk is core.link):
                best = (rank, lk)
        return best[1] if best else None

    def update(self):
        core = self.core
        current = self.pick()
        if current is core.link:
            return
        old = core.link
        core.link = current
        if current is None:
            if core.running:
                core.open_log()
            core.event(P.E_LINK, 0, 0)
            return
        self.sampler.fit_frames(current.max_frame)
        if old is None and core.log.f is not None:
            core.log.close()  # this stretch of the run is on flash; the rest goes to the host
        core.send_hello()
        core.event(P.E_LINK, 1, 0)
        if self.battery.pct is not None:
            current.set_battery(self.battery.pct)

    async def task(self):
        """Every TICK_MS: follow the links, answer their commands, send some of the requested resends."""
        core = self.core
        while not core.exit:
            self.update()
            for lk in core.links:
                for raw in lk.poll():
                    try:
                        await core.handle(lk, raw)
                    except Exception as e:  # one bad command must not end the control task
                        core.stats["bad_commands"] += 1
                        core.last_error = repr(e)
                        try:
                            core.event(P.E_ERROR, 0, 0)
                        except Exception:
                            pass
            self.resender.pump()
            await core.board.sleep_ms(TICK_MS)
