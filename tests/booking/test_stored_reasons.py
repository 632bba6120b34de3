"""A ride's status reason is stored in its writer's language; it reads in the reader's
(rides/models/stored_texts.py): the portal's own texts, with their values, through the
catalogue; a person's words as they were typed."""

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from rides.booking.services import ride_book, ride_reject
from rides.models import Cause, RideStatus
from rides.pipeline.cancel import ride_cancel
from rides.pipeline.common import hold, locked_ride, unreachable_reason
from rides.rules import FareQuote
from tests.booking.conftest import CHEAP, booking_args

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _writers_language():
    """The reasons are written in English; each test reads them in another language."""
    with translation.override("en"):
        yield


def _unreachable(ride):
    with transaction.atomic():
        locked = locked_ride(ride.pk)
        locked.apply_transition(RideStatus.DISPATCHING, cause=Cause.DISPATCH)
        hold(locked, unreachable_reason(locked, timezone.now()), code="ConnectError")
    ride.refresh_from_db()
    return ride


def test_a_reason_with_values_reads_in_indonesian(adult_case, caseworker, places):
    ride = _unreachable(ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places)))
    assert ride.status_reason.startswith("The partner could not be reached for 1 minute.")
    with translation.override("id"):
        assert ride.status_reason_text == (
            "Mitra tidak dapat dihubungi selama 1 menit. Coba lagi, atau pesan dengan cara lain."
        )
    assert ride.status_reason_text == ride.status_reason  # an English reader: as written


def test_the_name_in_a_cancellation_is_kept(adult_case, caseworker, places):
    caseworker.first_name, caseworker.last_name = "Sari", "Wulandari"
    caseworker.save()
    ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    ride = ride_cancel(ride_id=ride.pk, user=caseworker)
    assert ride.status_reason == "Cancelled by Sari Wulandari."
    with translation.override("id"):
        assert ride.status_reason_text == "Dibatalkan oleh Sari Wulandari."


def test_words_a_person_typed_are_shown_as_typed(adult_case, caseworker, supervisor, places):
    dear = FareQuote(product_id="car", fare_amount=410_000, pickup_eta_seconds=300)
    ride = ride_book(user=caseworker, quote=dear, **booking_args(adult_case, places))
    typed = "The fare is too high; use the office car."
    ride = ride_reject(ride_id=ride.pk, user=supervisor, reason=typed)
    with translation.override("id"):
        assert ride.status_reason_text == typed


def test_the_api_gives_the_reason_in_the_callers_language(adult_case, caseworker, places):
    ride = _unreachable(ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places)))
    client = APIClient(HTTP_ACCEPT_LANGUAGE="id")
    client.force_login(caseworker)
    answer = client.get(reverse("api:ride-detail", kwargs={"reference": ride.reference}))
    assert answer.status_code == 200
    assert answer.json()["status_reason"].startswith("Mitra tidak dapat dihubungi selama 1 menit")
