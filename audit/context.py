"""The request being answered, for the audit trail: who, from which address, on which path.

The AuditContext middleware sets it for the length of a request, so services record
their events without being handed the request; outside a request (Celery tasks, commands)
there is none, and events are recorded with no actor (the system)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

_request: contextvars.ContextVar = contextvars.ContextVar("audit_request", default=None)


@dataclass(frozen=True)
class Origin:
    actor: object | None  # a user, or None for the system
    ip: str | None
    path: str


SYSTEM = Origin(actor=None, ip=None, path="")


def request_set(request) -> contextvars.Token:
    return _request.set(request)


def request_reset(token: contextvars.Token) -> None:
    _request.reset(token)


def origin_of(request) -> Origin:
    """The request's user (None when not logged in), client address (REMOTE_ADDR, the real
    client after portal.middleware.TrustedProxyClientAddress) and path, never its query
    string (a search may hold a name)."""
    if request is None:
        return SYSTEM
    user = getattr(request, "user", None)
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    return Origin(
        actor=actor,
        ip=request.META.get("REMOTE_ADDR") or None,
        path=(getattr(request, "path", "") or "")[:300],
    )


def current_origin() -> Origin:
    return origin_of(_request.get())
