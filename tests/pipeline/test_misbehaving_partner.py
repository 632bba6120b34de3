"""The pipeline against a partner that misbehaves while it still answers most calls.

Services run in the test process against the sandbox over real HTTP. What each test
holds: a partner that answers four calls out of five never costs a ride; the breaker
opening is waited out within the ride's dispatch deadline instead of counted as failed
attempts; failing receipts never stop dispatch, lookups or polling.
"""

import datetime as dt
import time

import pytest
from django.utils import timezone

from partners.client import errors
from partners.client.registry import breaker_state, client_for
from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.pipeline.apply import ride_apply_partner_trip
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.polling import partner_account_poll
from rides.pipeline.receipts import ride_fetch_receipt
from rides.pipeline.reconcile import ride_reconcile
from tests.factories import PartnerAccountFactory
from tests.stack import trips_by_reference

pytestmark = pytest.mark.django_db

S = RideStatus


def open_the_breaker(sandbox, account):
    """Drives real failures until the account's breaker opens (list calls answered 503)."""
    client = client_for(account)
    sandbox.control.force_fault("list_trips", "503", count=200)
    for _ in range(200):
        if breaker_state(account) == "open":
            break
        try:
            client.list_trips()
        except errors.TemporaryPartnerError:
            pass
    sandbox.control.clear_faults()
    assert breaker_state(account) == "open"


def test_a_dispatch_the_breaker_holds_back_waits_until_its_deadline(
    sandbox, partner_account, make_ride, settings
):
    settings.PARTNER_BREAKER_RESET_SECONDS = 600
    ride = make_ride(partner_account)
    open_the_breaker(sandbox, partner_account)
    for _ in range(12):
        assert ride_dispatch(ride_id=ride.pk) == "waiting"
    ride.refresh_from_db()
    assert ride.status == S.REQUESTED and ride.dispatch_attempts == 0
    assert not ride.events.exists()  # no attempt was made: nothing for the trip log
    assert not Alert.objects.filter(ride=ride).exists()
    assert sandbox.control.calls("create_trip", partner_account.client_id) == []

    # Only once the deadline has passed with the partner unreachable is a person asked.
    Ride.objects.filter(pk=ride.pk).update(
        dispatch_deadline_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert ride_dispatch(ride_id=ride.pk) == "held"
    ride.refresh_from_db()
    assert ride.status == S.NEEDS_ATTENTION
    assert "could not be reached for" in ride.status_reason
    assert Alert.objects.filter(ride=ride, kind=AlertKind.NEEDS_ATTENTION).count() == 1


def test_a_lookup_the_breaker_holds_back_is_tried_again_not_given_up(
    sandbox, partner_account, make_ride, settings
):
    settings.PARTNER_BREAKER_RESET_SECONDS = 1
    ride = make_ride(partner_account)
    sandbox.control.force_fault("create_trip", "503", after_commit=True)
    assert ride_dispatch(ride_id=ride.pk) == "unknown"
    open_the_breaker(sandbox, partner_account)
    for _ in range(12):
        assert ride_reconcile(ride_id=ride.pk) == "retry_later"
    ride.refresh_from_db()
    assert ride.status == S.DISPATCH_UNKNOWN
    time.sleep(1.1)  # the breaker half-opens: the lookup is its probe
    assert ride_reconcile(ride_id=ride.pk) == "found"
    ride.refresh_from_db()
    assert ride.status in {S.SEARCHING, S.SCHEDULED}
    assert trips_by_reference(sandbox, partner_account.client_id)[ride.reference] == 1


def test_a_503_on_the_lookup_is_looked_up_again(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account)
    sandbox.control.force_fault("create_trip", "503", after_commit=True)
    assert ride_dispatch(ride_id=ride.pk) == "unknown"
    sandbox.control.force_fault("list_trips", "503", count=2)
    assert ride_reconcile(ride_id=ride.pk) == "retry_later"
    assert ride_reconcile(ride_id=ride.pk) == "retry_later"
    assert ride_reconcile(ride_id=ride.pk) == "found"
    assert len(sandbox.control.calls("list_trips", partner_account.client_id)) == 3


def test_failing_receipts_never_stop_polling(sandbox, partner_account, dispatched_ride):
    done, riding = dispatched_ride(partner_account), dispatched_ride(partner_account)
    sandbox.control.set_trip_status(done.partner_trip_id, "completed")
    ride_apply_partner_trip(
        ride_id=done.pk,
        trip=client_for(partner_account).get_trip(done.partner_trip_id),
        cause="poll",
    )
    sandbox.control.force_fault("receipt", "malformed", count=50)
    for _ in range(8):
        Ride.objects.filter(pk=done.pk).update(receipt_due_at=timezone.now())
        ride_fetch_receipt(ride_id=done.pk)
    assert breaker_state(partner_account) == "closed"

    sandbox.control.set_trip_status(riding.partner_trip_id, "accepted")
    summary = partner_account_poll(account_id=partner_account.pk)
    assert summary.error == ""
    riding.refresh_from_db()
    assert riding.status == S.DRIVER_ASSIGNED and riding.driver_name


def test_a_trip_whose_answers_stay_unusable_goes_to_a_person_not_the_breaker(
    make_ride, counting_server, db, settings
):
    """The partner creates the trip, but every answer about it lacks its time: the ride
    is looked up a few times, then handed to a person with an alert of its own; the
    partner is never treated as down."""
    import json

    from sandbox.testing import generate_webhook_secret

    settings.PARTNER_BREAKER_MIN_CALLS = 3
    token = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600, "scope": "trips"}
    trip = {"trip_id": "trp_1", "external_reference": "", "status": "processing"}

    def answer(handler):
        if handler.path == "/oauth/token":
            body = token
        elif handler.command == "POST":
            body = trip
        else:
            body = {"trips": [trip], "next_cursor": None}
        return 200, {"content-type": "application/json"}, json.dumps(body).encode()

    server = counting_server(answer)
    account = PartnerAccountFactory(
        name="Odd partner",
        base_url=server.url,
        client_id="odd",
        client_secret="x",
        webhook_secret=generate_webhook_secret(),
    )
    ride = make_ride(account)
    trip["external_reference"] = ride.reference
    assert ride_dispatch(ride_id=ride.pk) == "unknown"  # the create's answer is unusable
    outcomes = [
        ride_reconcile(ride_id=ride.pk) for _ in range(settings.PIPELINE_UNUSABLE_ANSWERS_MAX)
    ]
    assert outcomes[:-1] == ["retry_later"] * (len(outcomes) - 1) and outcomes[-1] == "held"
    ride.refresh_from_db()
    assert ride.status == S.NEEDS_ATTENTION
    assert "cannot be read" in ride.status_reason
    assert Alert.objects.filter(ride=ride, kind=AlertKind.PARTNER_DATA_UNUSABLE).count() == 1
    assert breaker_state(account) == "closed"
    creates = [r for r in server.requests if r[0] == "POST" and r[1] == "/v1/trips"]
    assert len(creates) == 1  # looked up, never created again
