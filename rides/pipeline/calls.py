"""Recording each partner call the pipeline makes about one ride (rides.PartnerCall).

`partner_call(...)` wraps the one client call: it times it, reads how it ended from the
result or the error (partners/client/errors.py) and writes one append-only row, then
lets the error go on to the caller unchanged. Nothing of the request or the answer is
kept but the operation, the times, the outcome, the HTTP status and a contract error code.

Recorded: creates, fare estimates at dispatch, per-trip reads (after a webhook, for the
details, the polling safety net, a duplicate reference), look-ups by reference
(reconciliation, cancellation), cancellations and receipts. Not recorded: the batched
list call of polling (one call for every active trip of an account; rides.PollState
keeps its last outcome) and the estimate on the booking form (no ride exists yet; the
person sees its outcome on the form).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from django.utils import timezone

from partners.client import errors
from rides.models import CallOutcome, PartnerCall

_TIMEOUTS = frozenset({"timeout", "connect_timeout", "pool_timeout"})
_NO_CONNECTION = frozenset({"connect_error", "connection_error"})


def call_outcome(exc: BaseException | None) -> tuple[str, int | None, str]:
    """(outcome, HTTP status, contract error code) of a call that ended with `exc`
    (None: it answered)."""
    if exc is None:
        return CallOutcome.OK, None, ""
    if not isinstance(exc, errors.PartnerError):
        return CallOutcome.ERROR, None, ""
    status = exc.http_status
    code = exc.code if exc.code in errors.CONTRACT_ERROR_CODES else ""
    if isinstance(exc, errors.UnusableAnswer) or exc.code == "malformed_response":
        return CallOutcome.UNUSABLE, status, ""
    if exc.code in _TIMEOUTS:
        return CallOutcome.TIMEOUT, None, ""
    if exc.code in _NO_CONNECTION:
        return CallOutcome.CONNECTION_ERROR, None, ""
    if status:
        return CallOutcome.HTTP_ERROR, status, code
    if not exc.sent:  # an open breaker, the account's spent budget, a Retry-After window
        return CallOutcome.NOT_SENT, None, code
    return CallOutcome.ERROR, None, code


@contextmanager
def partner_call(*, account_id: int, operation: str, ride_id: int | None, attempt: int = 1):
    """Records the partner call made inside the block, whether it answers or raises."""
    at = timezone.now()
    started = time.monotonic()
    try:
        yield
    except Exception as exc:
        _record(account_id, operation, ride_id, attempt, at, started, exc)
        raise
    _record(account_id, operation, ride_id, attempt, at, started, None)


def _record(account_id, operation, ride_id, attempt, at, started, exc) -> None:
    outcome, status, code = call_outcome(exc)
    PartnerCall.objects.create(
        ride_id=ride_id,
        account_id=account_id,
        operation=operation,
        at=at,
        duration_ms=max(0, round((time.monotonic() - started) * 1000)),
        outcome=outcome,
        http_status=status,
        error_code=code,
        attempt=max(1, min(int(attempt or 1), 32767)),
    )
