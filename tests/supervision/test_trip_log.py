"""The trip log page: what each supervisor sees, every filter, the errors of wrong
filters, keyset paging and its query count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rides.models import Alert, AlertKind, Ride, RideStatus
from tests.conftest import logged_in_client
from tests.supervision.conftest import PICKUP, SURVIVOR

pytestmark = pytest.mark.django_db

URL = reverse("supervision:trip_log")


def references(response) -> list[str]:
    return re.findall(r'href="/supervision/trips/(R[A-Z0-9]+)/"', response.content.decode())


def on_day(ride: Ride, day: dt.date, hour: int = 10) -> None:
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    Ride.objects.filter(pk=ride.pk).update(created_at=at)


def test_a_supervisor_sees_the_units_rides_the_centre_every_units(people, make_ride):
    east, south = make_ride("east"), make_ride("south")
    shown = references(logged_in_client(people["east_supervisor"]).get(URL))
    assert shown == [east.reference]
    shown = references(logged_in_client(people["centre_supervisor"]).get(URL))
    assert shown == [south.reference, east.reference]  # newest booked first


def test_the_list_shows_no_survivor_data(people, make_ride):
    make_ride("east")
    html = logged_in_client(people["east_supervisor"]).get(URL).content.decode()
    assert SURVIVOR not in html
    assert PICKUP["address"] not in html and "+6281234567890" not in html
    assert "Sari Wulandari" in html  # the booker
    assert "Rp 48.000" in html  # the fare, the Indonesian way


def test_every_filter(people, make_ride, accounts, other_unit):
    today = timezone.localdate()
    old = make_ride("east", purpose="court_hearing")
    on_day(old, today - dt.timedelta(days=10))
    cancelled = make_ride("east", status=RideStatus.CANCELLED, partner_account=accounts[1])
    flagged = make_ride("east", purpose="police_report")
    Alert.objects.create(unit=flagged.unit, ride=flagged, kind=AlertKind.NO_DRIVER_YET, message="x")
    by_supervisor = make_ride("east", booked_by=people["east_supervisor"])
    south = make_ride("south")
    client = logged_in_client(people["centre_supervisor"])

    def shown(**query):
        response = client.get(URL, query)
        assert response.status_code == 200, response.content
        return set(references(response))

    day = (today - dt.timedelta(days=10)).isoformat()
    assert shown(date_from=day, date_to=day) == {old.reference}
    assert old.reference not in shown(date_from=(today - dt.timedelta(days=9)).isoformat())
    assert shown(unit=other_unit.pk) == {south.reference}
    assert shown(booked_by=people["east_supervisor"].pk) == {by_supervisor.reference}
    assert shown(purpose="court_hearing") == {old.reference}
    assert shown(status="cancelled") == {cancelled.reference}
    assert shown(partner_account=accounts[1].pk) == {cancelled.reference}
    assert shown(flagged="yes") == {flagged.reference}
    assert flagged.reference not in shown(flagged="no")
    assert shown(flagged="no", purpose="police_report") == set()


def test_the_unit_filter_is_the_centres_only(people, make_ride, other_unit):
    make_ride("south")
    client = logged_in_client(people["east_supervisor"])
    response = client.get(URL, {"unit": other_unit.pk})
    assert 'name="unit"' not in response.content.decode()
    assert references(response) == []  # another unit's rides never show
    assert 'name="unit"' in logged_in_client(people["centre_supervisor"]).get(URL).content.decode()


def _booker_options(html: str) -> set[str]:
    select = re.search(r'<select name="booked_by".*?</select>', html, re.S).group(0)
    return set(re.findall(r'<option value="(\d+)"', select))


def test_over_every_unit_the_bookers_listed_are_the_chosen_units(people, make_ride, other_unit):
    """The centre's list would hold every booker in the country: it lists the chosen
    unit's people and the chosen person; any overseen booker is still accepted."""
    south = make_ride("south")
    client = logged_in_client(people["centre_supervisor"])
    html = client.get(URL).content.decode()
    assert _booker_options(html) == set()
    assert "Choose a unit and show its rides to list its people here." in html
    south_people = {str(people[k].pk) for k in ("south_caseworker", "south_supervisor")}
    assert _booker_options(client.get(URL, {"unit": other_unit.pk}).content.decode()) == (
        south_people
    )
    response = client.get(URL, {"booked_by": people["south_caseworker"].pk})
    assert references(response) == [south.reference]
    assert _booker_options(response.content.decode()) == {str(people["south_caseworker"].pk)}
    # A unit's own supervisor still sees every booker of the unit listed.
    html = logged_in_client(people["east_supervisor"]).get(URL).content.decode()
    assert _booker_options(html) == {
        str(people[k].pk) for k in ("east_caseworker", "east_supervisor")
    }


def test_wrong_filters_are_all_shown_at_once_and_keep_what_was_typed(people, make_ride):
    make_ride("east")
    response = logged_in_client(people["east_supervisor"]).get(
        URL,
        {
            "date_from": "2026-13-45",
            "booked_by": "999999",
            "status": "lost",
            "purpose": "holiday",
            "partner_account": "x",
            "flagged": "maybe",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    for message in (
        "Enter a date as year-month-day.",
        "Choose a person from the list.",
        "Choose a status from the list.",
        "Choose a purpose from the list.",
        "Choose a partner account from the list.",
        "Choose one of the alert options.",
    ):
        assert message in html
    assert 'value="2026-13-45"' in html
    assert references(response) == []


def test_an_end_before_the_start_is_an_error(people):
    response = logged_in_client(people["east_supervisor"]).get(
        URL, {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_pages_follow_by_keyset_without_offset_and_keep_the_filters(people, many_rides):
    many_rides(60, purpose="counselling")
    many_rides(5, purpose="other")
    client = logged_in_client(people["east_supervisor"])
    seen, query = [], {"purpose": "counselling"}
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = client.get(URL, query)
            seen += references(response)
            found = re.search(r'href="\?([^"]*after=[^"]*)" rel="next"', response.content.decode())
            if not found:
                break
            query = found.group(1).replace("&amp;", "&")
            assert "purpose=counselling" in query
            query = dict(part.split("=", 1) for part in query.split("&"))
    assert len(seen) == 60 == len(set(seen))
    expected = Ride.objects.filter(purpose="counselling").order_by("-created_at", "-id")
    assert seen == list(expected.values_list("reference", flat=True))
    assert not [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"].upper()]


def _queries_for(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["east_supervisor", "centre_supervisor"])
def test_the_query_count_is_the_same_for_10_and_1000_rides(people, many_rides, who):
    many_rides(10)
    client = logged_in_client(people[who])
    few = _queries_for(client)
    many_rides(990)
    Alert.objects.create(
        unit=Ride.objects.first().unit, ride=Ride.objects.first(), kind="no_progress", message="x"
    )
    assert Ride.objects.count() == 1000
    assert _queries_for(client) == few


def test_caseworkers_and_admins_are_refused(people, admin_user):
    assert logged_in_client(people["east_caseworker"]).get(URL).status_code == 403
    assert logged_in_client(admin_user).get(URL).status_code == 403
