"""After the neutral stand, the forward axis from a held hip hinge, on the pod (the button flow, no host).

As the host's guided calibration does (calibration/hinge.py): tipped 15-100 deg forward from the neutral and
held still for 1.5 s within 20 s. Tipping the pelvis forward moves earth-up towards the pelvis' back, so the
hinge shows which way is forward whatever way round the pod is clipped. Loaded by firmware/posture.py for the
wait only. A lean back held as still looks the same to gravity alone: the host's post-session analysis checks
a hinge by how far the sacrum went down (a sit-down is refused there) and the raw samples are kept.
"""
import math

WAIT_S = 20.0
MIN_DEG = 15.0
MAX_DEG = 100.0
HOLD_S = 1.5
STEADY_DEG = 3.0


def _unit(v):
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)


def _angle_deg(a, b):
    c = a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


class HingeWait:
    def __init__(self, neutral_up):
        self.u0 = _unit(neutral_up)
        self.waited = 0.0
        self.held = 0.0
        self.hold_up = None

    def step(self, up, dt):
        """None while waiting; False when WAIT_S passed without a hinge; else (left axis, hinge angle deg)."""
        self.waited += dt
        if self.waited > WAIT_S:
            return False
        u = _unit(up)
        angle = _angle_deg(u, self.u0)
        if not MIN_DEG <= angle <= MAX_DEG:
            self.held, self.hold_up = 0.0, None
            return None
        if self.hold_up is None or _angle_deg(u, self.hold_up) > STEADY_DEG:
            self.held, self.hold_up = 0.0, u
            return None
        self.held += dt
        if self.held < HOLD_S:
            return None
        u0 = self.u0
        k = u[0] * u0[0] + u[1] * u0[1] + u[2] * u0[2]
        back = _unit((u[0] - k * u0[0], u[1] - k * u0[1], u[2] - k * u0[2]))  # where earth-up went
        fwd = (-back[0], -back[1], -back[2])
        left = (u0[1] * fwd[2] - u0[2] * fwd[1], u0[2] * fwd[0] - u0[0] * fwd[2], u0[0] * fwd[1] - u0[1] * fwd[0])
        return _unit(left), angle
