"""The approval queue as a supervisor decides from it: each card's pickup, drop-off (a
safe house as its meeting point), fare, reasons in words, waiting time and booker; the
reject form's errors with what was typed; the header's count of waiting rides; and the
decision on the booker's ride page at its next refresh (the live partial)."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import AccessLog
from rides.booking.services import ride_book
from rides.models import Ride, RideStatus
from rides.rules import FareQuote
from tests.booking.conftest import HOME_POINT, booking_args
from tests.conftest import logged_in_client

pytestmark = [pytest.mark.django_db]

DEAR = FareQuote("car", 310_000, 60)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def english(user):
    client = logged_in_client(user)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def to_the_safe_house(adult_case, caseworker, places):
    ride = ride_book(
        user=caseworker,
        quote=DEAR,
        **booking_args(adult_case, places, dropoff={"place": places["safe_house"].pk}),
    )
    Ride.objects.filter(pk=ride.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(minutes=42)
    )
    return ride


def test_a_card_says_where_from_where_to_the_fare_why_how_long_and_who_booked(
    to_the_safe_house, caseworker, supervisor
):
    caseworker.first_name, caseworker.last_name = "Sari", "Wulandari"
    caseworker.save()
    body = english(supervisor).get(reverse("rides:approvals")).content.decode()
    card = body[body.index(f'id="approval-{to_the_safe_house.reference}"') :]
    assert HOME_POINT["address"] in card  # the typed pickup
    assert "Meeting point: Halte TransJakarta Cawang" in card
    assert "Rumah Aman Melati" not in body and "Alamat Rumah Aman Melati" not in body
    assert "Rp 310.000" in card
    assert "The estimated fare Rp 310.000 is above the ceiling of Rp 250.000." in card
    # Django writes "42 minutes" with a no-break space
    assert re.search(r"sent for approval <time [^>]+>42\s+minutes ago</time>", card)
    assert "Booked by Sari Wulandari" in card
    # the typed pickup is a protected point: its view is logged
    log = AccessLog.objects.get(user=supervisor)
    assert (log.fields, log.view) == (["ride.pickup"], "rides:approvals")


def test_the_reject_form_keeps_a_too_long_reason_with_its_error(to_the_safe_house, supervisor):
    ride = to_the_safe_house
    typed = "Terlalu mahal. " * 40
    response = english(supervisor).post(
        reverse("rides:reject", kwargs={"reference": ride.reference}),
        {f"r{ride.pk}-reason": typed},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ensure this value has at most 500 characters" in body
    assert typed.strip() in body
    assert Ride.objects.get(pk=ride.pk).status == RideStatus.AWAITING_APPROVAL


def test_the_headers_badge_counts_the_waiting_rides_in_one_query(
    adult_case, caseworker, supervisor, places, django_assert_num_queries
):
    for _n in range(3):
        ride_book(user=caseworker, quote=DEAR, **booking_args(adult_case, places))
    client = english(supervisor)
    url = reverse("rides:approval_badge")
    client.get(url)
    # the session, the user, the count
    with django_assert_num_queries(3):
        response = client.get(url)
    body = response.content.decode()
    assert '<span class="notice-count">3</span>' in body
    assert '<span class="visually-hidden">rides waiting for approval</span>' in body
    assert response["Cache-Control"].startswith("max-age=0")
    page = client.get(reverse("rides:approvals")).content.decode()
    assert f'hx-get="{url}"' in page and "notices-poll from:body" in page


def test_the_bookers_ride_page_shows_the_rejection_and_its_reason_at_its_next_refresh(
    to_the_safe_house, caseworker, supervisor
):
    ride = to_the_safe_house
    live = reverse("rides:live", kwargs={"reference": ride.reference})
    booker = english(caseworker)
    before = booker.get(live).content.decode()
    assert "Waiting for a supervisor's approval." in before
    assert 'hx-trigger="every 3s"' in before  # the page keeps asking
    english(supervisor).post(
        reverse("rides:reject", kwargs={"reference": ride.reference}),
        {f"r{ride.pk}-reason": "Use the office car today."},
    )
    after = booker.get(live).content.decode()
    assert 'data-status="rejected"' in after
    assert "Reason given by the supervisor: Use the office car today." in after
    assert "hx-trigger" not in after  # final: the page stops asking


def test_the_bookers_ride_page_shows_the_approval_at_its_next_refresh(
    adult_case, caseworker, supervisor, places, django_capture_on_commit_callbacks
):
    ride = ride_book(user=caseworker, quote=DEAR, **booking_args(adult_case, places))
    live = reverse("rides:live", kwargs={"reference": ride.reference})
    with django_capture_on_commit_callbacks():
        english(supervisor).post(reverse("rides:approve", kwargs={"reference": ride.reference}))
    after = english(caseworker).get(live).content.decode()
    assert 'data-status="requested"' in after
    assert "Waiting for a supervisor" not in after
    assert 'hx-trigger="every 3s"' in after


def _queue_queries(client) -> int:
    url = reverse("rides:approvals")
    client.get(url)  # the first view of the half hour writes the access log
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_queue_costs_the_same_queries_for_10_and_40_waiting_rides(
    adult_case, caseworker, supervisor, places
):
    client = english(supervisor)
    book = booking_args(adult_case, places, dropoff={"place": places["safe_house"].pk})
    for _n in range(10):
        ride_book(user=caseworker, quote=DEAR, **book)
    few = _queue_queries(client)
    for _n in range(30):
        ride_book(user=caseworker, quote=DEAR, **booking_args(adult_case, places))
    assert _queue_queries(client) == few
    assert client.get(reverse("rides:approvals")).content.decode().count('class="approval"') == 40
    # one case: one row of the typed pickups seen, written once in the half hour
    assert AccessLog.objects.filter(user=supervisor, view="rides:approvals").count() == 1
