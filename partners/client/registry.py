"""What the rest of the portal asks of a partner account: its client, and what every
process knows of it.

- `client_for(account)`: the process's PartnerClient for the account (one connection
  pool, replaced when the account or the partner settings change, not shared across a
  fork).
- `breaker_episode` / `breaker_state`: the account's circuit breaker as every process sees
  it (the "partner down" alert reads it).
- `forget_partner_state`: drops the account's token, budget and breaker state.

The budget that pipeline pacing asks about is `ratelimit.budget_wait(account, share)`.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings

from partners.client.breaker import Episode, account_breaker
from partners.client.http import PartnerClient
from partners.client.store import account_namespace, shared_redis
from partners.client.tokens import secret_fingerprint

_clients_lock = threading.Lock()
_clients: dict[int, tuple[str, PartnerClient]] = {}
_clients_pid = os.getpid()


def _client_fingerprint(account) -> str:
    """Changes whenever the account or the partner settings do: then a new client is made."""
    parts = (
        account_namespace(account),
        secret_fingerprint(account.client_secret),
        account.rate_limit_per_minute,
        settings.PARTNER_CONNECT_TIMEOUT,
        settings.PARTNER_READ_TIMEOUT,
        settings.PARTNER_BREAKER_WINDOW_SECONDS,
        settings.PARTNER_BREAKER_MIN_CALLS,
        settings.PARTNER_BREAKER_FAILURE_RATE,
        settings.PARTNER_BREAKER_RESET_SECONDS,
        settings.PARTNER_RATE_LIMIT_HEADROOM,
        settings.PARTNER_LOW_PRIORITY_RESERVE,
        settings.PARTNER_POLL_RESERVE,
        settings.REDIS_URL,
    )
    return "|".join(str(part) for part in parts)


def client_for(account) -> PartnerClient:
    """The process's client for this account: one connection pool, reused across calls."""
    global _clients_pid
    fingerprint = _client_fingerprint(account)
    with _clients_lock:
        if _clients_pid != os.getpid():
            # A forked child must not share the parent's sockets.
            _clients.clear()
            _clients_pid = os.getpid()
        entry = _clients.get(account.pk)
        if entry is not None and entry[0] == fingerprint:
            return entry[1]
        # A replaced client is left to the garbage collector rather than closed, since
        # another thread may still be in the middle of a call with it.
        client = PartnerClient(account)
        _clients[account.pk] = (fingerprint, client)
        return client


def breaker_episode(account) -> Episode:
    """The account's breaker as every process sees it, with when an outage began and
    when the last one ended."""
    breaker = account_breaker(shared_redis(), account_namespace(account), probe_seconds=1)
    return breaker.episode()


def breaker_state(account) -> str:
    """ "closed", "open" or "half_open" for the account, as every process sees it."""
    return breaker_episode(account).state


def forget_partner_state(account) -> None:
    """Drops the account's cached token, budget, Retry-After window and breaker state."""
    connection = shared_redis()
    namespace = account_namespace(account)
    keys = list(connection.scan_iter(match=f"{namespace}:*", count=200))
    if keys:
        connection.delete(*keys)
    with _clients_lock:
        _clients.pop(account.pk, None)
