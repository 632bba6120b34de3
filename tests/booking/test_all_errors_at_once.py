"""A booking with several independent mistakes is answered with every one of them at once:
on the page each next to its field (aria-invalid, aria-describedby) with a summary at the
top linking to the fields, and every typed value kept; in the API as one 400 with every
field's messages."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from rides.models import Ride
from tests.booking.test_pages import english, form_data

pytestmark = [pytest.mark.django_db]

BOOK = reverse("rides:book")
ESTIMATE = reverse("rides:estimate")
RIDES = "/api/v1/rides/"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _past() -> str:
    return (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")


def several_mistakes(case, places) -> dict:
    """Mistakes the form sees (no purpose, 9 passengers) next to mistakes only the SOP
    check sees (a point outside Jabodetabek, a time that has passed, a child without an
    escort)."""
    return form_data(
        case,
        places,
        purpose="",
        purpose_note="Kontrol lanjutan",
        pickup_address="Jl. Tunjungan No. 1",
        pickup_latitude="-7.257500",
        pickup_longitude="112.752100",
        when="later",
        scheduled_at=_past(),
        passenger_count="9",
        escort_name="",
        escort_phone="",
    )


def _input_tag(body: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', body)
    assert match, name
    return match.group(0)


def test_every_mistake_of_a_booking_is_shown_at_once_next_to_its_field(
    child_case, caseworker, places
):
    response = english(caseworker).post(BOOK, several_mistakes(child_case, places))
    assert response.status_code == 200
    body = response.content.decode()
    # the form's own
    assert "Choose the purpose of the ride from the list." in body
    assert "Enter the number of passengers, from 1 to 6." in body
    # and the SOP's, in the same answer
    assert "This point is outside Jabodetabek" in body
    assert "This time has passed" in body
    assert "A child travels with an escort" in body
    # next to its field, announced to screen readers
    for name in ("passenger_count", "escort_name", "scheduled_at"):
        tag = _input_tag(body, name)
        assert 'aria-invalid="true"' in tag, name
        assert f"id_{name}_error" in tag, name
        assert f'id="id_{name}_error"' in body, name
    # a summary at the top links to each field with a mistake
    summary = body[body.index('id="form-errors"') : body.index("1. Purpose")]
    for anchor in ("#id_purpose_0", "#id_passenger_count", "#id_escort_name", "#id_scheduled_at"):
        assert f'href="{anchor}"' in summary, anchor
    assert 'href="#id_pickup_source_0"' in summary
    # nothing typed is lost: the pin's coordinates, the time choice, passengers, notes
    for typed in ("-7.257500", "112.752100", "Jl. Tunjungan No. 1", "Kontrol lanjutan"):
        assert typed in body, typed
    assert 'value="9"' in _input_tag(body, "passenger_count")
    assert "checked" in _input_tag(body, "when" + '" value="later')
    assert Ride.objects.count() == 0


def test_the_escort_typed_is_kept_when_other_fields_are_wrong(child_case, caseworker, places):
    data = several_mistakes(child_case, places)
    data.update(escort_name="Bu Wati", escort_phone="12345")
    body = english(caseworker).post(BOOK, data).content.decode()
    assert 'value="Bu Wati"' in _input_tag(body, "escort_name")
    assert 'value="12345"' in _input_tag(body, "escort_phone")
    assert "Enter a valid Indonesian mobile number" in body
    assert 'aria-invalid="true"' in _input_tag(body, "escort_phone")


def test_the_estimate_partial_shows_every_mistake_at_once(child_case, caseworker, places):
    data = several_mistakes(child_case, places)
    data["action"] = "estimate"
    response = english(caseworker).post(ESTIMATE, data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Choose the purpose of the ride from the list." in body
    assert "This point is outside Jabodetabek" in body
    assert "A child travels with an escort" in body


def test_the_api_answers_every_field_error_at_once(child_case, caseworker, places):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(caseworker)
    response = client.post(
        RIDES,
        {
            "case": child_case.code,
            "purpose": "shopping",
            "pickup": {"latitude": -7.2575, "longitude": 112.7521, "address": "Jl. Tunjungan"},
            "dropoff": {"place": places["hospital"].pk},
            "scheduled_pickup_at": (timezone.now() - dt.timedelta(hours=2)).isoformat(),
            "passenger_count": 2,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    assert set(errors) >= {"purpose", "pickup", "scheduled_pickup_at", "escort"}, errors
    assert "A child travels with an escort" in errors["escort"]["name"][0]
    assert "outside Jabodetabek" in errors["pickup"][0]
    assert Ride.objects.count() == 0


def test_the_api_reports_a_shape_error_once_not_again_as_a_rule(child_case, caseworker, places):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(caseworker)
    response = client.post(
        RIDES,
        {
            "case": child_case.code,
            "purpose": "medical_exam",
            "pickup": {"latitude": "north", "longitude": 106.8},
            "dropoff": {"place": places["hospital"].pk},
            "passenger_count": "many",
            "escort": {"name": "Bu Wati", "phone": "12345"},
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert list(errors["pickup"]) == ["latitude"]
    assert len(errors["passenger_count"]) == 1
    assert "valid Indonesian mobile" in errors["escort"]["phone"][0]
