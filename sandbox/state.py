"""The running sandbox: knobs, storage, clocks, randomness, limits and registered clients."""

from __future__ import annotations

import asyncio
import base64
import binascii
import random
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any

from .clock import SimClock
from .config import Config
from .faults import FaultInjector, Outage
from .limits import HourlyCounter, MinuteLimiter
from .store import Store

CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
CLIENT_FIELDS = {
    "client_id",
    "client_secret",
    "webhook_url",
    "webhook_secret",
    "rate_limit_per_minute",
    "disabled",
}
OUTAGE_KNOBS = {"outage_seconds", "outage_after_seconds"}


def generate_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _check_webhook_secret(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("whsec_"):
        raise ValueError("webhook_secret: must look like whsec_<base64>")
    try:
        key = base64.b64decode(value[len("whsec_") :] + "==", validate=False)
    except (binascii.Error, ValueError):
        raise ValueError("webhook_secret: the part after whsec_ must be base64") from None
    if len(key) < 16:
        raise ValueError("webhook_secret: the key must be at least 16 bytes")
    return value


class Sandbox:
    def __init__(self, config: Config, db_path: str, clients: Iterable[dict] = ()) -> None:
        self.startup_config = config
        self.config = config
        self.store = Store(db_path)
        self.clock = SimClock(float(self.store.get_meta("sim_clock", "0") or 0))
        self.rng = self._make_rng()
        self.faults = FaultInjector()
        self.limiter = MinuteLimiter()
        self.token_calls = HourlyCounter()
        self.webhook_wakeup: asyncio.Event | None = None
        self.started_at = time.time()
        self.outage = Outage()
        self._schedule_outage(now=self.started_at)
        self.clients: dict[str, dict[str, Any]] = {c["client_id"]: c for c in self.store.clients()}
        for spec in clients:
            self.upsert_client(spec)

    # --- randomness -----------------------------------------------------------------------
    def _make_rng(self) -> random.Random:
        seed = self.config.seed
        return random.Random(seed) if seed is not None else random.Random()

    @staticmethod
    def new_id(prefix: str, nbytes: int = 10) -> str:
        """Always unpredictable, even with a seed: a client may keep ids across resets."""
        return prefix + secrets.token_hex(nbytes)

    def trip_rng(self, story_key: str, step: int) -> random.Random:
        """The randomness of one step of one trip.

        Keyed by the client's own reference rather than the trip id, so the same seed and
        the same references replay the same stories whatever order trips arrive in.
        """
        if self.config.seed is None:
            return random.Random()
        return random.Random(f"{self.config.seed}:{story_key}:{step}")

    # --- knobs ----------------------------------------------------------------------------
    def set_config(self, changes: dict[str, Any], *, replace: bool = False) -> Config:
        base = self.startup_config if replace else self.config
        new = base.updated(changes)
        reseed = new.seed != self.config.seed
        self.config = new
        if reseed:
            self.rng = self._make_rng()
        if replace or OUTAGE_KNOBS & set(changes):
            self._schedule_outage()
        return new

    def _schedule_outage(self, now: float | None = None) -> None:
        """Setting either outage knob starts the outage anew, counted from now."""
        cfg = self.config
        self.outage.schedule(cfg.outage_seconds, cfg.outage_after_seconds, now)

    # --- clients --------------------------------------------------------------------------
    def upsert_client(self, spec: Any) -> dict[str, Any]:
        """Creates or updates a client; fields left out keep their value. Raises ValueError."""
        if not isinstance(spec, dict):
            raise ValueError("body: must be a JSON object")
        unknown = set(spec) - CLIENT_FIELDS
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: unknown field")
        client_id = spec.get("client_id")
        if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
            raise ValueError("client_id: 1 to 128 letters, digits or ._:@-")
        current = self.clients.get(client_id)
        client = (
            dict(current)
            if current
            else {
                "client_id": client_id,
                "webhook_url": None,
                "webhook_secret": None,
                "rate_limit_per_minute": None,
                "disabled": False,
            }
        )
        if "client_secret" in spec or current is None:
            secret = spec.get("client_secret")
            if not isinstance(secret, str) or not 1 <= len(secret) <= 256:
                raise ValueError("client_secret: a string of 1 to 256 characters")
            client["client_secret"] = secret
        if "webhook_url" in spec:
            url = spec["webhook_url"]
            if url is not None and (
                not isinstance(url, str) or not re.match(r"^https?://[^\s]+$", url)
            ):
                raise ValueError("webhook_url: an http(s) URL or null")
            client["webhook_url"] = url
        if spec.get("webhook_secret") is not None:
            client["webhook_secret"] = _check_webhook_secret(spec["webhook_secret"])
        if not client.get("webhook_secret"):
            client["webhook_secret"] = generate_webhook_secret()
        if "rate_limit_per_minute" in spec:
            limit = spec["rate_limit_per_minute"]
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
            ):
                raise ValueError("rate_limit_per_minute: a whole number of at least 1, or null")
            client["rate_limit_per_minute"] = limit
        if "disabled" in spec:
            if not isinstance(spec["disabled"], bool):
                raise ValueError("disabled: true or false")
            client["disabled"] = spec["disabled"]
        self.store.upsert_client(client, time.time())
        client.pop("created_at", None)
        self.clients[client_id] = client
        return self.describe_client(client)

    def delete_client(self, client_id: str) -> bool:
        self.clients.pop(client_id, None)
        return self.store.delete_client(client_id)

    def rate_limit_for(self, client_id: str | None) -> int:
        client = self.clients.get(client_id or "")
        if client and client.get("rate_limit_per_minute"):
            return int(client["rate_limit_per_minute"])
        return self.config.default_rate_limit_per_minute

    def describe_client(self, client: dict[str, Any]) -> dict[str, Any]:
        return {
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "webhook_url": client["webhook_url"],
            "webhook_secret": client["webhook_secret"],
            "rate_limit_per_minute": self.rate_limit_for(client["client_id"]),
            "disabled": bool(client["disabled"]),
        }

    # --- webhooks -------------------------------------------------------------------------
    def wake_webhooks(self) -> None:
        if self.webhook_wakeup is not None:
            self.webhook_wakeup.set()

    # --- reset ----------------------------------------------------------------------------
    def reset(self, *, clients: bool = False, config: bool = False, tokens: bool = False) -> None:
        tables = ["fares", "trips", "idempotency", "calls", "webhooks"]
        if clients or tokens:
            tables.append("tokens")
        if clients:
            tables.append("clients")
            self.clients.clear()
        self.store.clear(*tables)
        self.faults.clear()
        self.limiter.clear()
        self.token_calls.clear()
        if config:
            self.config = self.startup_config
            self._schedule_outage()
        self.rng = self._make_rng()
