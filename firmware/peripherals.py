"""What the wearer touches and feels, and what the links publish besides frames: the button, the buzzer's
patterns, the battery level and the step cadence (BLE Running Speed and Cadence).

Each is a small part with its own asyncio task (except the buzzer, whose patterns are short tasks of their
own); app.py wires them to the core.
"""
import asyncio

from tiltguard.firmware import protocol as P

SHORT_PRESS_MS = 1000
LONG_PRESS_MS = 1500  # held this long, then let go: store the standing neutral
PAIR_PRESS_MS = 6000  # held this long: the pairing window opens (buzz), whatever follows
RESET_HOLD_MS = 5000  # held from power-up this long: factory reset
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


BUZZ_LOG_MAX = 64  # pulses kept in Buzzer.log: a drill buzzes every rep, the RAM must not grow with them
HOST_GAP_MS = 20  # after a host's pattern, before its next: felt apart, never one over the other


class Buzzer:
    def __init__(self, core):
        self.core = core
        self.log = []  # (device ms, duration ms) of the latest BUZZ_LOG_MAX pulses: what the wearer felt
        self.on_ms = 0  # every pulse's length since power-up, added up (power.py's duty cycle)
        self._host_until = 0  # device ms at which the host's last pattern ends

    def play(self, pattern):
        """Start a pattern (on, off, on, ... durations in ms) without waiting for it."""
        asyncio.create_task(self.pattern(pattern))

    def play_host(self, pattern):
        """A host's pattern (C_BUZZ), unless the host's last one still plays: False then (S_BUSY). The host
        paces its patterns (host/link/buzz.py), so a rep's pulse and a set's end never play over each other."""
        now = self.core.now_us() // 1000
        if now < self._host_until:
            return False
        self._host_until = now + sum(pattern) + HOST_GAP_MS
        self.play(pattern)
        return True

    async def pattern(self, pattern):
        board = self.core.board
        log = self.log
        on = True
        for ms in pattern:
            if on:
                if len(log) >= BUZZ_LOG_MAX:
                    del log[0]
                log.append((self.core.now_us() // 1000, ms))
                self.on_ms += ms
            board.buzz(on)
            await board.sleep_ms(ms)
            on = not on
        board.buzz(False)


class Button:
    """Short press: start or stop a session. Held 1.5 s, then let go: capture the standing neutral (the
    capture starts as the hand leaves the pod). Held 6 s: open the pairing window (owner.py), buzzed while
    still held so the wearer feels it and lets go. Held from power-up for 5 s: factory reset (boot_check).
    Events: E_BUTTON arg 1 short press, 2 neutral, 3 pairing window, 4 factory reset."""

    def __init__(self, core, posture, buzzer, owner=None):
        self.core = core
        self.posture = posture
        self.buzzer = buzzer
        self.owner = owner
        self._wait_release = False  # the press that was the factory reset is not a press

    async def boot_check(self):
        """At power-up, before the app's tasks start: the button held for RESET_HOLD_MS is a factory reset.
        Returns True if the reset was done."""
        core = self.core
        board = core.board
        if self.owner is None or not board.button_pressed():
            return False
        t0 = core.now_us() // 1000
        while board.button_pressed():
            if core.now_us() // 1000 - t0 >= RESET_HOLD_MS:
                self.owner.factory_reset()
                core.event(P.E_BUTTON, 4, 0)
                self._wait_release = True
                return True
            await board.sleep_ms(BUTTON_POLL_MS)
        self._wait_release = True  # let go early: nothing happens, not even a short press
        return False

    async def task(self):
        core = self.core
        pressed_at = None
        pair_done = False
        while not core.exit:
            now = core.now_us() // 1000
            if core.board.button_pressed():
                if self._wait_release:
                    pass
                elif pressed_at is None:
                    pressed_at = now
                    pair_done = False
                elif not pair_done and self.owner is not None and now - pressed_at >= PAIR_PRESS_MS:
                    pair_done = True  # act while still held, so the wearer feels it and lets go
                    core.event(P.E_BUTTON, 3, 0)
                    self.owner.open_window()
            else:
                self._wait_release = False
                if pressed_at is not None:
                    held = now - pressed_at
                    if pair_done:
                        pass
                    elif held < SHORT_PRESS_MS:
                        core.event(P.E_BUTTON, 1, 0)
                        if core.running:
                            core.stop()
                            self.buzzer.play((100, 100, 100))
                        else:
                            core.start()
                            self.buzzer.play((100,))
                    elif held >= LONG_PRESS_MS:
                        core.event(P.E_BUTTON, 2, 0)
                        self.posture.start_capture()
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
