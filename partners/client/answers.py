"""How the portal reads a partner's HTTP answers.

One function, `read_answer`, turns a response into the call's result or into the error
the contract's table gives for it (partners/client/errors.py): a 2xx whose body is cut
off, not JSON or not the contract's shape is a TemporaryPartnerError, never a success; a
coherent 2xx without what the portal needs about one trip is an UnusableAnswer. Each
call's body is read by the tolerant parsers of partners/client/contract.py. Failures
below HTTP are classified by `transport_error`, which says whether anything was sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from partners.client import errors
from partners.client.contract import (
    CreateResult,
    Estimate,
    Receipt,
    Trip,
    TripPage,
    UnusableData,
    read_estimates,
    read_page,
    read_receipt,
    read_trip,
)
from partners.client.ratelimit import MAX_BLOCK_SECONDS

# Reads one call's JSON body (with the response, for its headers).
Parser = Callable[[Any, httpx.Response], Any]


def parse_estimates(body: Any, response: httpx.Response) -> list[Estimate]:
    return read_estimates(body)


def parse_one_trip(body: Any, response: httpx.Response) -> Trip:
    return read_trip(body)


def parse_create(body: Any, response: httpx.Response) -> CreateResult:
    replayed = (
        response.headers.get("Idempotent-Replayed", "").strip().lower() == "true"
        or response.status_code == 200
    )
    return CreateResult(trip=read_trip(body), replayed=replayed)


def parse_page(body: Any, response: httpx.Response) -> TripPage:
    return read_page(body)


def parse_receipt(body: Any, response: httpx.Response) -> Receipt:
    return read_receipt(body)


class TokenRejected(Exception):
    """A call answered 401: the caller refreshes the token once and repeats the call."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def retry_after(response: httpx.Response) -> float | None:
    """The answer's Retry-After in seconds (a number or an HTTP date), if it has one."""
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
    return errors.listed_code(code), message, details if isinstance(details, dict) else {}


def _malformed(response: httpx.Response, reason: str) -> errors.TemporaryPartnerError:
    return errors.TemporaryPartnerError(
        "the partner's answer is not what the contract promises",
        code="malformed_response",
        http_status=response.status_code,
        details={"reason": reason},
    )


def transport_error(exc: httpx.HTTPError) -> errors.TemporaryPartnerError:
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


def read_answer(endpoint: str, response: httpx.Response, parse: Parser) -> Any:
    """The call's result, or raises the error the answer means (TokenRejected for a 401
    of any endpoint but the token's). A 429's or 5xx's ``retry_after`` is on the error:
    the caller keeps off the partner for that long."""
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
        raise TokenRejected(code or "unauthorized")
    if status == 429:
        wait = retry_after(response)
        if wait is None:
            reset = response.headers.get("RateLimit-Reset", "")
            wait = float(reset) if reset.isdigit() else 1.0
        raise errors.RateLimited(
            message, code="rate_limited", http_status=429, retry_after=wait, details=details
        )
    if status >= 500 or status in (408, 425):
        raise errors.TemporaryPartnerError(
            message,
            code=code or f"http_{status}",
            http_status=status,
            retry_after=retry_after(response),
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
