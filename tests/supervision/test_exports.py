"""The trip log's exports: the CSV streamed from a server-side cursor, the XLSX, both with
the page's filters, non-personal columns only, formula-like text neutralised."""

from __future__ import annotations

import csv
import inspect
import io
import re
import zipfile

import pytest
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.models import PartnerAccount
from rides.models import Ride, RideStatus
from supervision.triplog.exports import ExportColumns, csv_lines
from tests.conftest import logged_in_client
from tests.supervision.conftest import DROPOFF, PICKUP, SURVIVOR

pytestmark = pytest.mark.django_db

CSV = reverse("supervision:trip_log_csv")
XLSX = reverse("supervision:trip_log_xlsx")
FORMULA = '=HYPERLINK("http://example.invalid","x")'


def _reads_rides(queries) -> bool:
    return any('FROM "rides_ride"' in q["sql"] for q in queries.captured_queries)


def test_the_csv_is_streamed_and_has_the_filtered_rows(people, make_ride, accounts):
    PartnerAccount.objects.filter(pk=accounts[1].pk).update(name=FORMULA)
    cancelled = [make_ride("east", status=RideStatus.CANCELLED, partner_account=accounts[1])]
    cancelled.append(make_ride("south", status=RideStatus.CANCELLED))
    make_ride("east", status=RideStatus.COMPLETED)
    client = logged_in_client(people["east_supervisor"])

    with CaptureQueriesContext(connection) as asked:
        response = client.get(CSV, {"status": "cancelled"})
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    assert not _reads_rides(asked), "the rows are read while the answer is sent, not before"
    with CaptureQueriesContext(connection) as sent:
        body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert _reads_rides(sent)
    assert response["Content-Disposition"].startswith('attachment; filename="log-perjalanan-')

    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["Reference", "Booked at", "Pickup time"]
    assert [row[0] for row in rows[1:]] == [cancelled[0].reference]  # the unit's only
    row = rows[1]
    assert row[6] == "Cancelled" and row[4] == "sari" and row[8] == "48000" and row[9] == "no"
    assert row[7] == "'" + FORMULA  # never a formula
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$", row[1])
    for private in (SURVIVOR, PICKUP["address"], DROPOFF["address"], "6281234567890"):
        assert private not in body


def test_the_csv_lines_are_a_generator():
    assert inspect.isgenerator(csv_lines(ExportColumns(), iter(())))


def test_the_centre_exports_every_unit(people, make_ride):
    make_ride("east"), make_ride("south")
    response = logged_in_client(people["centre_supervisor"]).get(CSV)
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(body)))) == 3


def test_the_xlsx_has_the_filtered_rows(people, make_ride, accounts):
    PartnerAccount.objects.filter(pk=accounts[0].pk).update(name=FORMULA)
    chosen = make_ride("east", purpose="court_hearing")
    make_ride("east", purpose="counselling")
    response = logged_in_client(people["east_supervisor"]).get(XLSX, {"purpose": "court_hearing"})
    assert isinstance(response, FileResponse) and response.status_code == 200
    book = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert chosen.reference in sheet
    assert Ride.objects.exclude(pk=chosen.pk).get().reference not in sheet
    assert "'=HYPERLINK" in sheet and "<f>" not in sheet  # text, never a formula
    assert SURVIVOR not in sheet and PICKUP["address"] not in sheet


def test_wrong_filters_are_refused_with_the_page(people):
    response = logged_in_client(people["east_supervisor"]).get(CSV, {"date_to": "kemarin"})
    assert response.status_code == 400
    assert "Enter a date as year-month-day." in response.content.decode()


def test_the_export_links_carry_the_filters(people, make_ride):
    make_ride("east")
    html = (
        logged_in_client(people["east_supervisor"])
        .get(reverse("supervision:trip_log"), {"status": "completed", "after": "1.1"})
        .content.decode()
    )
    assert f'href="{CSV}?status=completed"' in html
    assert f'href="{XLSX}?status=completed"' in html
