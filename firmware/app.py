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
from tiltguard.firmware.peripherals import Battery, Button, Buzzer, Cadence
from tiltguard.firmware.posture import Posture
from tiltguard.firmware.resend import Resender
from tiltguard.firmware.sampling import Sampler


class Device(Core):
    def __init__(self, board, links, cfg=None):
        Core.__init__(self, board, links, cfg)
        self.buzzer = Buzzer(self)
        self.posture = Posture(self, self.buzzer)
        self.battery = Battery(self)
        self.sampler = sampler = Sampler(self)
        self.cadence = Cadence(self, sampler.cadence)
        self.resender = Resender(self)
        self.link_selector = LinkSelector(self, sampler, self.resender, self.battery)
        self.button = Button(self, self.posture, self.buzzer)

        sampler.after_block.append(self.posture.on_block)
        self.on_start.append(sampler.reset)
        self.on_stop.append(sampler.drain)
        commands.register_all(self)
        self.add_task(sampler.task)
        self.add_task(self.link_selector.task)
        self.add_task(self.button.task)
        self.add_task(self.battery.task)
        self.add_task(self.cadence.task)

        self.resender.alloc_history(sampler.drv.rate_hz, sampler.spf)  # last: sized from the heap left
        gc.collect()

    def hello_info(self):
        link = self.link
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
        }
