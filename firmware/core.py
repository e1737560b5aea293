"""The device core that every part of the app plugs into: the state the parts share and the plumbing between them.

Config, device time, stats, the session (start/stop), where a stream frame goes (RAM history, then the
connected host or else the flash log), a registry of command handlers by code, and the list of asyncio
tasks `run()` starts. The parts (sampling, posture, resend, links, peripherals, commands) register here;
firmware/app.py is the composition that builds the core and wires them in.

Hardware comes in through `board` (firmware/board.py on the device, firmware/sim.py on the unix port) and
hosts through `links` (firmware/serial_link.py, firmware/ble.py): no part imports `machine` or
`bluetooth`, so the same code runs on the device and in the firmware-in-the-loop tests.

board: i2c, ticks_us(), ticks_diff(a, b), sleep_ms(ms) (awaitable), button_pressed(), battery_mv(), buzz(on),
       config_path, log_root, mem_free()
link:  name, connected, bonded, max_frame, send(frame) -> bool, poll() -> [frame bytes], set_battery(pct),
       set_cadence(steps per minute)
"""
import asyncio

from tiltguard.firmware import config as cfgmod
from tiltguard.firmware import protocol as P
from tiltguard.firmware.flashlog import FlashLog


class Core:
    """Subclassed by the composition (app.Device), which supplies hello_info(): the hello frame's fields
    come from every part."""

    def __init__(self, board, links, cfg=None):
        self.board = board
        self.links = links
        self.cfg = cfg if cfg is not None else cfgmod.load(board.config_path)
        self.log = FlashLog(board.log_root, also=getattr(board, "log_also", ()))  # storage.py: flash beside a card
        self.history = None  # FrameHistory, sized by the resend part (resend.py) once the sensor is known
        self.history_s = 0
        self.link = None  # the link streamed to (links.py picks it)
        self.seq = 0
        self.running = False
        self.exit = False
        self.dev_us = 0  # unwrapped device time, µs
        self._last_ticks = board.ticks_us()
        self.stats = {"frames": 0, "samples": 0, "logged": 0, "send_fail": 0, "lost": 0, "resent": 0,
                      "cues": 0, "bad_commands": 0}
        self.on_start = []  # fn() called as a session starts, before the hello (sampling resets here)
        self.on_stop = []  # fn() called as a session stops, before its last event (sampling drains here)
        self._commands = {}  # command code -> handler(dev, link, frame)
        self._tasks = []  # async fn() started by run()
        self._log_full_reported = False
        self.last_error = None  # repr() of the last exception a command handler raised
        self.boot_id = _new_boot_id()

    def save_cfg(self):
        try:
            cfgmod.save(self.board.config_path, self.cfg)
        except OSError:
            pass  # a full or read-only filesystem must not stop a run

    def now_us(self):
        t = self.board.ticks_us()
        self.dev_us += self.board.ticks_diff(t, self._last_ticks)
        self._last_ticks = t
        return self.dev_us

    # ------------------------------------------------------------------ frames out
    def next_seq(self):
        s = self.seq
        self.seq = (s + 1) & 0xFFFFFFFF
        return s

    def emit(self, frame, seq):
        """A new stream frame: into the RAM history, then to the host if one is connected, else to flash."""
        self.history.add(seq, frame)
        link = self.link
        if link is not None and link.connected:
            if not link.send(frame):
                self.stats["send_fail"] += 1  # still in the history: the host asks for it by seq
        elif self.running:
            if self.log.f is None:
                self.log.open_new()  # normally opened by open_log, which writes a hello first
            if self.log.append(frame):
                self.stats["logged"] += 1
            elif self.log.full and not self._log_full_reported:
                self._log_full_reported = True
                self.event(P.E_ERROR, 0, P.ERR_LOG_FULL)

    def open_log(self):
        """No host: start a flash log that opens with a hello frame, so every log describes itself."""
        if self.log.f is None:
            try:
                self.log.open_new()
            except OSError:
                self.event(P.E_ERROR, 0, P.ERR_LOG_FULL)
                return
            self.send_hello()
            self.event(P.E_LOG, 1, self.log.current)

    def send_hello(self):
        s = self.next_seq()
        info = self.hello_info()
        info["boot_id"] = self.boot_id  # every hello says which power-up it comes from (docs/protocol.md)
        self.emit(P.encode_hello(s, self.dev_us, info), s)

    def event(self, code, arg=0, value=0):
        s = self.next_seq()
        self.emit(P.encode_event(s, self.now_us(), code, arg, value), s)

    # ------------------------------------------------------------------ session
    def start(self):
        if self.running:
            return
        self.cfg["session"] += 1
        self.save_cfg()
        for fn in self.on_start:
            fn()
        self.running = True
        if self.link is None:
            self.open_log()
        else:
            self.send_hello()
        self.event(P.E_STREAM, 1, self.cfg["session"])

    def stop(self):
        if not self.running:
            return
        for fn in self.on_stop:
            fn()
        self.event(P.E_STREAM, 0, self.cfg["session"])
        self.running = False
        self.log.close()
        self._log_full_reported = False

    # ------------------------------------------------------------------ commands
    def register(self, cmd, handler):
        """handler(dev, link, frame) answers with dev.respond(); an `async def` handler may yield (awaited)."""
        self._commands[cmd] = handler

    def respond(self, link, cmd_frame, status, data=b""):
        link.send(P.encode_response(cmd_frame.seq, self.now_us(), cmd_frame.cmd, status, data))

    async def handle(self, link, raw):
        """One command frame from a link: decoded, then answered by its registered handler."""
        try:
            f = P.decode_frame(raw)
        except P.FrameError:
            self.stats["bad_commands"] += 1
            self._refuse(link, raw)
            return
        if f.type != P.T_COMMAND:
            return
        handler = self._commands.get(f.cmd) if f.args is not None else None
        if handler is None:
            self.respond(link, f, P.S_UNKNOWN)
            return
        pending = handler(self, link, f)
        if pending is not None:  # an async handler's coroutine
            await pending

    def _refuse(self, link, raw):
        """A command that arrived intact but whose arguments do not fit its code (e.g. a longer buzz pattern
        than the protocol carries): answered S_BAD_ARGS, so the host hears why instead of timing out (a
        stranger's link hears S_NOT_BONDED, as for any command it may not give). A damaged frame gets
        nothing: its seq and code cannot be trusted."""
        try:
            ftype, _, seq, _ = P.check_frame(raw)
        except P.FrameError:
            return
        if ftype == P.T_COMMAND and len(raw) > P.OVERHEAD:
            status = P.S_BAD_ARGS if link.bonded else P.S_NOT_BONDED
            link.send(P.encode_response(seq, self.now_us(), raw[P.HEADER_SIZE], status))

    # ------------------------------------------------------------------ tasks
    def add_task(self, fn):
        """fn: an async method that loops until `exit`; run() starts the tasks in the order added."""
        self._tasks.append(fn)

    async def run(self):
        if self.cfg.get("autostart"):
            self.start()
        tasks = [asyncio.create_task(fn()) for fn in self._tasks]
        while not self.exit:
            await self.board.sleep_ms(50)
        self.stop()
        for t in tasks:
            t.cancel()


def _new_boot_id():
    """A random u32 per power-up (no flash write, so a full or read-only flash cannot repeat it)."""
    try:
        import os

        return int.from_bytes(os.urandom(4), "little")
    except (ImportError, AttributeError, OSError):
        import random

        return random.getrandbits(32)
