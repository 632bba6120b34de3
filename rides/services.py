"""Every write to rides goes through here (views, API, tasks and commands call these).

The booking pipeline, in short:
- the ride row is the outbox: `ride_request_dispatch` marks it due in the booking
  transaction and enqueues `rides.dispatch_ride` on commit; the sweeper resends it if the
  enqueue is lost;
- `ride_dispatch` commits the intent (status `dispatching`, the idempotency key, a lease)
  before it calls the partner, calls outside any transaction, and applies the answer in
  a short one. An answer that may or may not have created the trip (timeout, 5xx after
  sending, garbage, a worker killed mid-call) leaves the ride in `dispatch_unknown`, and
  `ride_reconcile` looks the reference up at the partner: found → applied, not found →
  sent again with the same idempotency key. Never a blind second create;
- status from the create answer, polling, webhooks and per-trip reads all goes through
  `_apply_partner_data` on a locked row, which uses Ride.apply_transition (repeats and
  stale data ignored, illegal moves refused, each change in the trip log).
Partner calls never happen inside a database transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partners.client.ratelimit import budget_wait
from rides.alerts import alert_raise, alerts_resolve_for_ride
from rides.models import (
    ACTIVE_WITH_PARTNER,
    BEFORE_PARTNER,
    PARTNER_STATUS_MAP,
    TERMINAL,
    AlertKind,
    Cause,
    PollState,
    Ride,
    RideStatus,
    TransitionOutcome,
    WebhookEvent,
)
from rides.partner_payload import PayloadRefused, build_trip_request, fare_is_fresh

S = RideStatus
log = logging.getLogger("rides.pipeline")

# Ride fields the pipeline selects a row with (the FKs its payload and apply steps read).
_RELATED = ("partner_account", "case", "case__survivor", "pickup_place", "dropoff_place")


# --- small helpers -------------------------------------------------------------------------


def _seconds(name: str) -> dt.timedelta:
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


def _locked_ride(ride_id: int) -> Ride | None:
    return (
        Ride.objects.select_for_update(of=("self",))
        .select_related(*_RELATED)
        .filter(pk=ride_id)
        .first()
    )


# Longer waits are left to the sweeper (the row's due time): a message held back
# longer than the broker's visibility timeout would be delivered twice.
MAX_COUNTDOWN_SECONDS = 60


def _on_commit(task, *args, countdown: float | None = None) -> None:
    """Enqueues `task(*args)` once the transaction commits; a lost enqueue is the
    sweeper's job (the ride row says what is due), so broker errors are not fatal."""
    if countdown and countdown > MAX_COUNTDOWN_SECONDS:
        return

    def send():
        try:
            if countdown:
                task.apply_async(args=args, countdown=countdown)
            else:
                task.apply_async(args=args)
        except Exception:  # noqa: BLE001 - broker down: the outbox sweeper resends
            log.warning("enqueue of %s%s failed; the sweeper will resend it", task.name, args)

    transaction.on_commit(send)


def _client(account):
    from partners.client.registry import client_for

    return client_for(account)


def _partner_errors():
    from partners.client import errors

    return errors


def _hold(ride: Ride, reason: str, *, code: str, cause: str = Cause.DISPATCH, kind=None) -> None:
    """Puts the ride in `needs_attention` with a reason the caseworker can read, and
    alerts the unit's supervisors. The ride row must be locked."""
    ride.last_dispatch_error = code[:500]
    ride.dispatch_due_at = None
    result = ride.apply_transition(S.NEEDS_ATTENTION, cause=cause, reason=reason)
    if not result.applied:
        ride.save()
        return
    alert_raise(
        ride=ride,
        kind=kind or AlertKind.NEEDS_ATTENTION,
        message=_("Ride %(reference)s needs attention: %(reason)s")
        % {"reference": ride.reference, "reason": reason},
    )
    log.warning("ride %s needs attention (%s)", ride.pk, code)


def _cancel_locally(ride: Ride, *, cause: str = Cause.USER) -> None:
    """Cancels a ride the partner does not hold. Row locked."""
    ride.dispatch_due_at = None
    ride.apply_transition(
        S.CANCELLED,
        cause=cause,
        actor=ride.cancel_requested_by,
        reason=_("Cancelled before the partner took the ride."),
    )


# --- booking entry point -------------------------------------------------------------------


def ride_request_dispatch(*, ride: Ride) -> None:
    """Marks the ride's dispatch as due and enqueues it once the transaction commits.

    Call inside the transaction that wrote the ride (the ride row is the outbox): if the
    enqueue is lost (broker down, worker killed) the outbox sweeper finds the ride by
    `dispatch_due_at` once the grace period has passed, and enqueues it again. From here
    the ride has PIPELINE_DISPATCH_DEADLINE_SECONDS to reach the partner.
    """
    from rides.tasks import dispatch_ride

    now = timezone.now()
    ride.dispatch_due_at = now + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    ride.dispatch_deadline_at = now + _seconds("PIPELINE_DISPATCH_DEADLINE_SECONDS")
    ride.save(update_fields=["dispatch_due_at", "dispatch_deadline_at", "updated_at"])
    _on_commit(dispatch_ride, ride.pk)


# --- the deadline ---------------------------------------------------------------------------


def _seconds_left(ride: Ride, now: dt.datetime, *, lookup: bool = False) -> float:
    """Seconds until the ride's dispatch deadline (a ride without one has all the time).
    Looking up an unknown outcome may go on PIPELINE_RECONCILE_GRACE_SECONDS longer: a
    create that timed out just before the deadline still gets its lookups."""
    if ride.dispatch_deadline_at is None:
        return math.inf
    left = (ride.dispatch_deadline_at - now).total_seconds()
    return left + float(settings.PIPELINE_RECONCILE_GRACE_SECONDS) if lookup else left


def _by_the_deadline(ride: Ride, delay: float, now: dt.datetime, *, lookup=False) -> float:
    """A retry delay that comes back no later than just after the deadline, so the
    decision to ask a person is taken on time."""
    return max(0.5, min(delay, _seconds_left(ride, now, lookup=lookup) + 0.5))


def _minutes_trying(ride: Ride, now: dt.datetime) -> int:
    return max(1, math.ceil((now - _first_attempt_at(ride)).total_seconds() / 60))


def _retry_delay(exc, attempt: int) -> float:
    """How long to wait after a call that did not reach the partner, or failed there.

    Refused by the portal itself (an open breaker): come back when it says, with a little
    jitter, since that is when the breaker lets the most urgent call probe. Otherwise
    exponential backoff with jitter, never sooner than the partner's Retry-After."""
    if isinstance(exc, _partner_errors().PartnerUnavailable):
        return float(exc.retry_after or 1.0) + random.uniform(0, 1)  # noqa: S311
    return backoff_seconds(attempt, getattr(exc, "retry_after", None))


# --- dispatch ------------------------------------------------------------------------------


def idempotency_key_for(ride: Ride) -> str:
    return f"{ride.reference}:{ride.dispatch_generation}"


def ride_dispatch(*, ride_id: int) -> str:
    """Sends a requested ride to its partner. Safe to run twice: only a ride in
    `requested` is sent, and the row lock makes one run win. Returns what happened."""
    now = timezone.now()
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None:
            return "missing"
        if ride.status != S.REQUESTED:
            return "not_requested"
        if ride.cancel_requested_at is not None:
            _cancel_locally(ride)
            return "cancelled"
        account = ride.partner_account
        if not account.enabled:
            _hold(
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
        wait = _window_spent_wait(account)
        if wait:
            # The partner's minute is spent: wait for its turn without a trip-log row
            # for an attempt that would only be held back.
            from rides.tasks import dispatch_ride

            delay = _paced_delay(ride, wait)
            ride.last_dispatch_error = "rate_limited: waiting for the partner's next minute"
            ride.dispatch_due_at = (
                now + dt.timedelta(seconds=delay) + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
            )
            ride.save(update_fields=["last_dispatch_error", "dispatch_due_at", "updated_at"])
            _on_commit(dispatch_ride, ride_id, countdown=delay)
            return "paced"
        if not ride.idempotency_key and not ride.fare_check_at_dispatch:
            # A new key starts here, so this is the moment to decide about the fare id;
            # every repeat of this key then sends the very same body.
            if ride.fare_id and not fare_is_fresh(ride, now):
                ride.fare_id = ""
            ride.idempotency_key = idempotency_key_for(ride)
        try:
            body = build_trip_request(ride)
        except PayloadRefused as refused:
            _hold(ride, refused.user_message, code=f"payload:{refused.code}")
            return "held"
        if ride.fare_check_at_dispatch:
            # The very points the trip will be booked with (neutral ones for protected places).
            points = {"pickup": body["pickup"], "dropoff": body["dropoff"]}
            passengers = body["passenger_count"]
        else:
            points = None
            ride.dispatch_attempts += 1
            ride.dispatch_due_at = now + _seconds("PIPELINE_DISPATCH_LEASE_SECONDS")
            ride.last_dispatch_error = ""
            ride.apply_transition(S.DISPATCHING, cause=Cause.DISPATCH)
        key = ride.idempotency_key
        reference = ride.reference

    if points is not None:
        return _check_fare_first(ride_id, account, points, passengers)
    errors = _partner_errors()
    try:
        client = _client(account)
        result = client.create_trip(body=body, idempotency_key=key)
    except errors.DuplicateReference as exc:
        log.info("ride %s: partner holds its reference already (trip %s)", ride_id, exc.trip_id)
        return _adopt_existing_trip(ride_id, key, exc.trip_id, reference, account)
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


def _check_fare_first(ride_id: int, account, points: dict, passengers: int) -> str:
    """The partner could not give a fare when the ride was booked: ask for it now (outside
    any transaction), then apply the fare ceiling before the ride is sent."""
    from rides.booking import fare_check_at_dispatch_apply

    errors = _partner_errors()
    try:
        estimates = _client(account).estimate(
            pickup=points["pickup"], dropoff=points["dropoff"], passenger_count=passengers
        )
    except errors.PermanentPartnerError as exc:
        with transaction.atomic():
            ride = _locked_ride(ride_id)
            if ride is None or ride.status != S.REQUESTED or not ride.fare_check_at_dispatch:
                return "moved_on"
            _hold(ride, exc.user_message, code=f"estimate: {exc}")
        return "held"
    except errors.TemporaryPartnerError as exc:
        return _fare_check_later(ride_id, exc)
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None or ride.status != S.REQUESTED or not ride.fare_check_at_dispatch:
            return "moved_on"
        if not fare_check_at_dispatch_apply(ride=ride, estimates=estimates):
            return "awaiting_approval"
    return ride_dispatch(ride_id=ride_id)


def _fare_check_later(ride_id: int, exc) -> str:
    from rides.tasks import dispatch_ride

    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None or ride.status != S.REQUESTED or not ride.fare_check_at_dispatch:
            return "moved_on"
        now = timezone.now()
        paced = isinstance(exc, _partner_errors().RateLimited)
        ride.last_dispatch_error = f"estimate: {exc}"[:500]
        if not paced and _seconds_left(ride, now) <= 0:
            _hold(ride, _unreachable_reason(ride, now), code=ride.last_dispatch_error)
            return "held"
        if paced:
            delay = _paced_delay(ride, exc.retry_after)
        else:
            ride.dispatch_attempts += 1
            delay = _by_the_deadline(ride, _retry_delay(exc, ride.dispatch_attempts), now)
        ride.dispatch_due_at = (
            now + dt.timedelta(seconds=delay) + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
        )
        ride.save()
        _on_commit(dispatch_ride, ride_id, countdown=delay)
    return "retry_later"


def _still_dispatching(ride: Ride | None, key: str) -> bool:
    """The ride is still in the dispatch this worker started (nobody moved it since)."""
    return ride is not None and ride.status == S.DISPATCHING and ride.idempotency_key == key


def _adopt_existing_trip(ride_id, key, trip_id, reference, account) -> str:
    errors = _partner_errors()
    try:
        client = _client(account)
        trip = client.get_trip(trip_id) if trip_id else client.find_trip_by_reference(reference)
    except errors.PartnerError as exc:
        return _dispatch_unknown(ride_id, key, f"duplicate_reference, then {exc}")
    if trip is None:
        return _dispatch_unknown(ride_id, key, "duplicate_reference without a trip")
    ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.DISPATCH)
    return "adopted"


def _dispatch_without_fare(ride_id: int, key: str) -> str:
    """The locked fare ran out: book at the partner's current fare under a new key."""
    from rides.tasks import dispatch_ride

    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if not _still_dispatching(ride, key):
            return "moved_on"
        ride.fare_id = ""
        ride.dispatch_generation += 1
        ride.idempotency_key = ""
        ride.last_dispatch_error = "fare_expired"
        ride.dispatch_due_at = timezone.now() + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
        ride.apply_transition(S.REQUESTED, cause=Cause.DISPATCH, note="fare_expired")
        _on_commit(dispatch_ride, ride_id)
    return "fare_expired"


def _dispatch_refused(ride_id: int, key: str, exc) -> str:
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if not _still_dispatching(ride, key):
            return "moved_on"
        if ride.cancel_requested_at is not None:
            _cancel_locally(ride)
            return "cancelled"
        _hold(ride, exc.user_message, code=str(exc))
    return "refused"


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


def _unreachable_reason(ride: Ride, now: dt.datetime) -> str:
    minutes = _minutes_trying(ride, now)
    return ngettext(
        "The partner could not be reached for %(minutes)s minute. Retry, or book another way.",
        "The partner could not be reached for %(minutes)s minutes. Retry, or book another way.",
        minutes,
    ) % {"minutes": minutes}


PACED_SPREAD_MAX_SECONDS = 55


def _breaker_wait(account) -> float:
    try:
        return _client(account).breaker_wait("dispatch")
    except Exception:  # noqa: BLE001 - unknown: just try
        return 0.0


def _wait_for_partner(ride: Ride, wait: float, now: dt.datetime) -> str:
    """The ride waits (row locked, still `requested`) for a partner that is down."""
    from rides.tasks import dispatch_ride

    if _seconds_left(ride, now) <= 0:
        _hold(ride, _unreachable_reason(ride, now), code="partner_unreachable")
        return "held"
    delay = _by_the_deadline(ride, wait + random.uniform(0, 1), now)  # noqa: S311
    ride.last_dispatch_error = "partner_unreachable: waiting for the partner to answer again"
    ride.dispatch_due_at = (
        now + dt.timedelta(seconds=delay) + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    )
    ride.save(update_fields=["last_dispatch_error", "dispatch_due_at", "updated_at"])
    _on_commit(dispatch_ride, ride.pk, countdown=delay)
    return "waiting"


def _window_spent_wait(account) -> float:
    """Seconds until the partner's rate-limit window resets, when what it said is left
    of the window is within the portal's safety margin (a call would be held back);
    else 0. A dispatch may use the whole minute."""
    return budget_wait(account, 1.0)


def _paced_delay(ride: Ride, retry_after) -> float:
    """When the account's budget is spent, rides wait their turn: spread over the time
    the rides already waiting need at the account's rate, so a burst of bookings is
    sent in order of arrival rather than all retrying at once."""
    waiting = (
        Ride.objects.filter(
            partner_account_id=ride.partner_account_id,
            status=S.REQUESTED,
            last_dispatch_error__startswith="rate_limited",
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
    from rides.tasks import dispatch_ride

    errors = _partner_errors()
    paced = isinstance(exc, errors.RateLimited)
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if not _still_dispatching(ride, key):
            return "moved_on"
        if ride.cancel_requested_at is not None:
            _cancel_locally(ride)
            return "cancelled"
        now = timezone.now()
        ride.last_dispatch_error = str(exc)[:500]
        if paced or isinstance(exc, errors.PartnerUnavailable):
            ride.dispatch_attempts = max(0, ride.dispatch_attempts - 1)
        if not paced and _seconds_left(ride, now) <= 0:
            _hold(ride, _unreachable_reason(ride, now), code=ride.last_dispatch_error)
            return "held"
        if paced:
            delay = _paced_delay(ride, exc.retry_after)
        else:
            delay = _by_the_deadline(ride, _retry_delay(exc, ride.dispatch_attempts), now)
        ride.dispatch_due_at = (
            now + dt.timedelta(seconds=delay) + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
        )
        ride.apply_transition(S.REQUESTED, cause=Cause.DISPATCH, note=f"retry: {exc}")
        _on_commit(dispatch_ride, ride_id, countdown=delay)
    log.info("ride %s: partner not reached (%s); retry in %.1fs", ride_id, exc, delay)
    return "retry_later"


def _dispatch_unknown(
    ride_id: int, key: str, error: str, *, retry_after=None, new_generation: bool = False
) -> str:
    """The create may or may not have happened: look the reference up, never resend."""
    from rides.tasks import reconcile_ride

    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if not _still_dispatching(ride, key):
            return "moved_on"
        now = timezone.now()
        ride.last_dispatch_error = error[:500]
        if new_generation:
            ride.dispatch_generation += 1
            ride.idempotency_key = ""
        ride.reconcile_attempts = 0
        delay = max(1.0, float(retry_after or 0))
        ride.dispatch_due_at = (
            now + dt.timedelta(seconds=delay) + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
        )
        ride.apply_transition(S.DISPATCH_UNKNOWN, cause=Cause.DISPATCH, note=error)
        _on_commit(reconcile_ride, ride_id, countdown=delay)
    log.info("ride %s: outcome of create unknown (%s); reconciling", ride_id, error)
    return "unknown"


# --- reconcile -----------------------------------------------------------------------------


def ride_reconcile(*, ride_id: int) -> str:
    """Finds out whether the partner holds a ride whose dispatch outcome is unknown.

    found → applied; not found → sent again under the same idempotency key; the lookup
    failing → tried again later until the dispatch deadline, then a person is asked; the
    partner's answer about the trip unusable → tried a few times, then a person is asked.
    """
    now = timezone.now()
    with transaction.atomic():
        ride = _locked_ride(ride_id)
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
        ride.dispatch_due_at = now + _seconds("PIPELINE_DISPATCH_LEASE_SECONDS")
        ride.save()
        account = ride.partner_account
        reference = ride.reference
        attempt = ride.reconcile_attempts

    errors = _partner_errors()
    try:
        trip = _client(account).find_trip_by_reference(reference)
    except errors.UnusableAnswer as exc:
        return _reconcile_unusable(ride_id, attempt, exc)
    except errors.PartnerError as exc:
        return _reconcile_later(ride_id, attempt, exc)
    except Exception as exc:  # noqa: BLE001
        log.exception("ride %s: reference lookup failed unexpectedly", ride_id)
        return _reconcile_later(ride_id, attempt, exc)
    if trip is not None:
        ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.DISPATCH)
        return "found"
    return _reconcile_not_found(ride_id, attempt)


def _locked_unknown(ride_id: int, attempt: int) -> Ride | None:
    ride = _locked_ride(ride_id)
    if ride is None or ride.status != S.DISPATCH_UNKNOWN or ride.reconcile_attempts != attempt:
        return None
    return ride


def _cannot_confirm_reason() -> str:
    return _(
        "The partner could not confirm whether it took this ride. Call the partner "
        "before booking again: it may still send a driver."
    )


def _reconcile_again(ride: Ride, delay: float, now: dt.datetime) -> None:
    from rides.tasks import reconcile_ride

    ride.dispatch_due_at = (
        now + dt.timedelta(seconds=delay) + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    )
    ride.save()
    _on_commit(reconcile_ride, ride.pk, countdown=delay)


def _reconcile_later(ride_id: int, attempt: int, exc) -> str:
    errors = _partner_errors()
    with transaction.atomic():
        ride = _locked_unknown(ride_id, attempt)
        if ride is None:
            return "moved_on"
        now = timezone.now()
        ride.last_dispatch_error = str(exc)[:500]
        if isinstance(exc, errors.PermanentPartnerError):
            _hold(ride, _cannot_confirm_reason(), code=f"reconcile: {exc}")
            return "held"
        held_back = not getattr(exc, "sent", True)  # breaker or budget: not a lookup
        if held_back:
            ride.reconcile_attempts = max(0, attempt - 1)
        if _seconds_left(ride, now, lookup=True) <= 0 and not isinstance(exc, errors.RateLimited):
            _hold(ride, _cannot_confirm_reason(), code=f"reconcile: {exc}")
            return "held"
        delay = _retry_delay(exc, max(1, ride.reconcile_attempts))
        _reconcile_again(ride, _by_the_deadline(ride, delay, now, lookup=True), now)
    return "retry_later"


def _reconcile_unusable(ride_id: int, attempt: int, exc) -> str:
    """The partner holds a trip under the reference but its data is unusable: a problem
    of this trip, not of the partner. A few more tries, then a person is asked."""
    with transaction.atomic():
        ride = _locked_unknown(ride_id, attempt)
        if ride is None:
            return "moved_on"
        now = timezone.now()
        ride.last_dispatch_error = f"reconcile: {exc}"[:500]
        ride.unusable_answers += 1
        if ride.unusable_answers >= settings.PIPELINE_UNUSABLE_ANSWERS_MAX:
            _hold(
                ride,
                _unusable_reason(),
                code=ride.last_dispatch_error,
                kind=AlertKind.PARTNER_DATA_UNUSABLE,
            )
            return "held"
        delay = _by_the_deadline(ride, backoff_seconds(attempt), now, lookup=True)
        _reconcile_again(ride, delay, now)
    return "retry_later"


def _unusable_reason() -> str:
    return _(
        "The partner holds a trip for this ride but its answers about it cannot be read. "
        "Call the partner to check the trip before booking again."
    )


def _reconcile_not_found(ride_id: int, attempt: int) -> str:
    from rides.tasks import dispatch_ride

    with transaction.atomic():
        ride = _locked_unknown(ride_id, attempt)
        if ride is None:
            return "moved_on"
        if ride.cancel_requested_at is not None:
            _cancel_locally(ride)
            return "cancelled"
        if _seconds_left(ride, timezone.now(), lookup=True) <= 0:
            _hold(
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
        ride.dispatch_due_at = timezone.now() + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
        ride.apply_transition(S.REQUESTED, cause=Cause.DISPATCH, note="not at the partner")
        _on_commit(dispatch_ride, ride_id)
    return "resend"


def ride_note_unusable(*, ride_id: int, reason: str) -> bool:
    """Counts one more unusable answer about the ride's trip (a list item, a detail read);
    at PIPELINE_UNUSABLE_ANSWERS_MAX in a row the unit's supervisors are alerted (once).
    Answers whether the alert was raised now."""
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None:
            return False
        ride.unusable_answers = min(ride.unusable_answers + 1, 32_000)
        ride.save(update_fields=["unusable_answers", "updated_at"])
        if ride.unusable_answers != settings.PIPELINE_UNUSABLE_ANSWERS_MAX:
            return False
        alert_raise(
            ride=ride,
            kind=AlertKind.PARTNER_DATA_UNUSABLE,
            message=_(
                "The partner's answers about ride %(reference)s cannot be read, so its "
                "status may be out of date. Call the partner to check the trip."
            )
            % {"reference": ride.reference},
        )
    log.warning("ride %s: partner answers about its trip stay unusable (%s)", ride_id, reason)
    return True


# --- applying what the partner says ----------------------------------------------------------


_REASONS = {
    "no_drivers_available": lambda: _("The partner found no driver. Rebook the ride."),
    "driver_canceled": lambda: _(
        "The driver cancelled and the partner found no other driver. Rebook the ride."
    ),
    "failed": lambda: _("The partner could not carry out the trip. Rebook the ride."),
}


def _reason_for(status: str, detail: str, ride: Ride) -> str:
    if status == "rider_canceled":
        ours = not detail and ride.cancel_requested_at is not None
        if detail == "coordinator_canceled" or ours:
            return _("Cancelled at the portal's request.")
        return _("The rider cancelled the trip in the partner's app. Rebook if still needed.")
    reason = _REASONS.get(status)
    return reason() if reason else ""


def _text(value, length: int) -> str:
    return str(value or "")[:length]


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _rating(value) -> Decimal | None:
    if value is None:
        return None
    try:
        rating = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return rating if Decimal("0") <= rating <= Decimal("9.99") else None


def _clear_driver(ride: Ride) -> None:
    ride.driver_name = ride.driver_phone_masked = ""
    ride.driver_rating = None
    ride.vehicle_make = ride.vehicle_model = ride.vehicle_color = ride.vehicle_plate = ""
    ride.driver_latitude = ride.driver_longitude = None


def _kept(new: str, old: str, same: bool, length: int) -> str:
    """An informational text the partner left out (empty) keeps what the ride held, as
    long as it is still the same driver or car."""
    return _text(new, length) if new or not same else old


def _copy_details(ride: Ride, trip) -> None:
    """Driver, vehicle, ETA and fare from a full Trip (the partner's current version).

    The contract reader left out what was unusable; a field left out of an answer about
    the same driver or car keeps the value an earlier answer gave."""
    driver = trip.driver
    if driver is not None:
        same = not driver.name or driver.name[:80] == ride.driver_name
        ride.driver_name = _kept(driver.name, ride.driver_name, same, 80)
        ride.driver_phone_masked = _kept(driver.phone_masked, ride.driver_phone_masked, same, 40)
        rating = _rating(driver.rating)
        ride.driver_rating = rating if rating is not None or not same else ride.driver_rating
    else:
        ride.driver_name = ride.driver_phone_masked = ""
        ride.driver_rating = None
    vehicle = trip.vehicle
    if vehicle is not None:
        same = not vehicle.license_plate or vehicle.license_plate[:20] == ride.vehicle_plate
        ride.vehicle_make = _kept(vehicle.make, ride.vehicle_make, same, 40)
        ride.vehicle_model = _kept(vehicle.model, ride.vehicle_model, same, 40)
        ride.vehicle_color = _kept(vehicle.color, ride.vehicle_color, same, 40)
        ride.vehicle_plate = _kept(vehicle.license_plate, ride.vehicle_plate, same, 20)
    else:
        ride.vehicle_make = ride.vehicle_model = ride.vehicle_color = ride.vehicle_plate = ""
    location = trip.driver_location
    if location is not None:
        ride.driver_latitude, ride.driver_longitude = location.latitude, location.longitude
    elif driver is None:
        ride.driver_latitude = ride.driver_longitude = None
    ride.pickup_eta_seconds = trip.pickup_eta_seconds
    ride.fare_amount = trip.fare_amount
    ride.fare_type = trip.fare_type or ride.fare_type
    ride.distance_meters = trip.distance_meters or ride.distance_meters
    ride.duration_seconds = trip.duration_seconds or ride.duration_seconds
    if trip.cancellation_fee is not None:
        ride.cancellation_fee = trip.cancellation_fee
    ride.partner_status_detail = _text(trip.status_detail, 80)


def _needs_receipt(ride: Ride) -> bool:
    if ride.receipt is not None or not ride.partner_trip_id:
        return False
    return ride.status == S.COMPLETED or (
        ride.status == S.CANCELLED and bool(ride.cancellation_fee)
    )


def _apply_partner_data(
    ride: Ride,
    *,
    trip_id: str,
    external_reference: str,
    status: str,
    status_detail: str,
    updated_at: dt.datetime,
    trip=None,
    cause: str,
    actor=None,
) -> str:
    """Applies one version of a partner trip (a full Trip, or a webhook's hint) to a
    locked ride. Returns the outcome: applied, repeat, stale, refused, unknown_status,
    foreign (another ride's trip)."""
    from rides.tasks import cancel_at_partner, fetch_receipt

    if ride.partner_trip_id and trip_id and trip_id != ride.partner_trip_id:
        log.warning(
            "ride %s: partner data for trip %s, but it holds %s; ignored",
            ride.pk,
            trip_id,
            ride.partner_trip_id,
        )
        return "foreign"
    if external_reference and external_reference != ride.reference:
        return "foreign"
    now = timezone.now()
    if not ride.partner_trip_id and trip_id:
        ride.partner_trip_id = trip_id
    ride.partner_seen_at = now
    if trip is not None:
        ride.unusable_answers = 0
    previous_status = ride.status
    held_version = ride.partner_updated_at
    new_status = PARTNER_STATUS_MAP.get(status)
    if new_status is None:
        log.warning("ride %s: unknown partner status %r ignored", ride.pk, status[:40])
        ride.save()
        return "unknown_status"
    result = ride.apply_transition(
        new_status,
        cause=cause,
        actor=actor,
        partner_status=status,
        partner_updated_at=updated_at,
        reason=_reason_for(status, status_detail, ride),
    )
    outcome = result.outcome
    if outcome == TransitionOutcome.REFUSED:
        log.warning(
            "ride %s: partner status %s refused in state %s", ride.pk, status, previous_status
        )
    # Details: from the same or a newer version than the one applied (a webhook's hint
    # sets the version first; the GET that follows carries the same version, in full).
    if held_version is None or updated_at >= held_version:
        if outcome != TransitionOutcome.REFUSED:
            ride.partner_status_detail = _text(status_detail, 80)
            if trip is not None:
                _copy_details(ride, trip)
            elif outcome == TransitionOutcome.APPLIED and new_status == S.SEARCHING:
                _clear_driver(ride)  # a redispatch: the old driver is not coming
    if ride.status not in BEFORE_PARTNER:
        ride.dispatch_due_at = None
        ride.reconcile_attempts = 0
        ride.last_dispatch_error = ""
    if new_status in TERMINAL and outcome != TransitionOutcome.STALE:
        ride.cancel_due_at = None  # the trip ended at the partner: nothing left to cancel
    if ride.status in TERMINAL:
        ride.pickup_eta_seconds = None
        if _needs_receipt(ride) and ride.receipt_due_at is None:
            delay = float(settings.PIPELINE_RECEIPT_DELAY_SECONDS)
            ride.receipt_due_at = now + dt.timedelta(seconds=delay)
            _on_commit(fetch_receipt, ride.pk, countdown=delay or None)
    elif (
        ride.cancel_requested_at is not None
        and ride.status in ACTIVE_WITH_PARTNER
        and ride.cancel_due_at is None
        and ride.cancel_attempts == 0
    ):
        # Cancelled while the dispatch was in flight: now that the trip is known, cancel it.
        ride.cancel_due_at = now
        _on_commit(cancel_at_partner, ride.pk)
    ride.save()
    if outcome == TransitionOutcome.APPLIED and ride.status == S.FAILED:
        alert_raise(
            ride=ride,
            kind=AlertKind.RIDE_FAILED,
            message=_("Ride %(reference)s failed at the partner: %(reason)s")
            % {"reference": ride.reference, "reason": ride.status_reason},
        )
    return outcome


def ride_apply_partner_trip(*, ride_id: int, trip, cause: str, actor=None) -> str:
    """Applies a full Trip from the partner to the ride (status, driver, vehicle, fare)."""
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None:
            return "missing"
        return _apply_partner_data(
            ride,
            trip_id=trip.trip_id,
            external_reference=trip.external_reference or "",
            status=trip.status,
            status_detail=trip.status_detail or "",
            updated_at=trip.updated_at,
            trip=trip,
            cause=cause,
            actor=actor,
        )


def ride_apply_partner_status(
    *,
    ride_id: int,
    trip_id: str,
    status: str,
    updated_at: dt.datetime,
    cause: str,
    external_reference: str = "",
) -> str:
    """Applies a status hint (a webhook's data) when it is newer than what the ride holds."""
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None:
            return "missing"
        return _apply_partner_data(
            ride,
            trip_id=trip_id,
            external_reference=external_reference,
            status=status,
            status_detail="" if ride.partner_status != status else ride.partner_status_detail,
            updated_at=updated_at,
            cause=cause,
        )


# --- cancellation --------------------------------------------------------------------------


def _visible_ride(ride: Ride, user) -> None:
    if not Ride.objects.visible_to(user).filter(pk=ride.pk).exists():
        raise PermissionDenied("ride not visible to this user")


def ride_cancel(*, ride_id: int, user, reason: str = "") -> Ride:
    """Cancels a ride for a person.

    - nothing at the partner yet → cancelled at once (if an earlier attempt may have
      reached the partner, a task still looks the reference up and cancels what it finds);
    - a dispatch in flight → the request is recorded and the dispatch cancels the
      partner's trip as soon as it is known (never a live trip for a cancelled ride);
    - with the partner → the partner is told by `rides.cancel_at_partner` (with retries);
      the ride shows cancelled once the partner confirms, with any fee recorded.
    Raises ValidationError for a ride that already ended, PermissionDenied for a ride the
    user may not see.
    """
    from rides.tasks import cancel_at_partner

    now = timezone.now()
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None:
            raise Ride.DoesNotExist
        _visible_ride(ride, user)
        if ride.status in TERMINAL:
            raise ValidationError(_("This ride has already ended; there is nothing to cancel."))
        first_request = ride.cancel_requested_at is None
        if first_request:
            ride.cancel_requested_at = now
            ride.cancel_requested_by = user
            ride.cancel_reason = (reason or "")[:200]
        if ride.status in (S.DISPATCHING, S.DISPATCH_UNKNOWN):
            ride.save()  # the dispatch or the reconciliation finishes the job
        elif ride.partner_trip_id and ride.status not in BEFORE_PARTNER:
            if ride.cancel_due_at is None:
                ride.cancel_due_at = now
                ride.cancel_attempts = 0
                _on_commit(cancel_at_partner, ride.pk)
            ride.save()
        else:
            ever_sent = ride.dispatch_attempts > 0 or bool(ride.idempotency_key)
            if ever_sent:
                # An earlier attempt was answered "not created", but look once more and
                # cancel whatever the partner may hold under this reference.
                ride.cancel_due_at = now
                ride.cancel_attempts = 0
                _on_commit(cancel_at_partner, ride.pk)
            ride.dispatch_due_at = None
            ride.apply_transition(
                S.CANCELLED,
                cause=Cause.USER,
                actor=user,
                reason=_("Cancelled by %(name)s.") % {"name": user.get_full_name() or user},
            )
            alerts_resolve_for_ride(ride=ride, user=user)
    return ride


def ride_cancel_at_partner(*, ride_id: int) -> str:
    """Tells the partner to cancel the ride's trip; records the fee. Safe to repeat."""
    now = timezone.now()
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None:
            return "missing"
        if ride.cancel_requested_at is None or ride.cancel_due_at is None:
            return "nothing_to_do"
        if ride.status in (S.DISPATCHING, S.DISPATCH_UNKNOWN):
            ride.cancel_due_at = None  # the dispatch path cancels once the trip is known
            ride.save()
            return "dispatch_in_flight"
        if (
            ride.status in TERMINAL
            and ride.partner_trip_id
            and ride.partner_status
            in (
                "rider_canceled",
                "driver_canceled",
                "no_drivers_available",
                "failed",
                "completed",
            )
        ):
            ride.cancel_due_at = None
            ride.save()
            return "already_ended"
        ride.cancel_attempts += 1
        ride.cancel_due_at = now + _seconds("PIPELINE_DISPATCH_LEASE_SECONDS")
        ride.save()
        trip_id = ride.partner_trip_id
        reference = ride.reference
        account = ride.partner_account
        actor = ride.cancel_requested_by
        attempt = ride.cancel_attempts

    errors = _partner_errors()
    try:
        client = _client(account)
        if not trip_id:
            found = client.find_trip_by_reference(reference)
            if found is None:
                _cancel_done(ride_id)
                return "nothing_at_partner"
            trip_id = found.trip_id
            if found.status in ("completed", "rider_canceled", "driver_canceled", "failed") or (
                found.status == "no_drivers_available"
            ):
                ride_apply_partner_trip(ride_id=ride_id, trip=found, cause=Cause.USER, actor=actor)
                _cancel_done(ride_id)
                return "already_ended"
        try:
            trip = client.cancel_trip(trip_id)
        except errors.TripNotCancellable:
            trip = client.get_trip(trip_id)
    except errors.TemporaryPartnerError as exc:
        return _cancel_later(ride_id, attempt, str(exc), exc.retry_after)
    except errors.PartnerError as exc:
        return _cancel_failed(ride_id, attempt, str(exc))
    except Exception as exc:  # noqa: BLE001
        log.exception("ride %s: cancellation failed unexpectedly", ride_id)
        return _cancel_later(ride_id, attempt, type(exc).__name__, None)
    ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.USER, actor=actor)
    _cancel_done(ride_id)
    return "cancelled"


def _cancel_done(ride_id: int) -> None:
    Ride.objects.filter(pk=ride_id).update(cancel_due_at=None, updated_at=timezone.now())


def _cancel_later(ride_id: int, attempt: int, error: str, retry_after) -> str:
    from rides.tasks import cancel_at_partner

    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None or ride.cancel_due_at is None or ride.cancel_attempts != attempt:
            return "moved_on"
        if attempt >= settings.PIPELINE_CANCEL_MAX_ATTEMPTS:
            return _cancel_failed(ride_id, attempt, error, ride=ride)
        delay = backoff_seconds(attempt, retry_after)
        ride.cancel_due_at = (
            timezone.now()
            + dt.timedelta(seconds=delay)
            + _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
        )
        ride.save()
        _on_commit(cancel_at_partner, ride_id, countdown=delay)
    return "retry_later"


def _cancel_failed(ride_id: int, attempt: int, error: str, ride: Ride | None = None) -> str:
    with transaction.atomic():
        ride = ride or _locked_ride(ride_id)
        if ride is None:
            return "missing"
        ride.cancel_due_at = None
        ride.save()
        alert_raise(
            ride=ride,
            kind=AlertKind.CANCEL_FAILED,
            message=_(
                "The partner has not confirmed the cancellation of ride %(reference)s. "
                "Call the partner to cancel the trip, then cancel the ride again here."
            )
            % {"reference": ride.reference},
        )
    log.warning("ride %s: cancellation not confirmed (%s)", ride_id, error)
    return "failed"


# --- a person's retry ----------------------------------------------------------------------


def ride_retry(*, ride_id: int, user) -> Ride:
    """Sends a ride in `needs_attention` to the partner again (under a new key; the
    partner still recognises the ride by its reference, so nothing is doubled)."""
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None:
            raise Ride.DoesNotExist
        _visible_ride(ride, user)
        if ride.status != S.NEEDS_ATTENTION:
            raise ValidationError(_("Only a ride that needs attention can be retried."))
        if ride.partner_trip_id:
            raise ValidationError(
                _("The partner already holds this ride. Cancel it, or wait for its status.")
            )
        if ride.cancel_requested_at is not None:
            raise ValidationError(_("This ride is being cancelled; book a new ride instead."))
        ride.dispatch_generation += 1
        ride.idempotency_key = ""
        ride.dispatch_attempts = 0
        ride.reconcile_attempts = 0
        ride.last_dispatch_error = ""
        ride.apply_transition(S.REQUESTED, cause=Cause.USER, actor=user)
        ride_request_dispatch(ride=ride)
        alerts_resolve_for_ride(ride=ride, user=user, kinds=(AlertKind.NEEDS_ATTENTION,))
    return ride


# --- receipts ------------------------------------------------------------------------------


def ride_fetch_receipt(*, ride_id: int) -> str:
    """Asks the partner for an ended trip's receipt and stores it with the final fare."""
    now = timezone.now()
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None:
            return "missing"
        if ride.receipt is not None or ride.receipt_due_at is None or not ride.partner_trip_id:
            return "nothing_to_do"
        ride.receipt_attempts += 1
        ride.receipt_due_at = now + _seconds("PIPELINE_DISPATCH_LEASE_SECONDS")
        ride.save(update_fields=["receipt_attempts", "receipt_due_at", "updated_at"])
        account = ride.partner_account
        trip_id = ride.partner_trip_id
        attempt = ride.receipt_attempts

    errors = _partner_errors()
    client = _client(account)
    wait = _receipt_budget_wait(client) or _receipt_slot_wait(account)
    if wait:
        return _receipt_later(ride_id, attempt, "budget kept for polling", wait, paced=True)
    try:
        receipt = client.get_receipt(trip_id)
    except errors.RateLimited as exc:
        # Held back by the budget (ours or the partner's): no attempt is used up.
        wait = max(float(exc.retry_after or 0), 1.0) + random.uniform(0, 5)  # noqa: S311
        return _receipt_later(ride_id, attempt, str(exc), wait, paced=True)
    except (errors.ReceiptNotReady, errors.TemporaryPartnerError) as exc:
        return _receipt_later(ride_id, attempt, str(exc), getattr(exc, "retry_after", None))
    except errors.PartnerError as exc:
        log.warning("ride %s: receipt refused (%s); not asked again", ride_id, exc)
        Ride.objects.filter(pk=ride_id).update(receipt_due_at=None, updated_at=timezone.now())
        return "refused"
    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None or ride.receipt is not None:
            return "moved_on"
        ride.receipt = receipt.as_json()
        ride.receipt_due_at = None
        ride.final_fare = receipt.total_amount
        if receipt.cancellation_fee:  # a null fee is no fee
            ride.cancellation_fee = receipt.cancellation_fee
        ride.distance_meters = receipt.distance_meters or ride.distance_meters
        ride.duration_seconds = receipt.duration_seconds or ride.duration_seconds
        ride.save()
    return "stored"


def _receipt_budget_wait(client) -> float:
    """Nothing of its own: `_receipt_slot_wait` asks the budget for both (less than half
    of the partner's window left, and the receipts' share of the minute)."""
    return 0.0


def _receipt_slot_wait(account) -> float:
    """Receipts may use at most PIPELINE_RECEIPT_RATE_SHARE of the account's requests a
    minute, and leave the partner's window to polling and bookings while less than half
    of it is left. After a burst of trips, polling keeps its room and receipts follow at
    their pace."""
    return budget_wait(account, settings.PIPELINE_RECEIPT_RATE_SHARE)


def _receipt_later(
    ride_id: int, attempt: int, error: str, retry_after, *, paced: bool = False
) -> str:
    from rides.tasks import fetch_receipt

    with transaction.atomic():
        ride = _locked_ride(ride_id)
        if ride is None or ride.receipt is not None or ride.receipt_attempts != attempt:
            return "moved_on"
        if paced:
            ride.receipt_attempts = max(0, ride.receipt_attempts - 1)
        elif attempt >= settings.PIPELINE_RECEIPT_MAX_ATTEMPTS:
            ride.receipt_due_at = None
            ride.save(update_fields=["receipt_due_at", "updated_at"])
            log.warning("ride %s: no receipt after %s attempts (%s)", ride_id, attempt, error)
            return "gave_up"
        delay = float(retry_after) if paced else backoff_seconds(attempt, retry_after)
        ride.receipt_due_at = timezone.now() + dt.timedelta(seconds=delay)
        ride.save(update_fields=["receipt_attempts", "receipt_due_at", "updated_at"])
        _on_commit(fetch_receipt, ride_id, countdown=delay)
    return "held_back" if paced else "retry_later"


# --- webhooks ------------------------------------------------------------------------------

# Partner statuses whose details (driver, vehicle, fee) the webhook hint lacks: a GET
# follows. Others are applied from the hint alone (the poller still confirms them).
_NEEDS_FULL_TRIP = frozenset({S.DRIVER_ASSIGNED, S.CANCELLED})


def webhook_event_process(*, event_id: int) -> str:
    """Applies one recorded webhook event (a hint): newer status applied, full trip read
    only when its details are needed. Safe to run twice."""
    from rides.polling import note_trip_seen
    from rides.tasks import fetch_receipt

    event = WebhookEvent.objects.select_related("account").filter(pk=event_id).first()
    if event is None:
        return "missing"
    if event.processed_at is not None:
        return "done_before"
    ride = (
        Ride.objects.filter(partner_account_id=event.account_id)
        .filter(partner_trip_id=event.trip_id)
        .only("id", "status", "partner_trip_id", "partner_updated_at", "driver_name", "receipt")
        .first()
    )
    if ride is None and event.external_reference:
        ride = (
            Ride.objects.filter(
                partner_account_id=event.account_id, reference=event.external_reference
            )
            .only("id", "status", "partner_trip_id", "partner_updated_at", "driver_name", "receipt")
            .first()
        )
    outcome = "ignored"
    if ride is None:
        outcome = "unknown_trip"
    elif event.event_type == "trip.status_changed":
        outcome = _process_status_event(event, ride)
    elif event.event_type == "trip.receipt_ready":
        if ride.receipt is None and ride.status in TERMINAL:
            updated = Ride.objects.filter(
                pk=ride.pk, receipt__isnull=True, partner_trip_id__gt=""
            ).update(receipt_due_at=timezone.now())
            if updated:
                fetch_receipt.delay(ride.pk)
            outcome = "receipt_due"
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), outcome=outcome[:20]
    )
    note_trip_seen(event.account_id, webhook=True)
    return outcome


def _process_status_event(event: WebhookEvent, ride: Ride) -> str:
    if event.partner_updated_at is None:
        return "malformed"
    if ride.partner_updated_at is not None and event.partner_updated_at <= ride.partner_updated_at:
        return "stale"
    if ride.status in TERMINAL:
        return "ride_ended"
    new_status = PARTNER_STATUS_MAP.get(event.partner_status)
    wants_trip = (
        not ride.partner_trip_id
        or new_status in _NEEDS_FULL_TRIP
        or (new_status in (S.ARRIVING, S.ON_TRIP) and not ride.driver_name)
    )
    retry_after = None
    if wants_trip:
        errors = _partner_errors()
        try:
            trip = _client(event.account).get_trip(event.trip_id, priority="poll", kind="detail")
        except errors.RateLimited:
            # The budget is spent (a burst of bookings): one list call soon brings the
            # details of every trip that changed, instead of a read per trip.
            _poll_soon(event.account_id)
        except errors.PartnerError as exc:
            log.info("ride %s: trip read after webhook failed (%s); hint applied", ride.pk, exc)
            retry_after = float(exc.retry_after or 0) if exc.temporary else None
            if isinstance(exc, errors.UnusableAnswer):
                ride_note_unusable(ride_id=ride.pk, reason=str(exc))
        else:
            return ride_apply_partner_trip(ride_id=ride.pk, trip=trip, cause=Cause.WEBHOOK)
    outcome = ride_apply_partner_status(
        ride_id=ride.pk,
        trip_id=event.trip_id,
        status=event.partner_status,
        updated_at=event.partner_updated_at,
        cause=Cause.WEBHOOK,
        external_reference=event.external_reference,
    )
    if retry_after is not None:
        _schedule_details(ride.pk, retry_after, attempt=1)
    return outcome


# --- details the caseworker needs (driver, vehicle, fee) ------------------------------------

POLL_SOON_SECONDS = 1.0


def _poll_soon(account_id: int) -> None:
    """Brings the account's next poll forward to a second from now (at most every two
    seconds), unless a poll is running (claimed) or the budget keeps it further away."""
    now = timezone.now()
    soon = now + dt.timedelta(seconds=POLL_SOON_SECONDS)
    longest = _seconds("PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS") + dt.timedelta(seconds=1)
    PollState.objects.filter(
        account_id=account_id, next_poll_at__gt=soon, next_poll_at__lte=now + longest
    ).exclude(last_polled_at__gt=now - dt.timedelta(seconds=2)).update(next_poll_at=soon)


_DRIVER_STATES = frozenset({S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP})
DETAILS_MAX_ATTEMPTS = 20


def _lacks_details(ride: Ride) -> bool:
    if not ride.partner_trip_id:
        return False
    if ride.status in _DRIVER_STATES:
        return not ride.driver_name
    return (
        ride.status == S.CANCELLED
        and ride.cancellation_fee is None
        and ride.partner_status in ("rider_canceled", "driver_canceled")
    )


def _schedule_details(ride_id: int, retry_after: float, *, attempt: int) -> None:
    from rides.tasks import refresh_trip_details

    if attempt > DETAILS_MAX_ATTEMPTS:
        log.warning(
            "ride %s: details not read after %s attempts; polling fills in", ride_id, attempt
        )
        return
    wait = min(max(retry_after, backoff_seconds(min(attempt, 4))), MAX_COUNTDOWN_SECONDS - 5)
    try:
        refresh_trip_details.apply_async(args=(ride_id, attempt), countdown=wait)
    except Exception:  # noqa: BLE001 - polling fills the details in as well
        log.warning("could not schedule the details read of ride %s", ride_id)


def ride_refresh_details(*, ride_id: int, attempt: int = 1) -> str:
    """Reads the trip when a webhook's hint was applied without the details the
    caseworker needs (the driver and plate, a cancellation fee) because the read failed
    or the budget was spent; tries again while they are missing and the ride lasts."""
    ride = (
        Ride.objects.select_related("partner_account")
        .only(
            "id",
            "status",
            "partner_trip_id",
            "partner_status",
            "driver_name",
            "cancellation_fee",
            "partner_account",
        )
        .filter(pk=ride_id)
        .first()
    )
    if ride is None or not _lacks_details(ride):
        return "nothing_to_do"
    errors = _partner_errors()
    try:
        trip = _client(ride.partner_account).get_trip(ride.partner_trip_id, kind="detail")
    except errors.PartnerError as exc:
        if isinstance(exc, errors.UnusableAnswer):
            ride_note_unusable(ride_id=ride_id, reason=str(exc))
        if exc.temporary:
            _schedule_details(ride_id, float(exc.retry_after or 0), attempt=attempt + 1)
            return "later"
        return "refused"
    return ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.POLL)


# --- the outbox sweeper --------------------------------------------------------------------

SWEEP_BATCH = 500


def outbox_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Resends what is overdue: dispatches nobody picked up, dispatches whose worker
    died (lease expired → outcome unknown → reconcile), reconciliations, cancellations
    and receipts. Each found row's due time moves on by the grace period, so a backed-up
    queue is not flooded with copies; a copy that does run finds nothing to do."""
    from rides.tasks import (
        cancel_at_partner,
        dispatch_ride,
        fetch_receipt,
        process_webhook_event,
        reconcile_ride,
    )

    now = now or timezone.now()
    grace = _seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    next_due = now + grace
    counts = {"dispatch": 0, "reconcile": 0, "cancel": 0, "receipt": 0, "webhook": 0}
    with transaction.atomic():
        overdue = list(
            Ride.objects.dispatch_overdue(now)
            .select_for_update(skip_locked=True)
            .order_by("dispatch_due_at")[:SWEEP_BATCH]
        )
        for ride in overdue:
            if ride.status == S.DISPATCHING:
                ride.apply_transition(
                    S.DISPATCH_UNKNOWN, cause=Cause.SWEEPER, note="dispatch lease expired"
                )
            ride.dispatch_due_at = next_due
            ride.save(update_fields=["dispatch_due_at", "updated_at"])
            if ride.status == S.REQUESTED:
                _on_commit(dispatch_ride, ride.pk)
                counts["dispatch"] += 1
            else:
                _on_commit(reconcile_ride, ride.pk)
                counts["reconcile"] += 1
        cancels = list(
            Ride.objects.filter(cancel_due_at__lte=now)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if cancels:
            Ride.objects.filter(pk__in=cancels).update(cancel_due_at=next_due)
            for ride_id in cancels:
                _on_commit(cancel_at_partner, ride_id)
        counts["cancel"] = len(cancels)
        receipts = list(
            Ride.objects.filter(receipt__isnull=True, receipt_due_at__lte=now)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if receipts:
            Ride.objects.filter(pk__in=receipts).update(receipt_due_at=next_due)
            for ride_id in receipts:
                _on_commit(fetch_receipt, ride_id)
        counts["receipt"] = len(receipts)
        # Webhook events whose enqueue was lost (broker down when they arrived).
        stuck_events = list(
            WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lte=now - grace)
            .order_by("received_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        for event_id in stuck_events:
            _on_commit(process_webhook_event, event_id)
        counts["webhook"] = len(stuck_events)
    if any(counts.values()):
        log.info("outbox sweep: %s", counts)
    return counts


def webhook_events_prune(*, now: dt.datetime | None = None) -> int:
    """Forgets processed webhook ids older than the retention (duplicates come within an
    hour of the first delivery)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.PIPELINE_WEBHOOK_RETENTION_DAYS)
    deleted, _counts = WebhookEvent.objects.filter(
        received_at__lt=cutoff, processed_at__isnull=False
    ).delete()
    return deleted
