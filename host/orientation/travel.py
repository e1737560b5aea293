"""The wearer's travel acceleration, so that starts, stops and corners do not pull the inclination (post mode).

VQF's inclination correction low-passes the specific force in the inertial frame (τ = 3 s) and takes what
is left as gravity. That holds when the body's acceleration averages out within seconds, as foot strikes do;
it does not for a runner setting off (0 → 3.3 m/s in 2.5 s), stopping at a crossing or taking a street
corner (centripetal v·ω ≈ 1.7 m/s² for seconds): the filter reads them as tilt, 2–4° for a few seconds.

Here the travel acceleration is estimated from the whole recording and removed from the accelerometer before
the final VQF run. Model, on a grid of 0.2-s cells (everything is linear, solved as one sparse least squares):
- the cell mean of the horizontal specific force, seen through a slow base orientation (VQF with τ = 100 s,
  whose own error changes slowly), is  dv/dt  +  e (the base's slow tilt error, earth frame)
  +  R·b (an accelerometer bias, fixed in the sensor, which turns with the body in corners);
- the velocity v is zero at rest (stands, red lights) and, between cells, changes little *in a frame turning
  with the body* (the gyro's turn rate about the vertical): a corner turns the velocity without that being a
  travel acceleration, so v·ω comes out of the model, not out of a tuned gain;
- e and b drift slowly (random walks).
Velocity is bounded but its absolute value is not observable over minutes of steady running without stops,
so the part of the estimate slower than two minutes is dropped (the mean travel acceleration over two
minutes is at most a few m/s ÷ 120 s, a few hundredths of a g).

For a body that travels — on foot or by bike — not for hand-held motion: on BROAD (hand-held) the model does
not hold (see docs/validation.md), so `estimate_orientation` uses it only when asked (`travel=True`).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.signal import butter, sosfiltfilt
from scipy.sparse.linalg import spsolve
from tiltguard.host.signal.stillness import still_mask
from vqf import offlineVQF

from . import quaternion as Q

CELL_S = 0.2  # grid of the model; travel events last seconds
BASE_RATE_HZ = 50.0  # the slow base and the cells run on block means at about this rate
FORCE_LOWPASS_HZ = 0.5  # below the stride frequency (0.7-1 Hz), keeps seconds-long travel events
BASE_TAU_S = 100.0  # slow base: its tilt error changes over minutes, not with each start or corner
SIGMA_FORCE = 0.1  # m/s², what is left of the strides in a 0.5-Hz cell mean
SIGMA_TRAVEL_ACC = 0.3  # m/s², acceleration in the frame turning with the body (a start is ~1.3 m/s²)
SIGMA_BASE_DRIFT = 0.01  # m/s² per √s (0.06°/√s): the base's slow tilt error, its own pull included
SIGMA_BIAS_DRIFT = 0.002  # m/s² per √s, accelerometer bias (temperature)
SIGMA_PRIOR = 0.5  # m/s², size of the base error (≈ 3°) and of the initial bias (50 mg)
SIGMA_AT_REST = 0.01  # m/s, velocity during a detected rest
SIGMA_SPEED = 50.0  # m/s, numerical anchor only: no prior on how fast the wearer goes
UNOBSERVED_S = 120.0  # drop estimated travel acceleration slower than this


def travel_compensated_acc(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    """The accelerometer (sensor frame, m/s²) with the estimated travel acceleration removed."""
    # The model lives on 0.2-s cells below 0.5 Hz: block means down to ~50 Hz lose nothing it uses and make
    # the slow base 4x cheaper (a 2-h run at 200 Hz: 2.0 s -> 0.8 s for this step).
    k = max(1, round(rate_hz / BASE_RATE_HZ))
    n = len(acc) // k
    step = max(1, round(CELL_S * rate_hz / k))  # base samples per cell
    n_cells = n // step
    if n_cells < 10:
        return acc
    acc_base = acc[:n * k].reshape(n, k, 3).mean(axis=1)
    gyr_base = gyr[:n * k].reshape(n, k, 3).mean(axis=1)
    base_hz = rate_hz / k
    base = offlineVQF(gyr_base, acc_base, None, 1.0 / base_hz, {"tauAcc": BASE_TAU_S})
    q = base["quat6D"]  # sensor -> earth
    used = n_cells * step
    force = Q.rotate(q, acc_base)[:, :2]  # horizontal specific force, earth frame
    turn_rate = Q.rotate(q, gyr_base - base["bias"])[:, 2]  # about the vertical
    sos = butter(2, FORCE_LOWPASS_HZ / (base_hz / 2), output="sos")
    force = sosfiltfilt(sos, force, axis=0)
    turn_rate = sosfiltfilt(sos, turn_rate)
    cell_force = force[:used].reshape(n_cells, step, 2).mean(axis=1)
    cell_turn = turn_rate[:used].reshape(n_cells, step).sum(axis=1) / base_hz
    # cell mean of the rotation's horizontal rows: how a sensor-fixed bias shows in the earth frame
    cell_R = Q.to_matrix(q[:used])[:, :2, :].reshape(n_cells, step, 2, 3).mean(axis=1)
    # standing still (a person sways, so VQF's rest detector, made for a sensor lying still, misses many
    # stands): the calibration's stillness test (on the block means), or VQF's rest
    still = still_mask(acc_base, gyr_base, base_hz) | base["restDetected"].astype(bool)
    rest_cells = still[:used].reshape(n_cells, step).all(axis=1)
    at_rest = np.zeros(n_cells + 1, bool)  # velocity lives on the cell edges
    at_rest[:-1] |= rest_cells
    at_rest[1:] |= rest_cells

    dt = step / base_hz
    velocity = _fit_velocity(cell_force, cell_R, cell_turn, at_rest, dt)
    travel = np.diff(velocity, axis=0) / dt
    if UNOBSERVED_S and n_cells * dt > UNOBSERVED_S:
        # Edges: a recording that starts (or ends) in motion leaves the estimate an unanchored level there.
        # Mirrored padding as long as the filter's memory keeps that level from ringing into the first
        # minutes (filtfilt's default short odd padding made an 18° inclination error at such a start).
        pad = min(len(travel) - 1, int(3 * UNOBSERVED_S / dt))
        slow = sosfiltfilt(butter(2, 1.0 / UNOBSERVED_S / (0.5 / dt), output="sos"), travel, axis=0,
                           padtype="even", padlen=pad)
        travel = travel - slow
    # back to every sample: cell centres in the original sample times; the base rotation held per block
    t_cells = ((np.arange(n_cells) + 0.5) * step * k - 0.5) / rate_hz
    t = np.arange(len(acc)) / rate_hz
    travel_earth = np.zeros((len(acc), 3))
    travel_earth[:, 0] = np.interp(t, t_cells, travel[:, 0])
    travel_earth[:, 1] = np.interp(t, t_cells, travel[:, 1])
    q_every = q[np.minimum(np.arange(len(acc)) // k, n - 1)]
    return acc - Q.rotate(Q.conjugate(q_every), travel_earth)


class _Rows:
    """Sparse least-squares rows, built block by block (one residual per row)."""

    def __init__(self):
        self.rows, self.cols, self.vals, self.rhs = [], [], [], []
        self.n_rows = 0

    def add(self, terms, rhs=None):
        """terms: (column indices, coefficients) pairs of equal length, one row per index."""
        n = len(terms[0][0])
        r = self.n_rows + np.arange(n)
        for cols, coef in terms:
            self.rows.append(r)
            self.cols.append(np.asarray(cols))
            self.vals.append(np.broadcast_to(np.asarray(coef, float), (n,)))
        self.rhs.append(np.zeros(n) if rhs is None else rhs)
        self.n_rows += n

    def solve(self, n_unknowns: int) -> np.ndarray:
        A = sparse.csr_matrix((np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
                              shape=(self.n_rows, n_unknowns))
        return spsolve((A.T @ A).tocsc(), A.T @ np.concatenate(self.rhs))


def _fit_velocity(force, R_rows, turn, at_rest, dt) -> np.ndarray:
    """Horizontal velocity (n_cells + 1, 2) on the cell edges; see the module docstring for the model."""
    C = len(force)
    iv = np.arange(2 * (C + 1)).reshape(C + 1, 2)  # velocity x, y
    ie = iv.size + np.arange(2 * C).reshape(C, 2)  # base tilt error, earth frame
    ib = iv.size + ie.size + np.arange(3 * C).reshape(C, 3)  # accelerometer bias, sensor frame
    k, k1 = np.arange(C), np.arange(C - 1)
    cos, sin = np.cos(turn), np.sin(turn)
    rows = _Rows()
    for ax in range(2):
        w = 1.0 / SIGMA_FORCE
        rows.add([(iv[k + 1, ax], w / dt), (iv[k, ax], -w / dt), (ie[k, ax], w),
                  *[(ib[k, j], w * R_rows[:, ax, j]) for j in range(3)]], force[:, ax] * w)
        # v_{k+1} - Rz(turn_k) v_k: what changed besides turning with the body
        w = 1.0 / (SIGMA_TRAVEL_ACC * dt)
        if ax == 0:
            rows.add([(iv[k + 1, 0], w), (iv[k, 0], -w * cos), (iv[k, 1], w * sin)])
        else:
            rows.add([(iv[k + 1, 1], w), (iv[k, 0], -w * sin), (iv[k, 1], -w * cos)])
        w = 1.0 / (SIGMA_BASE_DRIFT * np.sqrt(dt))
        rows.add([(ie[k1 + 1, ax], w), (ie[k1, ax], -w)])
        rows.add([(ie[k, ax], 1.0 / SIGMA_PRIOR)])
        rows.add([(iv[:, ax], np.where(at_rest, 1.0 / SIGMA_AT_REST, 1.0 / SIGMA_SPEED))])
    for j in range(3):
        w = 1.0 / (SIGMA_BIAS_DRIFT * np.sqrt(dt))
        rows.add([(ib[k1 + 1, j], w), (ib[k1, j], -w)])
        rows.add([(ib[:1, j], 1.0 / SIGMA_PRIOR)])
    x = rows.solve(iv.size + ie.size + ib.size)
    return x[iv]
