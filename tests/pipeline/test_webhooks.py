"""The webhook endpoint (verification, dedupe, answer) and the processing of events."""

import datetime as dt
import json
import logging

import pytest
from django.test import Client
from django.utils import timezone

from partners.client.registry import client_for
from rides.models import RideStatus, TripEvent, WebhookEvent, WebhookRejection
from rides.pipeline.webhooks import webhook_event_process
from tests.factories import PartnerAccountFactory
from tests.pipeline.conftest import sign_webhook

pytestmark = pytest.mark.django_db

S = RideStatus
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def account(db):
    return PartnerAccountFactory(
        name="Webhook partner",
        client_id="hooks",
        webhook_secret=SECRET,
    )


def event_body(status="accepted", trip_id="trip_1", reference="RREF", updated_at=None):
    updated_at = updated_at or timezone.now()
    return json.dumps(
        {
            "type": "trip.status_changed",
            "timestamp": timezone.now().isoformat(),
            "data": {
                "trip_id": trip_id,
                "external_reference": reference,
                "status": status,
                "updated_at": updated_at.isoformat(),
            },
        }
    )


def post(account, body, headers):
    return Client().post(
        account.webhook_path,
        data=body,
        content_type="application/json",
        headers=headers,
    )


def test_a_signed_event_is_recorded_once_and_processed_on_commit(
    account, django_capture_on_commit_callbacks, caplog
):
    body = event_body()
    headers = sign_webhook(SECRET, "msg_1", body)
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(account, body, headers)
    assert response.status_code == 204
    assert len(callbacks) == 1
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.trip_id, event.partner_status) == ("msg_1", "trip_1", "accepted")
    assert event.processed_at is None
    with caplog.at_level(logging.INFO, logger="rides.webhooks"):
        with django_capture_on_commit_callbacks() as callbacks:
            again = post(account, body, headers)
    assert again.status_code == 204
    assert callbacks == []  # the duplicate is not processed again
    assert WebhookEvent.objects.count() == 1
    assert "duplicate" in caplog.text and "msg_1" in caplog.text


def rejected(caplog, reason):
    records = [r for r in caplog.records if r.name == "rides.webhooks" and r.levelname == "WARNING"]
    assert records, caplog.text
    assert any(f"reason={reason}" in r.getMessage() for r in records), caplog.text
    return records


def test_a_tampered_event_is_rejected_and_logged_without_its_body(account, caplog):
    body = event_body(reference="RSECRETREF")
    headers = sign_webhook(SECRET, "msg_2", body)
    tampered = body.replace("accepted", "completed")
    with caplog.at_level(logging.WARNING, logger="rides.webhooks"):
        response = post(account, tampered, headers)
    assert response.status_code == 401
    records = rejected(caplog, "bad_signature")
    message = records[-1].getMessage()
    assert f"account={account.pk}" in message and "webhook_id=msg_2" in message
    assert "RSECRETREF" not in caplog.text and "completed" not in caplog.text
    assert not WebhookEvent.objects.exists()
    counter = WebhookRejection.objects.get(account=account)
    assert (counter.reason, counter.count, counter.last_webhook_id) == ("bad_signature", 1, "msg_2")


def test_a_signature_made_with_another_secret_is_rejected(account, caplog):
    body = event_body()
    headers = sign_webhook("whsec_" + "Z" * 32, "msg_3", body)
    with caplog.at_level(logging.WARNING, logger="rides.webhooks"):
        assert post(account, body, headers).status_code == 401
    rejected(caplog, "bad_signature")


@pytest.mark.parametrize("minutes", [-6, 6], ids=["late", "from-the-future"])
def test_a_timestamp_more_than_five_minutes_away_is_rejected(account, caplog, minutes):
    body = event_body()
    headers = sign_webhook(SECRET, "msg_4", body, at=timezone.now() + dt.timedelta(minutes=minutes))
    with caplog.at_level(logging.WARNING, logger="rides.webhooks"):
        assert post(account, body, headers).status_code == 400
    rejected(caplog, "timestamp_window")
    assert not WebhookEvent.objects.exists()


def test_a_replay_with_a_bad_signature_is_rejected_even_for_a_known_id(account, caplog):
    body = event_body()
    assert post(account, body, sign_webhook(SECRET, "msg_5", body)).status_code == 204
    headers = sign_webhook(SECRET, "msg_5", body)
    headers["webhook-signature"] = "v1,AAAA" + headers["webhook-signature"][7:]
    with caplog.at_level(logging.WARNING, logger="rides.webhooks"):
        assert post(account, body, headers).status_code == 401
    rejected(caplog, "bad_signature")


def test_a_late_replay_of_a_genuine_event_is_rejected(account, caplog):
    body = event_body()
    captured_at = timezone.now() - dt.timedelta(minutes=10)
    headers = sign_webhook(SECRET, "msg_6", body, at=captured_at)
    with caplog.at_level(logging.WARNING, logger="rides.webhooks"):
        assert post(account, body, headers).status_code == 400
    rejected(caplog, "timestamp_window")


@pytest.mark.parametrize(
    "body",
    ["not json", json.dumps({"type": "trip.status_changed"}), json.dumps([1, 2])],
    ids=["not-json", "no-data", "a-list"],
)
def test_a_signed_but_malformed_event_is_rejected(account, caplog, body):
    with caplog.at_level(logging.WARNING, logger="rides.webhooks"):
        assert post(account, body, sign_webhook(SECRET, "msg_7", body)).status_code == 400
    rejected(caplog, "malformed")


def test_missing_headers_are_rejected(account, caplog):
    with caplog.at_level(logging.WARNING, logger="rides.webhooks"):
        assert post(account, event_body(), {}).status_code == 400
    rejected(caplog, "missing_headers")
    assert WebhookRejection.objects.get().reason == "missing_headers"


def test_rejections_are_counted_per_day_and_reason(account):
    for _ in range(3):
        post(account, event_body(), {})
    assert WebhookRejection.objects.get().count == 3


def test_unknown_or_disabled_accounts_get_404(account):
    body = event_body()
    headers = sign_webhook(SECRET, "msg_8", body)
    response = Client().post(
        "/webhooks/partners/00000000-0000-0000-0000-000000000000/",
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404
    account.enabled = False
    account.save()
    assert post(account, body, headers).status_code == 404


def test_only_post_is_accepted(account):
    assert Client().get(account.webhook_path).status_code == 405


def test_the_endpoint_answers_with_two_queries(account, django_assert_num_queries):
    body = event_body()
    headers = sign_webhook(SECRET, "msg_9", body)
    with django_assert_num_queries(2):  # the account, then the insert
        assert post(account, body, headers).status_code == 204


# --- processing ------------------------------------------------------------------------------


def record(account, ride, status, updated_at, event_id):
    return WebhookEvent.objects.create(
        account=account,
        event_id=event_id,
        event_type="trip.status_changed",
        trip_id=ride.partner_trip_id,
        external_reference=ride.reference,
        partner_status=status,
        partner_updated_at=updated_at,
    )


def gets(sandbox, account):
    return len(sandbox.control.calls("get_trip", account.client_id))


def test_a_driver_assignment_reads_the_trip_once_for_the_driver(
    sandbox, partner_account, dispatched_ride
):
    ride = dispatched_ride(partner_account)
    trip = sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    updated = dt.datetime.fromisoformat(trip["updated_at"])
    event = record(partner_account, ride, "accepted", updated, "e1")
    assert webhook_event_process(event_id=event.pk) == "applied"
    ride.refresh_from_db()
    assert ride.status == S.DRIVER_ASSIGNED
    assert ride.driver_name == trip["driver"]["name"]
    assert ride.vehicle_plate == trip["vehicle"]["license_plate"]
    assert gets(sandbox, partner_account) == 1
    assert webhook_event_process(event_id=event.pk) == "done_before"
    assert ride.events.filter(cause="webhook").count() == 1


def test_stale_and_out_of_order_events_are_ignored(sandbox, partner_account, dispatched_ride):
    ride = dispatched_ride(partner_account)
    accepted = sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    arriving = sandbox.control.set_trip_status(ride.partner_trip_id, "arriving")
    # the later event arrives first: the trip is read (the driver is not known yet)
    late = record(
        partner_account, ride, "arriving", dt.datetime.fromisoformat(arriving["updated_at"]), "e2"
    )
    assert webhook_event_process(event_id=late.pk) == "applied"
    early = record(
        partner_account, ride, "accepted", dt.datetime.fromisoformat(accepted["updated_at"]), "e3"
    )
    events_before = TripEvent.objects.filter(ride=ride).count()
    assert webhook_event_process(event_id=early.pk) == "stale"
    ride.refresh_from_db()
    assert ride.status == S.ARRIVING and ride.driver_name
    assert TripEvent.objects.filter(ride=ride).count() == events_before
    assert WebhookEvent.objects.get(pk=early.pk).outcome == "stale"


def test_a_completed_event_applies_the_hint_and_asks_for_the_receipt(
    sandbox, partner_account, dispatched_ride
):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    client = client_for(partner_account)
    from rides.pipeline.apply import ride_apply_partner_trip

    ride_apply_partner_trip(
        ride_id=ride.pk, trip=client.get_trip(ride.partner_trip_id), cause="poll"
    )
    done = sandbox.control.set_trip_status(ride.partner_trip_id, "completed")
    calls_before = gets(sandbox, partner_account)
    event = record(
        partner_account, ride, "completed", dt.datetime.fromisoformat(done["updated_at"]), "e4"
    )
    assert webhook_event_process(event_id=event.pk) == "applied"
    ride.refresh_from_db()
    assert ride.status == S.COMPLETED
    assert ride.receipt_due_at is not None
    assert gets(sandbox, partner_account) == calls_before  # no read needed


def test_an_event_for_a_trip_the_portal_does_not_know_is_recorded_as_such(account):
    event = WebhookEvent.objects.create(
        account=account,
        event_id="e5",
        event_type="trip.status_changed",
        trip_id="trip_nobody",
        partner_status="accepted",
        partner_updated_at=timezone.now(),
    )
    assert webhook_event_process(event_id=event.pk) == "unknown_trip"
    assert WebhookEvent.objects.get(pk=event.pk).processed_at is not None


def test_details_a_failed_read_missed_are_read_again(
    sandbox, partner_account, dispatched_ride, monkeypatch
):
    from rides import tasks
    from rides.pipeline.details import ride_refresh_details

    scheduled = []
    monkeypatch.setattr(
        tasks.refresh_trip_details,
        "apply_async",
        lambda args=(), countdown=None, **kw: scheduled.append((args, countdown)),
    )
    ride = dispatched_ride(partner_account)
    trip = sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    sandbox.control.force_fault("get_trip", "503")
    event = record(
        partner_account, ride, "accepted", dt.datetime.fromisoformat(trip["updated_at"]), "e6"
    )
    assert webhook_event_process(event_id=event.pk) == "applied"  # the hint
    ride.refresh_from_db()
    assert ride.status == S.DRIVER_ASSIGNED and ride.driver_name == ""
    assert scheduled == [((ride.pk, 1), scheduled[0][1])] and 0 < scheduled[0][1] < 60
    assert ride_refresh_details(ride_id=ride.pk, attempt=1) == "stale"  # same version...
    ride.refresh_from_db()
    assert ride.driver_name == trip["driver"]["name"]  # ...with the details
    assert ride.vehicle_plate == trip["vehicle"]["license_plate"]
    assert ride_refresh_details(ride_id=ride.pk, attempt=1) == "nothing_to_do"
