# ruff: noqa: S608 -- queries are assembled from fixed SQL fragments; values are bound.
"""The sandbox's store: clients, tokens, fares, trips and idempotency records, plus the call
log and webhook outbox it inherits (sandbox/journal.py) on the database of
sandbox/database.py; and the housekeeping that prunes them."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .database import TRIP_COLUMNS, TripRecord, dumps
from .journal import Journal


class Store(Journal):
    """Every table of the sandbox, read and written through named methods."""

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
