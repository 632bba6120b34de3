"""The admins' audit page: filters, newest first, keyset pages, a query count that does
not grow with the rows, no case contents; and its streamed, neutralised CSV export."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent, Kind
from audit.services import audit_change, audit_record
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db

PAGE = reverse("audit:events")
EXPORT = reverse("audit:export_csv")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def admin_client(admin_user):
    client = logged_in_client(admin_user)
    client.cookies["django_language"] = "en"
    return client


def _events(n: int, **fields):
    for i in range(n):
        audit_change(action="edited", object_type="case", object_id=f"JKT-2026-{i:06d}", **fields)


def _object_ids(html: str) -> list[str]:
    return re.findall(r'<code translate="no" class="object-id">(JKT-2026-\d{6})</code>', html)


def test_newest_first_in_pages_of_fifty_without_gaps_or_repeats(admin_client):
    _events(120)
    seen, url = [], PAGE + "?kind=change&object_type=case"
    while url:
        response = admin_client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        page = _object_ids(html)
        assert len(page) in (50, 20)
        seen += page
        found = re.search(r'href="\?([^"]*after=[^"]*)" rel="next"', html)
        url = PAGE + "?" + found.group(1).replace("&amp;", "&") if found else None
        if url:
            assert "kind=change" in url and "object_type=case" in url  # the filters are kept
    assert seen == [f"JKT-2026-{i:06d}" for i in reversed(range(120))]


def test_the_query_count_does_not_grow_with_the_rows(admin_client):
    _events(5)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(PAGE).status_code == 200
    _events(80)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(PAGE).status_code == 200
    assert len(few) == len(many), [q["sql"] for q in many.captured_queries]


def test_the_filters_kind_username_object_and_dates(admin_client, caseworker, supervisor):
    audit_change(action="edited", object_type="case", object_id="JKT-2026-000001", actor=caseworker)
    audit_change(action="edited", object_type="case", object_id="JKT-2026-000002", actor=supervisor)
    audit_record(Kind.DENIED, actor=caseworker, object_id="cases:detail")
    # forty days ago (an event's time is never changed: this one is written so)
    AuditEvent.objects.create(
        kind=Kind.CHANGE,
        action="edited",
        object_type="case",
        object_id="JKT-2025-000010",
        at=timezone.now() - dt.timedelta(days=40),
    )

    def shown(query):
        html = admin_client.get(PAGE + query).content.decode()
        return re.findall(r'<code translate="no" class="object-id">([\w:-]+)</code>', html)

    assert shown("?kind=denied") == ["cases:detail"]
    by_caseworker = shown("?actor=caseworker1")
    assert "JKT-2026-000001" in by_caseworker and "JKT-2026-000002" not in by_caseworker
    assert "cases:detail" in by_caseworker
    assert "JKT-2026-000002" in shown("?object_type=case&object_id=jkt-2026-000002")
    assert "JKT-2026-000001" not in shown("?object_type=case&object_id=jkt-2026-000002")
    today = timezone.localdate().isoformat()
    recent = shown(f"?date_from={today}&date_to={today}")
    assert "JKT-2026-000001" in recent and "JKT-2025-000010" not in recent
    long_ago = (timezone.localdate() - dt.timedelta(days=40)).isoformat()
    assert shown(f"?date_from={long_ago}&date_to={long_ago}") == ["JKT-2025-000010"]


def test_wrong_filters_are_shown_at_once_and_kept(admin_client):
    response = admin_client.get(PAGE + "?date_from=kemarin&date_to=2026-01-01&kind=nothing")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a date as year-month-day." in html
    assert "Select a valid choice" in html
    assert 'value="kemarin"' in html


def test_no_case_contents_only_codes(admin_client, case, caseworker):
    logged_in_client(caseworker).get(
        reverse("cases:survivor", kwargs={"code": case.code}), HTTP_HX_REQUEST="true"
    )
    html = admin_client.get(PAGE).content.decode()
    assert case.code in html
    assert "Siti" not in html and "3456" not in html


def test_only_admins_see_the_page_and_a_try_is_recorded(caseworker, supervisor):
    for user in (caseworker, supervisor):
        assert logged_in_client(user).get(PAGE).status_code == 403
        assert logged_in_client(user).get(EXPORT).status_code == 403
    assert AuditEvent.objects.filter(kind=Kind.DENIED, path=PAGE).count() == 2
    assert Client().get(PAGE).status_code == 302


def test_the_export_is_streamed_filtered_neutralised_and_itself_recorded(admin_client, admin_user):
    Client().post(reverse("login"), {"username": '=HYPERLINK("http://x")', "password": "pw"})
    _events(3)
    response = admin_client.get(EXPORT + "?kind=login_failed")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="jejak-audit-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["When", "Kind", "Action", "Username"]
    assert [row[3] for row in rows[1:]] == ['\'=HYPERLINK("http://x")']
    export = AuditEvent.objects.get(kind=Kind.EXPORT)
    assert (export.actor, export.action, export.path) == (admin_user, "audit_csv", EXPORT)
    everything = admin_client.get(EXPORT)
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))
    assert {row[1] for row in rows[1:]} >= {"Failed login", "Data changed", "Export"}
