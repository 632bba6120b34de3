"""The pipeline with real processes against a partner that misbehaves: a real Celery
worker and beat, the sandbox over HTTP. Each test ends by counting trips at the partner:
one per ride, none without a ride."""

import datetime as dt
import time

import pytest

from rides.models import Alert, AlertKind, Ride, RideStatus, TripEvent
from rides.models.states import ACTIVE_WITH_PARTNER, PARTNER_STATUS_MAP
from tests.pipeline.test_integration import (
    FAST,
    assert_no_lost_or_doubled_trips,
    book,
    wait_all,
)
from tests.stack import wait_until

S = RideStatus


def partner_final_at(sandbox, ride) -> float:
    """When the partner's trip reached the status the ride shows (unix seconds)."""
    trip = sandbox.control.trip(ride.partner_trip_id)["trip"]
    assert PARTNER_STATUS_MAP[trip["status"]] == ride.status
    return dt.datetime.fromisoformat(trip["updated_at"]).timestamp()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_lost_webhooks_and_failing_receipts_leave_status_at_most_two_polls_behind(
    sandbox, make_partner_account, make_ride, celery_worker_process
):
    """Every webhook is dropped and every receipt answer is garbage: polling alone keeps
    each ride within two poll intervals of its trip, because failing receipts never hold
    the account's breaker open against the polls."""
    interval = 2.0
    env = dict(
        FAST,
        PIPELINE_POLL_INTERVAL=str(interval),
        PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS=str(interval),
        PARTNER_BREAKER_RESET_SECONDS="30",
    )
    sandbox.control.set_config(time_scale=300.0, webhook_drop_rate=1.0)
    sandbox.control.force_fault("receipt", "malformed", count=10_000)
    account = make_partner_account(webhooks=True)
    celery_worker_process(env=env, beat=True)
    rides = book(make_ride, account, count=4)
    wait_all(rides, ACTIVE_WITH_PARTNER, timeout=30)
    # The first trip ends at once: its receipt reads fail while the others go on.
    first = Ride.objects.get(pk=rides[0].pk)
    sandbox.control.set_trip_status(first.partner_trip_id, "completed")
    wait_all(rides, {S.COMPLETED}, timeout=120)
    lags = []
    for ride in Ride.objects.filter(pk__in=[r.pk for r in rides]):
        seen = ride.events.get(new_status=S.COMPLETED).at.timestamp()
        lags.append(seen - partner_final_at(sandbox, ride))
    # two poll intervals, and a second for a busy two-core machine
    assert max(lags) <= 2 * interval + 1.0, lags
    assert len(sandbox.control.calls("receipt", account.client_id)) > 0
    assert_no_lost_or_doubled_trips(sandbox, account, rides)


# A breaker and a deadline on a test's scale: half of at least 4 calls in 5 s opens it
# for a second; a minute to reach the partner.
OUTAGE_FAST = dict(
    FAST,
    PARTNER_BREAKER_WINDOW_SECONDS="5",
    PARTNER_BREAKER_MIN_CALLS="4",
    PARTNER_BREAKER_FAILURE_RATE="0.5",
    PARTNER_BREAKER_RESET_SECONDS="1",
    PIPELINE_DISPATCH_DEADLINE_SECONDS="60",
)


def partner_down_alerts(account):
    return Alert.objects.filter(partner_account=account, kind=AlertKind.PARTNER_DOWN)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_whole_outage_shorter_than_the_deadline_costs_no_ride(
    sandbox, make_partner_account, make_ride, celery_worker_process
):
    """The partner answers 503 to everything for 8 s. Rides already with it and rides
    booked during the outage all reach it once afterwards and complete; nobody is asked
    to act on a ride; supervisors see one alert for the account, with when it came back."""
    sandbox.control.set_config(time_scale=120.0)
    account = make_partner_account(webhooks=True)
    celery_worker_process(env=OUTAGE_FAST, beat=True)
    before = book(make_ride, account, count=2)
    wait_all(before, ACTIVE_WITH_PARTNER, timeout=30)
    state = sandbox.control.outage(8)
    during = book(make_ride, account, count=4)
    time.sleep(3)
    during += book(make_ride, account, count=2)
    rides = before + during
    wait_all(rides, {S.COMPLETED}, timeout=150)
    assert_no_lost_or_doubled_trips(sandbox, account, rides)
    assert not Ride.objects.filter(
        pk__in=[r.pk for r in rides], events__new_status=S.NEEDS_ATTENTION
    ).exists()
    creates = [
        call
        for call in sandbox.control.calls("create_trip", account.client_id)
        if call["status"] in (200, 201)
    ]
    assert all(call["at_unix"] >= state["ends_at"] for call in creates[2:]), creates
    alerts = wait_until(
        lambda: list(partner_down_alerts(account).filter(cleared_at__isnull=False)),
        timeout=30,
        message="the partner-down alert was not cleared",
    )
    assert len(alerts) == 1 and partner_down_alerts(account).count() == 1
    (alert,) = alerts
    assert alert.unit is None and alert.ride is None
    assert alert.created_at.timestamp() <= state["ends_at"] <= alert.cleared_at.timestamp()
    assert not Alert.objects.filter(ride__in=rides).exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_outage_longer_than_the_deadline_hands_rides_to_a_person_once(
    sandbox, make_partner_account, make_ride, celery_worker_process, settings
):
    """Down for longer than the rides' deadline: each is handed to a person with the same
    plain reason, and nothing is sent for them when the partner comes back."""
    env = dict(
        OUTAGE_FAST,
        PIPELINE_DISPATCH_DEADLINE_SECONDS="6",
        PIPELINE_RECONCILE_GRACE_SECONDS="3",
    )
    settings.PIPELINE_DISPATCH_DEADLINE_SECONDS = 6  # set by the booking (this process)
    account = make_partner_account(webhooks=True)
    celery_worker_process(env=env, beat=True)
    state = sandbox.control.outage(16)
    rides = book(make_ride, account, count=3)
    held = wait_all(rides, {S.NEEDS_ATTENTION}, timeout=40)
    assert set(held.values()) == {S.NEEDS_ATTENTION}
    # read through the models: the stored values are sealed under each case's key
    reasons = {ride.status_reason for ride in Ride.objects.filter(pk__in=[r.pk for r in rides])}
    assert len(reasons) == 1 and "could not be reached" in reasons.pop()
    time.sleep(max(0.0, state["ends_at"] - time.time()) + 5)
    assert sandbox.control.trips(account.client_id) == []
    assert all(
        call["fault"] == "outage"
        for call in sandbox.control.calls("create_trip", account.client_id)
    )
    current = Ride.objects.filter(pk__in=[r.pk for r in rides]).values_list("status", flat=True)
    assert set(current) == {S.NEEDS_ATTENTION}
    assert partner_down_alerts(account).count() == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_quirky_answers_are_read_and_every_ride_completes_with_its_receipt(
    sandbox, make_partner_account, make_ride, celery_worker_process
):
    """Every answer carries fields the contract does not name and leaves informational
    fields null or out (null fees in receipts, null driver ratings): nothing of it is an
    error, every ride completes with its final fare, and the breaker never opens."""
    sandbox.control.set_config(time_scale=600.0, quirk_rate=1.0, seed=5)
    account = make_partner_account(webhooks=True)
    celery_worker_process(env=FAST, beat=True)
    rides = book(make_ride, account, count=4)
    wait_all(rides, {S.COMPLETED}, timeout=120)
    ids = [ride.pk for ride in rides]
    wait_until(
        lambda: Ride.objects.filter(pk__in=ids, receipt__isnull=False).count() == len(ids),
        timeout=60,
        message="receipts not stored",
    )
    for ride in Ride.objects.filter(pk__in=ids):
        assert ride.final_fare == ride.receipt["total_amount"] > 0
        assert ride.unusable_answers == 0
    assert not Alert.objects.filter(ride__in=ids).exists()
    assert not partner_down_alerts(account).exists()
    assert_no_lost_or_doubled_trips(sandbox, account, rides)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_partner_that_answers_most_calls_never_blocks_a_dispatch(
    sandbox, make_partner_account, make_ride, celery_worker_process
):
    """Eight answers in a row are 503 while rides are booked, polled and receipted, with
    the production breaker (>= 50 % of >= 20 calls in 30 s): it cannot open on eight
    failures, so no call is refused for it and every ride reaches the partner once."""
    sandbox.control.set_config(time_scale=600.0)
    account = make_partner_account(webhooks=True)
    env = {
        key: value
        for key, value in FAST.items()
        if not key.startswith("PARTNER_BREAKER")  # the production breaker
    }
    celery_worker_process(env=env, beat=True)
    rides = book(make_ride, account, count=3)
    sandbox.control.force_fault("*", "503", count=8)
    rides += book(make_ride, account, count=3)
    wait_all(rides, {S.COMPLETED}, timeout=150)
    assert_no_lost_or_doubled_trips(sandbox, account, rides)
    notes = " ".join(
        event.note for event in TripEvent.objects.filter(ride__in=[r.pk for r in rides])
    )
    assert "partner_unreachable" not in notes
    assert not partner_down_alerts(account).exists()
    failed = [c for c in sandbox.control.calls(client_id=account.client_id) if c["fault"]]
    assert len(failed) == 8  # the faults did happen
