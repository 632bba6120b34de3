"""quirk_rate: unknown fields and null/absent optional fields, never a missing essential."""

from standardwebhooks.webhooks import Webhook

from sandbox import contract

from .conftest import BANDUNG, trip_body

ANSWERS = 50
STATUSES = {
    "scheduled",
    "processing",
    "accepted",
    "arriving",
    "in_progress",
    "driver_redispatched",
    "completed",
    "no_drivers_available",
    "driver_canceled",
    "rider_canceled",
    "failed",
}
TRIP_OPTIONAL = (
    "status_detail",
    "scheduled_pickup_at",
    "driver_location",
    "pickup_eta_seconds",
    "distance_meters",
    "duration_seconds",
    "cancellation_fee",
)
RECEIPT_OPTIONAL = (
    "fees",
    "base_fare",
    "distance_fare",
    "time_fare",
    "distance_meters",
    "duration_seconds",
)


def _is_time(value):
    return isinstance(value, str) and contract.is_valid("Time", value)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _assert_point(point):
    assert _is_number(point["latitude"]) and _is_number(point["longitude"]), point


def _assert_trip_essentials(trip):
    assert isinstance(trip["trip_id"], str) and trip["trip_id"].startswith("trp_")
    assert isinstance(trip["external_reference"], str) and trip["external_reference"]
    assert trip["status"] in STATUSES
    assert _is_time(trip["created_at"]) and _is_time(trip["updated_at"])
    assert trip["product_id"] in {"car", "car_xl", "bike"}
    assert isinstance(trip["fare"]["amount"], int) and not isinstance(trip["fare"]["amount"], bool)
    assert trip["fare"]["currency"] == "IDR"
    _assert_point(trip["pickup"])
    _assert_point(trip["dropoff"])


def _blank(obj, key):
    """'absent', 'null', or None when the field still has a value."""
    if key not in obj:
        return "absent"
    return "null" if obj[key] is None else None


def _assert_trip_fully_quirked(trip, outcomes):
    for key in TRIP_OPTIONAL:
        outcome = _blank(trip, key)
        assert outcome, (key, trip[key])
        outcomes.add(outcome)
    assert _blank(trip["fare"], "type")
    assert {"surge_multiplier", "service_type"} <= set(trip)
    for name in ("pickup", "dropoff"):
        assert _blank(trip[name], "address") and _blank(trip[name], "note")
        assert isinstance(trip[name]["place_id"], str)
    if trip["driver"] is not None:
        assert trip["driver"]["rating"] is None
        assert _blank(trip["driver"], "phone_masked")
        assert trip["driver"]["name"]  # never touched
        assert trip["driver"]["photo_url"].startswith("https://")
    if trip["vehicle"] is not None:
        assert _blank(trip["vehicle"], "color") and _blank(trip["vehicle"], "model")
        assert trip["vehicle"]["license_plate"]
        assert isinstance(trip["vehicle"]["year"], int)


def test_trip_answers_have_quirks_and_keep_every_essential(partner, control):
    control.set_config(quirk_rate=1.0, seed=11, paused=True)
    trip = partner.create_ok()
    _assert_trip_essentials(trip)
    control.set_trip_status(trip["trip_id"], "accepted")
    outcomes = set()
    for _ in range(ANSWERS):
        response = partner.get(trip["trip_id"])
        assert response.status_code == 200
        seen = response.json()
        _assert_trip_essentials(seen)
        assert seen["trip_id"] == trip["trip_id"] and seen["status"] == "accepted"
        assert seen["driver"] is not None and seen["vehicle"] is not None
        _assert_trip_fully_quirked(seen, outcomes)
        assert not contract.is_valid("Trip", seen)
    assert outcomes == {"absent", "null"}  # both kinds of missing, not one pattern
    stored = control.trip(trip["trip_id"])["trip"]
    contract.validate("Trip", stored)  # the quirks never reached the stored trip
    assert "surge_multiplier" not in stored and stored["driver"]["rating"] is not None


def test_list_pages_have_quirks_and_keep_trips_and_cursor(partner, control):
    control.set_config(quirk_rate=1.0, seed=12, paused=True)
    created = {partner.create_ok()["trip_id"] for _ in range(3)}
    outcomes = set()
    for _ in range(ANSWERS):
        response = partner.list(limit=2)
        assert response.status_code == 200
        page = response.json()
        assert isinstance(page["next_cursor"], str)
        assert page["total_count"] == 2
        assert len(page["trips"]) == 2
        for trip in page["trips"]:
            _assert_trip_essentials(trip)
            _assert_trip_fully_quirked(trip, outcomes)
        rest = partner.list(limit=2, cursor=page["next_cursor"]).json()
        assert "next_cursor" in rest and rest["next_cursor"] is None
        seen = {t["trip_id"] for t in page["trips"] + rest["trips"]}
        assert seen == created  # the cursor still works
    assert outcomes == {"absent", "null"}


def test_receipts_have_quirks_and_keep_their_totals(partner, control):
    control.set_config(quirk_rate=1.0, seed=13, paused=True)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "completed")
    stored = control.trip(trip["trip_id"])["simulation"]["receipt"]
    for _ in range(ANSWERS):
        response = partner.receipt(trip["trip_id"])
        assert response.status_code == 200
        receipt = response.json()
        assert receipt["trip_id"] == trip["trip_id"]
        assert receipt["total_amount"] == stored["total_amount"] > 0
        assert receipt["currency"] == "IDR"
        assert receipt["issued_at"] == stored["issued_at"] and _is_time(receipt["issued_at"])
        assert receipt["cancellation_fee"] is None
        assert all(receipt[key] is None for key in RECEIPT_OPTIONAL)
        assert receipt["payment_method"] in {"cash", "corporate_account"}
        assert not contract.is_valid("Receipt", receipt)
    assert stored["cancellation_fee"] == 0 and stored["fees"] > 0


def test_estimates_have_quirks_and_keep_fare_ids(partner, control):
    control.set_config(quirk_rate=1.0, seed=14)
    for _ in range(ANSWERS):
        response = partner.estimates()
        assert response.status_code == 200
        answer = response.json()
        assert isinstance(answer["request_id"], str)
        assert {e["product_id"] for e in answer["estimates"]} == {"car", "car_xl", "bike"}
        for estimate in answer["estimates"]:
            assert isinstance(estimate["fare_id"], str) and estimate["fare_id"]
            assert isinstance(estimate["fare"]["amount"], int) and estimate["fare"]["amount"] > 0
            assert estimate["fare"]["currency"] == "IDR"
            assert _is_time(estimate["expires_at"])
            assert estimate["pickup_eta_seconds"] is None
            assert "display_name" not in estimate
            assert estimate["surge_multiplier"] == 1.0
    car = next(e for e in answer["estimates"] if e["product_id"] == "car")
    trip = partner.create_ok(fare_id=car["fare_id"])  # a quirked fare id still books
    assert trip["fare"]["amount"] == car["fare"]["amount"]


def test_a_zero_fee_is_null_whenever_quirks_are_on(partner, control):
    control.set_config(quirk_rate=0.0001, seed=15, paused=True)
    completed = partner.create_ok()
    control.set_trip_status(completed["trip_id"], "completed")
    charged = partner.create_ok()
    control.set_trip_status(charged["trip_id"], "accepted")
    assert partner.cancel(charged["trip_id"]).status_code == 200
    for _ in range(20):
        assert partner.receipt(completed["trip_id"]).json()["cancellation_fee"] is None
        assert partner.receipt(charged["trip_id"]).json()["cancellation_fee"] == 10_000
    control.set_config(quirk_rate=0.0)
    assert partner.receipt(completed["trip_id"]).json()["cancellation_fee"] == 0


def test_an_idempotent_replay_still_answers_the_stored_trip(partner, control):
    control.set_config(quirk_rate=1.0, seed=16, paused=True)
    body = trip_body()
    first = partner.create(body, key="quirky-create")
    assert first.status_code == 201 and "surge_multiplier" in first.json()
    trip_id = first.json()["trip_id"]
    control.set_trip_status(trip_id, "accepted")
    replay = partner.create(body, key="quirky-create")
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["trip_id"] == trip_id
    assert replay.json()["status"] == "processing"  # the first answer, not the trip now
    control.set_config(quirk_rate=0.0)
    clean = partner.create(body, key="quirky-create")
    assert clean.status_code == 200 and clean.json()["trip_id"] == trip_id
    contract.validate_response("POST", "/v1/trips", 200, clean.json())
    assert "surge_multiplier" not in clean.json()
    calls = control.calls(endpoint="create_trip")
    assert [(c["status"], c["trip_id"]) for c in calls] == [(201, trip_id)] + [(200, trip_id)] * 2
    assert len(control.trips()) == 1


def test_without_quirks_answers_match_the_contract(partner, control):
    control.set_config(quirk_rate=0.0, seed=17, paused=True)
    estimates = partner.estimates().json()
    contract.validate_response("POST", "/v1/estimates", 200, estimates)
    trip = partner.create_ok()
    contract.validate_response("POST", "/v1/trips", 201, trip)
    path = f"/v1/trips/{trip['trip_id']}"
    control.set_trip_status(trip["trip_id"], "accepted")
    seen = partner.get(trip["trip_id"]).json()
    contract.validate_response("GET", path, 200, seen)
    assert seen == control.trip(trip["trip_id"])["trip"]
    contract.validate_response("GET", "/v1/trips", 200, partner.list().json())
    control.set_trip_status(trip["trip_id"], "completed")
    receipt = partner.receipt(trip["trip_id"]).json()
    contract.validate_response("GET", f"{path}/receipt", 200, receipt)
    assert receipt == control.trip(trip["trip_id"])["simulation"]["receipt"]


def test_tokens_and_errors_are_never_quirked(partner, control):
    control.set_config(quirk_rate=1.0, seed=18)
    token = partner.token_response()
    assert token.status_code == 200
    contract.validate_response("POST", "/oauth/token", 200, token.json())
    missing = partner.get("trp_missing")
    assert missing.status_code == 404
    contract.validate_response("GET", "/v1/trips/trp_missing", 404, missing.json())
    outside = partner.estimates(dropoff=BANDUNG)
    contract.validate_response("POST", "/v1/estimates", 422, outside.json())


def _shape(value):
    """Keys and nulls of an answer, without the values that differ from trip to trip."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return None if value is None else type(value).__name__


def test_the_same_seed_gives_the_same_quirks(partner, control):
    def run():
        control.reset()
        control.set_config(quirk_rate=0.5, seed=19, paused=True)
        trip = partner.create_ok()
        control.set_trip_status(trip["trip_id"], "accepted")
        return [_shape(partner.get(trip["trip_id"]).json()) for _ in range(10)]

    first = run()
    control.set_config(seed=None)
    assert run() == first
    assert len({repr(shape) for shape in first}) > 1  # answers differ from each other


def test_webhook_bodies_may_carry_unknown_fields(partner, control, receiver):
    control.set_config(quirk_rate=1.0, seed=20)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted")
    (item,) = receiver.wait_for(1)
    payload = Webhook(receiver.secret).verify(item.body, item.headers)
    assert payload["type"] == "trip.status_changed" and _is_time(payload["timestamp"])
    assert payload["data"]["trip_id"] == trip["trip_id"]
    assert payload["data"]["external_reference"] == trip["external_reference"]
    assert payload["data"]["status"] == "accepted" and _is_time(payload["data"]["updated_at"])
    assert set(payload) > {"type", "timestamp", "data"}
    assert set(payload["data"]) > {"trip_id", "external_reference", "status", "updated_at"}
