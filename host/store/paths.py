"""Where the session database lives: one file under the user's data directory, overridable."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DB_NAME = "sessions.sqlite3"


def default_db_path() -> Path:
    """TILTGUARD_DB (a file) wins; then TILTGUARD_HOME/tiltguard/;
    else the platform's user data directory (platformdirs: ~/.local/share/tiltguard on Linux)."""
    if os.environ.get("TILTGUARD_DB"):
        return Path(os.environ["TILTGUARD_DB"])
    if os.environ.get("TILTGUARD_HOME"):
        return Path(os.environ["TILTGUARD_HOME"]) / "tiltguard" / DB_NAME

    return Path(platformdirs.user_data_dir("tiltguard", appauthor=False)) / DB_NAME
