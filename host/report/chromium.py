"""Headless Chromium for `--format pdf` (print the report's own HTML) and for the rendering tests.

Every run gets a fresh profile directory and the flags that keep a headless browser from phoning home
(background networking, component updates, sync). --no-sandbox only where Chromium refuses to start
without it (running as root, e.g. CI containers).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
QUIET_FLAGS = ("--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
               "--mute-audio")


class ChromiumMissing(OSError):
    """No Chromium/Chrome binary found; the message says how to get one."""


def find_chromium() -> str | None:
    env = os.environ.get("TILTGUARD_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_headless(args: list[str], timeout_s: float = 60.0) -> subprocess.CompletedProcess:
    """Run Chromium headless with `args` (e.g. ['--screenshot=a.png', url]) in a throw-away profile."""
    exe = find_chromium()
    if exe is None:
        raise ChromiumMissing("Chromium not found (install it, e.g. `apt-get install chromium`, or set "
                              "TILTGUARD_CHROMIUM to a Chrome/Chromium binary)")
    with tempfile.TemporaryDirectory(prefix="tiltguard-chromium-") as profile:
        cmd = [exe, *QUIET_FLAGS, f"--user-data-dir={profile}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--no-sandbox")
        proc = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout_s)
    return proc


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, timeout_s: float = 120.0) -> Path:
    """Print an HTML file to PDF with Chromium (A4, the page's print styles, no header/footer)."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    proc = run_headless(["--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.as_uri()], timeout_s)
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise OSError(f"Chromium did not write {pdf_path} (exit {proc.returncode}: {tail[0]})")
    return pdf_path
