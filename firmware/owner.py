"""Who controls the pod: the pairing window, a new owner, forgetting owners, and the factory reset.

The pod has an owner once a central bonded with it (firmware/ble.py keeps the keys on flash). Bonds are
made only in the pairing window, opened on the pod itself by holding the button (peripherals.Button) and
confirmed by a buzz; it shuts after PAIR_WINDOW_MS or at the first new bond (a second buzz, so the owner
feels it happen). A few times a second the links are policed: an owned pod keeps no central that cannot
prove a bond. Holding the button at power-up is the factory reset: bonds and settings go back to none
and the defaults (flash logs stay: they are the owner's unsynced recordings).
"""
from tiltguard.firmware import config as cfgmod
from tiltguard.firmware import protocol as P

PAIR_WINDOW_MS = 60000
POLICE_MS = 100
BUZZ_WINDOW_OPEN = (150, 100, 150, 100, 150)
BUZZ_NEW_OWNER = (600,)
BUZZ_FORGOTTEN = (100, 100, 600)
BUZZ_FACTORY_RESET = (1000,)


class Owner:
    def __init__(self, core, buzzer):
        self.core = core
        self.buzzer = buzzer
        self.window_until = None  # device ms at which the pairing window shuts

    def _radios(self):
        return [lk for lk in self.core.links if hasattr(lk, "allow_pairing")]

    def owned(self):
        for lk in self._radios():
            if lk.has_bonds():
                return True
        return False

    def window_open(self):
        return self.window_until is not None

    def flags(self):
        return (P.HO_OWNED if self.owned() else 0) | (P.HO_PAIRING if self.window_open() else 0)

    def open_window(self):
        self.window_until = self.core.now_us() // 1000 + PAIR_WINDOW_MS
        for lk in self._radios():
            lk.allow_pairing(True)
        self.buzzer.play(BUZZ_WINDOW_OPEN)

    def close_window(self):
        self.window_until = None
        for lk in self._radios():
            lk.allow_pairing(False)

    def forget(self):
        for lk in self._radios():
            lk.forget_all()
        self.buzzer.play(BUZZ_FORGOTTEN)

    def factory_reset(self):
        """Bonds forgotten, settings back to the defaults (the session counter goes on: ids stay unique)."""
        core = self.core
        for lk in self._radios():
            lk.forget_all()
        session = core.cfg.get("session", 0)
        core.cfg.clear()
        core.cfg.update(cfgmod.DEFAULTS)
        core.cfg["session"] = session if isinstance(session, int) and not isinstance(session, bool) else 0
        core.save_cfg()
        self.buzzer.play(BUZZ_FACTORY_RESET)

    async def task(self):
        core = self.core
        while not core.exit:
            now = core.now_us() // 1000
            if self.window_until is not None and now >= self.window_until:
                self.close_window()
            owned = self.owned()
            for lk in self._radios():
                if lk.new_bond:
                    lk.new_bond = False
                    self.close_window()  # one owner per window
                    self.buzzer.play(BUZZ_NEW_OWNER)
                lk.police(now, owned)
            await core.board.sleep_ms(POLICE_MS)
