"""The portal's client for a transport partner (docs/partner-api.yaml).

Used by Celery tasks (dispatch, reconciliation, polling, receipts, cancellation) and by
the web process for fare estimates. One `PartnerClient` per account per process
(`client_for`), holding one httpx connection pool.

Each method makes one logical call: the adapter never retries on its own (the tasks
do, with backoff), except that a call answered 401 gets a fresh token and is repeated
once. Every HTTP exchange, the token request included, passes the same gates in
order: the circuit breaker (partners/breaker.py), then the Retry-After window and the
shared request budget (partners/ratelimit.py); then it is sent, its RateLimit-*
headers recorded, and its answer classified (partners/errors.py). A 2xx whose body is
cut off, not JSON or not the contract's shape is a TemporaryPartnerError, never a
success.

Only the account's configured host is reached: URLs are the account's base URL plus
fixed paths, trip ids are escaped into one path segment, redirects are not followed,
and proxy settings from the environment are ignored.

Nothing here logs a request or response body (they carry phones and addresses): only
account ids, endpoint names, trip ids, status codes, error codes and durations.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.commands.core import Script
from redis.lock import Lock
from redis.retry import Retry

from partners import errors
from partners.breaker import (
    DETAIL,
    DISPATCH,
    KINDS,
    LOOKUP,
    POLL,
    RECEIPT,
    CallKind,
    CircuitBreaker,
    CircuitOpen,
    Episode,
)
from partners.client.contract import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_TRIP_ID_LENGTH,
    TERMINAL_TRIP_STATUSES,
    TRIP_STATUSES,
    CreateResult,
    Estimate,
    Point,
    Reading,
    Receipt,
    Trip,
    TripPage,
    UnusableData,
    read_estimates,
    read_page,
    read_receipt,
    read_trip,
)
from partners.ratelimit import MAX_BLOCK_SECONDS, RateLimiter, RateLimitState
from portal.crypto import decrypt_text, encrypt_text

log = logging.getLogger("partners.adapter")

__all__ = [
    "CreateResult",
    "Estimate",
    "PartnerClient",
    "Point",
    "RateLimitState",
    "Receipt",
    "TRIP_STATUSES",
    "TERMINAL_TRIP_STATUSES",
    "Trip",
    "TripPage",
    "breaker_episode",
    "breaker_state",
    "client_for",
    "forget_partner_state",
]

USER_AGENT = "safe-ride-portal/1 (+partners adapter)"


# --- what the partner answers (read by partners/client/contract.py) ---------------------


def _parse_estimates(body: Any, response: httpx.Response) -> list[Estimate]:
    return read_estimates(body)


def _parse_one_trip(body: Any, response: httpx.Response) -> Trip:
    return read_trip(body)


def _parse_create(body: Any, response: httpx.Response) -> CreateResult:
    replayed = (
        response.headers.get("Idempotent-Replayed", "").strip().lower() == "true"
        or response.status_code == 200
    )
    return CreateResult(trip=read_trip(body), replayed=replayed)


def _parse_page(body: Any, response: httpx.Response) -> TripPage:
    return read_page(body)


def _parse_receipt(body: Any, response: httpx.Response) -> Receipt:
    return read_receipt(body)


@dataclass(frozen=True)
class _Token:
    access_token: str = field(repr=False)
    expires_at: float  # unix seconds
    lifetime: float

    def fresh(self, now: float) -> bool:
        """Not due for a refresh: more than 60 s left (or half its life, if it is short)."""
        return self.expires_at - now > min(60.0, self.lifetime / 2)

    def usable(self, now: float) -> bool:
        return self.expires_at - now > 1.0


def _parse_token(body: Any, response: httpx.Response) -> _Token:
    reading = Reading("token")
    data = reading.obj(body, "token")
    token = reading.text(data, "access_token")
    if not token or reading.text(data, "token_type").lower() != "bearer":
        raise UnusableData("access_token or token_type: not a bearer token")
    lifetime = max(1, reading.count(data, "expires_in"))
    return _Token(access_token=token, expires_at=time.time() + lifetime, lifetime=lifetime)


# --- Redis: one connection pool per process ------------------------------------------------


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


def _secret_fingerprint(secret: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()[:16]


class _TokenCache:
    """The access token, encrypted in Redis and shared by every process of the account."""

    def __init__(self, connection: redis.Redis, namespace: str, secret_fingerprint: str) -> None:
        self.redis = connection
        self.key = f"{namespace}:token:{secret_fingerprint}"
        self.lock_key = f"{self.key}:refresh"
        self.blocked_key = f"{namespace}:token_blocked_until"
        self._local: _Token | None = None  # used only while Redis is unreachable

    def get(self) -> _Token | None:
        try:
            stored = self.redis.get(self.key)
        except redis.RedisError:
            log.warning("token cache unavailable (Redis); using this process's copy")
            return self._local
        if stored is None:
            return None
        try:
            data = json.loads(decrypt_text(stored.decode()))
            return _Token(data["access_token"], float(data["expires_at"]), float(data["lifetime"]))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable cached token ignored (key rotated?)")
            return None

    def put(self, token: _Token) -> None:
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

    def clear(self) -> None:
        self._local = None
        self.redis.delete(self.key, self.lock_key, self.blocked_key)


# --- classification ------------------------------------------------------------------------


class _TokenRejected(Exception):
    """A call answered 401: the caller refreshes the token once and repeats the call."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds) or seconds < 0:
        return 0.0
    return min(seconds, MAX_BLOCK_SECONDS)


def _error_body(response: httpx.Response) -> tuple[str, str, dict] | None:
    """(code, message, details) of a contract error body, or None for anything else."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not code or not isinstance(message, str):
        return None
    details = error.get("details")
    return code, message, details if isinstance(details, dict) else {}


def _malformed(response: httpx.Response, reason: str) -> errors.TemporaryPartnerError:
    return errors.TemporaryPartnerError(
        "the partner's answer is not what the contract promises",
        code="malformed_response",
        http_status=response.status_code,
        details={"reason": reason},
    )


def _transport_error(exc: httpx.HTTPError) -> errors.TemporaryPartnerError:
    """A failure below HTTP. Only a failure to connect proves nothing was sent."""
    if isinstance(exc, httpx.ConnectTimeout):
        code, sent = "connect_timeout", False
    elif isinstance(exc, httpx.ConnectError):
        code, sent = "connect_error", False
    elif isinstance(exc, httpx.PoolTimeout):
        code, sent = "pool_timeout", False
    elif isinstance(exc, httpx.UnsupportedProtocol):
        code, sent = "connect_error", False
    elif isinstance(exc, httpx.TimeoutException):
        code, sent = "timeout", True
    elif isinstance(exc, httpx.DecodingError):
        code, sent = "malformed_response", True
    else:
        code, sent = "connection_error", True
    return errors.TemporaryPartnerError(type(exc).__name__, code=code, sent=sent)


# --- the client ------------------------------------------------------------------------------

Parser = Callable[[Any, httpx.Response], Any]


def _checked_base_url(base_url: str) -> tuple[str, str, str]:
    """(scheme, netloc, path prefix) of an account's base URL; ValueError if unusable."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a partner base URL must be http(s)://host[:port][/path]")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("a partner base URL carries no credentials, query or fragment")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def _point_json(point: Point | dict) -> dict[str, Any]:
    if isinstance(point, Point):
        return point.as_json()
    if isinstance(point, dict):
        return dict(point)
    raise TypeError("a point is a Point or a dict with latitude and longitude")


def _trip_path(trip_id: str, suffix: str = "") -> str:
    if (
        not isinstance(trip_id, str)
        or not trip_id
        or len(trip_id) > MAX_TRIP_ID_LENGTH
        or trip_id in (".", "..")
    ):
        raise ValueError("not a usable partner trip id")
    return f"/v1/trips/{quote(trip_id, safe='')}{suffix}"


class PartnerClient:
    """Calls one partner account. Thread-safe; get it with `client_for(account)`."""

    def __init__(self, account, *, connection: redis.Redis | None = None) -> None:
        self.account_id = account.pk
        self._client_id = account.client_id
        self._client_secret = account.client_secret
        self._scheme, self._netloc, self._base_path = _checked_base_url(account.base_url)
        connect = float(settings.PARTNER_CONNECT_TIMEOUT)
        read = float(settings.PARTNER_READ_TIMEOUT)
        self._http = httpx.Client(
            timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect),
            limits=httpx.Limits(
                max_connections=50, max_keepalive_connections=10, keepalive_expiry=30
            ),
            follow_redirects=False,
            trust_env=False,  # no proxy or netrc from the environment: only the partner's host
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self._redis = FailFastRedis(connection) if connection is not None else shared_redis()
        namespace = account_namespace(account)
        self._limiter = RateLimiter(
            self._redis,
            namespace,
            limit_per_minute=account.rate_limit_per_minute,
            headroom=float(settings.PARTNER_RATE_LIMIT_HEADROOM),
            low_reserve=float(settings.PARTNER_LOW_PRIORITY_RESERVE),
            poll_reserve=float(settings.PARTNER_POLL_RESERVE),
        )
        # A probe lease outlives the longest call (connect, send, read).
        self._call_budget_seconds = connect + 2 * read + 1
        self._breaker = _breaker(self._redis, namespace, probe_seconds=self._call_budget_seconds)
        self._tokens = _TokenCache(
            self._redis, namespace, _secret_fingerprint(account.client_secret)
        )

    def __repr__(self) -> str:
        return f"<PartnerClient account={self.account_id} {self._scheme}://{self._netloc}>"

    def close(self) -> None:
        self._http.close()

    # --- the contract's calls ----------------------------------------------------------------

    def estimate(
        self, *, pickup: Point | dict, dropoff: Point | dict, passenger_count: int
    ) -> list[Estimate]:
        body = {
            "pickup": _point_json(pickup),
            "dropoff": _point_json(dropoff),
            "passenger_count": passenger_count,
        }
        return self._call(
            "estimates",
            "POST",
            "/v1/estimates",
            priority="high",
            kind=DISPATCH,
            json_body=body,
            parse=_parse_estimates,
        )

    def create_trip(self, *, body: dict, idempotency_key: str) -> CreateResult:
        if (
            not isinstance(idempotency_key, str)
            or not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH
            or not idempotency_key.isascii()
            or not idempotency_key.isprintable()
        ):
            raise ValueError("an idempotency key is 1 to 255 printable ASCII characters")
        if not isinstance(body, dict):
            raise TypeError("a trip body is a dict")
        return self._call(
            "create_trip",
            "POST",
            "/v1/trips",
            priority="high",
            kind=DISPATCH,
            json_body=body,
            headers={"Idempotency-Key": idempotency_key},
            parse=_parse_create,
        )

    def get_trip(self, trip_id: str, *, priority: str = "high", kind: str = "lookup") -> Trip:
        """One trip. `kind` says what it is for: "lookup" (what became of a dispatch or a
        cancellation: counted by the breaker) or "detail" (the driver, plate or fee of a
        trip the portal already follows: never blocks anything else)."""
        if kind not in (LOOKUP.name, DETAIL.name):
            raise ValueError('kind is "lookup" or "detail"')
        return self._call(
            "get_trip",
            "GET",
            _trip_path(trip_id),
            priority=priority,
            kind=KINDS[kind],
            parse=_parse_one_trip,
            trip_id=trip_id,
        )

    def find_trip_by_reference(
        self, external_reference: str, *, priority: str = "high"
    ) -> Trip | None:
        """The partner's trip for our reference, or None when it holds none. A trip the
        partner holds under the reference but whose data is unusable raises UnusableAnswer
        (it exists: never "not found")."""
        if not isinstance(external_reference, str) or not external_reference:
            raise ValueError("an external reference is a non-empty string")
        page = self._call(
            "list_trips",
            "GET",
            "/v1/trips",
            priority=priority,
            kind=LOOKUP,
            params={"external_reference": external_reference, "limit": 100},
            parse=_parse_page,
        )
        matches = [t for t in page.trips if t.external_reference == external_reference]
        if matches:
            return max(matches, key=lambda trip: trip.updated_at)
        unreadable = [
            u for u in page.unusable if u.external_reference in (external_reference, None)
        ]
        if unreadable:
            raise errors.UnusableAnswer(
                "the partner's trip for this reference is unusable",
                details={"reason": unreadable[0].reason, "trip_id": unreadable[0].trip_id},
            )
        return None

    def list_trips(
        self,
        *,
        status: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
        priority: str = "low",
    ) -> TripPage:
        if status not in (None, "active", "past"):
            raise ValueError('status is None, "active" or "past"')
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise ValueError("limit is 1 to 100")
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if updated_since is not None:
            if updated_since.tzinfo is None:
                raise ValueError("updated_since must be an aware datetime")
            params["updated_since"] = updated_since.astimezone(UTC).isoformat(
                timespec="microseconds"
            )
        if cursor:
            params["cursor"] = cursor
        return self._call(
            "list_trips",
            "GET",
            "/v1/trips",
            priority=priority,
            kind=POLL,
            params=params,
            parse=_parse_page,
        )

    def cancel_trip(self, trip_id: str) -> Trip:
        return self._call(
            "cancel_trip",
            "DELETE",
            _trip_path(trip_id),
            priority="high",
            kind=DISPATCH,
            parse=_parse_one_trip,
            trip_id=trip_id,
        )

    def get_receipt(self, trip_id: str, *, priority: str = "low") -> Receipt:
        return self._call(
            "receipt",
            "GET",
            _trip_path(trip_id, "/receipt"),
            priority=priority,
            kind=RECEIPT,
            parse=_parse_receipt,
            trip_id=trip_id,
        )

    def rate_limit_state(self) -> RateLimitState:
        """What the partner's RateLimit-* headers said last (shared by all processes)."""
        return self._limiter.state()

    def breaker_state(self) -> str:
        return self._breaker.state()

    def breaker_wait(self, kind: str = "dispatch") -> float:
        """Seconds the breaker would refuse a call of this kind for (0: it may go now).
        Asking leaves word that such a call waits: it gets the half-open probe in turn."""
        return self._breaker.wait_before(KINDS[kind])

    # --- machinery ---------------------------------------------------------------------------

    def _call(
        self, endpoint: str, method: str, path: str, *, priority: str, kind: CallKind, **kwargs
    ) -> Any:
        try:
            token = self._access_token(priority, kind)
        except errors.TemporaryPartnerError as exc:
            exc.sent = False  # without a token the call itself never went out
            raise
        try:
            return self._exchange(
                endpoint, method, path, priority=priority, kind=kind, token=token, **kwargs
            )
        except _TokenRejected as exc:
            log.info(
                "partner token rejected account=%s endpoint=%s code=%s: refreshing once",
                self.account_id,
                endpoint,
                exc.code,
            )
        try:
            token = self._access_token(priority, kind, rejected=token)
        except errors.TemporaryPartnerError as exc:
            exc.sent = False  # the first answer was a 401: nothing was done
            raise
        try:
            return self._exchange(
                endpoint, method, path, priority=priority, kind=kind, token=token, **kwargs
            )
        except _TokenRejected as exc:
            raise errors.CredentialsRejected(
                "the partner rejected a freshly issued token", code=exc.code, http_status=401
            ) from None

    def _access_token(self, priority: str, kind: CallKind, rejected: str | None = None) -> str:
        cached = self._tokens.get()
        if cached and cached.access_token != rejected and cached.fresh(time.time()):
            return cached.access_token
        with self._tokens.refreshing(self._call_budget_seconds):
            # Another process may have refreshed while this one waited for the lock.
            cached = self._tokens.get()
            now = time.time()
            if cached and cached.access_token != rejected and cached.fresh(now):
                return cached.access_token
            usable = (
                cached
                if cached and cached.access_token != rejected and cached.usable(now)
                else None
            )
            blocked = self._tokens.blocked_for()
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
                token = self._fetch_token(priority, kind)
            except errors.TemporaryPartnerError:
                if usable:  # not fresh, but still valid: better than no call at all
                    return usable.access_token
                raise
            self._tokens.put(token)
            return token.access_token

    def _fetch_token(self, priority: str, kind: CallKind) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": "trips",
        }
        return self._exchange(
            "token",
            "POST",
            "/oauth/token",
            priority=priority,
            kind=kind,
            data=form,
            parse=_parse_token,
        )

    def _url(self, path: str) -> str:
        url = f"{self._scheme}://{self._netloc}{self._base_path}{path}"
        parsed = httpx.URL(url)
        if (
            parsed.scheme != self._scheme
            or parsed.netloc.decode("ascii") != self._netloc
            or not parsed.path.startswith(f"{self._base_path}/")
        ):
            raise ValueError("refusing to call outside the partner account's base URL")
        return url

    def _exchange(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        priority: str,
        kind: CallKind,
        parse: Parser,
        token: str | None = None,
        json_body: Any = None,
        data: dict | None = None,
        params: dict | None = None,
        headers: dict | None = None,
        trip_id: str | None = None,
    ) -> Any:
        url = self._url(path)
        try:
            probe = self._breaker.before_call(kind)
        except CircuitOpen as exc:
            log.info(
                "partner call refused account=%s endpoint=%s: circuit open",
                self.account_id,
                endpoint,
            )
            raise errors.PartnerUnavailable(retry_after=exc.wait_seconds) from None
        refusal = self._limiter.acquire(priority)
        if refusal is not None:
            if probe:  # no verdict from this caller: let the next one probe
                self._breaker.release_probe()
            log.info(
                "partner call held back account=%s endpoint=%s priority=%s reason=%s wait=%.1fs",
                self.account_id,
                endpoint,
                priority,
                refusal.reason,
                refusal.wait_seconds,
            )
            raise errors.RateLimited(
                "held back to stay inside the partner's rate limit",
                retry_after=refusal.wait_seconds,
                details={"reason": refusal.reason},
                sent=False,
            )
        request_headers = dict(headers or {})
        if token is not None:
            request_headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        try:
            try:
                response = self._http.request(
                    method, url, json=json_body, data=data, params=params, headers=request_headers
                )
            except httpx.HTTPError as exc:
                raise _transport_error(exc) from exc
            self._limiter.record(response.headers)
            result = self._interpret(endpoint, response, parse)
        except (errors.PartnerError, _TokenRejected) as exc:
            self._after_failure(endpoint, exc, probe, started, trip_id, kind)
            raise
        except BaseException:
            if probe:  # never leave the breaker waiting on a probe that will not report
                self._breaker.record_failure(True, kind)
            raise
        self._breaker.record_success(probe, kind)
        log.debug(
            "partner call account=%s endpoint=%s trip=%s status=%s ms=%.0f",
            self.account_id,
            endpoint,
            trip_id or "-",
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return result

    def _after_failure(
        self,
        endpoint: str,
        exc: Exception,
        probe: bool,
        started: float,
        trip_id: str | None,
        kind: CallKind,
    ) -> None:
        counts = getattr(exc, "counts_against_partner", False)
        if counts:
            state = self._breaker.record_failure(probe, kind)
        else:
            state = self._breaker.record_success(probe, kind)
        status = 401 if isinstance(exc, _TokenRejected) else exc.http_status
        level = logging.WARNING if counts or isinstance(exc, errors.RateLimited) else logging.INFO
        log.log(
            level,
            "partner call failed account=%s endpoint=%s trip=%s status=%s code=%s sent=%s ms=%.0f",
            self.account_id,
            endpoint,
            trip_id or "-",
            status or "-",
            exc.code,
            getattr(exc, "sent", True),
            (time.monotonic() - started) * 1000,
        )
        if state == "opened":
            log.error(
                "circuit breaker opened for partner account=%s: calls fail fast for %.0fs",
                self.account_id,
                self._breaker.reset_ms / 1000,
            )

    def _interpret(self, endpoint: str, response: httpx.Response, parse: Parser) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = json.loads(response.content)
            except ValueError:
                raise _malformed(response, "not JSON") from None
            try:
                return parse(body, response)
            except UnusableData as exc:
                # Coherent JSON without what the portal needs: about this call's trip, not
                # a sign that the partner is down (the token answer excepted).
                if endpoint == "token":
                    raise _malformed(response, f"token: {exc}") from None
                raise errors.UnusableAnswer(
                    "the partner's answer lacks what the portal needs",
                    http_status=response.status_code,
                    details={"reason": str(exc)},
                ) from None
        if 300 <= status < 400:
            raise errors.TemporaryPartnerError(
                "the partner answered with a redirect, which is never followed",
                code="redirect",
                http_status=status,
            )
        error = _error_body(response)
        code, message, details = error if error else (None, "", {})
        if status == 401:
            if endpoint == "token":
                raise errors.CredentialsRejected(
                    message, code=code or "unauthorized", http_status=401, details=details
                )
            raise _TokenRejected(code or "unauthorized")
        if status == 429:
            retry_after = _retry_after(response)
            if retry_after is None:
                reset = response.headers.get("RateLimit-Reset", "")
                retry_after = float(reset) if reset.isdigit() else 1.0
            if endpoint == "token":
                self._tokens.block_for(retry_after)
            else:
                self._limiter.block_for(retry_after)
            raise errors.RateLimited(
                message,
                code="rate_limited",
                http_status=429,
                retry_after=retry_after,
                details=details,
            )
        if status >= 500 or status in (408, 425):
            retry_after = _retry_after(response)
            if retry_after:
                self._limiter.block_for(retry_after)
            raise errors.TemporaryPartnerError(
                message,
                code=code or f"http_{status}",
                http_status=status,
                retry_after=retry_after,
                details=details,
            )
        if error is None:
            raise _malformed(response, "an error without the contract's error body")
        error_class = (
            errors.PERMANENT_BY_CODE.get(code)
            or errors.PERMANENT_BY_STATUS.get(status)
            or errors.PermanentPartnerError
        )
        if endpoint == "token" and error_class is not errors.Forbidden:
            # Whatever the code, a refused token request means the account's settings
            # (base URL, client id or secret) need an administrator.
            error_class = errors.CredentialsRejected
        raise error_class(message, code=code, http_status=status, details=details)


# --- one client per account per process ---------------------------------------------------

_clients_lock = threading.Lock()
_clients: dict[int, tuple[str, PartnerClient]] = {}
_clients_pid = os.getpid()


def _client_fingerprint(account) -> str:
    """Changes whenever the account or the partner settings do: then a new client is made."""
    parts = (
        account_namespace(account),
        _secret_fingerprint(account.client_secret),
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


def _breaker(connection, namespace: str, *, probe_seconds: float) -> CircuitBreaker:
    return CircuitBreaker(
        connection,
        namespace,
        window_seconds=float(settings.PARTNER_BREAKER_WINDOW_SECONDS),
        min_calls=int(settings.PARTNER_BREAKER_MIN_CALLS),
        failure_rate=float(settings.PARTNER_BREAKER_FAILURE_RATE),
        reset_seconds=float(settings.PARTNER_BREAKER_RESET_SECONDS),
        probe_seconds=probe_seconds,
    )


def breaker_episode(account) -> Episode:
    """The account's breaker as every process sees it, with when an outage began and
    when the last one ended."""
    return _breaker(shared_redis(), account_namespace(account), probe_seconds=1).episode()


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
