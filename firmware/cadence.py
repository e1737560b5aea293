"""Step cadence on the device, for the standard Running Speed and Cadence (RSC) BLE service.

A step is an upward crossing of the vertical specific force (along the fused up vector) through
+0.3 g above gravity, at most one per 0.25 s (240 steps/min); cadence is the reciprocal of the
smoothed step interval. Rough by design (the host's gait analysis is the reference); enough for a
sports watch's cadence field.
"""
try:
    import micropython
except ImportError:  # CPython
    from tiltguard.sensors.compat import micropython

G = 9.80665


class CadenceCounter:
    def __init__(self):
        self.above = False
        self.since_step_s = 10.0
        self.interval_s = 0.0
        self.steps = 0

    @micropython.native
    def update(self, raw, n, acc_scale, ux, uy, uz, dt):
        thr = 0.3 * G
        for i in range(n):
            o = 6 * i
            v = (raw[o] * ux + raw[o + 1] * uy + raw[o + 2] * uz) * acc_scale - G
            self.since_step_s += dt
            if v > thr:
                if not self.above and self.since_step_s >= 0.25:
                    s = self.since_step_s
                    if s < 1.5:  # a plausible step interval: smooth it in
                        self.interval_s = s if self.interval_s == 0.0 else self.interval_s + 0.2 * (s - self.interval_s)
                    self.steps += 1
                    self.since_step_s = 0.0
                self.above = True
            elif v < 0.0:
                self.above = False

    def spm(self):
        """Steps per minute, 0 when no step for 2 s."""
        if self.interval_s <= 0.0 or self.since_step_s > 2.0:
            return 0
        return int(60.0 / self.interval_s + 0.5)
