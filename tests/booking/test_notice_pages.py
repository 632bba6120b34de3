"""The notices a booker reads: the header's badge (an htmx partial), the list, mark read."""

import re

import pytest
from django.urls import reverse

from cases.services import case_unassign
from rides.booking.services import ride_approve, ride_book, ride_reject
from rides.models import Notice
from rides.rules import FareQuote
from tests.booking.conftest import booking_args
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db

EXPENSIVE = FareQuote("car", 400_000, 600)  # above the ceiling: waits for a supervisor

BADGE = reverse("rides:notice_badge")
LIST = reverse("rides:notices")
READ = reverse("rides:notices_read")


@pytest.fixture
def decided(adult_case, caseworker, supervisor, places):
    """Three rides of the caseworker decided by the supervisor: approved, rejected, approved
    (three notices for the caseworker, oldest first)."""

    def book():
        return ride_book(user=caseworker, quote=EXPENSIVE, **booking_args(adult_case, places))

    rides = [book(), book(), book()]
    ride_approve(ride_id=rides[0].pk, user=supervisor)
    ride_reject(ride_id=rides[1].pk, user=supervisor, reason="Terlalu mahal")
    ride_approve(ride_id=rides[2].pk, user=supervisor)
    return rides


def htmx(client, url):
    return client.get(url, headers={"HX-Request": "true"})


def count_in(response) -> str:
    found = re.search(r'<span class="notice-count">([^<]+)</span>', response.content.decode())
    return found.group(1) if found else ""


def test_every_page_has_the_badge_that_polls_a_small_partial(decided, caseworker):
    client = logged_in_client(caseworker)
    home = client.get(reverse("home")).content.decode()
    assert f'hx-get="{BADGE}"' in home and "notices-poll from:body" in home
    assert "js/notices.js" in home
    response = htmx(client, BADGE)
    assert response.status_code == 200
    assert count_in(response) == "3"
    assert "<html" not in response.content.decode()  # the badge alone
    assert "no-cache" in response["Cache-Control"]


def test_the_list_is_newest_first_links_each_ride_and_says_it_in_the_readers_language(
    decided, caseworker
):
    client = logged_in_client(caseworker)
    body = client.get(LIST).content.decode()
    links = re.findall(r'<a href="/rides/(R[A-Z0-9]+)/">', body)
    assert links == [decided[2].reference, decided[1].reference, decided[0].reference]
    assert f"Ride {decided[0].reference} was approved" in body
    client.cookies["django_language"] = "id"
    body = client.get(LIST).content.decode()
    assert f"Perjalanan {decided[0].reference} disetujui" in body
    assert "Tandai semua 3 pemberitahuan sebagai sudah dibaca" in body


def test_mark_all_read_clears_the_badge_but_not_what_came_later(
    decided, adult_case, caseworker, supervisor, places
):
    client = logged_in_client(caseworker)
    page = client.get(LIST).content.decode()
    (up_to,) = re.findall(r'name="up_to" value="(\d+)"', page)
    later = ride_book(user=caseworker, quote=EXPENSIVE, **booking_args(adult_case, places))
    ride_approve(ride_id=later.pk, user=supervisor)  # arrives after the page was shown
    response = client.post(READ, {"up_to": up_to})
    assert response.status_code == 302 and response["Location"] == LIST
    assert count_in(htmx(client, BADGE)) == "1"
    assert Notice.objects.filter(user=caseworker, read_at__isnull=True).get().ride == later
    client.post(READ)
    assert count_in(htmx(client, BADGE)) == ""
    assert "Mark all" not in client.get(LIST).content.decode()


def test_nobody_else_sees_them(decided, caseworker, supervisor, caseworker_other_unit):
    assert count_in(htmx(logged_in_client(supervisor), BADGE)) == ""  # their own decisions
    other = logged_in_client(caseworker_other_unit)
    assert count_in(htmx(other, BADGE)) == ""
    body = other.get(LIST).content.decode()
    assert decided[0].reference not in body and "No notices yet." in body
    other.post(READ)
    assert Notice.objects.filter(user=caseworker, read_at__isnull=True).count() == 3


def test_a_caseworker_taken_off_the_case_stops_hearing_of_its_rides(
    decided, adult_case, caseworker, supervisor
):
    case_unassign(user=supervisor, case=adult_case, caseworker=caseworker)
    client = logged_in_client(caseworker)
    assert count_in(htmx(client, BADGE)) == ""
    assert decided[0].reference not in client.get(LIST).content.decode()


def test_the_list_is_paged_and_the_badge_stops_counting_at_99(decided, caseworker, monkeypatch):
    monkeypatch.setattr("rides.notices.NOTICES_PAGE_SIZE", 2)
    client = logged_in_client(caseworker)
    body = client.get(LIST).content.decode()
    assert len(re.findall(r'class="notice-item', body)) == 2
    (link,) = re.findall(r'href="\?([^"]+)" rel="next"', body)
    second = client.get(LIST + "?" + link).content.decode()
    assert re.findall(r'<a href="/rides/(R[A-Z0-9]+)/">', second) == [decided[0].reference]
    monkeypatch.setattr("rides.notices.BADGE_MAX", 2)
    assert count_in(htmx(client, BADGE)) == "2+"


def test_admins_have_no_notices(admin_user):
    client = logged_in_client(admin_user)
    assert client.get(BADGE).status_code == 403
    assert client.get(LIST).status_code == 403
    assert "notice-badge" not in client.get(reverse("home")).content.decode()
