"""Applying what the partner says about a trip to its ride.

Status from the create answer, polling, webhooks and per-trip reads all goes through
`_apply_partner_data` on a locked row, which uses Ride.apply_transition (repeats and
stale data ignored, illegal moves refused, each change in the trip log), copies the
driver, vehicle, ETA and fare, and starts what follows: the receipt of an ended trip,
the cancellation of a trip that became known after a person cancelled the ride, the
monitoring rules (rides/pipeline/monitoring.py).
Answers that cannot be read are counted (`ride_note_unusable`). Newer versions of trips
whose status did not change (a car that moved) are written in one statement for a whole
list page (`refresh_in_bulk`).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.client.contract import ENDED_WITHOUT_TRIP
from portal.queue import enqueue_on_commit
from rides.models import AlertKind, Ride, RideStatus
from rides.models.states import (
    ACTIVE_WITH_PARTNER,
    BEFORE_PARTNER,
    PARTNER_STATUS_MAP,
    TERMINAL,
    TransitionOutcome,
)
from rides.pipeline.alerts import alert_raise
from rides.pipeline.common import CANCEL_AT_PARTNER, FETCH_RECEIPT, locked_ride, locked_rides
from rides.pipeline.funds import ride_funds_follow
from rides.pipeline.monitoring import driver_cancelled_raise, ride_monitor

S = RideStatus
log = logging.getLogger("rides.pipeline")

# The partner's status detail of a cancellation the portal asked for.
CANCELED_BY_COORDINATOR = "coordinator_canceled"

# Why a trip ended without carrying the rider, by the state its partner status maps to
# (the statuses in ENDED_WITHOUT_TRIP).
_ENDED_REASONS = {
    S.NO_DRIVER: lambda: _("The partner found no driver. Rebook the ride."),
    S.CANCELLED: lambda: _(
        "The driver cancelled and the partner found no other driver. Rebook the ride."
    ),
    S.FAILED: lambda: _("The partner could not carry out the trip. Rebook the ride."),
}


def _reason_for(status: str, detail: str, ride: Ride) -> str:
    new_status = PARTNER_STATUS_MAP.get(status)
    if status in ENDED_WITHOUT_TRIP:
        return _ENDED_REASONS[new_status]()
    if new_status == S.CANCELLED:  # the rider's side cancelled: the portal or the app
        ours = not detail and ride.cancel_requested_at is not None
        if detail == CANCELED_BY_COORDINATOR or ours:
            who = ride.cancel_requested_by
            if who is not None:
                return _("Cancelled by %(name)s.") % {"name": who.get_full_name() or who}
            return _("Cancelled at the portal's request.")
        return _("The rider cancelled the trip in the partner's app. Rebook if still needed.")
    return ""


def _text(value, length: int) -> str:
    return str(value or "")[:length]


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
        # Its length only: a partner's free text may echo what it was sent.
        log.warning(
            "ride %s: status outside the contract ignored (%s characters)", ride.pk, len(status)
        )
        ride.save()
        return "unknown_status"
    result = ride.apply_transition(
        new_status,
        cause=cause,
        actor=actor,
        partner_status=status,
        partner_updated_at=updated_at,
        reason=_reason_for(status, status_detail, ride),
        save=False,  # saved once, below, with the details
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
        # Where the car stood last is where the survivor was set down: not kept.
        ride.driver_latitude = ride.driver_longitude = None
        if _needs_receipt(ride) and ride.receipt_due_at is None:
            delay = float(settings.PIPELINE_RECEIPT_DELAY_SECONDS)
            ride.receipt_due_at = now + dt.timedelta(seconds=delay)
            enqueue_on_commit(FETCH_RECEIPT, ride.pk, countdown=delay or None)
    elif (
        ride.cancel_requested_at is not None
        and ride.status in ACTIVE_WITH_PARTNER
        and ride.cancel_due_at is None
        and ride.cancel_attempts == 0
    ):
        # Cancelled while the dispatch was in flight: now that the trip is known, cancel it.
        ride.cancel_due_at = now
        enqueue_on_commit(CANCEL_AT_PARTNER, ride.pk)
    ride.save()
    if ride.status in TERMINAL:
        ride_funds_follow(ride)
    if outcome == TransitionOutcome.APPLIED and ride.status == S.FAILED:
        alert_raise(
            ride=ride,
            kind=AlertKind.RIDE_FAILED,
            message=_("Ride %(reference)s failed at the partner: %(reason)s")
            % {"reference": ride.reference, "reason": ride.status_reason},
        )
    if outcome == TransitionOutcome.APPLIED:
        driver_cancelled_raise(ride)
    ride_monitor(ride)  # a new status or position: the monitoring rules look again
    return outcome


def _apply_trip(ride: Ride, trip, cause: str, actor=None) -> str:
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


def ride_apply_partner_trip(*, ride_id: int, trip, cause: str, actor=None) -> str:
    """Applies a full Trip from the partner to the ride (status, driver, vehicle, fare)."""
    with transaction.atomic():
        ride = locked_ride(ride_id)
        if ride is None:
            return "missing"
        return _apply_trip(ride, trip, cause, actor)


def rides_apply_partner_trips(changes: list, *, cause: str) -> dict[int, str]:
    """Applies many full Trips — (ride id, Trip) pairs, a page of a list answer — in one
    transaction: the rides locked together (in id order), each trip through the same
    steps as ride_apply_partner_trip, in the order given. A trip whose apply fails is
    rolled back alone (its savepoint) and logged; the others are kept, so one trip the
    portal cannot apply never holds back the rest of the page. Answers each ride's
    outcome ("error" for a failed one; rides that are gone are left out)."""
    outcomes: dict[int, str] = {}
    if not changes:
        return outcomes
    with transaction.atomic():
        rides = {ride.pk: ride for ride in locked_rides({ride_id for ride_id, _trip in changes})}
        for ride_id, trip in changes:
            ride = rides.get(ride_id)
            if ride is None or outcomes.get(ride_id) == "error":
                continue
            try:
                with transaction.atomic():
                    outcomes[ride_id] = _apply_trip(ride, trip, cause)
            except Exception as exc:  # noqa: BLE001 - one trip must not hold back the page
                # The kind of error only: its text may carry the trip's data.
                log.error(
                    "ride %s: a partner trip could not be applied (%s)", ride_id, type(exc).__name__
                )
                outcomes[ride_id] = "error"
    return outcomes


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
        ride = locked_ride(ride_id)
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


def ride_note_unusable(*, ride_id: int, reason: str) -> bool:
    """Counts one more unusable answer about the ride's trip (a list item, a detail read);
    at PIPELINE_UNUSABLE_ANSWERS_MAX in a row the unit's supervisors are alerted (once).
    Answers whether the alert was raised now."""
    with transaction.atomic():
        ride = locked_ride(ride_id)
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


_REFRESH = """
UPDATE rides_ride AS r
SET partner_updated_at = v.version,
    partner_seen_at = %s,
    updated_at = %s,
    pickup_eta_seconds = v.eta,
    driver_latitude = COALESCE(v.latitude, r.driver_latitude),
    driver_longitude = COALESCE(v.longitude, r.driver_longitude),
    fare_amount = COALESCE(v.fare, r.fare_amount)
FROM (VALUES {rows}) AS v(id, version, status, eta, latitude, longitude, fare)
WHERE r.id = v.id AND r.partner_status = v.status AND r.partner_updated_at < v.version
"""
_REFRESH_ROW = (
    "(%s::bigint, %s::timestamptz, %s::varchar, %s::integer,"
    " %s::double precision, %s::double precision, %s::integer)"
)


def refresh_in_bulk(refreshes: list, now: dt.datetime) -> int:
    """Newer versions of trips whose status did not change, in one statement.

    The same as a repeat through Ride.apply_transition (no state change, the newer
    version and the moving details kept), done only where the row still holds the same
    partner status and an older version, so it never undoes a concurrent change.
    """
    if not refreshes:
        return 0
    params: list = [now, now]
    for ride_id, trip in refreshes:
        eta = trip.pickup_eta_seconds
        params += [
            ride_id,
            trip.updated_at,
            trip.status,
            eta if isinstance(eta, int) and eta >= 0 else None,
            trip.driver_location.latitude if trip.driver_location else None,
            trip.driver_location.longitude if trip.driver_location else None,
            trip.fare_amount
            if isinstance(trip.fare_amount, int) and trip.fare_amount >= 0
            else None,
        ]
    sql = _REFRESH.format(rows=", ".join([_REFRESH_ROW] * len(refreshes)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
