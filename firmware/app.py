"""The Tiltguard device app: the core (firmware/core.py) with its parts wired in, in one readable place.

Sample through the FIFO, timestamp, fuse, frame (sampling.py); stream to the connected host or log to flash
(core.py, links.py) and resend what the host missed (resend.py); cue the wearer (posture.py); button,
buzzer, battery and cadence (peripherals.py); answer the host's commands (commands.py). The order of the
wiring below is the order things run in: tasks start in that order, block consumers run in that order.
The board and link interfaces are described in firmware/core.py.
"""
import gc

from tiltguard.firmware import commands
from tiltguard.firmware import config as cfgmod
from tiltguard.firmware.core import Core
from tiltguard.firmware.links import LinkSelector
from tiltguard.firmware.owner import Owner
from tiltguard.firmware.peripherals import Battery, Button, Buzzer, Cadence
from tiltguard.firmware.posture import Posture
from tiltguard.firmware.power import DutyMeter
from tiltguard.firmware.resend import Resender
from tiltguard.firmware.sampling import Sampler


class Device(Core):
    def __init__(self, board, links, cfg=None, cfg_problems=()):
        Core.__init__(self, board, links, cfg)
        # whatever the settings hold, the app starts: a bad value goes back to its default, the hello says why
        self.cfg_problems = list(cfg_problems) + cfgmod.check(self.cfg)
        self.buzzer = Buzzer(self)
        self.owner = Owner(self, self.buzzer)
        self.posture = Posture(self, self.buzzer)
        self.battery = Battery(self)
        self.sampler = sampler = Sampler(self)
        self.cadence = Cadence(self, sampler.cadence)
        self.resender = Resender(self)
        self.link_selector = LinkSelector(self, sampler, self.resender, self.battery)
        self.button = Button(self, self.posture, self.buzzer, self.owner)

        sampler.after_block.append(self.posture.on_block)
        self.on_start.append(sampler.reset)
        self.on_stop.append(sampler.drain)
        commands.register_all(self)
        self.add_task(sampler.task)
        self.add_task(self.link_selector.task)
        self.add_task(self.button.task)
        self.add_task(self.battery.task)
        self.add_task(self.cadence.task)
        board_pins = getattr(board, "pins", {})
        self.power = DutyMeter(self, self.buzzer, board_pins.get("power_model", "esp32-s3"),
                               board_pins.get("battery_mah"))
        self.add_task(self.power.task)
        self.add_task(self.owner.task)

        self.resender.alloc_history(sampler.drv.rate_hz, sampler.spf)  # last: sized from the heap left
        gc.collect()

    async def run(self):
        if await self.button.boot_check():  # factory reset: the parts take the default settings
            self.cfg_problems = []
            self.sampler.start_sensor()
            self.posture.load_neutral()
            self.posture.apply_cue_cfg()
        await Core.run(self)

    def hello_info(self, link=None):
        link = link or self.link
        drv = self.sampler.drv
        n = self.posture.neutral
        return {
            "session": self.cfg["session"],
            "rate_hz": int(drv.rate_hz + 0.5),
            "acc_range_g": drv.acc_range_g,
            "gyr_range_dps": drv.gyr_range_dps,
            "acc_scale": drv.acc_scale,
            "gyr_scale": drv.gyr_scale,
            "max_frame": link.max_frame if link else 0,
            "samples_per_frame": self.sampler.spf,
            "history_s": int(self.history_s),
            "gyr_bias": self.sampler.gbias,
            "neutral": (1.0, n.up[0], n.up[1], n.up[2]) if n else None,
            "firmware": cfgmod.VERSION,
            "sensor": drv.MODEL,
            "name": self.cfg["name"],
            "owner": self.owner.flags(),
            "notice": cfgmod.notice(self.cfg_problems),
            "capacity": self.power.hello_fields() + (getattr(self.board, "log_medium", 0),),
        }
