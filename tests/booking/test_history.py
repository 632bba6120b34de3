"""The ride history: who sees which rides, the filters, keyset paging, bad input."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from rides.models import Ride, RideStatus
from rides.selectors import rides_history_page
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db

S = RideStatus
URL = reverse("rides:history")


@pytest.fixture
def make_rides(places, partner_account_db):
    """make_rides(case, n, booked_by=…, **fields) -> n rides of the case (newest last)."""

    def make(case, n=1, *, booked_by=None, **fields):
        rides = []
        for _ in range(n):
            values = {
                "case": case,
                "unit": case.unit,
                "partner_account": partner_account_db,
                "booked_by": booked_by or case.assigned_caseworkers.first(),
                "purpose": "medical_exam",
                "pickup": {"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Pemuda 10"},
                "dropoff": {"latitude": -6.2697, "longitude": 106.866, "address": "RS Polri"},
                "rider_phone": "+6281234567890",
                "rider_alias": "Penumpang 1234",
                "status": S.COMPLETED,
            }
            values.update(fields)
            rides.append(Ride.objects.create(**values))
        return rides

    return make


def booked_on(rides, when):
    Ride.objects.filter(pk__in=[r.pk for r in rides]).update(created_at=when)


def shown(response) -> list[str]:
    return re.findall(r"<small>(R[A-Z0-9]{15}) ·", response.content.decode())


def test_each_sees_the_rides_they_may_see_newest_first(
    make_case, make_rides, caseworker, supervisor, make_user, unit, caseworker_other_unit
):
    colleague = make_user(Role.CASEWORKER, unit)
    mine = make_rides(make_case(caseworker), 2)
    theirs = make_rides(make_case(colleague), 1)
    elsewhere = make_rides(make_case(caseworker_other_unit), 1)
    old = make_rides(make_case(caseworker), 1)
    booked_on(old, timezone.now() - dt.timedelta(days=400))
    response = logged_in_client(caseworker).get(URL)
    assert response.status_code == 200
    assert shown(response) == [mine[1].reference, mine[0].reference, old[0].reference]
    response = logged_in_client(supervisor).get(URL)
    assert shown(response) == [
        theirs[0].reference,
        mine[1].reference,
        mine[0].reference,
        old[0].reference,
    ]
    assert elsewhere[0].reference not in response.content.decode()
    # filtering by another unit's case or reference finds nothing either
    for query in ({"case": elsewhere[0].case.code}, {"reference": elsewhere[0].reference}):
        response = logged_in_client(supervisor).get(URL, query)
        assert shown(response) == []
        assert "No ride matches these filters." in response.content.decode()


def test_the_filters_narrow_the_list(make_case, make_rides, caseworker):
    first, second = make_case(caseworker), make_case(caseworker)
    a, b = make_rides(first, 2)
    (c,) = make_rides(second, 1, status=S.CANCELLED)
    jakarta = timezone.get_current_timezone()
    # 23:30 Jakarta on 1 March is still 1 March (16:30 UTC)
    booked_on([a], dt.datetime(2026, 3, 1, 23, 30, tzinfo=jakarta))
    booked_on([b], dt.datetime(2026, 3, 2, 0, 15, tzinfo=jakarta))
    booked_on([c], dt.datetime(2026, 3, 5, 9, 0, tzinfo=jakarta))
    client = logged_in_client(caseworker)

    def found(**query):
        response = client.get(URL, query)
        assert response.status_code == 200, response.content.decode()
        return set(shown(response))

    assert found(case=second.code.lower()) == {c.reference}
    assert found(reference=a.reference[:10].lower()) == {a.reference}
    assert found(date_from="2026-03-01", date_to="2026-03-01") == {a.reference}
    assert found(date_from="2026-03-02") == {b.reference, c.reference}
    assert found(date_to="2026-03-02") == {a.reference, b.reference}
    assert found(status=S.CANCELLED) == {c.reference}
    assert found(case=first.code, status=S.COMPLETED, date_from="2026-03-02") == {b.reference}


def test_keyset_pages_have_no_duplicates_or_gaps_with_equal_timestamps(
    make_case, make_rides, caseworker
):
    case = make_case(caseworker)
    rides = make_rides(case, 7)
    same = timezone.now() - dt.timedelta(hours=1)
    booked_on(rides[1:6], same)  # five rides booked in the same microsecond
    expected = [r.reference for r in sorted(rides, key=lambda r: (-_created(r), -r.pk))]
    seen, pages, after = [], [], None
    while True:
        page = rides_history_page(caseworker, after=after, size=3)
        pages.append(page)
        seen += [r.reference for r in page.rows]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == expected
    assert [len(p.rows) for p in pages] == [3, 3, 1]
    assert pages[0].previous_cursor is None
    # and back again from the last page: the same pages
    back = rides_history_page(caseworker, before=pages[2].previous_cursor, size=3)
    assert [r.reference for r in back.rows] == [r.reference for r in pages[1].rows]
    first = rides_history_page(caseworker, before=back.previous_cursor, size=3)
    assert [r.reference for r in first.rows] == [r.reference for r in pages[0].rows]
    assert first.previous_cursor is None


def _created(ride):
    return Ride.objects.get(pk=ride.pk).created_at.timestamp()


def test_next_and_previous_links_keep_the_filters(make_case, make_rides, caseworker, monkeypatch):
    monkeypatch.setattr("rides.selectors.HISTORY_PAGE_SIZE", 2)
    case = make_case(caseworker)
    make_rides(case, 3, status=S.CANCELLED)
    make_rides(case, 2)  # completed: filtered out
    client = logged_in_client(caseworker)
    response = client.get(URL, {"status": S.CANCELLED, "case": case.code})
    body = response.content.decode()
    assert len(shown(response)) == 2 and 'rel="prev"' not in body
    (link,) = re.findall(r'href="\?([^"]+)" rel="next"', body)
    link = link.replace("&amp;", "&")
    assert "status=cancelled" in link and f"case={case.code}" in link and "after=" in link
    second = client.get(URL + "?" + link)
    assert len(shown(second)) == 1 and 'rel="next"' not in second.content.decode()
    assert set(shown(second)).isdisjoint(shown(response))
    (back,) = re.findall(r'href="\?([^"]+)" rel="prev"', second.content.decode())
    assert "status=cancelled" in back.replace("&amp;", "&")
    assert shown(client.get(URL + "?" + back.replace("&amp;", "&"))) == shown(response)


@pytest.mark.parametrize(
    ("language", "range_message", "date_message"),
    [
        ("en", "The end date is before the start date.", "Enter a date as year-month-day."),
        (
            "id",
            "Tanggal akhir lebih awal dari tanggal awal.",
            "Isi tanggal sebagai tahun-bulan-hari.",
        ),
    ],
)
def test_bad_filters_show_every_error_at_once_and_keep_what_was_typed(
    make_case, make_rides, caseworker, language, range_message, date_message
):
    make_rides(make_case(caseworker), 1)
    client = logged_in_client(caseworker)
    client.cookies["django_language"] = language
    response = client.get(
        URL, {"date_from": "2026-03-05", "date_to": "2026-03-01", "reference": "xyz!"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert range_message in body
    assert 'value="xyz!"' in body and 'value="2026-03-05"' in body and 'value="2026-03-01"' in body
    assert 'aria-invalid="true"' in body
    assert body.count('aria-invalid="true"') == 2  # the reference and the end date
    assert shown(response) == []  # no list under a wrong filter
    response = client.get(URL, {"date_from": "abc", "status": "nonsense"})
    body = response.content.decode()
    assert response.status_code == 400
    assert date_message in body and body.count('aria-invalid="true"') == 2


def test_a_cursor_that_is_not_one_gives_the_first_page(make_case, make_rides, caseworker):
    make_rides(make_case(caseworker), 2)
    client = logged_in_client(caseworker)
    for cursor in ("abc", "1.2.3", "-99999999999999999999.1", "5.x"):
        response = client.get(URL, {"after": cursor})
        assert response.status_code == 200 and len(shown(response)) == 2


def test_the_history_is_linked_from_home_and_the_header(caseworker, admin_user):
    home = logged_in_client(caseworker).get(reverse("home")).content.decode()
    assert home.count(f'href="{URL}"') == 2  # the header and the home page's actions
    assert logged_in_client(admin_user).get(URL).status_code == 403
