"""Session store: one SQLite file holding devices, sessions, the raw frames as received, calibrations,
analysis results and flags (docs/store.md)."""
from tiltguard.host.store.paths import default_db_path
from tiltguard.host.store.store import (CalibrationInfo, SessionInfo, SessionStore, StoreDamaged, StoreError,
                                        StoreUnwritable, UnavailableStore)
from tiltguard.host.store.writer import SessionWriter

__all__ = ["CalibrationInfo", "SessionInfo", "SessionStore", "SessionWriter", "StoreDamaged", "StoreError",
           "StoreUnwritable", "UnavailableStore", "default_db_path"]
