"""Approving, rejecting and rebooking rides (rides/booking.py)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone, translation

from accounts.models import Role
from cases.models import Consent
from rides.booking.services import ride_approve, ride_book, ride_rebook, ride_reject
from rides.models import Cause, Ride, RideStatus
from rides.rules import FareQuote
from tests.booking.conftest import CHEAP, booking_args

pytestmark = [pytest.mark.django_db]

EXPENSIVE = FareQuote("car", 400_000, 600)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def waiting_ride(adult_case, caseworker, places):
    return ride_book(user=caseworker, quote=EXPENSIVE, **booking_args(adult_case, places))


def set_status(ride, status, **fields):
    Ride.objects.filter(pk=ride.pk).update(status=status, **fields)
    ride.refresh_from_db()
    return ride


def test_a_supervisor_of_the_unit_approves_and_the_ride_is_dispatched(
    waiting_ride, supervisor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ride = ride_approve(ride_id=waiting_ride.pk, user=supervisor)
    assert len(callbacks) == 1
    ride.refresh_from_db()
    assert ride.status == RideStatus.REQUESTED
    assert ride.decided_by == supervisor and ride.decided_at is not None
    assert ride.dispatch_due_at is not None
    event = ride.events.order_by("at", "id").last()
    assert (event.previous_status, event.new_status, event.cause, event.actor) == (
        RideStatus.AWAITING_APPROVAL,
        RideStatus.REQUESTED,
        Cause.USER,
        supervisor,
    )


def test_a_caseworker_cannot_approve(waiting_ride, caseworker):
    with pytest.raises(Http404):
        ride_approve(ride_id=waiting_ride.pk, user=caseworker)
    waiting_ride.refresh_from_db()
    assert waiting_ride.status == RideStatus.AWAITING_APPROVAL


def test_a_supervisor_of_another_unit_gets_404(waiting_ride, make_user, other_unit):
    other = make_user(Role.SUPERVISOR, other_unit, username="supervisor2")
    with pytest.raises(Http404):
        ride_approve(ride_id=waiting_ride.pk, user=other)
    with pytest.raises(Http404):
        ride_reject(ride_id=waiting_ride.pk, user=other, reason="no")


def test_approving_twice_says_it_is_no_longer_waiting(
    waiting_ride, supervisor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride_approve(ride_id=waiting_ride.pk, user=supervisor)
    with pytest.raises(ValidationError) as excinfo:
        ride_approve(ride_id=waiting_ride.pk, user=supervisor)
    assert "not waiting for approval" in excinfo.value.message_dict["ride"][0]


def test_a_scheduled_time_that_came_too_close_while_waiting_is_sent_as_now(
    waiting_ride, supervisor, django_capture_on_commit_callbacks
):
    set_status(
        waiting_ride,
        RideStatus.AWAITING_APPROVAL,
        scheduled_pickup_at=timezone.now() + dt.timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks():
        ride = ride_approve(ride_id=waiting_ride.pk, user=supervisor)
    ride.refresh_from_db()
    assert ride.scheduled_pickup_at is None
    assert "sent as now" in ride.events.order_by("at", "id").last().note


def test_rejecting_needs_a_reason_and_rejects_with_it(waiting_ride, supervisor):
    with pytest.raises(ValidationError) as excinfo:
        ride_reject(ride_id=waiting_ride.pk, user=supervisor, reason="  ")
    assert "reason" in excinfo.value.message_dict
    waiting_ride.refresh_from_db()
    assert waiting_ride.status == RideStatus.AWAITING_APPROVAL

    ride = ride_reject(
        ride_id=waiting_ride.pk, user=supervisor, reason="Too far: use the office car."
    )
    ride.refresh_from_db()
    assert ride.status == RideStatus.REJECTED
    assert ride.rejection_reason == "Too far: use the office car."
    assert ride.status_reason == "Too far: use the office car."
    assert ride.decided_by == supervisor


# --- rebook ----------------------------------------------------------------------------------


@pytest.fixture
def ride_without_driver(adult_case, caseworker, places, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(adult_case, places, purpose="other", purpose_note="Ambil dokumen"),
        )
    return set_status(ride, RideStatus.NO_DRIVER)


@pytest.mark.parametrize("status", [RideStatus.NO_DRIVER, RideStatus.CANCELLED, RideStatus.FAILED])
def test_rebook_copies_the_ride_in_one_call(
    ride_without_driver, caseworker, status, django_capture_on_commit_callbacks
):
    old = set_status(ride_without_driver, status)
    with django_capture_on_commit_callbacks() as callbacks:
        new = ride_rebook(ride_id=old.pk, user=caseworker)
    assert len(callbacks) == 1
    new.refresh_from_db()
    assert new.pk != old.pk and new.rebooked_from == old
    assert new.status == RideStatus.REQUESTED
    for name in (
        "case_id",
        "purpose",
        "purpose_note",
        "pickup",
        "dropoff",
        "dropoff_place_id",
        "passenger_count",
        "rider_phone",
        "rider_alias",
        "product_id",
        "partner_account_id",
    ):
        assert getattr(new, name) == getattr(old, name), name
    assert new.reference != old.reference
    assert f"rebooked from {old.reference}" in new.events.get().note


def test_a_ride_is_rebooked_once_only(
    ride_without_driver, caseworker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        first = ride_rebook(ride_id=ride_without_driver.pk, user=caseworker)
    with pytest.raises(ValidationError) as excinfo:
        ride_rebook(ride_id=ride_without_driver.pk, user=caseworker)
    assert first.reference in excinfo.value.message_dict["ride"][0]
    assert Ride.objects.count() == 2


@pytest.mark.parametrize("status", [RideStatus.COMPLETED, RideStatus.REQUESTED, RideStatus.ON_TRIP])
def test_only_rides_that_ended_without_a_trip_are_rebooked(ride_without_driver, caseworker, status):
    set_status(ride_without_driver, status)
    with pytest.raises(ValidationError):
        ride_rebook(ride_id=ride_without_driver.pk, user=caseworker)
    assert Ride.objects.count() == 1


def test_rebooking_from_needs_attention_cancels_the_old_ride(
    ride_without_driver, caseworker, django_capture_on_commit_callbacks
):
    old = set_status(ride_without_driver, RideStatus.NEEDS_ATTENTION)
    with django_capture_on_commit_callbacks():
        new = ride_rebook(ride_id=old.pk, user=caseworker)
    old.refresh_from_db()
    assert old.status == RideStatus.CANCELLED
    assert new.reference in old.status_reason


def test_a_ride_the_partner_may_still_hold_is_cancelled_before_a_rebook(
    ride_without_driver, caseworker
):
    set_status(ride_without_driver, RideStatus.NEEDS_ATTENTION, partner_trip_id="trip_123")
    with pytest.raises(ValidationError) as excinfo:
        ride_rebook(ride_id=ride_without_driver.pk, user=caseworker)
    assert "cancel the ride first" in excinfo.value.message_dict["ride"][0]


def test_the_same_rules_apply_to_a_rebook(ride_without_driver, caseworker):
    case = ride_without_driver.case
    case.stage = "closed"
    case.save()
    with pytest.raises(ValidationError):
        ride_rebook(ride_id=ride_without_driver.pk, user=caseworker)
    assert Ride.objects.count() == 1


def test_a_caseworker_of_another_unit_cannot_rebook(ride_without_driver, caseworker_other_unit):
    with pytest.raises(Http404):
        ride_rebook(ride_id=ride_without_driver.pk, user=caseworker_other_unit)


def test_an_expensive_ride_rebooked_waits_for_approval_again(ride_without_driver, caseworker):
    new = ride_rebook(ride_id=ride_without_driver.pk, user=caseworker, quote=EXPENSIVE)
    assert new.status == RideStatus.AWAITING_APPROVAL


def test_a_past_scheduled_time_is_rebooked_as_now(
    ride_without_driver, caseworker, django_capture_on_commit_callbacks
):
    set_status(
        ride_without_driver,
        RideStatus.NO_DRIVER,
        scheduled_pickup_at=timezone.now() - dt.timedelta(minutes=30),
    )
    with django_capture_on_commit_callbacks():
        new = ride_rebook(ride_id=ride_without_driver.pk, user=caseworker)
    assert new.scheduled_pickup_at is None


def test_approval_checks_again_what_may_have_changed_while_the_ride_waited(
    waiting_ride, supervisor
):
    Consent.objects.filter(case=waiting_ride.case).update(withdrawn_at=timezone.now())
    with pytest.raises(ValidationError) as excinfo:
        ride_approve(ride_id=waiting_ride.pk, user=supervisor)
    assert "consent to transport was withdrawn" in excinfo.value.message_dict["ride"][0]
    waiting_ride.case.stage = "closed"
    waiting_ride.case.save()
    with pytest.raises(ValidationError) as excinfo:
        ride_approve(ride_id=waiting_ride.pk, user=supervisor)
    assert "The case was closed" in excinfo.value.message_dict["ride"][0]
    waiting_ride.refresh_from_db()
    assert waiting_ride.status == RideStatus.AWAITING_APPROVAL


def _outside_service_hours(settings):
    """Service hours that leave out the present hour: it is "night" for the SOP."""
    hour = timezone.localtime().hour
    settings.BOOKING_SERVICE_HOURS = f"{(hour + 2) % 24:02d}:00-{(hour + 3) % 24:02d}:00"


def test_a_rebook_at_night_of_an_approved_ride_keeps_its_approval(
    adult_case, caseworker, supervisor, places, settings, django_capture_on_commit_callbacks
):
    _outside_service_hours(settings)
    ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    assert ride.status == RideStatus.AWAITING_APPROVAL
    with django_capture_on_commit_callbacks():
        ride_approve(ride_id=ride.pk, user=supervisor)
    old = set_status(ride, RideStatus.NO_DRIVER)
    with django_capture_on_commit_callbacks() as callbacks:
        new = ride_rebook(ride_id=old.pk, user=caseworker)
    assert len(callbacks) == 1, "sent at once, no second approval"
    new.refresh_from_db()
    assert new.status == RideStatus.REQUESTED
    assert (new.decided_by, new.decided_at) == (supervisor, old.decided_at)
    assert new.approval_reasons == old.approval_reasons
    assert new.agreed_fare == old.agreed_fare == CHEAP.fare_amount
    # Its fare is quoted again before it goes (the old quote's lock is long gone).
    assert new.fare_check_at_dispatch
    note = new.events.get().note
    assert old.reference in note and "approval" in note


def test_a_rebook_of_an_approved_ride_whose_fare_rose_past_the_margin_waits_again(
    waiting_ride, caseworker, supervisor, settings, django_capture_on_commit_callbacks
):
    settings.BOOKING_APPROVAL_MARGIN_PERCENT = 10
    with django_capture_on_commit_callbacks():
        ride_approve(ride_id=waiting_ride.pk, user=supervisor)
    set_status(waiting_ride, RideStatus.NO_DRIVER)
    within = FareQuote("car", 440_000)  # 10 % above the approved 400.000
    risen = FareQuote("car", 440_100)
    new = ride_rebook(ride_id=waiting_ride.pk, user=caseworker, quote=risen)
    assert new.status == RideStatus.AWAITING_APPROVAL
    assert new.approval_reasons == [
        {"code": "fare_risen", "fare": 440_100, "agreed": 400_000, "approved": True, "margin": 10}
    ]
    assert new.decided_by is None
    Ride.objects.filter(pk=new.pk).update(status=RideStatus.CANCELLED)
    waiting_ride.rebookings.all().update(rebooked_from=None)
    with django_capture_on_commit_callbacks():
        kept = ride_rebook(ride_id=waiting_ride.pk, user=caseworker, quote=within)
    assert kept.status == RideStatus.REQUESTED and kept.decided_by == supervisor


def test_a_rebook_of_a_ride_that_needed_no_approval_is_checked_as_a_new_booking(
    ride_without_driver, caseworker, settings
):
    _outside_service_hours(settings)
    new = ride_rebook(ride_id=ride_without_driver.pk, user=caseworker)
    assert new.status == RideStatus.AWAITING_APPROVAL
    assert new.approval_reasons[0]["code"] == "outside_service_hours"
