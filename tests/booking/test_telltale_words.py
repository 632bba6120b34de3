"""Typed addresses that say what the ride is about: refused at booking with what to do
instead, and never sent to the partner however they are written (case, accents, dashes,
the agency's names and services in Indonesian and English, the case code in lower case)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from rides.booking.services import ride_book
from rides.models import Ride
from rides.pipeline.payload import PayloadRefused, assert_partner_safe, build_trip_request
from rides.telltale import contains_value, has_telltale_words, normal, telltale_words
from tests.booking.conftest import CHEAP, HOME_POINT, booking_args

pytestmark = [pytest.mark.django_db]

# Seen reaching the partner verbatim before (the security issue's probes), and more.
TELLING = [
    "Kantor UPT Perlindungan Perempuan dan Anak",
    "Shelter KDRT",
    "poli forensik RS Polri",
    "RUMAH-AMAN cawang",
    "Pusat Pelayanan Terpadu (PPT) RSCM",
    "Jl. Raya 5, depan kantor P2TP2A",
    "Dinas PPAPP DKI",
    "Unit Pelayanan Perempuan & Anak (unit ppa) Polres",
    "Visúm et repertum",
    "domestic-violence shelter",
    "Kekerasan   dalam rumah tangga",
]
# Ordinary Jakarta addresses that must pass.
ORDINARY = [
    "Jl. Pemuda No. 10, Rawamangun",
    "Halte TransJakarta Cawang",
    "Jl. Kapten Tendean 12",
    "Pasar Rebo, depan Indomaret",
    "Gedung Sarinah lantai 2",
    "Jl. Pakuan 3",  # "ppa"-like letters inside a word are not the word
]


@pytest.mark.parametrize("text", TELLING)
def test_each_telling_text_is_found(text):
    assert has_telltale_words(text), text
    assert telltale_words(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_addresses_pass(text):
    assert not has_telltale_words(text), telltale_words(text)


def test_normal_form_ignores_case_accents_and_punctuation():
    assert normal("  Visúm—ET/Repertum ") == "visum et repertum"
    assert contains_value("kode jkt-2026-000123 ya", "JKT-2026-000123")
    assert contains_value("Jkt/2026/000123", "JKT-2026-000123")
    assert not contains_value("JKT-2026-0001234", "JKT-2026-000123")


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("address", ["Shelter KDRT", "poli forensik", "Kantor UPT PPA"])
def test_a_typed_dropoff_that_tells_is_refused_with_what_to_do(
    adult_case, caseworker, places, english, address
):
    dropoff = {**HOME_POINT, "latitude": -6.2697, "longitude": 106.8657, "address": address}
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places, dropoff=dropoff))
    messages = excinfo.value.message_dict["dropoff"]
    assert any("neutral point nearby" in message for message in messages), messages
    assert Ride.objects.count() == 0


def test_the_refusal_is_in_indonesian_for_an_indonesian_user(adult_case, caseworker, places):
    dropoff = {**HOME_POINT, "latitude": -6.2697, "longitude": 106.8657, "address": "shelter kdrt"}
    with translation.override("id"), pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places, dropoff=dropoff))
    message = " ".join(excinfo.value.message_dict["dropoff"])
    assert "shelter, kdrt" in message and "netral" in message


def test_the_payload_check_refuses_the_case_code_in_lower_case(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    body = build_trip_request(ride)
    assert_partner_safe(body, ride)  # the booked ride itself is fine
    body["pickup"]["address"] = f"Jl. Pemuda 10 ({adult_case.code.lower()})"
    with pytest.raises(PayloadRefused) as excinfo:
        assert_partner_safe(body, ride)
    assert excinfo.value.code == "sensitive_value"


@pytest.mark.parametrize("text", ["Kantor UPT Perlindungan Perempuan dan Anak", "Shelter KDRT"])
def test_the_payload_check_refuses_telling_text_written_any_way(
    adult_case, caseworker, places, django_capture_on_commit_callbacks, text
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    body = build_trip_request(ride)
    body["dropoff"]["address"] = text.upper()
    with pytest.raises(PayloadRefused) as excinfo:
        assert_partner_safe(body, ride)
    assert excinfo.value.code == "forbidden_words"
