"""The adapter's calls against the sandbox partner over real HTTP, checked against
docs/partner-api.yaml in both directions."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from partners.client import errors
from partners.client.contract import CreateResult, Estimate, Point, Receipt, Trip, TripPage
from partners.client.http import PartnerClient
from partners.client.registry import client_for
from sandbox import contract

from .conftest import BANDUNG, BLOK_M, MONAS, trip_body


@pytest.fixture
def recorded():
    """Attach to a client: every response the client receives, for contract checks."""

    def attach(client: PartnerClient) -> list[tuple[str, str, int, object]]:
        seen: list[tuple[str, str, int, object]] = []

        def keep(response):
            response.read()
            body = json.loads(response.content) if response.content else None
            seen.append(
                (response.request.method, response.request.url.path, response.status_code, body)
            )

        client._http.event_hooks["response"].append(keep)
        return seen

    return attach


def assert_responses_match_contract(seen):
    assert seen
    for method, path, status, body in seen:
        contract.validate_response(method, path, status, body)


def assert_requests_match_contract(control, account):
    calls = control.calls(client_id=account.client_id)
    assert calls
    for call in calls:
        if call["body"] is not None:
            contract.validate_request(call["method"], call["path"], call["body"])
    return calls


def test_estimate_create_get_and_contract(account, control, recorded):
    client = PartnerClient(account)
    seen = recorded(client)

    estimates = client.estimate(pickup=Point(**MONAS), dropoff=dict(BLOK_M), passenger_count=2)
    assert estimates and all(isinstance(e, Estimate) for e in estimates)
    car = next(e for e in estimates if e.product_id == "car")
    assert car.fare_amount > 0 and car.currency == "IDR" and car.expires_at.tzinfo

    body = trip_body(fare_id=car.fare_id, passenger_count=2)
    created = client.create_trip(body=body, idempotency_key=f"ride-1-{uuid.uuid4()}")
    assert isinstance(created, CreateResult) and not created.replayed
    trip = created.trip
    assert trip.status == "processing" and trip.external_reference == body["external_reference"]
    assert trip.updated_at.tzinfo is not None and trip.fare_type == "estimate"

    again = client.get_trip(trip.trip_id)
    assert isinstance(again, Trip) and again.trip_id == trip.trip_id

    assert_responses_match_contract(seen)
    calls = assert_requests_match_contract(control, account)
    assert [c["endpoint"] for c in calls] == ["token", "estimates", "create_trip", "get_trip"]
    # The token request is form-encoded with the trips scope.
    assert calls[0]["body"]["scope"] == "trips"
    assert calls[0]["headers"]["content-type"].startswith("application/x-www-form-urlencoded")


def test_same_idempotency_key_replays_and_never_makes_a_second_trip(account, control):
    client = PartnerClient(account)
    body = trip_body()
    key = f"ride-7-{uuid.uuid4()}"
    first = client.create_trip(body=body, idempotency_key=key)
    second = client.create_trip(body=body, idempotency_key=key)
    assert second.replayed and second.trip.trip_id == first.trip.trip_id
    assert len(control.trips(client_id=account.client_id)) == 1

    with pytest.raises(errors.IdempotencyKeyReused) as reused:
        client.create_trip(body={**body, "passenger_count": 2}, idempotency_key=key)
    assert reused.value.http_status == 422 and not reused.value.temporary


def test_a_second_create_with_the_same_reference_names_the_existing_trip(account):
    client = PartnerClient(account)
    body = trip_body()
    first = client.create_trip(body=body, idempotency_key=f"a-{uuid.uuid4()}")
    with pytest.raises(errors.DuplicateReference) as duplicate:
        client.create_trip(body=body, idempotency_key=f"b-{uuid.uuid4()}")
    assert duplicate.value.trip_id == first.trip.trip_id
    assert isinstance(duplicate.value, errors.PermanentPartnerError)
    assert duplicate.value.sent is True


def test_find_trip_by_reference(account):
    client = PartnerClient(account)
    body = trip_body()
    assert client.find_trip_by_reference(body["external_reference"]) is None
    created = client.create_trip(body=body, idempotency_key=f"k-{uuid.uuid4()}").trip
    found = client.find_trip_by_reference(body["external_reference"])
    assert found is not None and found.trip_id == created.trip_id
    assert client.find_trip_by_reference("R-SOMEONE-ELSES") is None


def test_list_trips_pages_through_every_trip_once(account, control, recorded):
    client = PartnerClient(account)
    seen = recorded(client)
    since = datetime.now(UTC) - timedelta(minutes=1)
    created = {
        client.create_trip(body=trip_body(), idempotency_key=f"p-{i}-{uuid.uuid4()}").trip.trip_id
        for i in range(5)
    }
    listed, cursor, pages = [], None, 0
    while True:
        page = client.list_trips(status="active", updated_since=since, limit=2, cursor=cursor)
        assert isinstance(page, TripPage)
        listed += [trip.trip_id for trip in page.trips]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(listed) == sorted(created) and pages == 3

    # updated_since goes out as RFC 3339 with its offset intact.
    query = [c["query"] for c in control.calls(endpoint="list_trips")][0]
    assert "updated_since=" in query and "%2B00%3A00" in query
    assert client.list_trips(status="past").trips == []
    assert_responses_match_contract(seen)


def test_cancel_then_cancel_again(account, control, recorded):
    client = PartnerClient(account)
    seen = recorded(client)
    trip = client.create_trip(body=trip_body(), idempotency_key=f"c-{uuid.uuid4()}").trip
    control.set_trip_status(trip.trip_id, "accepted")
    cancelled = client.cancel_trip(trip.trip_id)
    assert cancelled.status == "rider_canceled"
    assert cancelled.status_detail == "coordinator_canceled"
    assert cancelled.cancellation_fee and cancelled.cancellation_fee > 0
    with pytest.raises(errors.TripNotCancellable) as refused:
        client.cancel_trip(trip.trip_id)
    assert refused.value.http_status == 409
    assert_responses_match_contract(seen)


def test_receipt_not_ready_then_ready(account, control, recorded):
    client = PartnerClient(account)
    seen = recorded(client)
    trip = client.create_trip(body=trip_body(), idempotency_key=f"r-{uuid.uuid4()}").trip
    with pytest.raises(errors.ReceiptNotReady) as not_ready:
        client.get_receipt(trip.trip_id)
    assert not_ready.value.http_status == 404 and not not_ready.value.temporary
    assert "receipt" in not_ready.value.user_message

    for status in ("accepted", "arriving", "in_progress", "completed"):
        control.set_trip_status(trip.trip_id, status)
    receipt = client.get_receipt(trip.trip_id)
    assert isinstance(receipt, Receipt)
    assert receipt.trip_id == trip.trip_id and receipt.currency == "IDR"
    assert receipt.total_amount == (
        receipt.base_fare
        + receipt.distance_fare
        + receipt.time_fare
        + receipt.fees
        + receipt.cancellation_fee
    )
    final = client.get_trip(trip.trip_id)
    assert final.status == "completed" and final.fare_type == "final"
    assert final.fare_amount == receipt.total_amount
    assert_responses_match_contract(seen)


def test_unknown_trip_is_not_found(account):
    with pytest.raises(errors.NotFound) as missing:
        PartnerClient(account).get_trip("trp_nothing_here")
    assert missing.value.http_status == 404 and missing.value.code == "not_found"


def test_outside_the_service_area_is_permanent_and_says_so_plainly(account):
    client = PartnerClient(account)
    with pytest.raises(errors.OutsideServiceArea) as outside:
        client.estimate(pickup=MONAS, dropoff=BANDUNG, passenger_count=1)
    assert outside.value.user_message == (
        "The pickup or drop-off is outside the partner's service area (Jabodetabek)."
    )
    assert not outside.value.temporary


def test_validation_failed_names_the_field_in_plain_words(account):
    body = trip_body(rider={"display_name": "Ibu S", "phone_number": "0812", "locale": "id"})
    with pytest.raises(errors.ValidationFailed) as invalid:
        PartnerClient(account).create_trip(body=body, idempotency_key=f"v-{uuid.uuid4()}")
    assert invalid.value.details["field"] == "rider.phone_number"
    assert invalid.value.user_message == (
        "The partner did not accept the rider's phone number. Check it, then book again."
    )
    # Neither str() nor repr() carries the partner's message (it may echo what was sent).
    assert invalid.value.message and invalid.value.message not in repr(invalid.value)
    assert str(invalid.value) == "validation_failed (HTTP 400)"


def test_client_for_reuses_one_client_and_its_connections(account, control):
    first = client_for(account)
    assert client_for(account) is first
    for _ in range(3):
        first.list_trips()
    assert len(control.calls(endpoint="list_trips")) == 3
    # One pooled keep-alive connection served every call.
    pool = first._http._transport._pool
    assert len(pool.connections) == 1

    account.rate_limit_per_minute = 120
    assert client_for(account) is not first


def test_rate_limit_headers_are_recorded_and_shared(account):
    client = PartnerClient(account)
    assert client.rate_limit_state().limit is None
    client.list_trips()
    state = PartnerClient(account).rate_limit_state()
    assert state.limit == 300
    # token + list: the partner has counted two calls this minute.
    assert state.remaining == 298
    assert state.reset_at > datetime.now(UTC)


def fake_partner(handler):
    """Answers like a partner: a token for /oauth/token, a contract 404 for anything else."""
    if handler.path == "/oauth/token":
        body = {"access_token": "t0k", "token_type": "Bearer", "expires_in": 3600, "scope": "trips"}
        return 200, {"content-type": "application/json"}, json.dumps(body).encode()
    error = {"error": {"code": "not_found", "message": "No trip", "retryable": False}}
    return 404, {"content-type": "application/json"}, json.dumps(error).encode()


def test_trip_ids_stay_one_path_segment_on_the_configured_host(make_account, counting_server):
    server = counting_server(fake_partner)
    client = PartnerClient(make_account(base_url=server.url, register=False))
    hostile = ("../../oauth/token", "x?status=past", "a/b#frag", "http://evil.example/", "%2e%2e")
    for trip_id in hostile:
        with pytest.raises(errors.NotFound):
            client.get_trip(trip_id)
    for bad in ("", ".", ".."):
        with pytest.raises(ValueError):
            client.get_trip(bad)
    # What went over the wire: each id escaped into exactly one segment under /v1/trips/.
    assert server.requests == [
        ("POST", "/oauth/token"),
        ("GET", "/v1/trips/..%2F..%2Foauth%2Ftoken"),
        ("GET", "/v1/trips/x%3Fstatus%3Dpast"),
        ("GET", "/v1/trips/a%2Fb%23frag"),
        ("GET", "/v1/trips/http%3A%2F%2Fevil.example%2F"),
        ("GET", "/v1/trips/%252e%252e"),
    ]


def test_a_base_url_path_prefix_is_kept(make_account, counting_server):
    server = counting_server(fake_partner)
    account = make_account(base_url=f"{server.url}/partner/api/", register=False)
    with pytest.raises(errors.CredentialsRejected):
        # The fake partner knows no token endpoint under the prefix: a 404 there is
        # a 404 from the token endpoint, not a 401, so nothing is retried.
        PartnerClient(account).get_trip("trp_1")
    assert server.requests == [("POST", "/partner/api/oauth/token")]
