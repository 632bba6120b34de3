"""The portal's HTTP client for a transport partner account (docs/partner-api.yaml).

Used by Celery tasks (dispatch, reconciliation, polling, receipts, cancellation) and by
the web process for fare estimates. One `PartnerClient` per account per process
(partners/client/registry.py: `client_for`), holding one httpx connection pool.

Each method makes one logical call: the client never retries on its own (the tasks do,
with backoff), except that a call answered 401 gets a fresh token (tokens.py) and is
repeated once. Every HTTP exchange, the token request included, passes the same gates in
order: the circuit breaker (breaker.py), then the Retry-After window and the shared
request budget (ratelimit.py); then it is sent, its RateLimit-* headers recorded, and its
answer read and classified (answers.py, errors.py).

Only the account's configured host is reached: URLs are the account's base URL plus
fixed paths, trip ids are escaped into one path segment, redirects are not followed,
and proxy settings from the environment are ignored.

Nothing here logs a request or response body (they carry phones and addresses): only
account ids, endpoint names, trip ids, status codes, error codes and durations.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import redis
from django.conf import settings

from partners.client import errors
from partners.client.answers import (
    Parser,
    TokenRejected,
    parse_create,
    parse_estimates,
    parse_one_trip,
    parse_page,
    parse_receipt,
    read_answer,
    transport_error,
)
from partners.client.breaker import (
    DETAIL,
    DISPATCH,
    KINDS,
    LOOKUP,
    POLL,
    RECEIPT,
    CallKind,
    CircuitOpen,
    account_breaker,
)
from partners.client.contract import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_TRIP_ID_LENGTH,
    CreateResult,
    Estimate,
    Point,
    Receipt,
    Trip,
    TripPage,
)
from partners.client.ratelimit import RateLimitState, account_limiter
from partners.client.store import FailFastRedis, account_namespace, shared_redis
from partners.client.tokens import Token, TokenCache, read_token, secret_fingerprint

log = logging.getLogger("partners.client")

USER_AGENT = "safe-ride-portal/1 (+partners adapter)"


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
        self._limiter = account_limiter(self._redis, account)
        # A probe lease outlives the longest call (connect, send, read).
        self._call_budget_seconds = connect + 2 * read + 1
        self._breaker = account_breaker(
            self._redis, namespace, probe_seconds=self._call_budget_seconds
        )
        self._tokens = TokenCache(self._redis, namespace, secret_fingerprint(account.client_secret))

    def __repr__(self) -> str:
        return f"<PartnerClient account={self.account_id} {self._scheme}://{self._netloc}>"

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
            parse=parse_estimates,
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
            parse=parse_create,
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
            parse=parse_one_trip,
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
            parse=parse_page,
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
            parse=parse_page,
        )

    def cancel_trip(self, trip_id: str) -> Trip:
        return self._call(
            "cancel_trip",
            "DELETE",
            _trip_path(trip_id),
            priority="high",
            kind=DISPATCH,
            parse=parse_one_trip,
            trip_id=trip_id,
        )

    def get_receipt(self, trip_id: str, *, priority: str = "low") -> Receipt:
        return self._call(
            "receipt",
            "GET",
            _trip_path(trip_id, "/receipt"),
            priority=priority,
            kind=RECEIPT,
            parse=parse_receipt,
            trip_id=trip_id,
        )

    def request_token(self) -> None:
        """Asks the partner for a new access token (a check that the credentials work);
        the token itself is not kept."""
        self._fetch_token("high", DISPATCH)

    def rate_limit_state(self) -> RateLimitState:
        """What the partner's RateLimit-* headers said last (shared by all processes)."""
        return self._limiter.state()

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
        except TokenRejected as exc:
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
        except TokenRejected as exc:
            raise errors.CredentialsRejected(
                "the partner rejected a freshly issued token", code=exc.code, http_status=401
            ) from None

    def _access_token(self, priority: str, kind: CallKind, rejected: str | None = None) -> str:
        return self._tokens.current(
            lambda: self._fetch_token(priority, kind),
            wait_seconds=self._call_budget_seconds,
            rejected=rejected,
        )

    def _fetch_token(self, priority: str, kind: CallKind) -> Token:
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
            parse=read_token,
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
                raise transport_error(exc) from exc
            self._limiter.record(response.headers)
            result = self._read(endpoint, response, parse)
        except (errors.PartnerError, TokenRejected) as exc:
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
        status = 401 if isinstance(exc, TokenRejected) else exc.http_status
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

    def _read(self, endpoint: str, response: httpx.Response, parse: Parser) -> Any:
        try:
            return read_answer(endpoint, response, parse)
        except errors.PartnerError as exc:
            # A 429 or a 5xx with Retry-After: keep off the account (off the token
            # endpoint only, when that is what answered 429) for as long as it says.
            if exc.retry_after:
                if endpoint == "token" and exc.http_status == 429:
                    self._tokens.block_for(exc.retry_after)
                else:
                    self._limiter.block_for(exc.retry_after)
            raise
