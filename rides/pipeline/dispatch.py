"""Sending a requested ride to its partner, and a person's retry of a held ride.

`ride_dispatch` commits the intent (status `dispatching`, the idempotency key, a lease)
before it calls the partner, calls outside any transaction, and applies the answer in a
short one on the re-locked ride. An answer that may or may not have created the trip
(timeout, 5xx after sending, garbage, a worker killed mid-call) leaves the ride in
`dispatch_unknown` for rides/pipeline/reconcile.py: never a blind second create. A
partner that is down, or a minute whose budget is spent, makes the ride wait without
using up an attempt; failures to reach the partner are retried until the dispatch
deadline, then the ride is handed to a person.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_change
from partners.client import errors
from partners.client.ratelimit import budget_wait
from partners.client.registry import client_for
from portal.queue import enqueue_on_commit
from rides.models import AlertKind, Cause, PartnerOperation, Ride, RideStatus
from rides.models.ride import PACED_ERROR_PREFIX
from rides.pipeline.alerts import alerts_resolve_for_ride
from rides.pipeline.apply import ride_apply_partner_trip
from rides.pipeline.calls import partner_call
from rides.pipeline.common import (
    DISPATCH_RIDE,
    RECONCILE_RIDE,
    by_the_deadline,
    cancel_locally,
    due_after,
    hold,
    locked_ride,
    relocked,
    retry_delay,
    ride_request_dispatch,
    seconds,
    seconds_left,
    unreachable_reason,
    visible_or_denied,
)
from rides.pipeline.funds import ride_funds_follow, ride_funds_hold
from rides.pipeline.payload import PayloadRefused, build_trip_request, fare_is_fresh
from rides.rules import (
    approval_reason_text,
    fare_recheck_reason,
    quote_from_estimates,
    retry_refusal,
)
from sop.selectors import current as sop_now

S = RideStatus
log = logging.getLogger("rides.pipeline")

# A burst of rides held back by a spent budget comes back spread over at most this long.
PACED_SPREAD_MAX_SECONDS = 55


def idempotency_key_for(ride: Ride) -> str:
    return f"{ride.reference}:{ride.dispatch_generation}"


def ride_dispatch(*, ride_id: int, fare_checked: bool = False) -> str:
    """Sends a requested ride to its partner. Safe to run twice: only a ride in
    `requested` is sent, and the row lock makes one run win. Returns what happened.
    `fare_checked`: the fare was just asked for again, so it is not asked for twice."""
    now = timezone.now()
    with transaction.atomic():
        ride = locked_ride(ride_id)
        if ride is None:
            return "missing"
        if ride.status != S.REQUESTED:
            return "not_requested"
        if ride.cancel_requested_at is not None:
            cancel_locally(ride)
            return "cancelled"
        account = ride.partner_account
        if not account.enabled:
            hold(
                ride,
                _(
                    "The partner account %(account)s is switched off. Ask an administrator, "
                    "or book another way."
                )
                % {"account": account.name},
                code="account_disabled",
            )
            return "held"
        wait = _breaker_wait(account)
        if wait:
            # The partner is down (the breaker is open): wait for the breaker's probe
            # without an attempt or a trip-log row, until the deadline.
            return _wait_for_partner(ride, wait, now)
        wait = budget_wait(account, 1.0)  # a dispatch may use the whole minute
        if wait:
            # The partner's minute is spent: wait for its turn without a trip-log row
            # for an attempt that would only be held back.
            delay = _paced_delay(ride, wait)
            ride.last_dispatch_error = (
                f"{PACED_ERROR_PREFIX}: waiting for the partner's next minute"
            )
            ride.dispatch_due_at = due_after(delay, now)
            ride.save(update_fields=["last_dispatch_error", "dispatch_due_at", "updated_at"])
            enqueue_on_commit(DISPATCH_RIDE, ride_id, countdown=delay)
            return "paced"
        if not ride.idempotency_key and not ride.fare_check_at_dispatch:
            # A new key starts here, so this is the moment to decide about the fare id;
            # every repeat of this key then sends the very same body. A lock that ran
            # out means a fare nobody saw: ask for a fresh quote first.
            if ride.fare_id and not fare_is_fresh(ride, now):
                ride.fare_id = ""
                ride.fare_expires_at = None
                ride.fare_check_at_dispatch = not fare_checked
            if not ride.fare_check_at_dispatch:
                ride.idempotency_key = idempotency_key_for(ride)
        try:
            body = build_trip_request(ride)
        except PayloadRefused as refused:
            hold(ride, refused.user_message, code=f"payload:{refused.code}")
            return "held"
        if ride.fare_check_at_dispatch:
            ride.save(
                update_fields=["fare_id", "fare_expires_at", "fare_check_at_dispatch", "updated_at"]
            )
            # The very points the trip will be booked with (neutral ones for protected places).
            points = {"pickup": body["pickup"], "dropoff": body["dropoff"]}
            passengers = body["passenger_count"]
        else:
            # The money first: a ride the fund cannot cover is not sent.
            if not ride_funds_hold(ride):
                return "awaiting_approval"
            points = None
            ride.dispatch_attempts += 1
            ride.dispatch_due_at = now + seconds("PIPELINE_DISPATCH_LEASE_SECONDS")
            ride.last_dispatch_error = ""
            ride.apply_transition(S.DISPATCHING, cause=Cause.DISPATCH)
        key = ride.idempotency_key
        reference = ride.reference
        attempt = ride.dispatch_attempts

    if points is not None:
        return _check_fare_first(ride_id, account, points, passengers, attempt + 1)
    try:
        client = client_for(account)
        with partner_call(
            account_id=account.pk,
            operation=PartnerOperation.CREATE_TRIP,
            ride_id=ride_id,
            attempt=attempt,
        ):
            result = client.create_trip(body=body, idempotency_key=key)
    except errors.DuplicateReference as exc:
        log.info("ride %s: partner holds its reference already (trip %s)", ride_id, exc.trip_id)
        return _adopt_existing_trip(ride_id, key, exc.trip_id, reference, account, attempt)
    except errors.FareExpired:
        return _dispatch_without_fare(ride_id, key)
    except errors.IdempotencyKeyReused:
        # The key was seen with another body: something was sent before. Look the
        # reference up before anything else, under a fresh key.
        return _dispatch_unknown(ride_id, key, "idempotency_key_reused", new_generation=True)
    except errors.PermanentPartnerError as exc:
        return _dispatch_refused(ride_id, key, exc)
    except errors.TemporaryPartnerError as exc:
        # A 429 is a refusal (the contract: nothing was done, wait Retry-After); a resend
        # under the same key is safe either way.
        if exc.sent and not isinstance(exc, errors.RateLimited):
            return _dispatch_unknown(ride_id, key, str(exc), retry_after=exc.retry_after)
        return _dispatch_retry_later(ride_id, key, exc)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure: the outcome is unknown
        log.exception("ride %s: create failed unexpectedly", ride_id)
        return _dispatch_unknown(ride_id, key, type(exc).__name__)
    ride_apply_partner_trip(ride_id=ride_id, trip=result.trip, cause=Cause.DISPATCH)
    return "replayed" if result.replayed else "created"


def _still_dispatching(key: str):
    """The ride is still in the dispatch this worker started (nobody moved it since)."""
    return lambda ride: ride.status == S.DISPATCHING and ride.idempotency_key == key


def _still_checking_fare(ride: Ride) -> bool:
    """The ride still waits for the fare the dispatch asks for first."""
    return ride.status == S.REQUESTED and ride.fare_check_at_dispatch


# --- the fare, when the partner gave none at booking or its lock ran out ----------------------


def _check_fare_first(ride_id: int, account, points: dict, passengers: int, attempt: int) -> str:
    """The partner could not give a fare when the ride was booked, or the quoted fare's
    lock ran out: ask for it now (outside any transaction), then apply the fare rules
    before the ride is sent."""
    try:
        with partner_call(
            account_id=account.pk,
            operation=PartnerOperation.ESTIMATE,
            ride_id=ride_id,
            attempt=attempt,
        ):
            estimates = client_for(account).estimate(
                pickup=points["pickup"], dropoff=points["dropoff"], passenger_count=passengers
            )
    except errors.PermanentPartnerError as exc:
        return relocked(ride_id, _still_checking_fare, _hold_for_estimate, exc)
    except errors.TemporaryPartnerError as exc:
        return relocked(ride_id, _still_checking_fare, _fare_check_later, exc)
    outcome = relocked(ride_id, _still_checking_fare, _apply_fare, estimates)
    return ride_dispatch(ride_id=ride_id, fare_checked=True) if outcome == "send" else outcome


def _hold_for_estimate(ride: Ride, exc) -> str:
    hold(ride, exc.user_message, code=f"estimate: {exc}")
    return "held"


def fare_check_at_dispatch_apply(*, ride: Ride, estimates) -> bool:
    """The fare asked for at dispatch, applied to the locked ride by the rule of
    rides/rules.py (fare_recheck_reason): the ceiling when nobody agreed to a fare yet,
    else the margin above the agreed one. True: the ride may be sent (with the fresh fare
    and its locked fare id). False: it now waits for a supervisor, told both fares."""
    quote = quote_from_estimates(estimates, product_id=ride.product_id)
    sop = sop_now()
    reason = fare_recheck_reason(
        quote,
        agreed_fare=ride.agreed_fare,
        approved=ride.decided_at is not None,
        ceiling=sop.fare_ceiling,
        margin_percent=sop.approval_margin_percent,
    )
    ride.fare_check_at_dispatch = False
    if quote is not None:
        ride.estimate_fare = quote.fare_amount
        ride.estimate_pickup_eta_seconds = quote.pickup_eta_seconds
    if reason is None:
        if ride.agreed_fare is None:
            ride.agreed_fare = quote.fare_amount
        ride.fare_id = quote.fare_id
        ride.fare_expires_at = quote.expires_at if quote.fare_id else None
        ride.save()
        return True
    ride.approval_reasons = [reason]
    # The next decision is a supervisor's again (the earlier one stays in the trip log).
    ride.decided_by = None
    ride.decided_at = None
    ride.dispatch_due_at = None
    ride.dispatch_deadline_at = None
    ride.apply_transition(
        RideStatus.AWAITING_APPROVAL, cause=Cause.DISPATCH, reason=approval_reason_text(reason)
    )
    ride_funds_follow(ride)  # held since an earlier attempt: released while it waits
    return False


def _apply_fare(ride: Ride, estimates) -> str:
    if not fare_check_at_dispatch_apply(ride=ride, estimates=estimates):
        return "awaiting_approval"
    return "send"


def _fare_check_later(ride: Ride, exc) -> str:
    now = timezone.now()
    paced = isinstance(exc, errors.RateLimited)
    ride.last_dispatch_error = f"estimate: {exc}"[:500]
    if not paced and seconds_left(ride, now) <= 0:
        hold(ride, unreachable_reason(ride, now), code=ride.last_dispatch_error)
        return "held"
    if paced:
        delay = _paced_delay(ride, exc.retry_after)
    else:
        ride.dispatch_attempts += 1
        delay = by_the_deadline(ride, retry_delay(exc, ride.dispatch_attempts), now)
    ride.dispatch_due_at = due_after(delay, now)
    ride.save()
    enqueue_on_commit(DISPATCH_RIDE, ride.pk, countdown=delay)
    return "retry_later"


# --- the partner's answer ---------------------------------------------------------------------


def _adopt_existing_trip(ride_id, key, trip_id, reference, account, attempt) -> str:
    operation = PartnerOperation.GET_TRIP if trip_id else PartnerOperation.FIND_TRIP
    try:
        client = client_for(account)
        with partner_call(
            account_id=account.pk, operation=operation, ride_id=ride_id, attempt=attempt
        ):
            trip = client.get_trip(trip_id) if trip_id else client.find_trip_by_reference(reference)
    except errors.PartnerError as exc:
        return _dispatch_unknown(ride_id, key, f"duplicate_reference, then {exc}")
    if trip is None:
        return _dispatch_unknown(ride_id, key, "duplicate_reference without a trip")
    ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.DISPATCH)
    return "adopted"


def _dispatch_without_fare(ride_id: int, key: str) -> str:
    """The locked fare ran out: ask for a fresh quote, then send under a new key."""
    return relocked(ride_id, _still_dispatching(key), _send_without_fare)


def _send_without_fare(ride: Ride) -> str:
    ride.fare_id = ""
    ride.fare_expires_at = None
    ride.fare_check_at_dispatch = True
    ride.dispatch_generation += 1
    ride.idempotency_key = ""
    ride.last_dispatch_error = "fare_expired"
    ride.dispatch_due_at = timezone.now() + seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    ride.apply_transition(S.REQUESTED, cause=Cause.DISPATCH, note="fare_expired")
    enqueue_on_commit(DISPATCH_RIDE, ride.pk)
    return "fare_expired"


def _dispatch_refused(ride_id: int, key: str, exc) -> str:
    return relocked(ride_id, _still_dispatching(key), _refused, exc)


def _refused(ride: Ride, exc) -> str:
    if ride.cancel_requested_at is not None:
        cancel_locally(ride)
        return "cancelled"
    hold(ride, exc.user_message, code=str(exc))
    return "refused"


def _breaker_wait(account) -> float:
    try:
        return client_for(account).breaker_wait("dispatch")
    except Exception:  # noqa: BLE001 - unknown: just try
        return 0.0


def _wait_for_partner(ride: Ride, wait: float, now: dt.datetime) -> str:
    """The ride waits (row locked, still `requested`) for a partner that is down."""
    if seconds_left(ride, now) <= 0:
        hold(ride, unreachable_reason(ride, now), code="partner_unreachable")
        return "held"
    delay = by_the_deadline(ride, wait + random.uniform(0, 1), now)  # noqa: S311
    ride.last_dispatch_error = "partner_unreachable: waiting for the partner to answer again"
    ride.dispatch_due_at = due_after(delay, now)
    ride.save(update_fields=["last_dispatch_error", "dispatch_due_at", "updated_at"])
    enqueue_on_commit(DISPATCH_RIDE, ride.pk, countdown=delay)
    return "waiting"


def _paced_delay(ride: Ride, retry_after) -> float:
    """When the account's budget is spent, rides wait their turn: spread over the time
    the rides already waiting need at the account's rate, so a burst of bookings is
    sent in order of arrival rather than all retrying at once."""
    waiting = (
        Ride.objects.filter(
            partner_account_id=ride.partner_account_id,
            status=S.REQUESTED,
            dispatch_paced=True,
        )
        .exclude(pk=ride.pk)
        .count()
    )
    per_second = max(ride.partner_account.rate_limit_per_minute, 1) / 60
    # Spread over the next window (at most a minute): the waiting rides come back a few
    # at a time, and one held back again is not sent to the very end of the queue.
    spread = min(waiting / per_second, PACED_SPREAD_MAX_SECONDS)
    return float(retry_after or 1.0) + spread * random.uniform(0, 1)  # noqa: S311


def _dispatch_retry_later(ride_id: int, key: str, exc) -> str:
    """The partner certainly did not get the request: try again later, until the ride's
    dispatch deadline; after it, a partner still unreachable hands the ride to a person.

    Held back by the portal's own pacing (the account's budget is spent for the minute)
    is not a failure to reach the partner: no attempt is used up and the deadline does
    not apply. Refused by an open breaker uses no attempt either: the ride comes back
    when the breaker half-opens."""
    return relocked(ride_id, _still_dispatching(key), _retry_later, exc)


def _retry_later(ride: Ride, exc) -> str:
    if ride.cancel_requested_at is not None:
        cancel_locally(ride)
        return "cancelled"
    now = timezone.now()
    paced = isinstance(exc, errors.RateLimited)
    ride.last_dispatch_error = str(exc)[:500]
    if paced or isinstance(exc, errors.PartnerUnavailable):
        ride.dispatch_attempts = max(0, ride.dispatch_attempts - 1)
    if not paced and seconds_left(ride, now) <= 0:
        hold(ride, unreachable_reason(ride, now), code=ride.last_dispatch_error)
        return "held"
    if paced:
        delay = _paced_delay(ride, exc.retry_after)
    else:
        delay = by_the_deadline(ride, retry_delay(exc, ride.dispatch_attempts), now)
    ride.dispatch_due_at = due_after(delay, now)
    ride.apply_transition(S.REQUESTED, cause=Cause.DISPATCH, note=f"retry: {exc}")
    enqueue_on_commit(DISPATCH_RIDE, ride.pk, countdown=delay)
    log.info("ride %s: partner not reached (%s); retry in %.1fs", ride.pk, exc, delay)
    return "retry_later"


def _dispatch_unknown(
    ride_id: int, key: str, error: str, *, retry_after=None, new_generation: bool = False
) -> str:
    """The create may or may not have happened: look the reference up, never resend."""
    return relocked(
        ride_id, _still_dispatching(key), _outcome_unknown, error, retry_after, new_generation
    )


def _outcome_unknown(ride: Ride, error: str, retry_after, new_generation: bool) -> str:
    ride.last_dispatch_error = error[:500]
    if new_generation:
        ride.dispatch_generation += 1
        ride.idempotency_key = ""
    ride.reconcile_attempts = 0
    delay = max(1.0, float(retry_after or 0))
    ride.dispatch_due_at = due_after(delay, timezone.now())
    ride.apply_transition(S.DISPATCH_UNKNOWN, cause=Cause.DISPATCH, note=error)
    enqueue_on_commit(RECONCILE_RIDE, ride.pk, countdown=delay)
    log.info("ride %s: outcome of create unknown (%s); reconciling", ride.pk, error)
    return "unknown"


# --- a person's retry ---------------------------------------------------------------------


def ride_retry(*, ride_id: int, user) -> Ride:
    """Sends a ride in `needs_attention` to the partner again (under a new key; the
    partner still recognises the ride by its reference, so nothing is doubled)."""
    with transaction.atomic():
        ride = locked_ride(ride_id)
        if ride is None:
            raise Ride.DoesNotExist
        visible_or_denied(ride, user)
        refusal = retry_refusal(ride)
        if refusal:
            raise ValidationError(refusal)
        ride.dispatch_generation += 1
        ride.idempotency_key = ""
        ride.dispatch_attempts = 0
        ride.reconcile_attempts = 0
        ride.last_dispatch_error = ""
        ride.apply_transition(S.REQUESTED, cause=Cause.USER, actor=user)
        audit_change(
            action="retried",
            actor=user,
            object_type="ride",
            object_id=ride.reference,
            unit_id=ride.unit_id,
            before={"status": S.NEEDS_ATTENTION},
            after={"status": S.REQUESTED},
        )
        ride_request_dispatch(ride=ride)
        alerts_resolve_for_ride(ride=ride, user=user, kinds=(AlertKind.NEEDS_ATTENTION,))
    return ride
