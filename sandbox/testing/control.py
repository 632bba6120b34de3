"""A client for the sandbox's ``/_sandbox`` control surface (knobs, clients, faults, the
outage, trips and the call and webhook logs), and the error its calls raise."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx


class SandboxError(RuntimeError):
    """The sandbox process did not start, or a control call failed."""


class SandboxControl:
    """A thin client for the ``/_sandbox`` control surface."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_sandbox{path}", **kwargs)
        if response.status_code >= 400:
            raise SandboxError(f"{method} /_sandbox{path}: {response.status_code} {response.text}")
        return response.json()

    # health and knobs
    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def set_config(self, **knobs: Any) -> dict[str, Any]:
        """Changes the given knobs only (PATCH)."""
        return self._call("PATCH", "/config", json=knobs)

    def replace_config(self, **knobs: Any) -> dict[str, Any]:
        """Start-up values, then the given knobs (PUT)."""
        return self._call("PUT", "/config", json=knobs)

    def reset(self, *, clients: bool = False, config: bool = False, tokens: bool = False) -> None:
        """Clears trips, fares, idempotency keys, calls, webhooks, faults and counters."""
        self._call("POST", "/reset", json={"clients": clients, "config": config, "tokens": tokens})

    def advance(self, seconds: float) -> float:
        """Jumps the simulated clock; due transitions are applied before this returns."""
        return self._call("POST", "/advance", json={"seconds": seconds})["simulated_clock"]

    # clients and tokens
    def create_client(
        self,
        client_id: str,
        client_secret: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        rate_limit_per_minute: int | None = None,
        disabled: bool = False,
    ) -> dict[str, Any]:
        """Creates the client, or resets it to exactly these values (idempotent).

        The webhook secret is kept unless one is given; the answer includes it.
        """
        spec: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "webhook_url": webhook_url,
            "rate_limit_per_minute": rate_limit_per_minute,
            "disabled": disabled,
        }
        if webhook_secret is not None:
            spec["webhook_secret"] = webhook_secret
        return self._call("POST", "/clients", json=spec)

    def update_client(self, client_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/clients", json={"client_id": client_id, **fields})

    def clients(self) -> list[dict[str, Any]]:
        return self._call("GET", "/clients")["clients"]

    def revoke_tokens(self, client_id: str | None = None) -> int:
        body = {} if client_id is None else {"client_id": client_id}
        return self._call("POST", "/tokens/revoke", json=body)["revoked"]

    # faults
    def force_fault(
        self,
        endpoint: str,
        fault: str,
        count: int = 1,
        *,
        retry_after: int | None = None,
        seconds: float | None = None,
        after_commit: bool | None = None,
    ) -> dict[str, Any]:
        """The next ``count`` answers of ``endpoint`` ("*" for any) get ``fault``."""
        spec: dict[str, Any] = {"endpoint": endpoint, "fault": fault, "count": count}
        for name, value in (
            ("retry_after", retry_after),
            ("seconds", seconds),
            ("after_commit", after_commit),
        ):
            if value is not None:
                spec[name] = value
        return self._call("POST", "/faults", json=spec)["faults"][0]

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def outage(self, seconds: float, after: float = 0.0) -> dict[str, Any]:
        """Every partner call answers 503 for ``seconds``, starting ``after`` seconds from now."""
        return self._call("POST", "/outage", json={"seconds": seconds, "after": after})

    def end_outage(self) -> dict[str, Any]:
        return self._call("DELETE", "/outage")

    def outage_state(self) -> dict[str, Any]:
        """``{"active", "starts_at", "ends_at"}`` (unix seconds, null when none is due)."""
        return self._call("GET", "/outage")

    # trips
    def trips(self, client_id: str | None = None, status: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("client_id", client_id), ("status", status)) if v}
        return self._call("GET", "/trips", params=params)["trips"]

    def trip(self, trip_id: str) -> dict[str, Any]:
        """``{"client_id", "trip", "simulation"}``: the public trip and its hidden state."""
        return self._call("GET", f"/trips/{trip_id}")

    def set_trip_status(
        self,
        trip_id: str,
        status: str | None = None,
        status_detail: str | None = None,
        *,
        hold: bool | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = status
        if status_detail is not None:
            body["status_detail"] = status_detail
        if hold is not None:
            body["hold"] = hold
        return self._call("POST", f"/trips/{trip_id}/status", json=body)["trip"]

    def detour(self, trip_id: str, latitude: float, longitude: float) -> dict[str, Any]:
        """The car is reported around (latitude, longitude) from now on."""
        body = {"latitude": latitude, "longitude": longitude}
        return self._call("POST", f"/trips/{trip_id}/detour", json=body)["trip"]

    def end_detour(self, trip_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/trips/{trip_id}/detour")["trip"]

    def halt(self, trip_id: str, seconds: float) -> dict[str, Any]:
        """The car stays where it is for ``seconds``; the trip keeps its status."""
        return self._call("POST", f"/trips/{trip_id}/halt", json={"seconds": seconds})["trip"]

    def wait_for_status(
        self, trip_id: str, statuses: str | Iterable[str], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Polls the control surface until the trip reaches one of ``statuses``."""
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            trip = self.trip(trip_id)["trip"]
            if trip["status"] in wanted:
                return trip
            if time.monotonic() > deadline:
                raise TimeoutError(f"{trip_id} is {trip['status']}, not {sorted(wanted)}")
            time.sleep(0.05)

    # logs
    def calls(
        self,
        endpoint: str | None = None,
        client_id: str | None = None,
        since: float | str | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        params = {"endpoint": endpoint, "client_id": client_id, "since": since, **filters}
        params = {k: v for k, v in params.items() if v is not None}
        return self._call("GET", "/calls", params=params)["calls"]

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        """Delivery log; filters: trip_id, client_id, state, type."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._call("GET", "/webhooks", params=params)["webhooks"]

    def wait_for_webhooks(
        self,
        predicate: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 10.0,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.webhooks(**filters)
            if predicate(found):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"webhook log never matched; last: {found}")
            time.sleep(0.05)
