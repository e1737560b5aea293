"""The store's schema, as an ordered list of migrations; PRAGMA user_version holds the version reached.

A migration is applied in one transaction together with the version bump, so a crash mid-upgrade leaves
the file at the old version, intact. Never edit a migration that has shipped: append a new one.
"""
from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,             -- the name the device announces (hello / advertising)
        address TEXT NOT NULL,          -- BLE address, serial port, 'sim:...' or 'file'
        sensor TEXT,
        firmware TEXT,
        first_seen REAL NOT NULL,       -- unix time, s
        last_seen REAL NOT NULL,
        UNIQUE (name, address)
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        device_id INTEGER REFERENCES devices(id),
        source TEXT NOT NULL,           -- 'live', 'flash', 'csv'
        transport TEXT,                 -- 'ble', 'serial', 'sim', 'file'
        device_session INTEGER,         -- the device's own session counter (hello.session)
        state TEXT NOT NULL,            -- 'recording', 'closed', 'recovered'
        started_at REAL NOT NULL,       -- unix time, s
        ended_at REAL,
        heartbeat REAL,                 -- last commit of a recording writer, unix time
        writer_pid INTEGER,             -- process recording it, for crash detection
        rate_hz REAL,
        sensor TEXT,
        acc_scale REAL,                 -- m/s^2 per LSB (from the hello frame)
        gyr_scale REAL,                 -- rad/s per LSB
        meta TEXT NOT NULL DEFAULT '{}' -- JSON
    );
    CREATE INDEX sessions_state ON sessions(state);
    -- The frames exactly as they arrived (duplicates and resends included), packed per commit.
    CREATE TABLE chunks (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        chunk_no INTEGER NOT NULL,
        first_rx REAL NOT NULL,         -- host arrival time of the first / last frame, unix s
        last_rx REAL NOT NULL,
        n_frames INTEGER NOT NULL,
        data BLOB NOT NULL,             -- host.store.chunks format
        PRIMARY KEY (session_id, chunk_no)
    );
    -- Samples that arrived as a file (CSV import) rather than as frames: numpy .npz of t, acc, gyr, temp_c.
    CREATE TABLE imported_samples (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        data BLOB NOT NULL
    );
    CREATE TABLE calibrations (
        id INTEGER PRIMARY KEY,
        device_id INTEGER REFERENCES devices(id),
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        kind TEXT NOT NULL,             -- 'gyro_bias', 'accel', 'alignment', 'neutral', ...
        created_at REAL NOT NULL,
        data TEXT NOT NULL              -- JSON
    );
    CREATE TABLE analyses (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,             -- 'link', 'pelvis', 'gait', ...
        version INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL,
        result TEXT NOT NULL,           -- JSON
        UNIQUE (session_id, kind)
    );
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,             -- 'anterior_tilt', 'data_gap', ...
        t_start REAL NOT NULL,          -- s from the session's first sample
        t_end REAL NOT NULL,
        severity REAL,
        message TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX flags_session ON flags(session_id);
    """,
    # 2: flash logs are imported once: remember which (device log id + CRC) became which session
    """
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
        origin TEXT NOT NULL,           -- 'flash:<device>:<log id>' or a file path
        crc32 INTEGER,
        size INTEGER,
        imported_at REAL NOT NULL,
        UNIQUE (origin, crc32)
    );
    """,
    # 3: a watch's activity (FIT file) merged with a session: its records and where they sit on the session
    """
    CREATE TABLE watch_streams (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        origin TEXT NOT NULL,           -- the FIT file it came from
        offset_s REAL NOT NULL,         -- watch clock - session clock, s
        offset_sd_s REAL NOT NULL,      -- 1-sigma uncertainty of the offset
        alignment TEXT NOT NULL,        -- JSON: how the offset was found (host.watch.align)
        data BLOB NOT NULL,             -- host.watch.stream.WatchStream.to_bytes (numpy .npz)
        imported_at REAL NOT NULL
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The file was written by a newer Tiltguard: refuse rather than damage it."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found before."""
    (found,) = conn.execute("PRAGMA user_version").fetchone()
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(f"session database has schema version {found}; this Tiltguard knows up to "
                           f"{SCHEMA_VERSION} (upgrade Tiltguard)")
    for version in range(found + 1, SCHEMA_VERSION + 1):
        # executescript would COMMIT first; run statements one by one inside an explicit transaction
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in _statements(MIGRATIONS[version - 1]):
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


def _statements(script: str) -> list[str]:
    out, cur = [], []
    for line in script.splitlines():
        cur.append(line.split("--", 1)[0])
        if sqlite3.complete_statement("\n".join(cur)):
            stmt = "\n".join(cur).strip()
            if stmt.rstrip(";").strip():
                out.append(stmt)
            cur = []
    return out
