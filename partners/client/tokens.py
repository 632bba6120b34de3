"""The account's OAuth access token: read from the partner's answer, shared by every
process through Redis (encrypted), refreshed by one process at a time.

A token is used while it is fresh; one due for a refresh is refreshed under the
account's lock, and while the partner's token endpoint is unavailable (or asked us to
keep off it) a token that is still valid serves. If Redis is unreachable each process
keeps its own copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings

from partners.client import errors
from partners.client.contract import Reading, UnusableData
from partners.client.ratelimit import MAX_BLOCK_SECONDS
from portal.crypto import decrypt_text, encrypt_text

log = logging.getLogger("partners.client")


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_at: float  # unix seconds
    lifetime: float

    def fresh(self, now: float) -> bool:
        """Not due for a refresh: more than 60 s left (or half its life, if it is short)."""
        return self.expires_at - now > min(60.0, self.lifetime / 2)

    def usable(self, now: float) -> bool:
        return self.expires_at - now > 1.0


def read_token(body: Any, response) -> Token:
    """The token endpoint's answer (a parser for the client's exchange)."""
    reading = Reading("token")
    data = reading.obj(body, "token")
    token = reading.text(data, "access_token")
    if not token or reading.text(data, "token_type").lower() != "bearer":
        raise UnusableData("access_token or token_type: not a bearer token")
    lifetime = max(1, reading.count(data, "expires_in"))
    return Token(access_token=token, expires_at=time.time() + lifetime, lifetime=lifetime)


def secret_fingerprint(secret: str) -> str:
    """Names a client secret without revealing it (a new secret means a new token)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()[:16]


class TokenCache:
    """The access token, encrypted in Redis and shared by every process of the account."""

    def __init__(self, connection: redis.Redis, namespace: str, secret_fingerprint: str) -> None:
        self.redis = connection
        self.key = f"{namespace}:token:{secret_fingerprint}"
        self.lock_key = f"{self.key}:refresh"
        self.blocked_key = f"{namespace}:token_blocked_until"
        self._local: Token | None = None  # used only while Redis is unreachable

    def current(
        self, fetch: Callable[[], Token], *, wait_seconds: float, rejected: str | None = None
    ) -> str:
        """A fresh access token (never ``rejected``, the one the partner just refused):
        the shared one, or one from ``fetch`` under the refresh lock."""
        cached = self.get()
        if cached and cached.access_token != rejected and cached.fresh(time.time()):
            return cached.access_token
        with self.refreshing(wait_seconds):
            # Another process may have refreshed while this one waited for the lock.
            cached = self.get()
            now = time.time()
            if cached and cached.access_token != rejected and cached.fresh(now):
                return cached.access_token
            usable = (
                cached
                if cached and cached.access_token != rejected and cached.usable(now)
                else None
            )
            blocked = self.blocked_for()
            if blocked:
                if usable:
                    return usable.access_token
                raise errors.RateLimited(
                    "the partner's token endpoint asked us to wait",
                    retry_after=blocked,
                    details={"reason": "token_endpoint"},
                    sent=False,
                )
            try:
                token = fetch()
            except errors.TemporaryPartnerError:
                if usable:  # not fresh, but still valid: better than no call at all
                    return usable.access_token
                raise
            self.put(token)
            return token.access_token

    def get(self) -> Token | None:
        try:
            stored = self.redis.get(self.key)
        except redis.RedisError:
            log.warning("token cache unavailable (Redis); using this process's copy")
            return self._local
        if stored is None:
            return None
        try:
            data = json.loads(decrypt_text(stored.decode()))
            return Token(data["access_token"], float(data["expires_at"]), float(data["lifetime"]))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable cached token ignored (key rotated?)")
            return None

    def put(self, token: Token) -> None:
        self._local = token
        ttl_ms = int((token.expires_at - time.time()) * 1000)
        if ttl_ms <= 0:
            return
        payload = json.dumps(
            {
                "access_token": token.access_token,
                "expires_at": token.expires_at,
                "lifetime": token.lifetime,
            }
        )
        try:
            self.redis.set(self.key, encrypt_text(payload), px=ttl_ms)
        except redis.RedisError:
            log.warning("could not share the token (Redis); kept in this process")

    @contextlib.contextmanager
    def refreshing(self, wait_seconds: float):
        """Holds the account's refresh lock, so concurrent refreshes make one token call."""
        try:
            lock = self.redis.lock(
                self.lock_key, timeout=wait_seconds, blocking_timeout=wait_seconds
            )
            acquired = lock.acquire()
        except redis.RedisError:
            log.warning("token refresh lock unavailable (Redis); refreshing without it")
            yield
            return
        if not acquired:
            raise errors.TemporaryPartnerError(
                "another process is still fetching a token", code="token_refresh_busy", sent=False
            )
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError, redis.exceptions.LockError):
                lock.release()

    def blocked_for(self) -> float:
        """Seconds the partner asked us to keep off its token endpoint."""
        try:
            ttl = self.redis.pttl(self.blocked_key)
        except redis.RedisError:
            return 0.0
        return ttl / 1000 if ttl and ttl > 0 else 0.0

    def block_for(self, seconds: float) -> None:
        seconds = min(max(seconds, 0.0), MAX_BLOCK_SECONDS)
        if seconds <= 0:
            return
        with contextlib.suppress(redis.RedisError):
            self.redis.set(self.blocked_key, "1", px=int(seconds * 1000))
