"""Reading partner answers tolerantly: strict on what the portal needs (ids, status,
times, points, the fare amount), lenient on what is informational (fees, ratings, ETA,
vehicle, driver, location, fields the contract does not name, optional fields null or
absent). Real HTTP against a small local server that answers recorded payloads."""

from __future__ import annotations

import copy
import json
import logging

import pytest

from partners.client import errors
from partners.client.http import PartnerClient
from partners.client.registry import breaker_state

TOKEN = b'{"access_token": "t", "token_type": "Bearer", "expires_in": 3600, "scope": "trips"}'

TRIP = {
    "trip_id": "trp_1",
    "external_reference": "RBCDFGHJKLMNPQR",
    "product_id": "car",
    "status": "accepted",
    "status_detail": None,
    "created_at": "2026-12-01T10:00:00+07:00",
    "updated_at": "2026-12-01T10:01:00+07:00",
    "scheduled_pickup_at": None,
    "pickup": {"latitude": -6.2250, "longitude": 106.8450, "address": "Jl. Tebet Raya"},
    "dropoff": {"latitude": -6.1862, "longitude": 106.8310},
    "driver": {"name": "Budi", "phone_masked": "+62812****890", "rating": 4.8},
    "vehicle": {"make": "Toyota", "model": "Avanza", "color": "Hitam", "license_plate": "B 1 X"},
    "driver_location": {"latitude": -6.22, "longitude": 106.84, "bearing": 90, "updated_at": None},
    "pickup_eta_seconds": 240,
    "fare": {"amount": 52100, "currency": "IDR", "type": "estimate"},
    "distance_meters": None,
    "duration_seconds": None,
    "cancellation_fee": None,
}

RECEIPT = {
    "trip_id": "trp_1",
    "total_amount": 57300,
    "currency": "IDR",
    "base_fare": 10000,
    "distance_fare": 40000,
    "time_fare": 7300,
    "fees": 0,
    "cancellation_fee": 0,
    "distance_meters": 9100,
    "duration_seconds": 1500,
    "issued_at": "2026-12-01T10:40:00+07:00",
}


def serving(counting_server, make_account, *, trip=None, receipt=None, page=None, raw=None):
    """A client of a partner that answers every trip read with `trip`, every receipt
    with `receipt` and every list call with `page` (or `raw` bytes for all of them)."""

    def answer(handler):
        if handler.path == "/oauth/token":
            return 200, {"content-type": "application/json"}, TOKEN
        if raw is not None:
            return 200, {"content-type": "application/json"}, raw
        if handler.path.endswith("/receipt"):
            body = receipt
        elif handler.path.startswith("/v1/trips?") or handler.path == "/v1/trips":
            body = page
        else:
            body = trip
        return 200, {"content-type": "application/json"}, json.dumps(body).encode()

    server = counting_server(answer)
    return PartnerClient(make_account(base_url=server.url, register=False))


def test_a_receipt_with_a_null_fee_is_a_receipt_with_no_fee(make_account, counting_server):
    receipt = dict(RECEIPT, cancellation_fee=None, fees=None)
    client = serving(counting_server, make_account, receipt=receipt)
    read = client.get_receipt("trp_1")
    assert read.total_amount == 57300
    assert read.cancellation_fee is None and read.fees is None
    assert read.trip_id == "trp_1"


def test_informational_fields_that_are_unusable_are_ignored_with_a_warning(
    make_account, counting_server, caplog
):
    trip = copy.deepcopy(TRIP)
    trip["driver"]["rating"] = None
    trip["driver"]["photo_url"] = "https://cdn.partner/d.jpg"  # not in the contract
    trip["vehicle"]["color"] = None
    trip["driver_location"] = {"latitude": "north", "longitude": None}
    trip["pickup_eta_seconds"] = -5
    trip["fare"]["type"] = "surge"
    trip["surge_multiplier"] = 1.3
    trip["cancellation_fee"] = "n/a"
    del trip["status_detail"]
    del trip["scheduled_pickup_at"]
    del trip["pickup"]["address"]
    client = serving(counting_server, make_account, trip=trip)
    with caplog.at_level(logging.WARNING, logger="partners"):
        read = client.get_trip("trp_1")
    assert (read.trip_id, read.status, read.fare_amount) == ("trp_1", "accepted", 52100)
    assert read.driver.name == "Budi" and read.driver.rating is None
    assert read.vehicle.license_plate == "B 1 X" and read.vehicle.color == ""
    assert read.driver_location is None
    assert read.pickup_eta_seconds is None and read.cancellation_fee is None
    assert read.fare_type == "" and read.status_detail is None
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for name in ("driver_location", "pickup_eta_seconds", "fare.type", "cancellation_fee"):
        assert name in warned
    assert "Budi" not in warned and "B 1 X" not in warned  # names of fields, never values


@pytest.mark.parametrize(
    "broken",
    [
        {"trip_id": None},
        {"status": "teleported"},
        {"updated_at": "yesterday"},
        {"fare": {"amount": None, "currency": "IDR", "type": "estimate"}},
        {"pickup": {"latitude": None, "longitude": 106.8}},
    ],
    ids=["trip_id", "status", "updated_at", "fare", "pickup"],
)
def test_what_the_portal_needs_is_checked_strictly(make_account, counting_server, broken):
    client = serving(counting_server, make_account, trip=dict(TRIP, **broken))
    with pytest.raises(errors.UnusableAnswer) as failed:
        client.get_trip("trp_1")
    assert failed.value.temporary and failed.value.sent is True
    assert failed.value.code == "malformed_response"
    assert failed.value.counts_against_partner is False


def test_unusable_answers_for_one_trip_never_open_the_breaker(
    make_account, counting_server, partner_settings
):
    client = serving(counting_server, make_account, trip=dict(TRIP, status="teleported"))
    for _ in range(10):
        with pytest.raises(errors.UnusableAnswer):
            client.get_trip("trp_1")
    assert breaker_state(client_account(client)) == "closed"


def test_answers_that_are_not_json_still_count_against_the_partner(
    make_account, counting_server, partner_settings
):
    client = serving(counting_server, make_account, raw=b"<html>502 Bad Gateway</html>")
    for _ in range(3):
        with pytest.raises(errors.TemporaryPartnerError) as failed:
            client.get_trip("trp_1")
        assert not isinstance(failed.value, errors.UnusableAnswer)
    assert breaker_state(client_account(client)) == "open"


def test_one_unusable_trip_in_a_page_leaves_the_others_usable(make_account, counting_server):
    other = dict(copy.deepcopy(TRIP), trip_id="trp_2", external_reference="RXXXXXXXXXXXXXX")
    page = {
        "trips": [dict(TRIP, updated_at=None), other],
        "next_cursor": None,
        "total_count": 2,  # not in the contract
    }
    client = serving(counting_server, make_account, page=page)
    read = client.list_trips(status="active")
    assert [trip.trip_id for trip in read.trips] == ["trp_2"]
    assert [(u.trip_id, u.external_reference) for u in read.unusable] == [
        ("trp_1", "RBCDFGHJKLMNPQR")
    ]
    with pytest.raises(errors.UnusableAnswer):
        client.find_trip_by_reference("RBCDFGHJKLMNPQR")
    assert client.find_trip_by_reference("RXXXXXXXXXXXXXX").trip_id == "trp_2"


def test_an_estimate_without_its_informational_fields_is_still_a_fare(
    make_account, counting_server
):
    estimates = {
        "estimates": [
            {
                "product_id": "car",
                "fare_id": "fare_1",
                "fare": {"amount": 52100, "currency": "IDR"},
                "pickup_eta_seconds": None,
                "expires_at": "2026-12-01T10:02:00+07:00",
            },
            {"product_id": "bike", "fare_id": None, "fare": {"amount": 9000}},
        ]
    }

    def answer(handler):
        if handler.path == "/oauth/token":
            return 200, {"content-type": "application/json"}, TOKEN
        return 200, {"content-type": "application/json"}, json.dumps(estimates).encode()

    server = counting_server(answer)
    client = PartnerClient(make_account(base_url=server.url, register=False))
    read = client.estimate(
        pickup={"latitude": -6.2, "longitude": 106.8},
        dropoff={"latitude": -6.3, "longitude": 106.9},
        passenger_count=1,
    )
    assert [(e.product_id, e.fare_id, e.fare_amount) for e in read] == [("car", "fare_1", 52100)]
    assert read[0].pickup_eta_seconds is None and read[0].display_name == ""


def client_account(client):
    from partners.models import PartnerAccount

    return PartnerAccount.objects.get(pk=client.account_id)
