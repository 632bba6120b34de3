# ruff: noqa: S608 -- queries are assembled from fixed SQL fragments; values are bound.
"""The sandbox's SQLite database: its tables, the connection and its transactions, the
trip record read from a trip row, and the compact JSON the rows store.

One connection, used from the event loop, behind a re-entrant lock. A trip row keeps
its public JSON (``body``) ready to send, next to the columns the queries need, so a
list answer is built from stored text without decoding every trip.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    client_secret TEXT NOT NULL,
    webhook_url TEXT,
    webhook_secret TEXT NOT NULL,
    rate_limit_per_minute INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS fares (
    fare_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trips (
    trip_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    external_reference TEXT NOT NULL,
    status TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    next_event_sim REAL,
    next_location_at REAL,
    body TEXT NOT NULL,
    sim TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS trips_reference ON trips (client_id, external_reference);
CREATE INDEX IF NOT EXISTS trips_updated ON trips (client_id, updated_us, trip_id);
CREATE INDEX IF NOT EXISTS trips_active_updated
    ON trips (client_id, active, updated_us, trip_id);
CREATE INDEX IF NOT EXISTS trips_status ON trips (status);
CREATE INDEX IF NOT EXISTS trips_next_event ON trips (next_event_sim)
    WHERE next_event_sim IS NOT NULL;
CREATE INDEX IF NOT EXISTS trips_next_location ON trips (next_location_at)
    WHERE next_location_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
    client_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    trip_id TEXT,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (client_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    endpoint TEXT,
    client_id TEXT,
    idempotency_key TEXT,
    trip_id TEXT,
    status INTEGER,
    error_code TEXT,
    fault TEXT,
    duration_ms REAL,
    headers TEXT NOT NULL,
    body TEXT
);
CREATE INDEX IF NOT EXISTS calls_endpoint ON calls (endpoint, id);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    trip_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    duplicate INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    dropped_reason TEXT,
    created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    first_attempt_at REAL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS webhooks_due ON webhooks (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhooks_trip ON webhooks (trip_id, id);
"""

TRIP_COLUMNS = (
    "trip_id, client_id, external_reference, created_us, updated_us, "
    "next_event_sim, next_location_at, body, sim"
)


@dataclass
class TripRecord:
    trip_id: str
    client_id: str
    external_reference: str
    created_us: int
    updated_us: int
    body: dict[str, Any]
    sim: dict[str, Any] = field(default_factory=dict)
    next_event_sim: float | None = None
    next_location_at: float | None = None

    @property
    def status(self) -> str:
        return self.body["status"]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> TripRecord:
        return cls(
            trip_id=row["trip_id"],
            client_id=row["client_id"],
            external_reference=row["external_reference"],
            created_us=row["created_us"],
            updated_us=row["updated_us"],
            next_event_sim=row["next_event_sim"],
            next_location_at=row["next_location_at"],
            body=json.loads(row["body"]),
            sim=json.loads(row["sim"]),
        )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Database:
    """The connection: one write transaction at a time, reads under the same lock."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested uses join the outer one."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.conn.execute("COMMIT")

    def _all(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: tuple | list = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def _run(self, sql: str, params: tuple | list = ()) -> sqlite3.Cursor:
        with self.transaction() as conn:
            return conn.execute(sql, params)
