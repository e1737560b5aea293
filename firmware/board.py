"""The real hardware (ESP32 + IMU on I²C + button + LiPo divider + vibration motor / buzzer).

Pins follow docs/hardware.md (M5StickC Plus2 defaults) and can be overridden in /board.json. This is the
only firmware module that imports `machine`.
"""
import json
import time

import asyncio
import gc
import machine
from tiltguard.firmware import storage

PINS = {  # M5StickC Plus2: internal MPU-6886 on SDA 21 / SCL 22, button A on 37, buzzer on 2, hold on 4
    "sda": 21, "scl": 22, "i2c_hz": 400000, "button": 37, "button_active_low": True, "battery_adc": 38,
    "battery_divider": 2.0, "buzzer": 2, "buzzer_pwm_hz": 4000, "power_hold": 4,
    "sd": None,  # no microSD slot on the Plus2; see firmware/storage.py for a card in /board.json
    "power_model": "m5stickc-plus2", "battery_mah": 200,  # firmware/power.py
}


class Board:
    config_path = "/tiltguard.json"
    log_root = "/logs"

    def __init__(self, pins=None):
        p = dict(PINS)
        try:
            with open("/board.json") as f:
                p.update(json.load(f))
        except (OSError, ValueError):
            pass
        p.update(pins or {})
        self.pins = p
        if p.get("power_hold") is not None:
            machine.Pin(p["power_hold"], machine.Pin.OUT, value=1)  # keep the battery switched on
        self.i2c = machine.I2C(0, sda=machine.Pin(p["sda"]), scl=machine.Pin(p["scl"]), freq=p["i2c_hz"])
        self.button = machine.Pin(p["button"], machine.Pin.IN, machine.Pin.PULL_UP)
        self.adc = machine.ADC(machine.Pin(p["battery_adc"]))
        try:
            self.adc.atten(machine.ADC.ATTN_11DB)
        except AttributeError:
            pass
        self.buzzer = machine.PWM(machine.Pin(p["buzzer"]), freq=p["buzzer_pwm_hz"], duty_u16=0)
        self.log_root, self.log_medium = storage.choose_log_root(p.get("sd"), "/logs", machine)
        self.log_also = ("/logs",) if self.log_medium == storage.MEDIUM_SD else ()  # unsynced flash logs stay listed
        self.ticks_us = time.ticks_us
        self.ticks_ms = time.ticks_ms
        self.ticks_diff = time.ticks_diff

    def sleep_ms(self, ms):
        return asyncio.sleep_ms(ms)

    def button_pressed(self):
        v = self.button.value()
        return v == 0 if self.pins["button_active_low"] else v == 1

    def battery_mv(self):
        try:
            uv = sum(self.adc.read_uv() for _ in range(8)) // 8
        except AttributeError:
            uv = self.adc.read() * 3300000 // 4095
        return int(uv * self.pins["battery_divider"] / 1000)

    def buzz(self, on):
        self.buzzer.duty_u16(32768 if on else 0)

    def mem_free(self):
        return gc.mem_free()
