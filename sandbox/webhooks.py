"""Signed webhooks (Standard Webhooks): an outbox in SQLite and a background sender.

Events are written to the outbox in the same transaction as the trip change; the
sender delivers them without holding up the simulation, and starts no delivery while the
partner has an outage. Retry timing is real time:
``webhook_retry_initial_seconds`` doubling up to ``webhook_retry_max_interval_seconds``,
until ``webhook_retry_window_seconds`` after the first attempt, then the event is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from standardwebhooks.webhooks import Webhook

from . import quirks
from .clock import format_ts
from .database import dumps
from .state import generate_webhook_secret

if TYPE_CHECKING:
    import sqlite3

    from .database import TripRecord
    from .state import Sandbox

__all__ = ["EVENT_TYPES", "WebhookDispatcher", "enqueue", "generate_webhook_secret"]

log = logging.getLogger("sandbox.webhooks")

EVENT_TYPES = ("trip.status_changed", "trip.receipt_ready", "trip.driver_location")
USER_AGENT = "SandboxPartner-Webhooks/1.0"


def enqueue(sb: Sandbox, rec: TripRecord, event_type: str) -> None:
    """Writes one event for the trip's client to the outbox, applying the webhook knobs."""
    cfg = sb.config
    client = sb.clients.get(rec.client_id)
    if not cfg.webhooks_enabled or client is None or not client.get("webhook_url"):
        return
    now = time.time()
    event = {
        "type": event_type,
        "timestamp": format_ts(now),
        "data": {
            "trip_id": rec.trip_id,
            "external_reference": rec.external_reference,
            "status": rec.body["status"],
            "updated_at": rec.body["updated_at"],
        },
    }
    payload = dumps(quirks.webhook_payload(sb, event))
    rng = sb.rng
    dropped = bool(cfg.webhook_drop_rate) and rng.random() < cfg.webhook_drop_rate
    held = (
        not dropped and bool(cfg.webhook_reorder_rate) and rng.random() < cfg.webhook_reorder_rate
    )
    first_attempt = now + cfg.webhook_delay_seconds
    row = {
        "event_id": sb.new_id("msg_", 12),
        "client_id": rec.client_id,
        "trip_id": rec.trip_id,
        "type": event_type,
        "payload": payload,
        "state": "dropped" if dropped else "pending",
        "dropped_reason": "drop_rate" if dropped else None,
        "duplicate": False,
        "held": held,
        "created_at": now,
        "next_attempt_at": first_attempt + (cfg.webhook_reorder_hold_seconds if held else 0.0),
    }
    sb.store.insert_webhook(row)
    if not dropped and cfg.webhook_duplicate_rate and rng.random() < cfg.webhook_duplicate_rate:
        copy = dict(row, duplicate=True)
        copy["next_attempt_at"] = row["next_attempt_at"] + rng.uniform(0.05, 0.5)
        sb.store.insert_webhook(copy)
    if not dropped:
        sb.wake_webhooks()


def describe(row: sqlite3.Row) -> dict[str, Any]:
    """An outbox row as the control API shows it."""

    def when(value: float | None) -> str | None:
        return None if value is None else format_ts(value)

    return {
        "id": row["id"],
        "event_id": row["event_id"],
        "type": row["type"],
        "trip_id": row["trip_id"],
        "client_id": row["client_id"],
        "state": row["state"],
        "duplicate": bool(row["duplicate"]),
        "held": bool(row["held"]),
        "attempts": row["attempts"],
        "last_status": row["last_status"],
        "last_error": row["last_error"],
        "dropped_reason": row["dropped_reason"],
        "created_at": when(row["created_at"]),
        "first_attempt_at": when(row["first_attempt_at"]),
        "next_attempt_at": when(row["next_attempt_at"]) if row["state"] == "pending" else None,
        "delivered_at": when(row["delivered_at"]),
        "payload": json.loads(row["payload"]),
    }


def sign(secret: str, event_id: str, moment: datetime, payload: str) -> dict[str, str]:
    """The three Standard Webhooks headers for ``payload`` sent at ``moment`` (UTC)."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, moment, payload),
    }


class WebhookDispatcher:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self._inflight: set[asyncio.Task] = set()

    async def run(self) -> None:
        sb = self.sb
        sb.store.requeue_sending_webhooks()
        wakeup = sb.webhook_wakeup or asyncio.Event()
        async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as http:
            while True:
                try:
                    down = sb.outage.remaining()
                    if down > 0:
                        # The partner's sender is down with its API: events (retries too)
                        # stay in the outbox and go out in the usual order once it is over.
                        wait = min(down, 0.5)
                    else:
                        capacity = sb.config.webhook_concurrency - len(self._inflight)
                        rows = (
                            sb.store.claim_due_webhooks(time.time(), capacity) if capacity else []
                        )
                        for row in rows:
                            task = asyncio.create_task(self._deliver(http, row))
                            self._inflight.add(task)
                            task.add_done_callback(self._done)
                        if rows and len(rows) == capacity:
                            await asyncio.sleep(0)
                            continue
                        due = sb.store.next_webhook_due()
                        wait = 0.5 if due is None else min(max(due - time.time(), 0.0), 0.5)
                except Exception:
                    log.exception("webhook dispatch failed")
                    wait = 0.5
                wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), timeout=max(wait, 0.01))

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.discard(task)
        self.sb.wake_webhooks()

    async def _deliver(self, http: httpx.AsyncClient, row: sqlite3.Row) -> None:
        sb = self.sb
        cfg = sb.config
        store = sb.store
        attempts = row["attempts"] + 1
        started = time.time()
        first = row["first_attempt_at"] or started
        client = sb.clients.get(row["client_id"])
        if client is None or not client.get("webhook_url"):
            store.finish_webhook_attempt(
                row["id"],
                state="dropped",
                attempts=row["attempts"],
                status=None,
                error=None,
                first_attempt_at=first,
                next_attempt_at=started,
                dropped_reason="no_webhook_url",
            )
            return
        status: int | None = None
        error: str | None = None
        try:
            headers = sign(
                client["webhook_secret"], row["event_id"], datetime.now(UTC), row["payload"]
            )
            headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
            response = await http.post(
                client["webhook_url"],
                content=row["payload"].encode(),
                headers=headers,
                timeout=cfg.webhook_timeout_seconds,
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.TimeoutException:
            error = "timeout"
        except Exception as exc:  # connection refused, bad URL, ...: all retried alike
            error = f"{type(exc).__name__}: {exc}"[:300]
        finished = time.time()
        if error is None:
            store.finish_webhook_attempt(
                row["id"],
                state="delivered",
                attempts=attempts,
                status=status,
                error=None,
                first_attempt_at=first,
                next_attempt_at=finished,
                delivered_at=finished,
            )
            store.release_held_webhooks(row["trip_id"], row["id"], row["event_id"], finished)
            return
        if finished - first >= cfg.webhook_retry_window_seconds:
            state, reason, next_at = "dropped", "retries_exhausted", finished
        else:
            backoff = min(
                cfg.webhook_retry_initial_seconds * 2 ** min(attempts - 1, 30),
                cfg.webhook_retry_max_interval_seconds,
            )
            state, reason = "pending", None
            next_at = finished + backoff * sb.rng.uniform(0.8, 1.2)
        store.finish_webhook_attempt(
            row["id"],
            state=state,
            attempts=attempts,
            status=status,
            error=error,
            first_attempt_at=first,
            next_attempt_at=next_at,
            dropped_reason=reason,
        )
