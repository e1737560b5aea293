"""`tiltguard calibrate`: the optional six-position accelerometer calibration of a pod, guided pose by pose
and kept per device, with the time it was made, in the session store; `tiltguard calibrate list` shows
what is kept. Sessions that device records afterwards are analysed with it (host.analysis).

The pod streams as for the live view (host.live.link.LiveLink, nothing recorded). Each pose is taken from
the first `--seconds` of stillness after the user says it is in place, so the hand letting go is not in it.
`--sim` is the built-in simulated pod, turned by a simulated user (host.simulator.poses), whose true errors
are printed next to the fit.
"""
from __future__ import annotations


def add_calibrate_commands(sub) -> None:
    p = sub.add_parser("calibrate", help="six-position accelerometer calibration of a pod (guided); list kept "
                                         "calibrations")
    what = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    a = what.add_parser("accel", help="guided six-position accelerometer calibration (bias and scale per axis)")
    src = a.add_mutually_exclusive_group(required=True)
    src.add_argument("--ble", metavar="NAME|ADDR", help="Bluetooth LE device (name or address)")
    src.add_argument("--serial", metavar="PORT", help="USB serial port, e.g. /dev/ttyACM0")
    src.add_argument("--sim", action="store_true", help="the built-in simulated pod, turned by a simulated user")
    a.add_argument("--seconds", type=float, default=3.0, help="still time per pose (default 3)")
    a.add_argument("--timeout", type=float, default=60.0, help="give up on a pose that is not still after this "
                                                                "many seconds (default 60)")
    a.add_argument("--seed", type=int, default=0, help="--sim: which simulated pod")
    a.add_argument("--speed", type=float, default=1.0, help="--sim: device clock speed-up (default 1)")
    a.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")
    a.set_defaults(func=_run_accel)
    lst = what.add_parser("list", help="every kept calibration: device, kind, when, values")
    lst.add_argument("--db", help="session database (default: TILTGUARD_DB, or the user data directory)")
    lst.set_defaults(func=_run_list)




# The guided calibration needs NumPy and the link; imported when the command runs, so `tiltguard --help` stays fast.
def _run_accel(args) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.calibrate_guided import cmd_calibrate_accel

    return cmd_calibrate_accel(args)


def _run_list(args) -> int:
    # imported when the command runs: keeps `tiltguard --help` and the other commands fast
    from tiltguard.host.calibrate_guided import cmd_calibrate_list

    return cmd_calibrate_list(args)
