"""What reaches the partner: exactly the allow-list, never a tell-tale value."""

import datetime as dt
import json

import pytest
from django.test import override_settings
from django.utils import timezone

from rides.pipeline.payload import (
    NEUTRAL_ALIAS,
    OPTIONAL_KEYS,
    REQUIRED_KEYS,
    PayloadRefused,
    assert_partner_safe,
    build_trip_request,
    fare_is_fresh,
)
from tests.factories import PartnerAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    return PartnerAccountFactory(
        name="Payload partner",
        client_id="payload",
    )


def test_the_body_is_exactly_the_allow_list(make_ride, account):
    ride = make_ride(account)
    body = build_trip_request(ride)
    assert set(body) == REQUIRED_KEYS
    assert body["external_reference"] == ride.reference
    assert body["product_id"] == "car"
    assert body["rider"] == {
        "display_name": "Bunga",
        "phone_number": "+6281234567890",
        "locale": "id",
    }
    assert body["pickup"] == {
        "latitude": -6.225,
        "longitude": 106.845,
        "address": "Jl. Tebet Raya No. 12",
    }
    assert set(body["dropoff"]) == {"latitude", "longitude", "address"}
    assert body["passenger_count"] == 1
    assert body["sender_display_name"] == "Layanan Antar"
    assert body["notifications"] == {"sms": True, "call_enabled": False, "share_trip_contacts": []}


def test_optional_keys_only_when_set(make_ride, account):
    pickup_at = timezone.now() + dt.timedelta(hours=3)
    ride = make_ride(
        account,
        fare_id="fare_abc",
        fare_expires_at=timezone.now() + dt.timedelta(minutes=2),
        scheduled_pickup_at=pickup_at,
    )
    body = build_trip_request(ride)
    assert set(body) == REQUIRED_KEYS | OPTIONAL_KEYS
    assert body["fare_id"] == "fare_abc"
    assert dt.datetime.fromisoformat(body["scheduled_pickup_at"]) == pickup_at
    assert body["scheduled_pickup_at"].endswith("+07:00")


def test_a_protected_place_is_replaced_by_its_neutral_point(make_ride, account, safe_house):
    ride = make_ride(
        account,
        dropoff_place=safe_house,
        # even if the real point was copied onto the ride, it must not be sent
        dropoff={"latitude": -6.2301, "longitude": 106.8802, "address": "Jl. Rahasia No. 7"},
    )
    body = build_trip_request(ride)
    assert body["dropoff"] == {
        "latitude": -6.232,
        "longitude": 106.884,
        "address": "Minimarket Jl. Kalimalang",
    }
    text = json.dumps(body)
    for secret in ("Rahasia", "Melati", "Rumah Aman", "-6.2301", "106.8802"):
        assert secret not in text


def test_nothing_about_the_case_reaches_the_partner(make_ride, account, pipeline_case):
    ride = make_ride(
        account,
        purpose="other",
        purpose_note="visum korban kekerasan seksual",
        escort_name="Ibu Ratna Dewi",
        escort_phone="+6281298765432",
        note_for_driver="Korban KDRT, jangan telepon",
    )
    text = json.dumps(build_trip_request(ride)).lower()
    for forbidden in (
        pipeline_case.code.lower(),
        "visum",
        "korban",
        "ppa",
        "victim",
        "physical",
        "medical",
        "other",
        "siti",
        "rahmawati",
        "ratna",
        "kdrt",
        "note_for_driver",
    ):
        assert forbidden not in text


@pytest.mark.parametrize("alias", ["Siti", "Korban 1", "Anak PPA", "Ratna", "", "victim"], ids=repr)
def test_an_alias_that_says_too_much_becomes_neutral(make_ride, account, alias):
    ride = make_ride(account, rider_alias=alias, escort_name="Ratna Sari")
    assert build_trip_request(ride)["rider"]["display_name"] == NEUTRAL_ALIAS


@pytest.mark.parametrize(
    "address",
    ["Kantor Dinas PPAPP, Jl. Medan Merdeka", "Rumah Bu Siti, Gg. Mawar", "Posko korban banjir"],
)
def test_an_address_that_says_too_much_is_left_out(make_ride, account, address):
    ride = make_ride(account, pickup={"latitude": -6.2, "longitude": 106.8, "address": address})
    assert build_trip_request(ride)["pickup"] == {"latitude": -6.2, "longitude": 106.8}


def test_a_long_address_is_cut_to_the_contract_length(make_ride, account):
    ride = make_ride(
        account, pickup={"latitude": -6.2, "longitude": 106.8, "address": "Jl. " * 200}
    )
    assert len(build_trip_request(ride)["pickup"]["address"]) <= 255


def test_motorbikes_are_refused(make_ride, account):
    with pytest.raises(PayloadRefused) as refused:
        build_trip_request(make_ride(account, product_id="bike"))
    assert refused.value.code == "product"


def test_car_xl_is_allowed(make_ride, account):
    assert build_trip_request(make_ride(account, product_id="car_xl"))["product_id"] == "car_xl"


def test_an_invalid_phone_is_refused(make_ride, account):
    with pytest.raises(PayloadRefused) as refused:
        build_trip_request(make_ride(account, rider_phone="12345"))
    assert refused.value.code == "rider_phone"


@override_settings(PARTNER_SENDER_NAME="Dinas PPAPP DKI")
def test_a_sender_name_that_names_the_agency_is_refused(make_ride, account):
    with pytest.raises(PayloadRefused):
        build_trip_request(make_ride(account))


def test_the_guard_refuses_any_key_beyond_the_allow_list(make_ride, account):
    ride = make_ride(account)
    body = build_trip_request(ride)
    for extra in (
        {"note_for_driver": "hello"},
        {"metadata": {}},
    ):
        with pytest.raises(PayloadRefused):
            assert_partner_safe({**body, **extra}, ride)
    with pytest.raises(PayloadRefused):
        assert_partner_safe({**body, "rider": {**body["rider"], "email": "x@example.org"}}, ride)
    with pytest.raises(PayloadRefused):
        assert_partner_safe({**body, "pickup": {**body["pickup"], "note": "gate 2"}}, ride)
    with pytest.raises(PayloadRefused):
        notifications = {**body["notifications"], "call_enabled": True}
        assert_partner_safe({**body, "notifications": notifications}, ride)
    with pytest.raises(PayloadRefused):
        contacts = {**body["notifications"], "share_trip_contacts": ["+6281111111111"]}
        assert_partner_safe({**body, "notifications": contacts}, ride)
    body_without_rider = {k: v for k, v in body.items() if k != "rider"}
    with pytest.raises(PayloadRefused):
        assert_partner_safe(body_without_rider, ride)


def test_fare_freshness(make_ride, account):
    now = timezone.now()
    assert fare_is_fresh(
        make_ride(account, fare_id="f", fare_expires_at=now + dt.timedelta(minutes=1)), now
    )
    assert not fare_is_fresh(
        make_ride(account, fare_id="f", fare_expires_at=now + dt.timedelta(seconds=5)), now
    )
    assert not fare_is_fresh(make_ride(account), now)


def test_the_allow_list_is_what_the_design_names():
    """The one place the allow-list is written out in the tests: widening it is a change
    to review here, not something the other tests (which import it) would absorb."""
    assert REQUIRED_KEYS == {
        "external_reference",
        "product_id",
        "rider",
        "pickup",
        "dropoff",
        "passenger_count",
        "sender_display_name",
        "notifications",
    }
    assert OPTIONAL_KEYS == {"fare_id", "scheduled_pickup_at"}
