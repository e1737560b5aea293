"""What the wearer touches and feels, and what the links publish besides frames: the button, the buzzer's
patterns, the battery level and the step cadence (BLE Running Speed and Cadence).

Each is a small part with its own asyncio task (except the buzzer, whose patterns are short tasks of their
own); app.py wires them to the core.
"""
import asyncio

from tiltguard.firmware import protocol as P

SHORT_PRESS_MS = 1000
LONG_PRESS_MS = 1500
BUTTON_POLL_MS = 20
BATTERY_EVERY_MS = 30000
CADENCE_EVERY_MS = 1000


def lipo_percent(mv):
    """State of charge of a 1-cell LiPo at rest from its voltage (typical discharge curve)."""
    curve = ((3300, 0), (3500, 5), (3600, 10), (3700, 25), (3750, 40), (3800, 55), (3900, 70), (4000, 82),
             (4100, 92), (4200, 100))
    if mv <= curve[0][0]:
        return 0
    for i in range(1, len(curve)):
        v1, p1 = curve[i]
        if mv <= v1:
            v0, p0 = curve[i - 1]
            return int(p0 + (p1 - p0) * (mv - v0) / (v1 - v0))
    return 100


class Buzzer:
    def __init__(self, core):
        self.core = core
        self.log = []  # (device ms, duration ms): what the wearer felt

    def play(self, pattern):
        """Start a pattern (on, off, on, ... durations in ms) without waiting for it."""
        asyncio.create_task(self.pattern(pattern))

    async def pattern(self, pattern):
        board = self.core.board
        on = True
        for ms in pattern:
            if on:
                self.log.append((self.core.now_us() // 1000, ms))
            board.buzz(on)
            await board.sleep_ms(ms)
            on = not on
        board.buzz(False)


class Button:
    """Short press: start or stop a session. Long press (held): capture the standing neutral."""

    def __init__(self, core, posture, buzzer):
        self.core = core
        self.posture = posture
        self.buzzer = buzzer

    async def task(self):
        core = self.core
        pressed_at = None
        long_done = False
        while not core.exit:
            now = core.now_us() // 1000
            if core.board.button_pressed():
                if pressed_at is None:
                    pressed_at = now
                    long_done = False
                elif not long_done and now - pressed_at >= LONG_PRESS_MS:
                    long_done = True  # act while still held, so the wearer feels it and lets go
                    core.event(P.E_BUTTON, 2, 0)
                    self.posture.start_capture()
            elif pressed_at is not None:
                if not long_done and now - pressed_at < SHORT_PRESS_MS:
                    core.event(P.E_BUTTON, 1, 0)
                    if core.running:
                        core.stop()
                        self.buzzer.play((100, 100, 100))
                    else:
                        core.start()
                        self.buzzer.play((100,))
                pressed_at = None
            await core.board.sleep_ms(BUTTON_POLL_MS)


class Battery:
    """Battery level to every link (BLE Battery service) and, during a session or to a host, as an event."""

    def __init__(self, core):
        self.core = core
        self.pct = None  # latest reading, for a link that connects later

    async def task(self):
        core = self.core
        while not core.exit:
            mv = core.board.battery_mv()
            pct = lipo_percent(mv)
            self.pct = pct
            for lk in core.links:
                lk.set_battery(pct)
            if core.running or core.link is not None:
                core.event(P.E_BATTERY, pct, mv)
            await core.board.sleep_ms(BATTERY_EVERY_MS)


class Cadence:
    """Once a second, the step cadence (counted by sampling) to the links that publish it."""

    def __init__(self, core, counter):
        self.core = core
        self.counter = counter

    async def task(self):
        core = self.core
        while not core.exit:
            spm = self.counter.spm() if core.running else 0
            for lk in core.links:
                lk.set_cadence(spm)
            await core.board.sleep_ms(CADENCE_EVERY_MS)
