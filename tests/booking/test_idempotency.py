"""`Idempotency-Key` on every creating POST of API v1: the same key with the same body
answers what the first request answered and creates nothing more; the same key with another
body is a 422; keys are kept 24 hours, per caller."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.models import IdempotentRequest
from cases.models import Case, Consent
from portal.idempotency import idempotency_keys_prune
from rides.models import Ride
from tests.booking.conftest import HOME_POINT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _ride(case, places):
    return {
        "case": case.code,
        "purpose": "medical_exam",
        "pickup": dict(HOME_POINT),
        "dropoff": {"place": places["hospital"].pk},
        "passenger_count": 1,
    }


def test_the_same_key_twice_books_one_ride_and_answers_the_same(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    client = _api(caseworker)
    with django_capture_on_commit_callbacks():
        first = client.post(
            "/api/v1/rides/", _ride(adult_case, places), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        second = client.post(
            "/api/v1/rides/", _ride(adult_case, places), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
    assert first.status_code == 201, first.json()
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Ride.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422_and_creates_nothing(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    client = _api(caseworker)
    with django_capture_on_commit_callbacks():
        client.post(
            "/api/v1/rides/", _ride(adult_case, places), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
        )
        other = client.post(
            "/api/v1/rides/",
            {**_ride(adult_case, places), "passenger_count": 2},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k-2",
        )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()
    assert Ride.objects.count() == 1


def test_without_a_key_each_post_creates(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    client = _api(caseworker)
    with django_capture_on_commit_callbacks():
        for _ in range(2):
            client.post("/api/v1/rides/", _ride(adult_case, places), format="json")
    assert Ride.objects.count() == 2


def test_cases_and_consents_honour_the_key_and_keys_are_per_caller(caseworker, make_user, unit):
    case_body = {
        "survivor": {"name": "Rina", "phone": "0812-3456-7890"},
        "violence_types": ["physical"],
        "stage": "intake",
    }
    client = _api(caseworker)
    first = client.post("/api/v1/cases/", case_body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    again = client.post("/api/v1/cases/", case_body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == 201, first.json()
    assert again.json() == first.json()
    assert Case.objects.count() == 1
    code = first.json()["code"]
    consent = {"given_by": "survivor", "scopes": ["transport"]}
    for _ in range(2):
        answer = client.post(
            f"/api/v1/cases/{code}/consents/", consent, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert answer.status_code == 201
    assert Consent.objects.count() == 1
    colleague = make_user(unit=unit)
    _api(colleague).post("/api/v1/cases/", case_body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert Case.objects.count() == 2


def test_a_key_is_kept_24_hours(caseworker):
    body = {"survivor": {"name": "Rina"}, "violence_types": ["physical"], "stage": "intake"}
    client = _api(caseworker)
    client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotentRequest.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert idempotency_keys_prune() == 1
    client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert Case.objects.count() == 2


def test_a_key_too_long_is_a_field_error(caseworker):
    body = {"survivor": {"name": "Rina"}, "violence_types": ["physical"], "stage": "intake"}
    answer = _api(caseworker).post(
        "/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300
    )
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()
    assert not Case.objects.exists()
