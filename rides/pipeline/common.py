"""What the pipeline's steps share: the locked ride, holding it for a person, the outbox.

- `relocked` is the shape every answer from the partner is applied in: a transaction of
  its own, the ride re-locked, and nothing done when it moved on meanwhile (another
  worker, a person, the sweeper got there first);
- `hold` hands a ride to a person (`needs_attention` with a reason, an alert; its money
  held is released);
- `ride_request_dispatch` writes the dispatch intent into the ride row (the outbox) and
  enqueues the dispatch on commit;
- the names of the tasks the pipeline enqueues (portal/queue.py looks them up);
- the dispatch deadline: until it, failures to reach the partner are retried; after
  it, the ride is handed to a person.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partners.client import errors
from portal.queue import enqueue_on_commit
from rides.models import AlertKind, Cause, Ride, RideStatus
from rides.pipeline.alerts import alert_raise
from rides.pipeline.funds import ride_funds_follow

S = RideStatus
log = logging.getLogger("rides.pipeline")

# The tasks the pipeline enqueues, by the names rides/tasks.py registers them under.
DISPATCH_RIDE = "rides.dispatch_ride"
RECONCILE_RIDE = "rides.reconcile_ride"
CANCEL_AT_PARTNER = "rides.cancel_at_partner"
FETCH_RECEIPT = "rides.fetch_receipt"
PROCESS_WEBHOOK_EVENT = "rides.process_webhook_event"
REFRESH_TRIP_DETAILS = "rides.refresh_trip_details"

# What a step answers when the re-locked ride moved on without it.
MOVED_ON = "moved_on"

# Ride fields the pipeline selects a row with (the FKs its payload and apply steps read).
_RELATED = ("partner_account", "case", "case__survivor", "pickup_place", "dropoff_place")


def seconds(name: str) -> dt.timedelta:
    """The setting `name`, in seconds, as a timedelta."""
    return dt.timedelta(seconds=float(getattr(settings, name)))


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter for the `attempt`-th retry (1-based).

    Jitter over the upper half of the window (retries of many rides spread out instead
    of coming back at once), and never sooner than the partner's Retry-After.
    """
    base = float(settings.PIPELINE_BACKOFF_BASE_SECONDS)
    cap = float(settings.PIPELINE_BACKOFF_MAX_SECONDS)
    window = min(cap, base * 2 ** max(0, attempt - 1))
    delay = random.uniform(window / 2, window)  # noqa: S311 - jitter, not a secret
    if retry_after:
        delay = max(delay, float(retry_after))
    return delay


# --- the locked ride ------------------------------------------------------------------------


def locked_ride(ride_id: int) -> Ride | None:
    """The ride, locked until the end of the transaction (None if there is none)."""
    return (
        Ride.objects.select_for_update(of=("self",))
        .select_related(*_RELATED)
        .filter(pk=ride_id)
        .first()
    )


def locked_rides(ride_ids) -> list[Ride]:
    """The rides, locked until the end of the transaction, in id order: two transactions
    that lock rides this way never wait on each other in a circle."""
    return list(
        Ride.objects.select_for_update(of=("self",))
        .select_related(*_RELATED)
        .filter(pk__in=ride_ids)
        .order_by("pk")
    )


def relocked(ride_id: int, still: Callable[[Ride], bool] | None, step: Callable, *args) -> str:
    """Runs `step(ride, *args)` on the ride re-locked in a transaction of its own, and
    answers what the step answers; MOVED_ON without running it when the ride is gone or
    `still(ride)` no longer holds (someone else took the ride on since it was read)."""
    with transaction.atomic():
        ride = locked_ride(ride_id)
        if ride is None or (still is not None and not still(ride)):
            return MOVED_ON
        return step(ride, *args)


def visible_or_denied(ride: Ride, user) -> None:
    """PermissionDenied unless `user` may see the ride (need to know)."""
    if not Ride.objects.visible_to(user).filter(pk=ride.pk).exists():
        raise PermissionDenied("ride not visible to this user")


# --- a ride a person must look at -----------------------------------------------------------


def hold(ride: Ride, reason: str, *, code: str, cause: str = Cause.DISPATCH, kind=None) -> None:
    """Puts the ride in `needs_attention` with a reason the caseworker can read, and
    alerts the unit's supervisors. The ride row must be locked."""
    ride.last_dispatch_error = code[:500]
    ride.dispatch_due_at = None
    result = ride.apply_transition(S.NEEDS_ATTENTION, cause=cause, reason=reason)
    if not result.applied:
        ride.save()
        return
    ride_funds_follow(ride)  # a ride waiting for a person holds no money
    alert_raise(
        ride=ride,
        kind=kind or AlertKind.NEEDS_ATTENTION,
        message=_("Ride %(reference)s needs attention: %(reason)s")
        % {"reference": ride.reference, "reason": reason},
    )
    # Only the code's kind: the rest may quote the partner's error, which may echo data.
    log.warning("ride %s needs attention (%s)", ride.pk, code.split(":", 1)[0][:40])


def cancel_locally(ride: Ride, *, cause: str = Cause.USER) -> None:
    """Cancels a ride the partner does not hold. Row locked."""
    ride.dispatch_due_at = None
    ride.apply_transition(
        S.CANCELLED,
        cause=cause,
        actor=ride.cancel_requested_by,
        reason=_("Cancelled before the partner took the ride."),
    )
    ride_funds_follow(ride)


# --- the outbox -----------------------------------------------------------------------------


def ride_request_dispatch(*, ride: Ride) -> None:
    """Marks the ride's dispatch as due and enqueues it once the transaction commits.

    Call inside the transaction that wrote the ride (the ride row is the outbox): if the
    enqueue is lost (broker down, worker killed) the outbox sweeper finds the ride by
    `dispatch_due_at` once the grace period has passed, and enqueues it again. From here
    the ride has PIPELINE_DISPATCH_DEADLINE_SECONDS to reach the partner.
    """
    now = timezone.now()
    ride.dispatch_due_at = now + seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    ride.dispatch_deadline_at = now + seconds("PIPELINE_DISPATCH_DEADLINE_SECONDS")
    ride.save(update_fields=["dispatch_due_at", "dispatch_deadline_at", "updated_at"])
    enqueue_on_commit(DISPATCH_RIDE, ride.pk)


def due_after(delay: float, now: dt.datetime) -> dt.datetime:
    """When the sweeper takes over a step enqueued with a countdown of `delay` seconds."""
    return now + dt.timedelta(seconds=delay) + seconds("PIPELINE_DISPATCH_GRACE_SECONDS")


# --- the deadline ---------------------------------------------------------------------------


def seconds_left(ride: Ride, now: dt.datetime, *, lookup: bool = False) -> float:
    """Seconds until the ride's dispatch deadline (a ride without one has all the time).
    Looking up an unknown outcome may go on PIPELINE_RECONCILE_GRACE_SECONDS longer: a
    create that timed out just before the deadline still gets its lookups."""
    if ride.dispatch_deadline_at is None:
        return math.inf
    left = (ride.dispatch_deadline_at - now).total_seconds()
    return left + float(settings.PIPELINE_RECONCILE_GRACE_SECONDS) if lookup else left


def by_the_deadline(ride: Ride, delay: float, now: dt.datetime, *, lookup=False) -> float:
    """A retry delay that comes back no later than just after the deadline, so the
    decision to ask a person is taken on time."""
    return max(0.5, min(delay, seconds_left(ride, now, lookup=lookup) + 0.5))


def retry_delay(exc, attempt: int) -> float:
    """How long to wait after a call that did not reach the partner, or failed there.

    Refused by the portal itself (an open breaker): come back when it says, with a little
    jitter, since that is when the breaker lets the most urgent call probe. Otherwise
    exponential backoff with jitter, never sooner than the partner's Retry-After."""
    if isinstance(exc, errors.PartnerUnavailable):
        return float(exc.retry_after or 1.0) + random.uniform(0, 1)  # noqa: S311
    return backoff_seconds(attempt, getattr(exc, "retry_after", None))


def _first_attempt_at(ride: Ride) -> dt.datetime:
    """When the current series of attempts began (after the last person's retry)."""
    events = ride.events.filter(new_status=S.DISPATCHING)
    last_retry = (
        ride.events.filter(cause=Cause.USER, new_status=S.REQUESTED).order_by("-at").first()
    )
    if last_retry is not None:
        events = events.filter(at__gte=last_retry.at)
    first = events.order_by("at").first()
    return first.at if first is not None else ride.created_at


def unreachable_reason(ride: Ride, now: dt.datetime) -> str:
    """Why a ride the partner never answered for waits for a person."""
    minutes = max(1, math.ceil((now - _first_attempt_at(ride)).total_seconds() / 60))
    return ngettext(
        "The partner could not be reached for %(minutes)s minute. Retry, or book another way.",
        "The partner could not be reached for %(minutes)s minutes. Retry, or book another way.",
        minutes,
    ) % {"minutes": minutes}
