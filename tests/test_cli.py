"""The `tiltguard` entry point: sub-commands reach their modules and bad input is one clear line."""
import subprocess
import sys


def tiltguard(*args):
    return subprocess.run([sys.executable, "-m", "tiltguard.host.cli", *args], capture_output=True, text=True)


def test_device_commands_are_reachable_and_fail_cleanly_without_a_board():
    helped = tiltguard("device", "--help")
    assert helped.returncode == 0 and "flash" in helped.stdout and "info" in helped.stdout
    missing = tiltguard("device", "info", "--port", "/dev/no-such-tiltguard")
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "error:" in missing.stderr


def test_unknown_command_is_refused():
    bad = tiltguard("levitate")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
