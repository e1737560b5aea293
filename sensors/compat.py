"""Small shims so the same device modules (sensors/ and firmware/) import on MicroPython and on CPython.

On MicroPython these are the real `micropython.const`, `@micropython.native`, `time.ticks_*` and
`binascii.crc32`. On CPython (host side, tests) they are plain-Python equivalents with the same wrap-around
semantics. The shims live here, in the lowest layer, so that the drivers never import `firmware`.
"""
import time

try:
    import micropython

    const = micropython.const
    ON_DEVICE_RUNTIME = True
except ImportError:  # CPython
    ON_DEVICE_RUNTIME = False

    def const(x):
        return x

    class micropython:  # noqa: N801 - stands in for the module so `@micropython.native` works unchanged
        """Modules with hot loops do `try: import micropython / except ImportError: from tiltguard.sensors.compat
        import micropython`: MicroPython's compiler recognises the decorator by that exact spelling."""

        const = staticmethod(const)

        @staticmethod
        def native(f):
            return f

        @staticmethod
        def viper(f):
            return f


try:
    ticks_us = time.ticks_us
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add
except AttributeError:  # CPython: emulate MicroPython's wrapping tick counters
    _TICKS_PERIOD = 1 << 30
    _TICKS_HALF = _TICKS_PERIOD // 2

    def ticks_us():
        return (time.perf_counter_ns() // 1000) & (_TICKS_PERIOD - 1)

    def ticks_ms():
        return (time.perf_counter_ns() // 1000000) & (_TICKS_PERIOD - 1)

    def ticks_diff(a, b):
        return ((a - b + _TICKS_HALF) & (_TICKS_PERIOD - 1)) - _TICKS_HALF

    def ticks_add(a, b):
        return (a + b) & (_TICKS_PERIOD - 1)


try:
    from binascii import crc32
except ImportError:  # a port built without binascii.crc32: table-driven IEEE CRC-32, same result
    _CRC_TABLE = None

    def crc32(data, crc=0):
        global _CRC_TABLE
        if _CRC_TABLE is None:
            _CRC_TABLE = []
            for i in range(256):
                c = i
                for _ in range(8):
                    c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
                _CRC_TABLE.append(c)
        crc ^= 0xFFFFFFFF
        for b in data:
            crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF
