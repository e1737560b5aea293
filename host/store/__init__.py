"""Session store: one SQLite file holding devices, sessions, the raw frames as received, calibrations,
analysis results and flags (docs/store.md)."""
from tiltguard.host.store.paths import default_db_path
from tiltguard.host.store.store import CalibrationInfo, SessionInfo, SessionStore
from tiltguard.host.store.writer import SessionWriter

__all__ = ["CalibrationInfo", "SessionInfo", "SessionStore", "SessionWriter", "default_db_path"]
