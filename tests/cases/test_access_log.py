"""The access log: one row per person, fields and half hour; shown grouped on its own page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import AccessLog
from cases.services import ACCESS_LOG_WINDOW, access_log_record
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _client(user):
    client = logged_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def test_reloading_the_survivor_details_writes_one_row_per_window(case, caseworker):
    client = _client(caseworker)
    url = reverse("cases:survivor", kwargs={"code": case.code})
    for _ in range(5):
        assert client.get(url).status_code == 200
    assert AccessLog.objects.count() == 1
    # other fields shown (the edit form) are a row of their own
    client.get(reverse("cases:edit", kwargs={"code": case.code}))
    assert AccessLog.objects.count() == 2


def test_a_view_after_the_window_is_written_again(case, caseworker):
    AccessLog.objects.create(
        user=caseworker,
        case=case,
        fields=["addresses", "birth_date", "name", "phone"],
        view="cases:survivor",
        at=timezone.now() - ACCESS_LOG_WINDOW - dt.timedelta(minutes=1),
    )
    _client(caseworker).get(reverse("cases:survivor", kwargs={"code": case.code}))
    assert AccessLog.objects.count() == 2


def test_another_person_is_written_within_the_window(case, caseworker, supervisor):
    for user in (caseworker, supervisor, caseworker):
        access_log_record(user=user, case=case, fields=["name"], view="cases:survivor")
    assert sorted(AccessLog.objects.values_list("user__username", flat=True)) == [
        caseworker.username,
        supervisor.username,
    ]


def _log_views(case, user, fields, times):
    for at in times:
        AccessLog.objects.create(user=user, case=case, fields=fields, view="v", at=at)


def test_the_access_log_page_groups_by_person_and_fields(case, caseworker, supervisor):
    now = timezone.now()
    _log_views(
        case,
        caseworker,
        ["ride.dropoff", "ride.escort", "ride.pickup", "ride.rider_phone"],
        [now - dt.timedelta(hours=h) for h in (5, 3, 1)],
    )
    _log_views(case, supervisor, ["name"], [now - dt.timedelta(hours=2)])
    url = reverse("cases:access_log", kwargs={"code": case.code})
    page = _client(supervisor).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # the ride page's fields in words, not field names
    assert "ride.dropoff" not in html
    assert "drop-off address, escort, phone the driver calls, pickup address" in html
    assert "3 views" in html and "1 view" in html
    # the newest first: the caseworker's group was seen last an hour ago
    main = html[html.index("<main") :]
    assert main.index(f"({caseworker.username})") < main.index(f"({supervisor.username})")


def test_the_access_log_page_is_paged(case, supervisor, make_user, unit):
    now = timezone.now()
    for n in range(30):
        user = make_user(unit=unit, username=f"viewer{n:02d}")
        _log_views(case, user, ["name"], [now - dt.timedelta(minutes=n)])
    url = reverse("cases:access_log", kwargs={"code": case.code})
    first = _client(supervisor).get(url).content.decode()
    assert "viewer00" in first and "viewer29" not in first
    second = _client(supervisor).get(url, {"page": 2}).content.decode()
    assert "viewer29" in second and "viewer00" not in second


def test_the_case_page_links_the_log_for_its_supervisor_only(case, caseworker, supervisor):
    _client(caseworker).get(reverse("cases:survivor", kwargs={"code": case.code}))
    detail = reverse("cases:detail", kwargs={"code": case.code})
    log_url = reverse("cases:access_log", kwargs={"code": case.code})
    supervisor_page = _client(supervisor).get(detail).content.decode()
    assert f'href="{log_url}"' in supervisor_page
    # no longer listed inline
    assert "birth date, name, phone" not in supervisor_page
    caseworker_page = _client(caseworker).get(detail).content.decode()
    assert log_url not in caseworker_page
    assert _client(caseworker).get(log_url).status_code == 403
