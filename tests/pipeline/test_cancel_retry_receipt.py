"""Cancellation, a person's retry, receipts and alerts (services against the sandbox)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from accounts.models import Role
from partners.client.registry import client_for
from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.pipeline.alerts import alert_acknowledge, alert_raise
from rides.pipeline.apply import ride_apply_partner_trip
from rides.pipeline.cancel import ride_cancel, ride_cancel_at_partner
from rides.pipeline.dispatch import ride_dispatch, ride_retry
from rides.pipeline.payload import build_trip_request
from rides.pipeline.receipts import ride_fetch_receipt
from tests.stack import trips_by_reference

pytestmark = pytest.mark.django_db

S = RideStatus


def refresh(ride):
    ride.refresh_from_db()
    return ride


def sync(account, ride):
    """What polling would do: read the trip and apply it."""
    trip = client_for(account).get_trip(ride.partner_trip_id)
    ride_apply_partner_trip(ride_id=ride.pk, trip=trip, cause="poll")
    return refresh(ride)


# --- cancellation ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.REQUESTED, S.AWAITING_APPROVAL])
def test_a_ride_the_partner_never_saw_is_cancelled_at_once(
    sandbox, partner_account, make_ride, pipeline_caseworker, status
):
    ride = make_ride(partner_account, status=status)
    ride = ride_cancel(ride_id=ride.pk, user=pipeline_caseworker, reason="no longer needed")
    assert ride.status == S.CANCELLED
    assert ride.cancel_due_at is None
    event = ride.events.get(new_status=S.CANCELLED)
    assert (event.cause, event.actor) == ("user", pipeline_caseworker)
    assert sandbox.control.calls(client_id=partner_account.client_id) == []


def test_a_ride_with_the_partner_is_cancelled_at_the_partner_with_its_fee(
    sandbox, partner_account, dispatched_ride, pipeline_caseworker
):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    ride = sync(partner_account, ride)
    ride = ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    assert ride.status == S.DRIVER_ASSIGNED  # until the partner confirms
    assert ride.cancel_requested_at and ride.cancel_due_at
    assert ride_cancel_at_partner(ride_id=ride.pk) == "cancelled"
    ride = refresh(ride)
    assert ride.status == S.CANCELLED
    assert ride.partner_status == "rider_canceled"
    assert ride.partner_status_detail == "coordinator_canceled"
    assert ride.cancellation_fee and ride.cancellation_fee > 0
    assert ride.cancel_due_at is None
    assert ride.receipt_due_at is not None  # a fee was charged: the receipt is fetched
    assert ride_cancel_at_partner(ride_id=ride.pk) == "nothing_to_do"
    assert len(sandbox.control.calls("cancel_trip", partner_account.client_id)) == 1


def test_a_trip_that_ended_before_the_cancel_is_read_and_applied(
    sandbox, partner_account, dispatched_ride, pipeline_caseworker
):
    ride = dispatched_ride(partner_account)
    ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    sandbox.control.set_trip_status(ride.partner_trip_id, "completed")
    assert ride_cancel_at_partner(ride_id=ride.pk) == "cancelled"
    ride = refresh(ride)
    assert ride.status == S.COMPLETED  # what really happened
    calls = [c["endpoint"] for c in sandbox.control.calls(client_id=partner_account.client_id)]
    assert calls[-2:] == ["cancel_trip", "get_trip"]


def test_a_cancel_after_an_earlier_attempt_looks_the_reference_up(
    sandbox, partner_account, make_ride, pipeline_caseworker
):
    ride = make_ride(partner_account)
    # An earlier attempt reached the partner after all (its answer was lost).
    client_for(partner_account).create_trip(
        body=build_trip_request(ride), idempotency_key=f"{ride.reference}:0"
    )
    Ride.objects.filter(pk=ride.pk).update(
        dispatch_attempts=1, idempotency_key=f"{ride.reference}:0"
    )
    ride = ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    assert ride.status == S.CANCELLED and ride.cancel_due_at is not None
    assert ride_cancel_at_partner(ride_id=ride.pk) == "cancelled"
    (trip,) = sandbox.control.trips(partner_account.client_id)
    assert trip["trip"]["status"] == "rider_canceled"
    assert refresh(ride).partner_trip_id == trip["trip"]["trip_id"]


@override_settings(PIPELINE_CANCEL_MAX_ATTEMPTS=2)
def test_a_cancel_the_partner_never_confirms_alerts_the_supervisors(
    sandbox, partner_account, dispatched_ride, pipeline_caseworker
):
    ride = dispatched_ride(partner_account)
    ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    sandbox.control.force_fault("cancel_trip", "502", count=5)
    assert ride_cancel_at_partner(ride_id=ride.pk) == "retry_later"
    assert refresh(ride).cancel_due_at is not None
    assert ride_cancel_at_partner(ride_id=ride.pk) == "failed"
    ride = refresh(ride)
    assert ride.cancel_due_at is None
    alert = Alert.objects.get(ride=ride, kind=AlertKind.CANCEL_FAILED)
    assert "Call the partner" in alert.message
    # A person may press cancel again: the request is sent anew.
    sandbox.control.clear_faults()
    ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    assert ride_cancel_at_partner(ride_id=ride.pk) == "cancelled"
    assert refresh(ride).status == S.CANCELLED


def test_an_ended_ride_cannot_be_cancelled(partner_account, make_ride, pipeline_caseworker):
    ride = make_ride(partner_account, status=S.COMPLETED)
    with pytest.raises(ValidationError):
        ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)


def test_only_people_who_may_see_the_ride_may_cancel_it(
    partner_account, make_ride, make_user, other_unit
):
    ride = make_ride(partner_account)
    stranger = make_user(Role.CASEWORKER, other_unit)
    with pytest.raises(PermissionDenied):
        ride_cancel(ride_id=ride.pk, user=stranger)
    assert refresh(ride).status == S.REQUESTED


def test_a_partner_side_cancellation_is_shown_with_its_reason(
    sandbox, partner_account, dispatched_ride
):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "driver_canceled")
    ride = sync(partner_account, ride)
    assert ride.status == S.CANCELLED and ride.can_rebook
    assert "driver cancelled" in ride.status_reason


# --- retry -------------------------------------------------------------------------------------


def test_a_person_retries_a_ride_that_needs_attention(
    sandbox,
    partner_account,
    make_ride,
    pipeline_caseworker,
    pipeline_supervisor,
    django_capture_on_commit_callbacks,
):
    ride = make_ride(partner_account, rider_phone="not a phone")
    assert ride_dispatch(ride_id=ride.pk) == "held"
    alert = Alert.objects.get(ride=ride)
    assert alert.unit_id == ride.unit_id
    assert list(Alert.objects.open().for_supervisor(pipeline_supervisor)) == [alert]
    Ride.objects.filter(pk=ride.pk).update(rider_phone="+6281234567890")  # corrected
    with django_capture_on_commit_callbacks() as callbacks:
        ride = ride_retry(ride_id=ride.pk, user=pipeline_caseworker)
    assert ride.status == S.REQUESTED and len(callbacks) == 1
    assert ride.dispatch_generation == 1 and ride.idempotency_key == ""
    assert Alert.objects.get(pk=alert.pk).resolved_at is not None
    assert ride_dispatch(ride_id=ride.pk) == "created"
    ride = refresh(ride)
    assert ride.idempotency_key == f"{ride.reference}:1"
    assert trips_by_reference(sandbox, partner_account.client_id)[ride.reference] == 1


def test_retry_is_only_for_rides_that_need_attention(
    partner_account, make_ride, pipeline_caseworker
):
    ride = make_ride(partner_account)
    with pytest.raises(ValidationError):
        ride_retry(ride_id=ride.pk, user=pipeline_caseworker)


def test_alerts_are_not_doubled_and_can_be_resolved(
    partner_account, make_ride, pipeline_supervisor
):
    ride = make_ride(partner_account)
    first = alert_raise(ride=ride, kind=AlertKind.NEEDS_ATTENTION, message="m")
    assert alert_raise(ride=ride, kind=AlertKind.NEEDS_ATTENTION, message="m") == first
    alert_acknowledge(alert_id=first.pk, user=pipeline_supervisor, note="called the driver")
    second = alert_raise(ride=ride, kind=AlertKind.NEEDS_ATTENTION, message="again")
    assert second.pk != first.pk
    assert Alert.objects.open().count() == 1


# --- receipts ----------------------------------------------------------------------------------


def test_the_receipt_and_final_fare_are_stored_after_the_trip_ends(
    sandbox, partner_account, dispatched_ride
):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "in_progress")
    sandbox.control.set_trip_status(ride.partner_trip_id, "completed")
    ride = sync(partner_account, ride)
    assert ride.status == S.COMPLETED and ride.receipt_due_at is not None
    assert ride_fetch_receipt(ride_id=ride.pk) == "stored"
    ride = refresh(ride)
    partner_receipt = sandbox.control.trip(ride.partner_trip_id)["simulation"]["receipt"]
    assert ride.receipt["total_amount"] == partner_receipt["total_amount"]
    assert ride.final_fare == partner_receipt["total_amount"]
    assert ride.receipt_due_at is None
    assert ride_fetch_receipt(ride_id=ride.pk) == "nothing_to_do"
    assert len(sandbox.control.calls("receipt", partner_account.client_id)) == 1


@override_settings(PIPELINE_RECEIPT_MAX_ATTEMPTS=2)
def test_a_receipt_not_ready_is_asked_again_later_a_bounded_number_of_times(
    sandbox, partner_account, dispatched_ride
):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "completed")
    ride = sync(partner_account, ride)
    sandbox.control.force_fault("receipt", "503", count=2)
    assert ride_fetch_receipt(ride_id=ride.pk) == "retry_later"
    assert refresh(ride).receipt_due_at is not None
    assert ride_fetch_receipt(ride_id=ride.pk) == "gave_up"
    assert refresh(ride).receipt_due_at is None


def test_no_receipt_is_asked_for_a_trip_without_charge(sandbox, partner_account, dispatched_ride):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "no_drivers_available")
    ride = sync(partner_account, ride)
    assert ride.status == S.NO_DRIVER and ride.receipt_due_at is None


def test_a_failed_trip_alerts_the_supervisors(sandbox, partner_account, dispatched_ride):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "failed")
    ride = sync(partner_account, ride)
    assert ride.status == S.FAILED
    assert Alert.objects.get(ride=ride).kind == AlertKind.RIDE_FAILED


def test_receipts_leave_a_tight_budget_to_polling(sandbox, make_partner_account, dispatched_ride):
    # 10 a minute: the token, the create and four reads leave 4 of 10, less than half.
    account = make_partner_account(rate_limit_per_minute=10)
    ride = dispatched_ride(account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "completed")
    ride = sync(account, ride)
    for _ in range(3):
        client_for(account).get_trip(ride.partner_trip_id)
    assert ride_fetch_receipt(ride_id=ride.pk) == "held_back"
    ride = refresh(ride)
    assert ride.receipt is None and ride.receipt_attempts == 0
    assert ride.receipt_due_at is not None
    assert sandbox.control.calls("receipt", account.client_id) == []


def test_a_poll_before_the_lookup_does_not_drop_the_pending_cancellation(
    sandbox, partner_account, make_ride, pipeline_caseworker
):
    ride = make_ride(partner_account)
    created = client_for(partner_account).create_trip(
        body=build_trip_request(ride), idempotency_key=f"{ride.reference}:0"
    )
    Ride.objects.filter(pk=ride.pk).update(
        dispatch_attempts=1, idempotency_key=f"{ride.reference}:0"
    )
    ride = ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    assert ride.status == S.CANCELLED and ride.cancel_due_at is not None
    # The poller sees the live trip first (by reference): refused, and the cancel stays due.
    assert ride_apply_partner_trip(ride_id=ride.pk, trip=created.trip, cause="poll") == "refused"
    assert refresh(ride).cancel_due_at is not None
    assert ride_cancel_at_partner(ride_id=ride.pk) == "cancelled"
    assert sandbox.control.trip(created.trip.trip_id)["trip"]["status"] == "rider_canceled"
