"""On-device orientation: Mahony's complementary filter on SO(3) (Mahony et al. 2008), 6-axis.

Chosen over Madgwick (2010) and VQF (Laidig & Seel 2023) because it is the cheapest per sample (about 60
float operations, no matrix work), which matters at 200 Hz in MicroPython on an ESP32; the host runs the
accurate offline filter on the raw samples anyway. The device's quaternion drives the live tilt cue.
Works in single precision (the ESP32 build's float).
"""
import math

try:
    import micropython
except ImportError:  # CPython
    from tiltguard.sensors.compat import micropython


class Mahony:
    """q = (w, x, y, z) rotates sensor-frame vectors into the earth frame (z up)."""

    def __init__(self, kp=0.2, ki=0.01):
        self.kp = kp
        self.ki = ki
        self.q = [1.0, 0.0, 0.0, 0.0]
        self.bias = [0.0, 0.0, 0.0]  # integral term: gyro bias estimate, rad/s
        self.initialised = False

    def reset_from_accel(self, ax, ay, az):
        """Start level with gravity (heading zero) so the filter does not spend seconds converging."""
        n = math.sqrt(ax * ax + ay * ay + az * az)
        if n < 1e-6:
            return
        ax /= n
        ay /= n
        az /= n
        # rotation taking the measured up (ax, ay, az) to earth z: axis = a x z, angle = acos(a.z)
        w = 1.0 + az
        if w < 1e-6:  # upside down
            self.q = [0.0, 1.0, 0.0, 0.0]
        else:
            qn = math.sqrt(w * w + ay * ay + ax * ax)
            self.q = [w / qn, ay / qn, -ax / qn, 0.0]
        self.initialised = True

    @micropython.native
    def update(self, gx, gy, gz, ax, ay, az, dt):
        q = self.q
        qw = q[0]
        qx = q[1]
        qy = q[2]
        qz = q[3]
        n = ax * ax + ay * ay + az * az
        if n > 0.0:
            # scale by 1/g instead of normalising: while running, the flight phase (|a| near 0) and the
            # impacts would otherwise get full weight in arbitrary directions and bias the tilt by >10°;
            # weighting by |a| makes the correction average to the mean specific force, i.e. gravity
            ax *= 0.10197162
            ay *= 0.10197162
            az *= 0.10197162
            # estimated direction of gravity-up in the sensor frame (third row of R)
            vx = 2.0 * (qx * qz - qw * qy)
            vy = 2.0 * (qw * qx + qy * qz)
            vz = qw * qw - qx * qx - qy * qy + qz * qz
            # error = measured x estimated
            ex = ay * vz - az * vy
            ey = az * vx - ax * vz
            ez = ax * vy - ay * vx
            b = self.bias
            if self.ki > 0.0:
                b[0] += self.ki * ex * dt
                b[1] += self.ki * ey * dt
                b[2] += self.ki * ez * dt
            gx += self.kp * ex + b[0]
            gy += self.kp * ey + b[1]
            gz += self.kp * ez + b[2]
        h = 0.5 * dt
        nw = qw + (-qx * gx - qy * gy - qz * gz) * h
        nx = qx + (qw * gx + qy * gz - qz * gy) * h
        ny = qy + (qw * gy - qx * gz + qz * gx) * h
        nz = qz + (qw * gz + qx * gy - qy * gx) * h
        inv = 1.0 / math.sqrt(nw * nw + nx * nx + ny * ny + nz * nz)
        q[0] = nw * inv
        q[1] = nx * inv
        q[2] = ny * inv
        q[3] = nz * inv

    def up_in_sensor(self):
        """Unit vector of earth-up expressed in the sensor frame."""
        qw, qx, qy, qz = self.q
        return (2.0 * (qx * qz - qw * qy), 2.0 * (qw * qx + qy * qz), qw * qw - qx * qx - qy * qy + qz * qz)
