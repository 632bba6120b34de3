"""A person's cancellation of a ride, and telling the partner to cancel its trip.

The request is recorded on the ride first (`cancel_requested_at`, and `cancel_due_at`
when the partner must be told: the cancellation outbox); `rides.cancel_at_partner`
tells the partner, with retries, and the ride shows cancelled once the partner
confirms, with any fee recorded. A cancellation the partner never confirms alerts the
unit's supervisors.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_change
from partners.client import errors
from partners.client.contract import TERMINAL_TRIP_STATUSES
from partners.client.registry import client_for
from portal.queue import enqueue_on_commit
from rides.models import AlertKind, Cause, PartnerOperation, Ride, RideStatus
from rides.models.states import BEFORE_PARTNER, TERMINAL
from rides.pipeline.alerts import alert_raise, alerts_resolve_for_ride
from rides.pipeline.apply import ride_apply_partner_trip
from rides.pipeline.calls import partner_call
from rides.pipeline.common import (
    CANCEL_AT_PARTNER,
    backoff_seconds,
    locked_ride,
    relocked,
    seconds,
    visible_or_denied,
)
from rides.pipeline.funds import ride_funds_follow

S = RideStatus
log = logging.getLogger("rides.pipeline")


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
    now = timezone.now()
    with transaction.atomic():
        ride = locked_ride(ride_id)
        if ride is None:
            raise Ride.DoesNotExist
        visible_or_denied(ride, user)
        if ride.status in TERMINAL:
            raise ValidationError(_("This ride has already ended; there is nothing to cancel."))
        first_request = ride.cancel_requested_at is None
        status_before = ride.status
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
                enqueue_on_commit(CANCEL_AT_PARTNER, ride.pk)
            ride.save()
        else:
            ever_sent = ride.dispatch_attempts > 0 or bool(ride.idempotency_key)
            if ever_sent:
                # An earlier attempt was answered "not created", but look once more and
                # cancel whatever the partner may hold under this reference.
                ride.cancel_due_at = now
                ride.cancel_attempts = 0
                enqueue_on_commit(CANCEL_AT_PARTNER, ride.pk)
            ride.dispatch_due_at = None
            ride.apply_transition(
                S.CANCELLED,
                cause=Cause.USER,
                actor=user,
                reason=_("Cancelled by %(name)s.") % {"name": user.get_full_name() or user},
            )
            ride_funds_follow(ride)
            alerts_resolve_for_ride(ride=ride, user=user)
        if first_request:
            audit_change(
                action="cancelled",
                actor=user,
                object_type="ride",
                object_id=ride.reference,
                unit_id=ride.unit_id,
                before={"status": status_before, "cancel_requested": False},
                after={"status": ride.status, "cancel_requested": True},
                protected=["cancel_reason"] if ride.cancel_reason else [],
            )
    return ride


def ride_cancel_at_partner(*, ride_id: int) -> str:
    """Tells the partner to cancel the ride's trip; records the fee. Safe to repeat."""
    now = timezone.now()
    with transaction.atomic():
        ride = locked_ride(ride_id)
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
            and ride.partner_status in TERMINAL_TRIP_STATUSES
        ):
            ride.cancel_due_at = None
            ride.save()
            return "already_ended"
        ride.cancel_attempts += 1
        ride.cancel_due_at = now + seconds("PIPELINE_DISPATCH_LEASE_SECONDS")
        ride.save()
        trip_id = ride.partner_trip_id
        reference = ride.reference
        account = ride.partner_account
        actor = ride.cancel_requested_by
        attempt = ride.cancel_attempts

    still_cancelling = _still_cancelling(attempt)

    def recorded(operation):
        return partner_call(
            account_id=account.pk, operation=operation, ride_id=ride_id, attempt=attempt
        )

    try:
        client = client_for(account)
        if not trip_id:
            with recorded(PartnerOperation.FIND_TRIP):
                found = client.find_trip_by_reference(reference)
            if found is None:
                _cancel_done(ride_id)
                return "nothing_at_partner"
            trip_id = found.trip_id
            if found.status in TERMINAL_TRIP_STATUSES:
                ride_apply_partner_trip(ride_id=ride_id, trip=found, cause=Cause.USER, actor=actor)
                _cancel_done(ride_id)
                return "already_ended"
        try:
            with recorded(PartnerOperation.CANCEL_TRIP):
                trip = client.cancel_trip(trip_id)
        except errors.TripNotCancellable:
            with recorded(PartnerOperation.GET_TRIP):
                trip = client.get_trip(trip_id)
    except errors.TemporaryPartnerError as exc:
        return relocked(ride_id, still_cancelling, _cancel_later, str(exc), exc.retry_after)
    except errors.PartnerError as exc:
        return relocked(ride_id, None, _cancel_failed, str(exc))
    except Exception as exc:  # noqa: BLE001
        log.exception("ride %s: cancellation failed unexpectedly", ride_id)
        return relocked(ride_id, still_cancelling, _cancel_later, type(exc).__name__, None)
    ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.USER, actor=actor)
    _cancel_done(ride_id)
    return "cancelled"


def _still_cancelling(attempt: int):
    """The ride still waits for the cancellation this worker sent (no later one started)."""
    return lambda ride: ride.cancel_due_at is not None and ride.cancel_attempts == attempt


def _cancel_done(ride_id: int) -> None:
    Ride.objects.filter(pk=ride_id).update(cancel_due_at=None, updated_at=timezone.now())


def _cancel_later(ride: Ride, error: str, retry_after) -> str:
    attempt = ride.cancel_attempts
    if attempt >= settings.PIPELINE_CANCEL_MAX_ATTEMPTS:
        return _cancel_failed(ride, error)
    delay = backoff_seconds(attempt, retry_after)
    ride.cancel_due_at = (
        timezone.now() + dt.timedelta(seconds=delay) + seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    )
    ride.save()
    enqueue_on_commit(CANCEL_AT_PARTNER, ride.pk, countdown=delay)
    return "retry_later"


def _cancel_failed(ride: Ride, error: str) -> str:
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
    log.warning("ride %s: cancellation not confirmed (%s)", ride.pk, error)
    return "failed"
