# ruff: noqa: S608 -- queries are assembled from fixed SQL fragments; values are bound.
"""SQLite storage: clients, tokens, fares, trips, idempotency records, webhook outbox, calls.

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


class Store:
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

    # --- meta ---------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if row is None else row["value"]

    def set_meta(self, key: str, value: str) -> None:
        self._run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- clients ------------------------------------------------------------------------
    def upsert_client(self, client: dict[str, Any], now: float) -> None:
        self._run(
            "INSERT INTO clients (client_id, client_secret, webhook_url, webhook_secret,"
            " rate_limit_per_minute, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (client_id) DO UPDATE SET client_secret = excluded.client_secret,"
            " webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret,"
            " rate_limit_per_minute = excluded.rate_limit_per_minute,"
            " disabled = excluded.disabled",
            (
                client["client_id"],
                client["client_secret"],
                client["webhook_url"],
                client["webhook_secret"],
                client["rate_limit_per_minute"],
                int(client["disabled"]),
                now,
            ),
        )

    def clients(self) -> list[dict[str, Any]]:
        rows = self._all("SELECT * FROM clients ORDER BY client_id")
        return [{**dict(row), "disabled": bool(row["disabled"])} for row in rows]

    def delete_client(self, client_id: str) -> bool:
        with self.transaction() as conn:
            conn.execute("DELETE FROM tokens WHERE client_id = ?", (client_id,))
            return (
                conn.execute("DELETE FROM clients WHERE client_id = ?", (client_id,)).rowcount > 0
            )

    # --- tokens -------------------------------------------------------------------------
    def insert_token(self, token: str, client_id: str, issued_at: float, expires_at: float):
        self._run(
            "INSERT INTO tokens (token, client_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
            (token, client_id, issued_at, expires_at),
        )

    def get_token(self, token: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM tokens WHERE token = ?", (token,))

    def revoke_tokens(self, client_id: str | None = None) -> int:
        if client_id is None:
            return self._run("UPDATE tokens SET revoked = 1 WHERE revoked = 0").rowcount
        return self._run(
            "UPDATE tokens SET revoked = 1 WHERE revoked = 0 AND client_id = ?", (client_id,)
        ).rowcount

    # --- fares --------------------------------------------------------------------------
    def insert_fares(self, rows: list[tuple[str, str, str, float, str]]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO fares (fare_id, client_id, product_id, expires_at, data)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def get_fare(self, fare_id: str, client_id: str) -> dict[str, Any] | None:
        row = self._one(
            "SELECT * FROM fares WHERE fare_id = ? AND client_id = ?", (fare_id, client_id)
        )
        if row is None:
            return None
        return {
            **json.loads(row["data"]),
            "product_id": row["product_id"],
            "expires_at": row["expires_at"],
        }

    # --- trips --------------------------------------------------------------------------
    def insert_trip(self, rec: TripRecord, active: bool) -> None:
        self._run(
            f"INSERT INTO trips ({TRIP_COLUMNS}, status, active)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rec.trip_id,
                rec.client_id,
                rec.external_reference,
                rec.created_us,
                rec.updated_us,
                rec.next_event_sim,
                rec.next_location_at,
                dumps(rec.body),
                dumps(rec.sim),
                rec.status,
                int(active),
            ),
        )

    def save_trip(self, rec: TripRecord, active: bool) -> None:
        self._run(
            "UPDATE trips SET status = ?, active = ?, updated_us = ?, next_event_sim = ?,"
            " next_location_at = ?, body = ?, sim = ? WHERE trip_id = ?",
            (
                rec.status,
                int(active),
                rec.updated_us,
                rec.next_event_sim,
                rec.next_location_at,
                dumps(rec.body),
                dumps(rec.sim),
                rec.trip_id,
            ),
        )

    def trip_exists(self, trip_id: str) -> bool:
        return self._one("SELECT 1 FROM trips WHERE trip_id = ?", (trip_id,)) is not None

    def get_trip(self, trip_id: str) -> TripRecord | None:
        row = self._one(f"SELECT {TRIP_COLUMNS} FROM trips WHERE trip_id = ?", (trip_id,))
        return None if row is None else TripRecord.from_row(row)

    def get_trip_body(self, trip_id: str, client_id: str) -> str | None:
        row = self._one(
            "SELECT body FROM trips WHERE trip_id = ? AND client_id = ?", (trip_id, client_id)
        )
        return None if row is None else row["body"]

    def trip_id_for_reference(self, client_id: str, reference: str) -> str | None:
        row = self._one(
            "SELECT trip_id FROM trips WHERE client_id = ? AND external_reference = ?",
            (client_id, reference),
        )
        return None if row is None else row["trip_id"]

    def list_trip_bodies(
        self,
        client_id: str,
        *,
        active: bool | None,
        updated_since_us: int | None,
        external_reference: str | None,
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[sqlite3.Row]:
        where = ["client_id = ?"]
        params: list[Any] = [client_id]
        if active is not None:
            where.append("active = ?")
            params.append(int(active))
        if updated_since_us is not None:
            where.append("updated_us >= ?")
            params.append(updated_since_us)
        if external_reference is not None:
            where.append("external_reference = ?")
            params.append(external_reference)
        if after is not None:
            where.append("(updated_us, trip_id) > (?, ?)")
            params.extend(after)
        params.append(limit)
        return self._all(
            "SELECT trip_id, updated_us, body FROM trips WHERE "
            + " AND ".join(where)
            + " ORDER BY updated_us, trip_id LIMIT ?",
            params,
        )

    def due_trips(self, sim_now: float, limit: int) -> list[TripRecord]:
        rows = self._all(
            f"SELECT {TRIP_COLUMNS} FROM trips WHERE next_event_sim <= ?"
            " ORDER BY next_event_sim LIMIT ?",
            (sim_now, limit),
        )
        return [TripRecord.from_row(row) for row in rows]

    def location_due_trips(self, now: float, limit: int) -> list[TripRecord]:
        rows = self._all(
            f"SELECT {TRIP_COLUMNS} FROM trips WHERE next_location_at <= ?"
            " ORDER BY next_location_at LIMIT ?",
            (now, limit),
        )
        return [TripRecord.from_row(row) for row in rows]

    def all_trips(
        self, client_id: str | None = None, status: str | None = None, limit: int = 1000
    ) -> list[TripRecord]:
        where, params = [], []
        if client_id:
            where.append("client_id = ?")
            params.append(client_id)
        if status:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {TRIP_COLUMNS} FROM trips"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._all(sql + " ORDER BY created_us, trip_id LIMIT ?", [*params, limit])
        return [TripRecord.from_row(row) for row in rows]

    def trip_counts(self) -> dict[str, int]:
        rows = self._all("SELECT status, COUNT(*) AS n FROM trips GROUP BY status")
        return {row["status"]: row["n"] for row in rows}

    # --- idempotency --------------------------------------------------------------------
    def get_idempotency(self, client_id: str, key: str) -> sqlite3.Row | None:
        return self._one(
            "SELECT * FROM idempotency WHERE client_id = ? AND key = ?", (client_id, key)
        )

    def put_idempotency(
        self,
        client_id: str,
        key: str,
        request_hash: str,
        trip_id: str,
        status: int,
        body: str,
        now: float,
    ) -> None:
        self._run(
            "INSERT OR REPLACE INTO idempotency"
            " (client_id, key, request_hash, trip_id, status, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (client_id, key, request_hash, trip_id, status, body, now),
        )

    def delete_idempotency(self, client_id: str, key: str) -> None:
        self._run("DELETE FROM idempotency WHERE client_id = ? AND key = ?", (client_id, key))

    # --- call log -----------------------------------------------------------------------
    def insert_call(self, call: dict[str, Any]) -> int:
        cursor = self._run(
            "INSERT INTO calls (at, method, path, query, endpoint, client_id, idempotency_key,"
            " trip_id, status, error_code, fault, duration_ms, headers, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                call["at"],
                call["method"],
                call["path"],
                call["query"],
                call["endpoint"],
                call["client_id"],
                call["idempotency_key"],
                call["trip_id"],
                call["status"],
                call["error_code"],
                call["fault"],
                call["duration_ms"],
                dumps(call["headers"]),
                None if call["body"] is None else dumps(call["body"]),
            ),
        )
        return int(cursor.lastrowid or 0)

    def list_calls(
        self,
        *,
        endpoint: str | None = None,
        client_id: str | None = None,
        since: float | None = None,
        after_id: int | None = None,
        method: str | None = None,
        trip_id: str | None = None,
        limit: int = 10_000,
    ) -> list[sqlite3.Row]:
        where, params = ["1 = 1"], []
        for column, value in (
            ("endpoint", endpoint),
            ("client_id", client_id),
            ("method", method),
            ("trip_id", trip_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("at >= ?")
            params.append(since)
        if after_id is not None:
            where.append("id > ?")
            params.append(after_id)
        return self._all(
            "SELECT * FROM calls WHERE " + " AND ".join(where) + " ORDER BY id LIMIT ?",
            [*params, limit],
        )

    # --- webhook outbox -----------------------------------------------------------------
    def insert_webhook(self, row: dict[str, Any]) -> int:
        cursor = self._run(
            "INSERT INTO webhooks (event_id, client_id, trip_id, type, payload, state,"
            " duplicate, held, dropped_reason, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["event_id"],
                row["client_id"],
                row["trip_id"],
                row["type"],
                row["payload"],
                row["state"],
                int(row["duplicate"]),
                int(row["held"]),
                row.get("dropped_reason"),
                row["created_at"],
                row["next_attempt_at"],
            ),
        )
        return int(cursor.lastrowid or 0)

    def claim_due_webhooks(self, now: float, limit: int) -> list[sqlite3.Row]:
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM webhooks WHERE state = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (now, limit),
            ).fetchall()
            if rows:
                marks = ",".join("?" * len(rows))
                conn.execute(
                    f"UPDATE webhooks SET state = 'sending' WHERE id IN ({marks})",
                    [row["id"] for row in rows],
                )
            return rows

    def next_webhook_due(self) -> float | None:
        row = self._one("SELECT MIN(next_attempt_at) AS due FROM webhooks WHERE state = 'pending'")
        return None if row is None else row["due"]

    def finish_webhook_attempt(
        self,
        webhook_id: int,
        *,
        state: str,
        attempts: int,
        status: int | None,
        error: str | None,
        first_attempt_at: float,
        next_attempt_at: float,
        delivered_at: float | None = None,
        dropped_reason: str | None = None,
    ) -> None:
        self._run(
            "UPDATE webhooks SET state = ?, attempts = ?, last_status = ?, last_error = ?,"
            " first_attempt_at = COALESCE(first_attempt_at, ?), next_attempt_at = ?,"
            " delivered_at = ?, dropped_reason = ?, held = CASE WHEN ? = 'pending'"
            " THEN held ELSE 0 END WHERE id = ?",
            (
                state,
                attempts,
                status,
                error,
                first_attempt_at,
                next_attempt_at,
                delivered_at,
                dropped_reason,
                state,
                webhook_id,
            ),
        )

    def release_held_webhooks(self, trip_id: str, before_id: int, event_id: str, now: float):
        """A later event of this trip went out: send the ones held back before it now."""
        self._run(
            "UPDATE webhooks SET held = 0, next_attempt_at = ? WHERE trip_id = ? AND held = 1"
            " AND state = 'pending' AND id < ? AND event_id != ?",
            (now, trip_id, before_id, event_id),
        )

    def requeue_sending_webhooks(self) -> None:
        self._run("UPDATE webhooks SET state = 'pending' WHERE state = 'sending'")

    def list_webhooks(
        self,
        *,
        trip_id: str | None = None,
        client_id: str | None = None,
        state: str | None = None,
        event_type: str | None = None,
        limit: int = 10_000,
    ) -> list[sqlite3.Row]:
        where, params = ["1 = 1"], []
        for column, value in (
            ("trip_id", trip_id),
            ("client_id", client_id),
            ("state", state),
            ("type", event_type),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return self._all(
            "SELECT * FROM webhooks WHERE " + " AND ".join(where) + " ORDER BY id LIMIT ?",
            [*params, limit],
        )

    # --- housekeeping -------------------------------------------------------------------
    def prune(self, now: float, idempotency_ttl: float, call_log_max_rows: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM fares WHERE expires_at < ?", (now - 86_400,))
            conn.execute("DELETE FROM tokens WHERE expires_at < ?", (now - 86_400,))
            conn.execute("DELETE FROM idempotency WHERE created_at < ?", (now - idempotency_ttl,))
            if call_log_max_rows > 0:
                conn.execute(
                    "DELETE FROM calls WHERE id <= (SELECT MAX(id) FROM calls) - ?",
                    (call_log_max_rows,),
                )

    def clear(self, *tables: str) -> None:
        allowed = {"tokens", "fares", "trips", "idempotency", "calls", "webhooks", "clients"}
        with self.transaction() as conn:
            for table in tables:
                if table not in allowed:
                    raise ValueError(table)
                conn.execute(f"DELETE FROM {table}")
