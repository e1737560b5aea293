"""Scenario description: what the wearer does (segments), how the pod sits, and how good the sensor is.

A scenario is data only; `host.simulator.simulate` turns it into samples and truth. Every default
below is documented with its source in docs/simulator.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

KINDS = ("stand", "walk", "run", "ride", "bend")


@dataclass(frozen=True)
class ActivityDefaults:
    """Typical values for one activity; a Segment overrides any of them."""

    cadence: float  # steps/min for walk/run, crank rpm for ride
    speed_mps: float
    tilt_offset_deg: float  # mean tilt relative to the standing neutral (anterior > 0)
    tilt_range_deg: float  # peak-to-peak of the within-cycle tilt oscillation
    drop_deg: float  # peak obliquity (swing-side drop for gait, rock for riding)
    rotation_deg: float  # peak transverse rotation about the mean
    vertical_cm: float  # peak-to-peak vertical oscillation of the sacrum
    impact_g: float  # extra vertical acceleration peak at foot strike


DEFAULTS = {
    # Walking: Perry & Burnfield; pelvis ranges ~3/8/10 deg p-p for tilt/obliquity/rotation.
    "walk": ActivityDefaults(110.0, 1.35, 1.0, 3.0, 4.0, 5.0, 3.5, 0.4),
    # Running at an easy pace: Schache 2000/ Novacheck 1998 (tilt range 5-10 deg, obliquity +-5-8,
    # rotation +-5-10), vertical oscillation 6-10 cm (Cavanagh 1990), sacrum impact peaks 2-4 g.
    "run": ActivityDefaults(168.0, 3.2, 3.0, 6.0, 5.0, 6.0, 8.0, 1.2),
    # Seated pedalling on the hoods: pelvis ~15-25 deg more anterior than standing, small rock.
    "ride": ActivityDefaults(85.0, 8.0, 18.0, 1.0, 2.5, 1.5, 0.3, 0.0),
    # Standing bent forward (tie shoes, stretch): a hip hinge, pelvis 40-60 deg anterior.
    "bend": ActivityDefaults(0.0, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "stand": ActivityDefaults(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
}


@dataclass(frozen=True)
class Mount:
    """How the pod sits on the sacrum, relative to the pelvis frame (x forward, y left, z up).

    Applied as R_pelvis<-sensor = Rz(yaw) Rx(roll) Ry(pitch). roll = 180 is upside down, +-90 sideways.
    """

    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    yaw_deg: float = 0.0


@dataclass(frozen=True)
class SensorErrors:
    """Sensor imperfections, typical of a consumer MEMS IMU (e.g. ICM-42688-P / LSM6DSO datasheets)."""

    gyro_bias_dps: float = 0.3  # 1-sigma constant bias per axis, deg/s
    gyro_drift_dps: float = 0.05  # 1-sigma slow bias wander over minutes, deg/s
    gyro_tempco_dps_per_c: float = 0.01  # bias change per deg C
    gyro_noise_dps_rthz: float = 0.006  # white-noise density, deg/s/sqrt(Hz)
    acc_bias_mg: float = 20.0  # 1-sigma per axis, milli-g
    acc_scale_pct: float = 0.5  # 1-sigma scale error per axis, percent
    acc_noise_ug_rthz: float = 120.0  # white-noise density, micro-g/sqrt(Hz)
    acc_range_g: float = 16.0  # full scale; beyond it the chip clips
    gyro_range_dps: float = 2000.0
    quantise: bool = True  # int16 output at the chosen full scale
    jitter_us: float = 30.0  # 1-sigma deviation of the true sampling instant from the nominal grid
    warmup_c: float = 8.0  # die temperature rise over the first minutes against the body
    gyro_scale_pct: float = 0.5  # 1-sigma sensitivity error per axis, percent
    gyro_cross_axis_pct: float = 0.5  # 1-sigma per axis pair (axis misalignment), percent

    @staticmethod
    def none() -> "SensorErrors":
        """An ideal sensor (for consistency tests)."""
        return SensorErrors(0, 0, 0, 0, 0, 0, 0, 1e9, 1e9, False, 0, 0, 0, 0)


@dataclass(frozen=True)
class Segment:
    """One stretch of activity. None fields take the activity's default."""

    kind: str
    seconds: float
    stretch: bool = False  # stretch segments share whatever `minutes` asks for beyond the fixed ones
    cadence: float | None = None
    speed_mps: float | None = None
    tilt_offset_deg: float | None = None
    tilt_range_deg: float | None = None
    drop_deg: float | None = None
    rotation_deg: float | None = None
    vertical_cm: float | None = None
    impact_g: float | None = None
    grade_pct: float = 0.0  # uphill > 0
    turn_deg: float = 0.0  # heading change spread over the segment (left > 0)
    creep_deg: float = 0.0  # mean tilt rises by this much over the segment and stays risen (fatigue)
    rock_growth: float = 0.0  # riding: relative growth of the pelvic rock over the segment (0.5 = +50 %)
    mount: Mount | None = None  # the pod was re-clipped: this mounting from this segment on

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown segment kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.seconds <= 0:
            raise ValueError(f"segment duration must be positive, got {self.seconds}")

    def value(self, name: str) -> float:
        own = getattr(self, name)
        return getattr(DEFAULTS[self.kind], name) if own is None else own


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    segments: tuple[Segment, ...]
    neutral_tilt_deg: float = 12.0  # absolute standing pelvic tilt (ASIS below PSIS), Levine & Whittle 1996
    mount: Mount = Mount(pitch_deg=-15.0)  # a pod clipped on the sacrum leans back with it
    drop_asymmetry: float = 0.0  # right-side drop = drop*(1+a/2), left-side drop = drop*(1-a/2)
    rotation_asymmetry_deg: float = 0.0  # rotation curve shifted to the left by this much
    step_time_asymmetry: float = 0.0  # fraction: the left step (L->R contact) is shorter by this much
    cadence_cv: float = 0.012  # stride-to-stride variability of cadence (coefficient of variation)
    amplitude_cv: float = 0.06  # stride-to-stride variability of the angle amplitudes
    rotation_cv: float | None = None  # if set, the rotation swing's own variability (poor rotational control)
    tilt_noise_deg: float = 0.3  # stride-to-stride wander of the mean tilt
    stationary: bool = False  # on a treadmill or an indoor trainer: no travel over ground, no speed gained
    errors: SensorErrors = field(default_factory=SensorErrors)

    @property
    def default_minutes(self) -> float:
        return sum(s.seconds for s in self.segments) / 60.0

    def timed_segments(self, minutes: float | None = None) -> tuple[Segment, ...]:
        """Segments with the stretch ones resized so the whole scenario lasts `minutes`."""
        if minutes is None:
            return self.segments
        fixed = sum(s.seconds for s in self.segments if not s.stretch)
        stretch = [s for s in self.segments if s.stretch]
        if not stretch:
            scale = minutes * 60.0 / (fixed or 1.0)
            return tuple(replace(s, seconds=s.seconds * scale) for s in self.segments)
        spare = minutes * 60.0 - fixed
        if spare <= 0:
            raise ValueError(
                f"scenario {self.name!r} needs more than {fixed / 60:.1f} min (its fixed segments); "
                f"asked for {minutes} min"
            )
        old = sum(s.seconds for s in stretch)
        return tuple(replace(s, seconds=s.seconds * spare / old) if s.stretch else s for s in self.segments)


def _run_session(main: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """Wrap the main part of a run in the usual routine: neutral stand, walk out, ..., walk back, stand."""
    return (
        Segment("stand", 10.0),
        Segment("walk", 30.0),
        *main,
        Segment("walk", 30.0),
        Segment("stand", 8.0),
    )


# A standard 400-m track (IAAF, lane 1): two 84.39-m straights and two 115.61-m bends of 36.8-m radius,
# run anticlockwise (left turns).
TRACK_STRAIGHT_M = 84.39
TRACK_BEND_M = 115.61


def _on_track(pieces: tuple[tuple[str, float, float, float], ...]) -> tuple[Segment, ...]:
    """Segments for (kind, metres, speed m/s, cadence) pieces run one after another from the start of a
    straight, cut where the track changes from straight to bend: a bend turns 180° at a steady rate."""
    straight, half = round(TRACK_STRAIGHT_M * 1000), round((TRACK_STRAIGHT_M + TRACK_BEND_M) * 1000)
    out = []
    at = 0  # millimetres run from the start of the home straight (integers: the edges are exact)
    for kind, metres, speed, cadence in pieces:
        left = round(metres * 1000)
        while left > 0:
            pos = at % half
            on_bend = pos >= straight
            d = min(left, (half if on_bend else straight) - pos)
            turn = 180.0 * d / (half - straight) if on_bend else 0.0
            out.append(Segment(kind, d / 1000 / speed, speed_mps=speed, cadence=cadence, turn_deg=turn))
            at += d
            left -= d
    return tuple(out)


def _library() -> dict[str, Scenario]:
    run = Segment("run", 600.0, stretch=True)
    hill_block = (
        Segment("run", 75.0, stretch=True, grade_pct=8.0, cadence=176, speed_mps=2.7),
        Segment("run", 105.0, stretch=True, grade_pct=-8.0, cadence=166, speed_mps=3.3, turn_deg=180),
    )
    scenarios = [
        Scenario(
            "easy-run-neutral",
            "Easy 10-minute run, mean tilt 3 deg above standing neutral: nothing to flag.",
            _run_session((run,)),
        ),
        Scenario(
            "run-fatigue-creep",
            "40-minute run whose mean anterior tilt creeps up 6 deg as the runner tires (fatigue pattern).",
            _run_session((Segment("run", 2400.0, stretch=True, creep_deg=6.0),)),
        ),
        Scenario(
            "run-sustained-anterior",
            "Run with a 4-minute stretch of strong anterior tilt (+9 deg over neutral) in the middle.",
            _run_session(
                (
                    Segment("run", 240.0, stretch=True),
                    Segment("run", 240.0, tilt_offset_deg=9.0),
                    Segment("run", 240.0, stretch=True),
                )
            ),
        ),
        Scenario(
            "run-hill-repeats",
            "Four 75-s hill repeats at 8 % with jog-down recoveries: brief forward lean, not sustained tilt.",
            _run_session((Segment("run", 240.0, stretch=True), *hill_block * 4, Segment("run", 120.0))),
        ),
        Scenario(
            "run-hill-sprints",
            "Six 20-s uphill sprints at 15 %: the pelvis tips well past the threshold, but only briefly.",
            _run_session((Segment("run", 180.0, stretch=True),
                          *(Segment("run", 20.0, grade_pct=15.0, cadence=186, speed_mps=4.2, tilt_offset_deg=6.0),
                            Segment("run", 90.0, cadence=160, speed_mps=2.6)) * 6)),
        ),
        # Pace and hill scenarios for the watch analysis (docs/watch.md): on the level the mean tilt rises
        # 6 deg per m/s of speed and crosses the 5-deg sustained-tilt threshold at 4:30 /km (1000/270 m/s).
        Scenario(
            "run-pace-ladder",
            "Progression run in 150-s steps from 5:33 to 3:42 /km: the tilt rises with pace and becomes "
            "sustained above 4:30 /km (the documented pace threshold).",
            _run_session(tuple(
                Segment("run", 150.0, stretch=True, speed_mps=v, cadence=c, tilt_offset_deg=5 + 6 * (v - 1000 / 270))
                for v, c in ((3.0, 160), (3.3, 165), (3.5, 169), (3.9, 175), (4.2, 179), (4.5, 184)))),
        ),
        Scenario(
            "run-rolling-hills",
            "Rolling route: level stretches at four paces (threshold 4:30 /km as in run-pace-ladder), 6 % "
            "climbs run well, 6 % descents with overstriding (+7 deg tilt): short, quick steps downhill.",
            _run_session((
                Segment("run", 120.0, stretch=True, speed_mps=3.2, cadence=164, tilt_offset_deg=5 + 6 * (3.2 - 1000 / 270)),
                Segment("run", 100.0, grade_pct=6.0, speed_mps=2.8, cadence=168, tilt_offset_deg=2.0),
                Segment("run", 120.0, stretch=True, speed_mps=3.9, cadence=175, tilt_offset_deg=5 + 6 * (3.9 - 1000 / 270)),
                Segment("run", 100.0, grade_pct=-6.0, speed_mps=3.6, cadence=162, tilt_offset_deg=7.0, turn_deg=180),
                Segment("run", 120.0, stretch=True, speed_mps=3.5, cadence=169, tilt_offset_deg=5 + 6 * (3.5 - 1000 / 270)),
                Segment("run", 100.0, grade_pct=6.0, speed_mps=2.8, cadence=168, tilt_offset_deg=2.0),
                Segment("run", 120.0, stretch=True, speed_mps=4.2, cadence=179, tilt_offset_deg=5 + 6 * (4.2 - 1000 / 270)),
                Segment("run", 100.0, grade_pct=-6.0, speed_mps=3.6, cadence=162, tilt_offset_deg=7.0, turn_deg=180),
            )),
        ),
        Scenario(
            "run-asymmetric-drop",
            "Run with a larger right-side pelvic drop (during left stance) and a 4 % step-time asymmetry.",
            _run_session((Segment("run", 600.0, stretch=True, drop_deg=7.0),)),
            drop_asymmetry=0.6,
            step_time_asymmetry=0.04,
            rotation_asymmetry_deg=2.0,
        ),
        Scenario(
            "run-unstable-rotation",
            "Run whose pelvic rotation swing changes a lot from stride to stride (poor rotational control).",
            _run_session((Segment("run", 600.0, stretch=True, rotation_deg=7.0),)),
            rotation_cv=0.35,
        ),
        Scenario(
            "walk-to-run",
            "Brisk walk that turns into a run, then back to a walk: cadence 115 -> 172 -> 112 spm.",
            (
                Segment("stand", 10.0),
                Segment("walk", 120.0, stretch=True, cadence=115, speed_mps=1.5),
                Segment("run", 360.0, stretch=True, cadence=172, speed_mps=3.4),
                Segment("walk", 120.0, stretch=True, cadence=112, speed_mps=1.4),
                Segment("stand", 8.0),
            ),
        ),
        Scenario(
            "run-turns-stops",
            "City run: 90-degree corners, a crossing stop and a U-turn; pauses must not break the analysis.",
            _run_session(
                (
                    Segment("run", 120.0, stretch=True),
                    Segment("run", 20.0, turn_deg=90),
                    Segment("run", 120.0, stretch=True),
                    Segment("stand", 25.0),
                    Segment("run", 120.0, stretch=True, turn_deg=-90),
                    Segment("run", 15.0, turn_deg=180),
                    Segment("run", 120.0, stretch=True),
                )
            ),
        ),
        Scenario(
            "run-street-corners",
            "City loop: 90° street corners taken in 3 s (~30°/s), a 6-s U-turn and stop-and-go at two crossings.",
            _run_session(
                (
                    Segment("run", 60.0, stretch=True),
                    Segment("run", 3.0, turn_deg=90),
                    Segment("run", 60.0, stretch=True),
                    Segment("run", 3.0, turn_deg=-90),
                    Segment("run", 45.0, stretch=True),
                    Segment("stand", 12.0),  # a red light
                    Segment("run", 60.0, stretch=True),
                    Segment("run", 3.0, turn_deg=90),
                    Segment("run", 60.0, stretch=True),
                    Segment("run", 6.0, turn_deg=180),
                    Segment("run", 45.0, stretch=True),
                    Segment("stand", 12.0),
                    Segment("run", 60.0, stretch=True),
                )
            ),
        ),
        Scenario(
            "track-intervals",
            "400-m track: jog there, a warm-up lap, 4 x 400 m fast (4.8 m/s) with 200-m jogs; the bends are "
            "long steady turns (7.5 deg/s, centripetal 0.6 m/s^2 at speed) that must not read as tilt.",
            (
                Segment("stand", 10.0),
                Segment("walk", 30.0),
                Segment("run", 120.0, stretch=True, speed_mps=3.0, cadence=164),  # the jog to the track
                *_on_track((("run", 400.0, 3.0, 164.0),
                            *(("run", 400.0, 4.8, 184.0), ("run", 200.0, 2.6, 158.0)) * 4)),
                Segment("walk", 30.0),
                Segment("stand", 8.0),
            ),
        ),
        Scenario(
            "treadmill-run",
            "Treadmill: stand by it, walk on the belt, 10-minute run at 1 % incline, walk, stand. No travel over "
            "ground, so the direction of travel cannot tell forward from backward: the foot strikes must.",
            (
                Segment("stand", 10.0),
                Segment("walk", 30.0),
                Segment("run", 600.0, stretch=True, grade_pct=1.0),
                Segment("walk", 30.0),
                Segment("stand", 8.0),
            ),
            stationary=True,
        ),
        Scenario(
            "stand-tie-shoes",
            "Run, stop, bend forward 20 s to tie a shoe, stand, run on: the bend is not running tilt.",
            _run_session(
                (
                    Segment("run", 240.0, stretch=True),
                    Segment("stand", 5.0),
                    Segment("bend", 20.0),
                    Segment("stand", 5.0),
                    Segment("run", 240.0, stretch=True),
                )
            ),
        ),
        Scenario(
            "sensor-upside-down",
            "Easy run with the pod clipped upside down and pitched 25 deg: the angles must not care.",
            _run_session((run,)),
            mount=Mount(pitch_deg=25.0, roll_deg=180.0, yaw_deg=4.0),
        ),
        Scenario(
            "run-sensor-reclipped",
            "Run where the pod is taken off and clipped back on differently during a stop.",
            _run_session(
                (
                    Segment("run", 240.0, stretch=True),
                    Segment("stand", 8.0),
                    Segment("stand", 12.0, mount=Mount(pitch_deg=10.0, roll_deg=3.0, yaw_deg=-5.0)),
                    Segment("run", 240.0, stretch=True),
                )
            ),
        ),
        Scenario(
            "walk-easy",
            "Ten minutes of comfortable walking with two turns.",
            (
                Segment("stand", 10.0),
                Segment("walk", 280.0, stretch=True),
                Segment("walk", 20.0, turn_deg=180),
                Segment("walk", 280.0, stretch=True),
                Segment("stand", 10.0),
            ),
        ),
        Scenario(
            "ride-steady",
            "20-minute seated ride at 85 rpm on the hoods: steady forward saddle tilt, small pelvic rock.",
            (
                Segment("stand", 10.0),
                Segment("ride", 1200.0, stretch=True),
                Segment("stand", 8.0),
            ),
        ),
        Scenario(
            "trainer-ride",
            "20 minutes on an indoor trainer at 90 rpm: no travel, so the saddle posture must tell forward "
            "from backward.",
            (
                Segment("stand", 10.0),
                Segment("ride", 1200.0, stretch=True, cadence=90),
                Segment("stand", 8.0),
            ),
            stationary=True,
        ),
        Scenario(
            "ride-rolling",
            "Ride over rolling roads: gears and cadence change with the climbs and descents (72-98 rpm), a "
            "stop at a red light; a bike computer's record of it aligns from those changes.",
            (
                Segment("stand", 10.0),
                Segment("ride", 240.0, stretch=True, cadence=85, speed_mps=8.0),
                Segment("ride", 180.0, cadence=72, speed_mps=5.0, grade_pct=5.0),
                Segment("ride", 120.0, cadence=95, speed_mps=11.0, grade_pct=-3.0),
                Segment("ride", 120.0, stretch=True, cadence=88, speed_mps=8.0),
                Segment("stand", 15.0),
                Segment("ride", 120.0, cadence=70, speed_mps=4.5, grade_pct=6.0),
                Segment("ride", 120.0, cadence=98, speed_mps=12.0, grade_pct=-4.0),
                Segment("ride", 180.0, stretch=True, cadence=85, speed_mps=8.0),
                Segment("stand", 8.0),
            ),
        ),
        Scenario(
            "ride-fatigue",
            "45-minute ride where the pelvis rolls forward 5 deg and the rock grows 60 % as the rider tires.",
            (
                Segment("stand", 10.0),
                Segment("ride", 2700.0, stretch=True, cadence=88, creep_deg=5.0, rock_growth=0.6),
                Segment("stand", 8.0),
            ),
        ),
        Scenario(
            "ride-drops",
            "Ride with a 5-minute stretch in the drops (pelvis 8 deg further forward): normal for riding.",
            (
                Segment("stand", 10.0),
                Segment("ride", 300.0, stretch=True),
                Segment("ride", 300.0, tilt_offset_deg=26.0),
                Segment("ride", 300.0, stretch=True),
                Segment("stand", 8.0),
            ),
        ),
    ]
    return {s.name: s for s in scenarios}


SCENARIOS: dict[str, Scenario] = _library()


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; `tiltguard scenarios` lists them") from None
