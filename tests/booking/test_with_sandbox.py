"""Booking against the sandbox partner over real HTTP: the estimate in the form, the
estimate kept for the booking, the API's fare, and a partner that is down."""

import re

import pytest
from django.utils import translation

from partners.client.registry import forget_partner_state
from partners.models import UnitDefaultPartner
from rides.models import Ride, RideStatus
from tests.booking.test_api import RIDES, api
from tests.booking.test_api import body as api_body
from tests.booking.test_pages import BOOK, ESTIMATE, english, form_data

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def unit_partner(partner_account, unit):
    UnitDefaultPartner.objects.create(unit=unit, partner_account=partner_account)
    yield partner_account
    forget_partner_state(partner_account)


@pytest.fixture
def case_at_sandbox(make_case, caseworker, unit_partner):
    return make_case(caseworker)


def test_the_estimate_comes_from_the_partner_and_is_kept_for_the_booking(
    case_at_sandbox, caseworker, places, sandbox, django_capture_on_commit_callbacks
):
    client = english(caseworker)
    partial = client.post(ESTIMATE, form_data(case_at_sandbox, places), HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert partial.status_code == 200
    estimates = sandbox.control.calls(endpoint="estimates")
    assert len(estimates) == 1
    # only the two coordinates and the passenger count go out for an estimate
    sent = estimates[0]["body"]
    assert set(sent) == {"pickup", "dropoff", "passenger_count"}
    assert set(sent["pickup"]) == {"latitude", "longitude"}
    fare = re.search(r'class="fare">Rp ([0-9.]+)<', body)
    assert fare, body
    assert "a driver in about" in body

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(BOOK, form_data(case_at_sandbox, places))
    assert response.status_code == 302
    ride = Ride.objects.get()
    assert ride.status == RideStatus.REQUESTED
    assert ride.estimate_fare == int(fare.group(1).replace(".", ""))
    assert ride.fare_id and ride.fare_expires_at is not None
    assert ride.product_id == "car"
    assert len(callbacks) == 1
    assert len(sandbox.control.calls(endpoint="estimates")) == 1, "the kept estimate was reused"


def test_booking_without_asking_first_fetches_the_estimate(
    case_at_sandbox, caseworker, places, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        english(caseworker).post(BOOK, form_data(case_at_sandbox, places))
    ride = Ride.objects.get()
    assert ride.status == RideStatus.REQUESTED and ride.estimate_fare > 0
    assert len(sandbox.control.calls(endpoint="estimates")) == 1


def test_the_api_books_with_the_partners_fare(
    case_at_sandbox, caseworker, places, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        response = api(caseworker).post(RIDES, api_body(case_at_sandbox, places), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "requested"
    assert data["fare"]["estimate"] > 0 and data["fare"]["currency"] == "IDR"


def test_a_fare_above_the_ceiling_waits_for_approval(
    case_at_sandbox, caseworker, places, sandbox, settings
):
    settings.BOOKING_FARE_CEILING = 1_000
    response = api(caseworker).post(RIDES, api_body(case_at_sandbox, places), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "awaiting_approval"
    assert response.json()["approval"]["reasons"][0]["code"] == "fare_above_ceiling"


def test_a_partner_that_keeps_failing_is_shown_as_unreachable_at_once(
    case_at_sandbox, caseworker, places, sandbox, settings
):
    settings.PARTNER_BREAKER_MIN_CALLS = 3  # the token and two failed estimates open it
    settings.PARTNER_BREAKER_FAILURE_RATE = 0.6
    sandbox.control.force_fault("estimates", "503", count=10)
    client = english(caseworker)
    messages = []
    for _ in range(3):
        partial = client.post(ESTIMATE, form_data(case_at_sandbox, places), HTTP_HX_REQUEST="true")
        assert partial.status_code == 200
        messages.append(partial.content.decode())
    assert "did not answer properly" in messages[0]
    assert "The partner is unreachable at the moment" in messages[2]
    assert "You can still book" in messages[2]
    # the open circuit spares the partner: the third estimate never left the portal
    assert len(sandbox.control.calls(endpoint="estimates")) == 2
    # what was typed is untouched: the form is not part of the answer
    assert (
        'name="pickup_address"' not in messages[2].split('id="estimate"')[1].split("</section>")[0]
    )
