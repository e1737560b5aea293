"""Where the flash log lives: a microSD card when the board has one (MicroPython's `machine.SDCard`), else
the internal flash. Same log format on both (firmware/flashlog.py); chosen at every power-up.

The card is described in /board.json (firmware/board.py) as "sd": {"slot": 2, "sck": .., "mosi": ..,
"miso": .., "cs": ..} for an SPI card (the ESP32-S3 DevKit with a microSD breakout, the XIAO ESP32S3 Sense)
or {"slot": 1} for a board wired to the SDMMC host; "sd": null (the M5StickC Plus2: no slot) skips it. A
card that is missing or fails to mount falls back to the flash, and the hello says which medium is in use.
"""
import os

SD_MOUNT = "/sd"
MEDIUM_FLASH = 0
MEDIUM_SD = 1


def mount_sd(sd_cfg, machine=None):
    """Mount the card at SD_MOUNT; True if it is there and writable."""
    if not sd_cfg:
        return False
    try:
        if machine is None:
            import machine
        args = {}
        for k in ("slot", "width", "sck", "mosi", "miso", "cs", "freq"):
            v = sd_cfg.get(k)
            if v is None:
                continue
            args[k] = machine.Pin(v) if k in ("sck", "mosi", "miso", "cs") else v
        card = machine.SDCard(**args)
        try:
            os.mount(card, SD_MOUNT)
        except OSError:
            pass  # already mounted (a soft reset keeps the mount)
        probe = SD_MOUNT + "/.tiltguard"
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
        return True
    except (ImportError, AttributeError, OSError, ValueError, TypeError):
        return False  # no card, no SDCard in this build, wrong pins: the flash it is


def choose_log_root(sd_cfg, flash_root="/logs", machine=None):
    """(directory for the logs, MEDIUM_SD or MEDIUM_FLASH)."""
    if mount_sd(sd_cfg, machine):
        return SD_MOUNT + "/logs", MEDIUM_SD
    return flash_root, MEDIUM_FLASH
