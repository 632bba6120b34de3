"""The trip log in words: who or what changed the ride and why, in the reader's language,
from the codes stored on each row (rows written before the change read well too)."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from rides.booking.services import ride_book
from rides.models import Cause, RideStatus, TripEvent
from tests.booking.conftest import CHEAP, booking_args
from tests.conftest import logged_in_client

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _language_restored():
    """Pages asked for in Indonesian leave the thread's language as it was."""
    with translation.override("en"):
        yield


def _trip_log(user, ride, language) -> str:
    client = logged_in_client(user)
    client.cookies["django_language"] = language
    html = client.get(reverse("rides:detail", kwargs={"reference": ride.reference})).content
    log = re.search(r'<ol class="timeline">(.*?)</ol>', html.decode(), re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", log))


def _event(ride, cause, new_status, note="", actor=None):
    TripEvent.objects.create(ride=ride, cause=cause, new_status=new_status, note=note, actor=actor)


@pytest.fixture
def ride(adult_case, caseworker, places):
    caseworker.first_name = "Sari"
    caseworker.save()
    return ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))


def test_the_booking_row_says_who_booked_it(ride, caseworker):
    text = _trip_log(caseworker, ride, "id")
    assert "dipesan oleh Sari" in text
    assert "booked" not in text and "a person" not in text
    english = _trip_log(caseworker, ride, "en")
    assert "booked by Sari" in english


def test_machine_causes_and_stored_codes_read_as_sentences(ride, caseworker, supervisor):
    supervisor.first_name = "Budi"
    supervisor.save()
    _event(ride, Cause.USER, RideStatus.REQUESTED, "approved", actor=supervisor)
    _event(ride, Cause.DISPATCH, RideStatus.REQUESTED, "retry: ReadTimeout('timed out')")
    _event(ride, Cause.SWEEPER, RideStatus.DISPATCH_UNKNOWN, "dispatch lease expired")
    _event(ride, Cause.WEBHOOK, RideStatus.SEARCHING)
    _event(ride, Cause.POLL, RideStatus.DRIVER_ASSIGNED)
    _event(ride, Cause.USER, RideStatus.CANCELLED, "rebooked from R-2026-000001", actor=caseworker)
    text = _trip_log(caseworker, ride, "id")
    for technical in (
        "approved",
        "retry",
        "ReadTimeout",
        "lease",
        "webhook",
        "polling",
        "sweeper",
        "pengiriman",
        "rebooked",
    ):
        assert technical not in text, technical
    assert "disetujui oleh Budi" in text
    assert "pembaruan dari mitra" in text
    assert "pemeriksaan otomatis" in text
    assert "R-2026-000001" in text
