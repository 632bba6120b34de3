"""Signed webhooks: delivery, signature, retries, duplicates, drops, reordering."""

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from sandbox import contract
from sandbox.testing import generate_webhook_secret


def _status_events(receiver):
    return [e for e in receiver.events() if e["type"] == "trip.status_changed"]


def test_a_status_change_is_delivered_and_signed(partner, control, receiver):
    trip = partner.create_ok()
    accepted = control.set_trip_status(trip["trip_id"], "accepted")
    (item,) = receiver.wait_for(1)
    payload = Webhook(receiver.secret).verify(item.body, item.headers)
    contract.validate("WebhookEvent", payload)
    assert payload["type"] == "trip.status_changed"
    assert payload["data"] == {
        "trip_id": trip["trip_id"],
        "external_reference": trip["external_reference"],
        "status": "accepted",
        "updated_at": accepted["updated_at"],
    }
    assert set(json.loads(item.body)) == {"type", "timestamp", "data"}
    assert item.headers["webhook-id"].startswith("msg_")
    assert abs(int(item.headers["webhook-timestamp"]) - time.time()) < 60
    assert item.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_webhook_secret()).verify(item.body, item.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(item.body.replace(b"accepted", b"completed"), item.headers)
    (logged,) = control.wait_for_webhooks(
        lambda found: found and found[0]["state"] == "delivered", trip_id=trip["trip_id"]
    )
    assert logged["attempts"] == 1
    assert logged["last_status"] == 204 and logged["event_id"] == item.event_id


def test_completion_also_sends_receipt_ready(partner, control, receiver):
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "completed")
    receiver.wait_for(2)
    types = sorted(e["type"] for e in receiver.events())
    assert types == ["trip.receipt_ready", "trip.status_changed"]
    for event in receiver.events():
        contract.validate("WebhookEvent", event)


def test_cancellation_by_the_client_is_sent_too(partner, control, receiver):
    trip = partner.create_ok()
    partner.cancel(trip["trip_id"])
    receiver.wait_for(1)
    assert _status_events(receiver)[0]["data"]["status"] == "rider_canceled"


def test_driver_location_events_are_optional(partner, control, receiver):
    control.set_config(webhook_driver_location=True, location_update_seconds=0.05, time_scale=10)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    receiver.wait_for(lambda items: len(items) >= 3)
    assert "trip.driver_location" in {e["type"] for e in receiver.events()}


def test_failed_deliveries_are_retried_until_they_succeed(partner, control, receiver):
    control.set_config(webhook_retry_initial_seconds=0.05)
    receiver.status = lambda item: 500 if len(receiver.received) < 2 else 200
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    received = receiver.wait_for(3)
    assert len({item.event_id for item in received}) == 1  # one event, three attempts
    logged = control.wait_for_webhooks(lambda w: w and w[0]["state"] == "delivered")
    assert logged[0]["attempts"] == 3 and logged[0]["last_status"] == 200


def test_deliveries_failing_past_the_window_are_dropped(partner, control, receiver):
    control.set_config(webhook_retry_initial_seconds=0.05, webhook_retry_window_seconds=0.3)
    receiver.status = 503
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    logged = control.wait_for_webhooks(lambda w: w and w[0]["state"] == "dropped")
    assert logged[0]["dropped_reason"] == "retries_exhausted"
    assert logged[0]["attempts"] >= 2 and logged[0]["last_error"] == "HTTP 503"


def test_duplicates_carry_the_same_event_id(partner, control, receiver):
    control.set_config(webhook_duplicate_rate=1.0)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    first, second = receiver.wait_for(2)
    assert first.event_id == second.event_id
    assert first.json() == second.json()
    assert [w["duplicate"] for w in control.webhooks()] == [False, True]


def test_dropped_events_never_arrive(partner, control, receiver):
    control.set_config(webhook_drop_rate=1.0)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    control.set_trip_status(trip["trip_id"], "arriving")
    time.sleep(0.3)
    assert receiver.received == []
    logged = control.webhooks(trip_id=trip["trip_id"])
    assert [(w["state"], w["dropped_reason"]) for w in logged] == [("dropped", "drop_rate")] * 2


def test_a_held_back_event_arrives_after_a_later_one(partner, control, receiver):
    control.set_config(webhook_reorder_rate=1.0, webhook_reorder_hold_seconds=30)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    control.set_config(webhook_reorder_rate=0.0)
    control.set_trip_status(trip["trip_id"], "arriving")
    receiver.wait_for(2)
    assert [e["data"]["status"] for e in _status_events(receiver)] == ["arriving", "accepted"]


def test_delay_and_switching_webhooks_off(partner, control, receiver):
    control.set_config(webhooks_enabled=False)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    assert control.webhooks() == []
    control.set_config(webhooks_enabled=True, webhook_delay_seconds=0.4)
    changed = time.time()
    control.set_trip_status(trip["trip_id"], "arriving")
    (item,) = receiver.wait_for(1)
    assert item.received_at - changed >= 0.35
