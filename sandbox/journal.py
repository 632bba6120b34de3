# ruff: noqa: S608 -- queries are assembled from fixed SQL fragments; values are bound.
"""The sandbox's records of traffic: the call log (every request the partner API got) and
the webhook outbox (every event to send, its attempts and its fate)."""

from __future__ import annotations

import sqlite3
from typing import Any

from .database import Database, dumps


class Journal(Database):
    """The ``calls`` and ``webhooks`` tables."""

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
