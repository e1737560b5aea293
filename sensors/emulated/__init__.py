"""Register-level emulators of the supported IMUs on a fake I²C bus, for tests and benches.

Each emulator keeps the chip's register map, WHO_AM_I, reset behaviour, output data rate, full-scale
quantisation with the datasheet sensitivities, data/temperature output registers and its FIFO (packet
layout, counters, overflow flags, burst-read address behaviour). It is fed with samples in SI units (a
`Source`) and produces them at its ODR as time passes on a clock, so the real driver reads realistic data.
Not modelled: the analogue front end and digital low-pass filters (their registers are kept and can be
read back), self-test, interrupts pins, wake-on-motion.
Everything here runs on MicroPython as well as CPython.
"""
from tiltguard.sensors.emulated.bus import FakeI2C, FileSource, FunctionSource, ListSource, ManualClock
from tiltguard.sensors.emulated.invensense import ICM42688Emulator, MPU6xxxEmulator
from tiltguard.sensors.emulated.st import LSM6DS3Emulator, LSM6DSOXEmulator
