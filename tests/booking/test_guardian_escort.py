"""A case with a guardian: the booking page offers the guardian as the escort (one choice
filling the escort's name and phone; another escort may still be typed). The guardian's
name never reaches the partner, a log or a broker message; their phone only as the
rider's phone the allow-list permits."""

import json
import logging

import pytest
from django.urls import reverse
from django.utils import translation

from cases.models import AccessLog, Survivor
from rides.models import Ride
from rides.pipeline.payload import build_trip_request
from tests.booking.test_pages import english, form_data

pytestmark = [pytest.mark.django_db]

BOOK = reverse("rides:book")
GUARDIAN_NAME = "Ttguardianqz Rahmawati"
GUARDIAN_E164 = "+6281322224444"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def guarded_child_case(child_case):
    Survivor.objects.filter(case=child_case).update(
        guardian_name=GUARDIAN_NAME, guardian_phone=GUARDIAN_E164, guardian_relation="mother"
    )
    child_case.survivor.refresh_from_db()
    return child_case


def test_the_booking_page_offers_the_guardian_as_the_escort(guarded_child_case, caseworker):
    body = english(caseworker).get(BOOK, {"case": guarded_child_case.code}).content.decode()
    assert f"The guardian: {GUARDIAN_NAME} (Mother), {GUARDIAN_E164}" in body
    assert 'name="escort_from" value="guardian"' in body
    assert f'value="{GUARDIAN_NAME}"' in body  # the escort's name filled in
    assert "guardian" in AccessLog.objects.get(view="rides:book").fields


def test_no_offer_without_a_guardian(child_case, caseworker):
    body = english(caseworker).get(BOOK, {"case": child_case.code}).content.decode()
    assert 'name="escort_from"' not in body
    assert not AccessLog.objects.filter(fields__contains=["guardian"]).exists()


def test_choosing_the_guardian_books_them_as_the_escort_and_only_their_phone_leaves(
    guarded_child_case, caseworker, places, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    data = form_data(guarded_child_case, places, passenger_count="2", escort_from="guardian")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = english(caseworker).post(BOOK, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    ride = Ride.objects.get()
    assert (ride.escort_name, ride.escort_phone, ride.rider_phone) == (
        GUARDIAN_NAME,
        GUARDIAN_E164,
        GUARDIAN_E164,
    )
    sent = json.dumps(build_trip_request(ride))
    assert "Ttguardianqz" not in sent and "Rahmawati" not in sent
    assert sent.count(GUARDIAN_E164) == 1
    assert build_trip_request(ride)["rider"]["phone_number"] == GUARDIAN_E164
    assert "Ttguardianqz" not in caplog.text and "81322224444" not in caplog.text
    # what is enqueued on commit carries the ride's id, nothing of the guardian
    for callback in callbacks:
        described = repr(getattr(callback, "__closure__", None)) + repr(callback)
        assert "Ttguardianqz" not in described and "81322224444" not in described


def test_another_escort_may_still_be_typed(guarded_child_case, caseworker, places):
    data = form_data(
        guarded_child_case,
        places,
        passenger_count="2",
        escort_from="typed",
        escort_name="Bu Wati",
        escort_phone="0857 1234 5678",
    )
    assert english(caseworker).post(BOOK, data).status_code == 302
    ride = Ride.objects.get()
    assert (ride.escort_name, ride.rider_phone) == ("Bu Wati", "+6285712345678")


def test_the_escort_rule_still_holds_with_a_guardian(guarded_child_case, caseworker, places):
    data = form_data(guarded_child_case, places, passenger_count="2", escort_from="typed")
    body = english(caseworker).post(BOOK, data).content.decode()
    assert "A child travels with an escort" in body
    assert not Ride.objects.exists()
