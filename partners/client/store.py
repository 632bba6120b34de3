"""The Redis that every process shares for partner accounts, and where each account's
keys live in it.

The token cache, the request budget and the circuit breaker keep their state here, under
one key prefix per account (`account_namespace`). `shared_redis` is the process's
connection pool; `FailFastRedis` keeps a Redis outage from slowing every partner call.
"""

from __future__ import annotations

import hashlib
import threading
import time

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.commands.core import Script
from redis.lock import Lock
from redis.retry import Retry


class FailFastRedis:
    """A Redis client that, once Redis failed, fails at once for a few seconds.

    The token cache, the budget and the breaker all degrade to "let the call through"
    when Redis is unreachable; without this every one of their commands would wait for
    its own connection timeout, and a Redis outage would slow every partner call.
    """

    PAUSE_SECONDS = 5.0

    def __init__(self, connection: redis.Redis) -> None:
        self._connection = connection
        self._down_until = 0.0

    def __getattr__(self, name: str):
        attribute = getattr(self._connection, name)
        if not callable(attribute) or name in ("get_encoder", "get_connection_kwargs"):
            return attribute

        def guarded(*args, **kwargs):
            if time.monotonic() < self._down_until:
                raise redis.ConnectionError("Redis failed a moment ago; not trying again yet")
            try:
                return attribute(*args, **kwargs)
            except (redis.ConnectionError, redis.TimeoutError):
                self._down_until = time.monotonic() + self.PAUSE_SECONDS
                raise

        return guarded

    def register_script(self, script: str) -> Script:
        return Script(self, script)

    def lock(self, name: str, **kwargs) -> Lock:
        return Lock(self, name, **kwargs)


_redis_lock = threading.Lock()
_redis_connection: FailFastRedis | None = None
_redis_url: str | None = None


def shared_redis() -> FailFastRedis:
    """The process's Redis connection pool (redis-py starts a new pool after a fork)."""
    global _redis_connection, _redis_url
    with _redis_lock:
        if _redis_connection is None or _redis_url != settings.REDIS_URL:
            # Short timeouts and one quick retry: a Redis outage must not hold up a booking.
            _redis_connection = FailFastRedis(
                redis.Redis.from_url(
                    settings.REDIS_URL,
                    socket_timeout=1.0,
                    socket_connect_timeout=1.0,
                    health_check_interval=30,
                    retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
                )
            )
            _redis_url = settings.REDIS_URL
        return _redis_connection


def account_namespace(account) -> str:
    """Redis key prefix of one account's token, budget and breaker.

    Derived from the row's identity and where it points, so a recreated account or one
    moved to another partner never inherits a stale token or an open breaker.
    """
    identity = f"{account.pk}|{account.webhook_token}|{account.base_url}|{account.client_id}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return f"partners:{account.pk}:{digest}"
