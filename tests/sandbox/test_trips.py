"""Create, idempotency, validation, get, list, cancel and receipts."""

from datetime import datetime

import pytest

from sandbox import contract

from .conftest import BANDUNG, error_code, in_minutes, trip_body


def test_create_answers_a_trip(partner):
    body = trip_body()
    contract.validate_request("POST", "/v1/trips", body)
    response = partner.create(body)
    assert response.status_code == 201
    trip = response.json()
    contract.validate_response("POST", "/v1/trips", 201, trip)
    assert response.headers["location"] == f"/v1/trips/{trip['trip_id']}"
    assert trip["external_reference"] == body["external_reference"]
    assert trip["status"] == "processing"
    assert trip["scheduled_pickup_at"] is None
    assert trip["pickup"] == body["pickup"]
    assert trip["fare"]["type"] == "estimate"
    assert trip["driver"] is None and trip["cancellation_fee"] is None
    assert trip["created_at"] == trip["updated_at"]


def test_create_a_scheduled_trip(partner):
    at = in_minutes(90)
    trip = partner.create_ok(scheduled_pickup_at=at)
    assert trip["status"] == "scheduled"
    assert datetime.fromisoformat(trip["scheduled_pickup_at"]) == datetime.fromisoformat(at)


def test_same_key_same_body_replays_the_first_answer(partner, control):
    body = trip_body()
    first = partner.create(body, key="ride-42-attempt")
    control.set_trip_status(first.json()["trip_id"], "accepted")
    again = partner.create(body, key="ride-42-attempt")
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()  # the first answer, not the trip as it is now
    contract.validate_response("POST", "/v1/trips", 200, again.json())
    assert "idempotent-replayed" not in first.headers
    assert len(control.trips()) == 1


def test_same_key_other_body_is_refused(partner):
    assert partner.create(trip_body(), key="k-1").status_code == 201
    response = partner.create(trip_body(), key="k-1")
    assert response.status_code == 422
    assert error_code(response) == "idempotency_key_reused"


def test_keys_belong_to_one_client(partner, other_partner):
    body = trip_body()
    assert partner.create(body, key="shared").status_code == 201
    assert other_partner.create(body, key="shared").status_code == 201


def test_idempotency_key_is_required(partner):
    response = partner.request("POST", "/v1/trips", json=trip_body())
    assert response.status_code == 400
    assert error_code(response) == "validation_failed"
    assert "Idempotency-Key" in response.json()["error"]["message"]
    assert partner.create(trip_body(), key="x" * 256).status_code == 400


def test_duplicate_reference_names_the_existing_trip(partner):
    first = partner.create_ok(external_reference="ride-7")
    response = partner.create(trip_body(external_reference="ride-7"))
    assert response.status_code == 409
    assert error_code(response) == "duplicate_reference"
    assert response.json()["error"]["details"]["trip_id"] == first["trip_id"]
    contract.validate_response("POST", "/v1/trips", 409, response.json())


def _rider(**fields):
    return {"display_name": "Ibu Sari", "phone_number": "+6281234567890", "locale": "id", **fields}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rider": _rider(display_name="A" * 27)}, "rider.display_name"),
        ({"rider": _rider(phone_number="081234567890")}, "rider.phone_number"),
        ({"rider": _rider(locale="fr")}, "rider.locale"),
        ({"scheduled_pickup_at": in_minutes(5)}, "scheduled_pickup_at"),
        ({"scheduled_pickup_at": in_minutes(31 * 24 * 60)}, "scheduled_pickup_at"),
        ({"scheduled_pickup_at": "2030-01-01T10:00:00"}, "scheduled_pickup_at"),
        ({"note_for_driver": "n" * 141}, "note_for_driver"),
        ({"sender_display_name": "s" * 27}, "sender_display_name"),
        ({"passenger_count": 0}, "passenger_count"),
        ({"passenger_count": "1"}, "passenger_count"),
        ({"external_reference": "r" * 65}, "external_reference"),
        ({"pickup": {"latitude": -6.2}}, "pickup.longitude"),
        ({"dropoff": {"latitude": -6.2, "longitude": 106.8, "note": "x" * 141}}, "dropoff.note"),
        ({"notifications": {"sms": "yes", "call_enabled": False}}, "notifications.sms"),
        (
            {"notifications": {"sms": True, "call_enabled": False, "share_trip_contacts": ["1"]}},
            "notifications.share_trip_contacts[0]",
        ),
        ({"case_code": "K-2026-1"}, "case_code"),
    ],
)
def test_validation_names_the_field(partner, overrides, field):
    response = partner.create(trip_body(**overrides))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"].startswith(f"{field}:")
    assert error["details"]["field"] == field
    assert error["retryable"] is False


def test_missing_required_field(partner):
    body = trip_body()
    del body["notifications"]
    response = partner.create(body)
    assert response.json()["error"]["message"] == "notifications: is required"


def test_unsupported_products(partner):
    response = partner.create(trip_body(product_id="bike", passenger_count=2))
    assert response.status_code == 422
    assert error_code(response) == "unsupported_product"
    assert error_code(partner.create(trip_body(product_id="helicopter"))) == "unsupported_product"


def test_create_outside_the_service_area(partner):
    response = partner.create(trip_body(pickup=BANDUNG))
    assert response.status_code == 422
    assert error_code(response) == "outside_service_area"


def test_get_a_trip_of_this_client_only(partner, other_partner):
    trip = partner.create_ok()
    response = partner.get(trip["trip_id"])
    assert response.status_code == 200
    contract.validate_response("GET", f"/v1/trips/{trip['trip_id']}", 200, response.json())
    assert response.json() == trip
    response = other_partner.get(trip["trip_id"])
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert other_partner.list().json()["trips"] == []


def _all_pages(partner, cursor=None, **params):
    trips, pages = [], 0
    while True:
        response = partner.list(**params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        contract.validate_response("GET", "/v1/trips", 200, response.json())
        trips += response.json()["trips"]
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return trips, pages


def test_list_pages_in_a_stable_order(partner, control):
    control.set_config(paused=True)
    created = [partner.create_ok()["trip_id"] for _ in range(7)]
    trips, pages = _all_pages(partner, limit=3)
    assert pages == 3
    assert sorted(t["trip_id"] for t in trips) == sorted(created)
    keys = [(datetime.fromisoformat(t["updated_at"]), t["trip_id"]) for t in trips]
    assert keys == sorted(keys)
    # A trip that changes while a client pages moves to the end: it is never skipped.
    first_page = partner.list(limit=3).json()
    control.set_trip_status(first_page["trips"][0]["trip_id"], "accepted")
    rest, _ = _all_pages(partner, limit=3, cursor=first_page["next_cursor"])
    seen = {t["trip_id"] for t in first_page["trips"] + rest}
    assert seen == set(created)
    assert rest[-1]["trip_id"] == first_page["trips"][0]["trip_id"]


def test_list_by_status_and_updated_since(partner, control):
    control.set_config(paused=True)
    old, finished, fresh = (partner.create_ok() for _ in range(3))
    control.set_trip_status(finished["trip_id"], "completed")
    completed = partner.get(finished["trip_id"]).json()
    active = partner.list(status="active").json()["trips"]
    assert {t["trip_id"] for t in active} == {old["trip_id"], fresh["trip_id"]}
    past = partner.list(status="past").json()["trips"]
    assert [t["trip_id"] for t in past] == [finished["trip_id"]]
    since = partner.list(updated_since=completed["updated_at"]).json()["trips"]
    assert [t["trip_id"] for t in since] == [finished["trip_id"]]  # inclusive
    since_z = partner.list(updated_since="2000-01-01T00:00:00Z").json()["trips"]
    assert len(since_z) == 3


def test_list_by_external_reference(partner):
    trip = partner.create_ok(external_reference="find-me")
    partner.create_ok()
    found = partner.list(external_reference="find-me").json()["trips"]
    assert [t["trip_id"] for t in found] == [trip["trip_id"]]
    assert partner.list(external_reference="nobody").json() == {"trips": [], "next_cursor": None}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "done"},
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"updated_since": "yesterday"},
        {"updated_since": "2026-01-01T00:00:00"},
    ],
)
def test_list_refuses_bad_parameters(partner, params):
    response = partner.list(**params)
    assert response.status_code == 400
    assert error_code(response) == "validation_failed"
    assert next(iter(params)) in response.json()["error"]["message"]


def test_cancel_before_a_driver_costs_nothing(partner):
    trip = partner.create_ok()
    response = partner.cancel(trip["trip_id"])
    assert response.status_code == 200
    cancelled = response.json()
    contract.validate_response("DELETE", f"/v1/trips/{trip['trip_id']}", 200, cancelled)
    assert cancelled["status"] == "rider_canceled"
    assert cancelled["status_detail"] == "coordinator_canceled"
    assert cancelled["cancellation_fee"] is None
    assert cancelled["fare"] == {"amount": 0, "currency": "IDR", "type": "final"}


def test_cancel_after_a_driver_accepted_costs_a_fee(partner, control):
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    cancelled = partner.cancel(trip["trip_id"]).json()
    assert cancelled["cancellation_fee"] == 10_000
    receipt = partner.receipt(trip["trip_id"]).json()
    assert receipt["cancellation_fee"] == 10_000
    assert receipt["total_amount"] == cancelled["fare"]["amount"] == 10_000


def test_a_terminal_trip_cannot_be_cancelled(partner, control):
    trip = partner.create_ok()
    assert partner.cancel(trip["trip_id"]).status_code == 200
    response = partner.cancel(trip["trip_id"])
    assert response.status_code == 409
    assert error_code(response) == "trip_not_cancellable"
    contract.validate_response("DELETE", f"/v1/trips/{trip['trip_id']}", 409, response.json())
    assert error_code(partner.cancel("trp_missing")) == "not_found"


def test_receipt_only_once_the_trip_ended(partner, control):
    trip = partner.create_ok()
    response = partner.receipt(trip["trip_id"])
    assert response.status_code == 404
    assert error_code(response) == "receipt_not_ready"
    control.set_trip_status(trip["trip_id"], "in_progress")
    control.set_trip_status(trip["trip_id"], "completed")
    response = partner.receipt(trip["trip_id"])
    assert response.status_code == 200
    receipt = response.json()
    contract.validate_response("GET", f"/v1/trips/{trip['trip_id']}/receipt", 200, receipt)
    parts = ("base_fare", "distance_fare", "time_fare", "fees", "cancellation_fee")
    assert receipt["total_amount"] == sum(receipt[p] for p in parts)
    final = partner.get(trip["trip_id"]).json()
    assert final["fare"] == {"amount": receipt["total_amount"], "currency": "IDR", "type": "final"}
    assert receipt["distance_meters"] == final["distance_meters"] > 5_000
    assert receipt["duration_seconds"] == final["duration_seconds"] > 0
