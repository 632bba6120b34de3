"""Dispatch and reconciliation against the sandbox partner over real HTTP.

The services run in the test process (no worker): each fault of the contract's table is
forced on the sandbox, and every test ends with exactly one trip at the partner for the
ride's reference, and the ride holding that trip.
"""

import time

import pytest
from django.test import override_settings
from django.utils import timezone

from partners.client.registry import client_for
from rides.models import Alert, AlertKind, Ride, RideStatus, TripEvent
from rides.pipeline.apply import ride_apply_partner_trip
from rides.pipeline.cancel import ride_cancel_at_partner
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.reconcile import ride_reconcile
from tests.factories import PartnerAccountFactory
from tests.stack import trips_by_reference

pytestmark = pytest.mark.django_db

S = RideStatus
WITH_PARTNER = {S.SCHEDULED, S.SEARCHING, S.DRIVER_ASSIGNED}


def assert_one_trip(sandbox, account, ride):
    ride.refresh_from_db()
    counts = trips_by_reference(sandbox, account.client_id)
    assert counts[ride.reference] == 1, counts
    trip_id = next(
        item["trip"]["trip_id"]
        for item in sandbox.control.trips(account.client_id)
        if item["trip"]["external_reference"] == ride.reference
    )
    assert ride.partner_trip_id == trip_id
    assert Ride.objects.filter(partner_trip_id=trip_id).count() == 1
    return ride


def create_keys(sandbox, account):
    return [
        call["idempotency_key"] for call in sandbox.control.calls("create_trip", account.client_id)
    ]


def test_dispatch_creates_the_trip_and_applies_it(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account)
    assert ride_dispatch(ride_id=ride.pk) == "created"
    ride = assert_one_trip(sandbox, partner_account, ride)
    assert ride.status in WITH_PARTNER
    assert ride.idempotency_key == f"{ride.reference}:0"
    assert create_keys(sandbox, partner_account) == [ride.idempotency_key]
    assert ride.dispatch_due_at is None
    assert ride.partner_updated_at is not None
    assert ride.fare_amount and ride.fare_type == "estimate"
    assert list(ride.events.values_list("previous_status", "new_status")) == [
        (S.REQUESTED, S.DISPATCHING),
        (S.DISPATCHING, ride.status),
    ]


def test_dispatch_twice_sends_once(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account)
    ride_dispatch(ride_id=ride.pk)
    assert ride_dispatch(ride_id=ride.pk) == "not_requested"
    assert_one_trip(sandbox, partner_account, ride)
    assert len(create_keys(sandbox, partner_account)) == 1


def test_a_reference_the_partner_already_holds_is_adopted(sandbox, partner_account, make_ride):
    from rides.pipeline.payload import build_trip_request

    ride = make_ride(partner_account)
    existing = client_for(partner_account).create_trip(
        body=build_trip_request(ride), idempotency_key="another-key"
    )
    assert ride_dispatch(ride_id=ride.pk) == "adopted"
    ride = assert_one_trip(sandbox, partner_account, ride)
    assert ride.partner_trip_id == existing.trip.trip_id


@pytest.mark.parametrize("fault", ["500", "502", "503", "504"])
def test_5xx_before_the_partner_acted_is_reconciled_then_resent_with_the_same_key(
    sandbox, partner_account, make_ride, fault
):
    ride = make_ride(partner_account)
    sandbox.control.force_fault("create_trip", fault, after_commit=False)
    assert ride_dispatch(ride_id=ride.pk) == "unknown"
    ride.refresh_from_db()
    assert ride.status == S.DISPATCH_UNKNOWN
    assert ride_reconcile(ride_id=ride.pk) == "resend"
    ride.refresh_from_db()
    assert ride.status == S.REQUESTED
    assert ride_dispatch(ride_id=ride.pk) == "created"
    assert_one_trip(sandbox, partner_account, ride)
    keys = create_keys(sandbox, partner_account)
    assert len(keys) == 2 and len(set(keys)) == 1  # the same idempotency key, twice


@pytest.mark.parametrize("fault", ["500", "503", "malformed", "cutoff"])
def test_5xx_or_garbage_after_the_partner_acted_is_found_by_reference(
    sandbox, partner_account, make_ride, fault
):
    ride = make_ride(partner_account)
    sandbox.control.force_fault("create_trip", fault, after_commit=True)
    assert ride_dispatch(ride_id=ride.pk) == "unknown"
    assert ride_reconcile(ride_id=ride.pk) == "found"
    ride = assert_one_trip(sandbox, partner_account, ride)
    assert ride.status in WITH_PARTNER
    assert len(create_keys(sandbox, partner_account)) == 1  # never created blindly again


def test_429_waits_for_retry_after_then_sends_again(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account)
    sandbox.control.force_fault("create_trip", "429", retry_after=30)
    assert ride_dispatch(ride_id=ride.pk) == "retry_later"
    ride.refresh_from_db()
    assert ride.status == S.REQUESTED
    # Retry-After is honoured: the next attempt is not due before 30 s from now.
    assert (ride.dispatch_due_at - ride.updated_at).total_seconds() >= 30
    sandbox.control.reset()  # the partner's window is over
    from partners.client.registry import forget_partner_state

    forget_partner_state(partner_account)
    assert ride_dispatch(ride_id=ride.pk) == "created"
    assert_one_trip(sandbox, partner_account, ride)


@pytest.mark.parametrize("after_commit", [True, False], ids=["acted", "not-acted"])
def test_an_answer_slower_than_the_timeout_is_reconciled(
    sandbox, partner_account, make_ride, after_commit
):
    ride = make_ride(partner_account)
    sandbox.control.force_fault("create_trip", "slow", seconds=1.5, after_commit=after_commit)
    with override_settings(PARTNER_READ_TIMEOUT=0.5):
        assert ride_dispatch(ride_id=ride.pk) == "unknown"
        outcome = ride_reconcile(ride_id=ride.pk)
        if not after_commit:
            assert outcome == "resend"
            assert ride_dispatch(ride_id=ride.pk) == "created"
        else:
            assert outcome == "found"
    ride = assert_one_trip(sandbox, partner_account, ride)
    assert ride.status in WITH_PARTNER


def test_a_permanent_refusal_needs_attention_with_a_readable_reason(
    sandbox, partner_account, make_ride, pipeline_unit
):
    bandung = {"latitude": -6.9175, "longitude": 107.6191, "address": "Bandung"}
    ride = make_ride(partner_account, pickup=bandung)
    assert ride_dispatch(ride_id=ride.pk) == "refused"
    ride.refresh_from_db()
    assert ride.status == S.NEEDS_ATTENTION
    assert "service area" in ride.status_reason
    alert = Alert.objects.get(ride=ride)
    assert alert.kind == AlertKind.NEEDS_ATTENTION and alert.unit == pipeline_unit
    assert ride.reference in alert.message
    assert trips_by_reference(sandbox, partner_account.client_id)[ride.reference] == 0


def test_a_refused_payload_is_never_sent(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account, product_id="bike")
    assert ride_dispatch(ride_id=ride.pk) == "held"
    ride.refresh_from_db()
    assert ride.status == S.NEEDS_ATTENTION
    assert ride.last_dispatch_error == "payload:product"
    assert sandbox.control.calls("create_trip", partner_account.client_id) == []
    assert Alert.objects.filter(ride=ride).exists()


@override_settings(PARTNER_BREAKER_MIN_CALLS=100)
def test_an_unreachable_partner_hands_the_ride_to_a_person(make_ride, db):
    from sandbox.testing import free_port

    dead = PartnerAccountFactory(
        name="Unreachable",
        base_url=f"http://127.0.0.1:{free_port()}",
        client_id="nobody",
        client_secret="x",
    )
    ride = make_ride(dead)
    assert ride_dispatch(ride_id=ride.pk) == "retry_later"
    assert ride_dispatch(ride_id=ride.pk) == "retry_later"
    # the SOP's time is spent: the next failure hands the ride to a person
    Ride.objects.filter(pk=ride.pk).update(dispatch_deadline_at=timezone.now())
    assert ride_dispatch(ride_id=ride.pk) == "held"
    ride.refresh_from_db()
    assert ride.status == S.NEEDS_ATTENTION
    assert "could not be reached for" in ride.status_reason
    assert "Retry, or book another way." in ride.status_reason
    assert Alert.objects.filter(ride=ride, kind=AlertKind.NEEDS_ATTENTION).count() == 1
    assert ride.events.filter(new_status=S.DISPATCHING).count() == 3


def test_an_expired_fare_is_quoted_again_and_booked_with_the_new_quote_under_a_new_key(
    sandbox, partner_account, make_ride
):
    import datetime as dt

    from django.utils import timezone

    from tests.pipeline.conftest import DROPOFF, PICKUP

    sandbox.control.set_config(fare_ttl_seconds=0.1)
    estimates = client_for(partner_account).estimate(
        pickup=PICKUP, dropoff=DROPOFF, passenger_count=1
    )
    car = next(e for e in estimates if e.product_id == "car")
    time.sleep(0.3)  # the partner's lock on the fare runs out
    ride = make_ride(
        partner_account,
        fare_id=car.fare_id,
        fare_expires_at=timezone.now() + dt.timedelta(minutes=2),
    )
    assert ride_dispatch(ride_id=ride.pk) == "fare_expired"
    ride.refresh_from_db()
    assert ride.status == S.REQUESTED and ride.fare_id == "" and ride.dispatch_generation == 1
    assert ride.fare_check_at_dispatch
    sandbox.control.set_config(fare_ttl_seconds=120)
    assert ride_dispatch(ride_id=ride.pk) == "created"
    ride = assert_one_trip(sandbox, partner_account, ride)
    assert ride.idempotency_key == f"{ride.reference}:1"
    bodies = [c["body"] for c in sandbox.control.calls("create_trip", partner_account.client_id)]
    assert bodies[0]["fare_id"] == car.fare_id
    assert bodies[1]["fare_id"] and bodies[1]["fare_id"] != car.fare_id
    assert len(sandbox.control.calls("estimates", partner_account.client_id)) == 2


def test_reconcile_of_a_ride_whose_worker_is_still_within_its_lease_waits(
    sandbox, partner_account, make_ride
):
    import datetime as dt

    from django.utils import timezone

    ride = make_ride(partner_account)
    Ride.objects.filter(pk=ride.pk).update(
        status=S.DISPATCHING, dispatch_due_at=timezone.now() + dt.timedelta(seconds=30)
    )
    assert ride_reconcile(ride_id=ride.pk) == "lease_held"
    assert sandbox.control.calls("list_trips", partner_account.client_id) == []


def test_a_cancel_requested_during_dispatch_cancels_the_partner_trip_once_known(
    sandbox, partner_account, make_ride, pipeline_caseworker, django_capture_on_commit_callbacks
):
    from rides.pipeline.cancel import ride_cancel

    ride = make_ride(partner_account)
    sandbox.control.force_fault("create_trip", "503", after_commit=True)
    assert ride_dispatch(ride_id=ride.pk) == "unknown"
    ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    ride.refresh_from_db()
    assert ride.status == S.DISPATCH_UNKNOWN and ride.cancel_requested_at is not None
    with django_capture_on_commit_callbacks() as callbacks:
        assert ride_reconcile(ride_id=ride.pk) == "found"
    ride.refresh_from_db()
    assert ride.cancel_due_at is not None
    assert callbacks  # the cancellation task was enqueued on commit
    assert ride_cancel_at_partner(ride_id=ride.pk) == "cancelled"
    ride = assert_one_trip(sandbox, partner_account, ride)
    assert ride.status == S.CANCELLED
    assert ride.partner_status == "rider_canceled"
    assert sandbox.control.trip(ride.partner_trip_id)["trip"]["status"] == "rider_canceled"


def test_applying_the_same_trip_twice_writes_one_event(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account)
    ride_dispatch(ride_id=ride.pk)
    ride.refresh_from_db()
    trip = client_for(partner_account).get_trip(ride.partner_trip_id)
    before = TripEvent.objects.filter(ride=ride).count()
    assert ride_apply_partner_trip(ride_id=ride.pk, trip=trip, cause="poll") == "stale"
    assert ride_apply_partner_trip(ride_id=ride.pk, trip=trip, cause="webhook") == "stale"
    assert TripEvent.objects.filter(ride=ride).count() == before


def test_a_burst_beyond_the_budget_waits_its_turn_without_using_up_attempts(
    sandbox, make_partner_account, make_ride
):
    # 4 a minute less 10% headroom: 3 calls, one of them the token.
    account = make_partner_account(rate_limit_per_minute=4)
    rides = [make_ride(account) for _ in range(4)]
    outcomes = [ride_dispatch(ride_id=ride.pk) for ride in rides]
    # The partner's headers said its minute is spent: the others wait for the next one.
    assert outcomes == ["created", "created", "paced", "paced"]
    waiting = list(Ride.objects.filter(pk__in=[r.pk for r in rides[2:]]))
    for ride in waiting:
        assert ride.status == S.REQUESTED
        assert ride.dispatch_attempts == 0  # pacing is not a failure to reach the partner
        assert ride.last_dispatch_error.startswith("rate_limited")
        assert ride.dispatch_paced  # what the next ones count in SQL (the error is encrypted)
        assert not ride.events.exists()  # no attempt was made, so nothing to log
    # the second waiting ride is sent after the first: later due time
    first, second = sorted(waiting, key=lambda r: r.pk)
    assert second.dispatch_due_at > first.dispatch_due_at
    assert len(sandbox.control.calls("create_trip", account.client_id)) == 2
    assert not Ride.objects.get(pk=rides[0].pk).dispatch_paced


def test_a_call_held_back_by_the_portals_own_budget_uses_up_no_attempt(
    sandbox, make_partner_account, make_ride
):
    # The portal is told 4 a minute (3 after its margin); the partner would take 300.
    account = make_partner_account(rate_limit_per_minute=4)
    sandbox.control.update_client(account.client_id, rate_limit_per_minute=300)
    rides = [make_ride(account) for _ in range(3)]
    outcomes = [ride_dispatch(ride_id=ride.pk) for ride in rides]
    assert outcomes == ["created", "created", "retry_later"]  # token + 2 creates = 3
    held = Ride.objects.get(pk=rides[2].pk)
    assert held.status == S.REQUESTED and held.dispatch_attempts == 0
    assert held.last_dispatch_error == "rate_limited [not sent]"
    assert len(sandbox.control.calls("create_trip", account.client_id)) == 2
