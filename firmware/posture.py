"""The wearer's posture on the device: capture and store the standing neutral, then the forward axis from a
held hip hinge, and run the sustained-tilt cue.

The maths is in firmware/cue.py; this part feeds it once per FIFO block (sampling's `after_block`), turns
its results into events and buzz patterns, and keeps the neutral and the cue settings in the config.
"""
from tiltguard.firmware import protocol as P
from tiltguard.firmware.cue import Neutral, TiltCue

NEUTRAL_S = 1.0  # seconds of the fused up-vector averaged into the neutral
# stored (long), then two quick taps: now hinge forward from the hips and hold (firmware/hinge.py)
BUZZ_NEUTRAL_NOW_HINGE = (800, 300, 60, 120, 60)


class Posture:
    def __init__(self, core, buzzer):
        self.core = core
        self.buzzer = buzzer
        self.neutral = None
        self.load_neutral()
        self.cue = TiltCue()
        self.apply_cue_cfg()
        self._neutral_acc = None  # [sum x, sum y, sum z, samples] while a capture runs
        self._hinge = None  # a HingeWait (firmware/hinge.py) while waiting for one after the neutral

    def load_neutral(self):
        cfg = self.core.cfg
        up = cfg.get("neutral_up")
        self.neutral = Neutral(up, cfg["left_axis"]) if up else None

    def apply_cue_cfg(self):
        c = self.core.cfg
        self.cue.enabled = bool(c["cue_enabled"])
        self.cue.threshold_deg = c["cue_threshold_deg"]
        self.cue.hold_s = c["cue_hold_s"]
        self.cue.repeat_s = c["cue_repeat_s"]

    def start_capture(self):
        """Average the next NEUTRAL_S of up-vectors into the neutral (starts a session if none runs)."""
        self._neutral_acc = [0.0, 0.0, 0.0, 0]
        if not self.core.running:
            self.core.start()

    def on_block(self, sampler, n, up):
        dt = sampler.dt
        na = self._neutral_acc
        if na is not None:
            na[0] += up[0]
            na[1] += up[1]
            na[2] += up[2]
            na[3] += n
            if na[3] * dt >= NEUTRAL_S:
                self._neutral_acc = None
                self._store_neutral((na[0], na[1], na[2]))
        if self._hinge is not None:
            result = self._hinge.step(up, n * dt)
            if result is not None:
                self._hinge_done(result)
        if self.neutral is not None:
            tilt = self.neutral.tilt_deg(up)
            r = self.cue.update(tilt, n * dt)
            if r == 1:
                self.core.stats["cues"] += 1
                self.core.event(P.E_CUE, 1, int(self.cue.smoothed * 100))
                self.buzzer.play((400, 200, 400))
            elif r == -1:
                self.core.event(P.E_CUE, 0, int(self.cue.smoothed * 100))

    def _store_neutral(self, up):
        n = (up[0] * up[0] + up[1] * up[1] + up[2] * up[2]) ** 0.5
        self.core.cfg["neutral_up"] = [up[0] / n, up[1] / n, up[2] / n]
        self.load_neutral()
        self.cue.smoothed = None
        self.cue.above_s = 0.0
        self.core.save_cfg()
        self.core.event(P.E_NEUTRAL, 1, 0)
        self.buzzer.play(BUZZ_NEUTRAL_NOW_HINGE)
        # loaded for the wait only, dropped after (an ESP32 without PSRAM has ~110 kB of heap for everything)
        from tiltguard.firmware.hinge import HingeWait

        self._hinge = HingeWait(self.neutral.up)

    def _hinge_done(self, result):
        import sys

        import tiltguard.firmware as pkg

        self._hinge = None
        sys.modules.pop("tiltguard.firmware.hinge", None)
        if hasattr(pkg, "hinge"):
            delattr(pkg, "hinge")
        if result is False:  # no hinge in time: the configured forward axis stays
            self.core.event(P.E_HINGE, 0, 0)
            return
        left, angle = result
        self.core.cfg["left_axis"] = list(left)
        self.load_neutral()
        self.core.save_cfg()
        self.core.event(P.E_HINGE, 1, int(angle * 100))
        self.buzzer.play((800,))
