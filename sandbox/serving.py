"""How every partner API call is served: ``Call`` (one request and its caller), ``Answer``
(what a handler returns) and ``endpoint(name, handler)``, the wrapper every route uses.

The wrapper identifies the caller, answers 503 during an outage, applies the per-minute
limit, picks an injected fault if any, runs the handler, renders the answer (with quirks,
on a copy), adds the ``RateLimit-*`` headers and writes the call log. The handlers
themselves are in sandbox/api.py.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from . import quirks
from .answers import Answer
from .errors import ApiError, invalid
from .faults import HTML_PAGE, OUTAGE, Fault
from .simulation import Simulator
from .state import Sandbox

log = logging.getLogger("sandbox.api")

LOGGED_HEADERS = (
    "authorization",
    "content-type",
    "accept",
    "user-agent",
    "idempotency-key",
    "x-request-id",
    "traceparent",
)
MAX_LOGGED_BODY = 65_536


class Call:
    """One request to the partner API, and what is known about its caller."""

    def __init__(self, request: Request, endpoint: str, raw: bytes) -> None:
        self.request = request
        self.endpoint = endpoint
        self.raw = raw
        self.sb: Sandbox = request.app.state.sandbox
        self.simulator: Simulator = request.app.state.simulator
        self.client_id: str | None = None
        self.auth_error: ApiError | None = None
        self._form: dict[str, str] | None = None

    def form(self) -> dict[str, str]:
        if self._form is None:
            try:
                parsed = parse_qs(self.raw.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                parsed = {}
            self._form = {key: values[0] for key, values in parsed.items()}
        return self._form

    def basic_credentials(self) -> tuple[str, str] | None:
        header = self.request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret

    def identify(self) -> None:
        """Who is calling (for limits and the log); auth errors are raised by ``client``."""
        sb = self.sb
        if self.endpoint == "token":
            basic = self.basic_credentials()
            claimed = basic[0] if basic else self.form().get("client_id", "")
            self.client_id = claimed if claimed in sb.clients else None
            return
        header = self.request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self.auth_error = ApiError(
                401, "unauthorized", "Send Authorization: Bearer <access token>"
            )
            return
        row = sb.store.get_token(token.strip())
        if row is None or row["revoked"] or row["expires_at"] <= time.time():
            self.auth_error = ApiError(
                401, "invalid_token", "The access token is unknown, expired or revoked"
            )
            return
        client = sb.clients.get(row["client_id"])
        if client is None:
            self.auth_error = ApiError(401, "invalid_token", "The access token's client is gone")
            return
        self.client_id = client["client_id"]
        if client["disabled"]:
            self.auth_error = ApiError(403, "forbidden", "This client is disabled")

    def client(self) -> str:
        """The authenticated client's id, or the auth error."""
        if self.auth_error is not None:
            raise self.auth_error
        assert self.client_id is not None
        return self.client_id

    def json(self) -> Any:
        try:
            return json.loads(self.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise invalid("body", "must be a JSON document") from None

    def logged_body(self) -> Any:
        if not self.raw:
            return None
        if self.endpoint == "token":
            form = dict(self.form())
            if "client_secret" in form:
                form["client_secret"] = "***"
            return form
        try:
            return json.loads(self.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self.raw[:MAX_LOGGED_BODY].decode("utf-8", errors="replace")

    def logged_headers(self) -> dict[str, str]:
        headers = {}
        for name in LOGGED_HEADERS:
            value = self.request.headers.get(name)
            if value is None:
                continue
            if name == "authorization":
                scheme, _, credential = value.partition(" ")
                value = f"{scheme} ****{credential[-4:]}" if credential else scheme
            headers[name] = value
        return headers


Handler = Callable[[Call], Awaitable[Answer]]


def _render(answer: Answer, fault: Fault | None) -> Response:
    content = answer.text().encode("utf-8")
    media_type = "application/json"
    if fault is not None and fault.kind == "malformed":
        content = HTML_PAGE.encode("utf-8")
        media_type = "text/html; charset=utf-8"
    elif fault is not None and fault.kind == "cutoff":
        content = content[: max(1, len(content) // 2)]
    return Response(
        content, status_code=answer.status, headers=answer.headers, media_type=media_type
    )


async def _serve(request: Request, endpoint: str, handler: Handler) -> Response:
    started = time.time()
    clock = time.perf_counter()
    raw = await request.body()
    call = Call(request, endpoint, raw)
    sb = call.sb
    cfg = sb.config
    call.identify()
    if sb.outage.active():  # the gateway answers: no limit counted, no action, no headers
        answer = Answer.error(OUTAGE.error())
        _log_call(call, sb, started, clock, answer, OUTAGE)
        return _render(answer, None)
    caller = call.client_id or f"addr:{request.client.host if request.client else '-'}"
    limit = sb.limiter.hit(caller, sb.rate_limit_for(call.client_id), cfg.rate_limit_enabled)
    fault: Fault | None = None
    answer: Answer | None = None
    if not limit.allowed:
        answer = Answer.error(
            ApiError(
                429,
                "rate_limited",
                f"More than {limit.limit} requests this minute; retry after the reset",
                details={"limit_per_minute": limit.limit},
                headers={"Retry-After": str(limit.reset_seconds)},
            )
        )
    else:
        if endpoint != "unknown":
            fault = sb.faults.pick(endpoint, cfg, sb.rng)
        if fault is not None and fault.is_error and not fault.after_commit:
            answer = Answer.error(fault.error(raw))
        else:
            if fault is not None and fault.kind == "slow" and not fault.after_commit:
                await asyncio.sleep(fault.seconds)
                if await request.is_disconnected():
                    _log_call(call, sb, started, clock, None, fault, gone=True)
                    return Response(status_code=504)
            answer = await _run(handler, call)
            if fault is not None and fault.is_error:  # the action happened, the answer is lost
                lost = Answer.error(fault.error(raw))
                answer = dataclasses.replace(lost, trip_id=answer.trip_id)
    response = _render(quirks.applied(sb, endpoint, answer), fault)
    response.headers.update(limit.headers())
    _log_call(call, sb, started, clock, answer, fault)
    if fault is not None and fault.kind == "slow" and fault.after_commit:
        await asyncio.sleep(fault.seconds)
    return response


async def _run(handler: Handler, call: Call) -> Answer:
    try:
        return await handler(call)
    except ApiError as exc:
        return Answer.error(exc)
    except Exception:
        log.exception("%s failed", call.endpoint)
        return Answer.error(ApiError(500, "internal_error", "Internal server error"))


def _log_call(
    call: Call,
    sb: Sandbox,
    started: float,
    clock: float,
    answer: Answer | None,
    fault: Fault | None,
    gone: bool = False,
) -> None:
    if not sb.config.call_log_enabled:
        return
    request = call.request
    try:
        sb.store.insert_call(
            {
                "at": started,
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "endpoint": call.endpoint,
                "client_id": call.client_id,
                "idempotency_key": request.headers.get("idempotency-key"),
                "trip_id": (answer.trip_id if answer else None)
                or request.path_params.get("trip_id"),
                "status": answer.status if answer else None,
                "error_code": "client_disconnected" if gone else (answer and answer.error_code),
                "fault": fault.label() if fault else None,
                "duration_ms": round((time.perf_counter() - clock) * 1000, 2),
                "headers": call.logged_headers(),
                "body": call.logged_body(),
            }
        )
    except Exception:
        log.exception("could not write the call log")


def endpoint(name: str, handler: Handler):
    async def serve(request: Request) -> Response:
        return await _serve(request, name, handler)

    serve.__name__ = name
    return serve
