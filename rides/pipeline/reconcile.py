"""Finding out whether the partner holds a ride whose create went unanswered.

A ride in `dispatch_unknown` (or in `dispatching` past its lease: the worker died) is
looked up at the partner by its reference: found → applied; not found → sent again
under the same idempotency key; the lookup failing → tried again until the dispatch
deadline (and a little longer), then a person is asked; the partner's answer about the
trip unusable → tried a few times, then a person is asked. Never a blind second create.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.client import errors
from partners.client.registry import client_for
from portal.queue import enqueue_on_commit
from rides.models import AlertKind, Cause, PartnerOperation, Ride, RideStatus
from rides.pipeline.apply import ride_apply_partner_trip
from rides.pipeline.calls import partner_call
from rides.pipeline.common import (
    DISPATCH_RIDE,
    RECONCILE_RIDE,
    backoff_seconds,
    by_the_deadline,
    cancel_locally,
    due_after,
    hold,
    locked_ride,
    relocked,
    retry_delay,
    seconds,
    seconds_left,
)

S = RideStatus
log = logging.getLogger("rides.pipeline")


def ride_reconcile(*, ride_id: int) -> str:
    """Finds out whether the partner holds a ride whose dispatch outcome is unknown.

    found → applied; not found → sent again under the same idempotency key; the lookup
    failing → tried again later until the dispatch deadline, then a person is asked; the
    partner's answer about the trip unusable → tried a few times, then a person is asked.
    """
    now = timezone.now()
    with transaction.atomic():
        ride = locked_ride(ride_id)
        if ride is None:
            return "missing"
        if ride.status not in (S.DISPATCHING, S.DISPATCH_UNKNOWN):
            return "not_unknown"
        if ride.status == S.DISPATCHING:
            if ride.dispatch_due_at is not None and ride.dispatch_due_at > now:
                return "lease_held"  # the dispatching worker is still within its lease
            ride.apply_transition(
                S.DISPATCH_UNKNOWN, cause=Cause.SWEEPER, note="dispatch lease expired"
            )
        ride.reconcile_attempts += 1
        ride.dispatch_due_at = now + seconds("PIPELINE_DISPATCH_LEASE_SECONDS")
        ride.save()
        account = ride.partner_account
        reference = ride.reference
        attempt = ride.reconcile_attempts

    try:
        with partner_call(
            account_id=account.pk,
            operation=PartnerOperation.FIND_TRIP,
            ride_id=ride_id,
            attempt=attempt,
        ):
            trip = client_for(account).find_trip_by_reference(reference)
    except errors.UnusableAnswer as exc:
        return relocked(ride_id, _still_unknown(attempt), _lookup_unusable, attempt, exc)
    except errors.PartnerError as exc:
        return relocked(ride_id, _still_unknown(attempt), _lookup_later, attempt, exc)
    except Exception as exc:  # noqa: BLE001
        log.exception("ride %s: reference lookup failed unexpectedly", ride_id)
        return relocked(ride_id, _still_unknown(attempt), _lookup_later, attempt, exc)
    if trip is not None:
        ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.DISPATCH)
        return "found"
    return relocked(ride_id, _still_unknown(attempt), _not_at_partner)


def _still_unknown(attempt: int):
    """The ride still waits for the lookup this worker made (no later one started)."""
    return lambda ride: ride.status == S.DISPATCH_UNKNOWN and ride.reconcile_attempts == attempt


def _cannot_confirm_reason() -> str:
    return _(
        "The partner could not confirm whether it took this ride. Call the partner "
        "before booking again: it may still send a driver."
    )


def _unusable_reason() -> str:
    return _(
        "The partner holds a trip for this ride but its answers about it cannot be read. "
        "Call the partner to check the trip before booking again."
    )


def _reconcile_again(ride: Ride, delay: float, now: dt.datetime) -> None:
    ride.dispatch_due_at = due_after(delay, now)
    ride.save()
    enqueue_on_commit(RECONCILE_RIDE, ride.pk, countdown=delay)


def _lookup_later(ride: Ride, attempt: int, exc) -> str:
    now = timezone.now()
    ride.last_dispatch_error = str(exc)[:500]
    if isinstance(exc, errors.PermanentPartnerError):
        hold(ride, _cannot_confirm_reason(), code=f"reconcile: {exc}")
        return "held"
    held_back = not getattr(exc, "sent", True)  # breaker or budget: not a lookup
    if held_back:
        ride.reconcile_attempts = max(0, attempt - 1)
    if seconds_left(ride, now, lookup=True) <= 0 and not isinstance(exc, errors.RateLimited):
        hold(ride, _cannot_confirm_reason(), code=f"reconcile: {exc}")
        return "held"
    delay = retry_delay(exc, max(1, ride.reconcile_attempts))
    _reconcile_again(ride, by_the_deadline(ride, delay, now, lookup=True), now)
    return "retry_later"


def _lookup_unusable(ride: Ride, attempt: int, exc) -> str:
    """The partner holds a trip under the reference but its data is unusable: a problem
    of this trip, not of the partner. A few more tries, then a person is asked."""
    now = timezone.now()
    ride.last_dispatch_error = f"reconcile: {exc}"[:500]
    ride.unusable_answers += 1
    if ride.unusable_answers >= settings.PIPELINE_UNUSABLE_ANSWERS_MAX:
        hold(
            ride,
            _unusable_reason(),
            code=ride.last_dispatch_error,
            kind=AlertKind.PARTNER_DATA_UNUSABLE,
        )
        return "held"
    delay = by_the_deadline(ride, backoff_seconds(attempt), now, lookup=True)
    _reconcile_again(ride, delay, now)
    return "retry_later"


def _not_at_partner(ride: Ride) -> str:
    if ride.cancel_requested_at is not None:
        cancel_locally(ride)
        return "cancelled"
    if seconds_left(ride, timezone.now(), lookup=True) <= 0:
        hold(
            ride,
            _(
                "The partner did not take the ride after %(count)s attempts. "
                "Retry, or book another way."
            )
            % {"count": ride.dispatch_attempts},
            code="not_created",
        )
        return "held"
    ride.reconcile_attempts = 0
    ride.dispatch_due_at = timezone.now() + seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    ride.apply_transition(S.REQUESTED, cause=Cause.DISPATCH, note="not at the partner")
    enqueue_on_commit(DISPATCH_RIDE, ride.pk)
    return "resend"
