"""The reports page: its figures on a known world of rides (every state, brought there by
the services and the pipeline), the waits' histograms and percentiles on a trip log of
known times, spend against budget from the ledger, alerts and their time to acknowledge,
who sees which units, a bad period answered with every message and the values kept, the
query count the same for 10 and 1,000 rides, and the exports (streamed, safe, nothing
personal)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Unit
from funding.models import EntryKind, LedgerEntry
from funding.services import ride_fee, ride_settle
from rides.models import Alert, AlertKind, Cause, Ride, RideStatus, TripEvent
from rides.models.alerts import Audience
from rides.pipeline.alerts import alert_acknowledge, alert_raise
from sop.selectors import cache_clear
from supervision.reports.selectors import Period, Scope, report_build
from tests.conftest import logged_in_client
from tests.factories import PartnerAccountFactory
from tests.page_world import build_world
from tests.pipeline.conftest import (  # noqa: F401  (fixtures)
    make_ride,
    pipeline_case,
    pipeline_caseworker,
    pipeline_unit,
)
from tests.supervision.reports.conftest import book, open_case

pytestmark = pytest.mark.django_db
S = RideStatus


def _percentile(values: list[float], fraction: float) -> float:
    """percentile_cont's definition: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _this_month() -> Period:
    return Period.month_of(timezone.localdate())


def _scope(*units) -> Scope:
    return Scope(units=tuple(units))


# --- the figures --------------------------------------------------------------------------


@pytest.fixture
def world(office, make_user):
    users = {
        "caseworker": office["caseworker"],
        "supervisor": office["supervisor"],
        "admin": make_user(Role.ADMIN, None),
    }
    return build_world(office["unit"], users)


def test_the_report_counts_every_ride_of_a_world_in_every_state(world, office):
    report = report_build(_this_month(), _scope(office["unit"]))

    assert report.total == len(S.values) == 15
    assert {row.label: row.count for row in report.by_status} == {
        str(label): 1 for label in S.labels
    }
    purposes = {row.label: row.count for row in report.by_purpose}
    assert purposes == {
        "Medical examination (visum)": 12,
        "Police report": 1,
        "Court hearing": 1,
        "Counselling": 1,
        "Safe-house transfer": 0,
        "Return home": 0,
        "Other": 0,
    }
    assert [(row.label, row.count) for row in report.by_unit] == [(office["unit"].name, 15)]
    assert (report.cancelled, report.no_driver) == (1, 1)
    assert report.cancellation_rate == pytest.approx(100 / 15)
    assert report.no_driver_rate == pytest.approx(100 / 15)

    # The waits, worked out here from the trip log the pipeline wrote.
    to_driver, to_pickup = [], []
    for ride in world["rides"].values():
        events = list(ride.events.order_by("at", "id"))
        requested = next((e.at for e in events if e.new_status == S.REQUESTED), None)
        driver = next(
            (e.at for e in events if e.new_status in (S.DRIVER_ASSIGNED, S.ARRIVING)), None
        )
        picked_up = next((e.at for e in events if e.new_status == S.ON_TRIP), None)
        if requested and driver:
            to_driver.append((driver - requested).total_seconds())
        if driver and picked_up:
            to_pickup.append((picked_up - driver).total_seconds())
    assert report.to_driver.count == len(to_driver) == 4  # assigned, arriving, on trip, done
    assert report.to_pickup.count == len(to_pickup) == 2  # on trip, done
    assert report.to_driver.p50_seconds == pytest.approx(_percentile(to_driver, 0.5))
    assert report.to_driver.p90_seconds == pytest.approx(_percentile(to_driver, 0.9))
    assert report.to_pickup.p90_seconds == pytest.approx(_percentile(to_pickup, 0.9))
    assert sum(bucket.count for bucket in report.to_driver.buckets) == 4


def _timed_ride(make, account, start, *steps):
    """A ride whose trip log has `steps` ((status, minutes after `start`), …): the log of
    known times; the ride's own status is not what this measures."""
    ride = make(account)
    for status, minutes in steps:
        TripEvent.objects.create(
            ride=ride, at=start + dt.timedelta(minutes=minutes), cause=Cause.WEBHOOK,
            new_status=status,
        )  # fmt: skip
    return ride


def test_the_waits_are_histograms_with_their_median_and_p90(make_ride, pipeline_unit):  # noqa: F811
    account = PartnerAccountFactory()
    start = timezone.now()
    for minutes in range(1, 11):  # a driver after 1, 2, … 10 minutes; pickup 4 minutes later
        _timed_ride(
            make_ride,
            account,
            start,
            (S.REQUESTED, 0),
            (S.SEARCHING, 0.5),
            (S.DRIVER_ASSIGNED, minutes),
            (S.ARRIVING, minutes + 2),
            (S.ON_TRIP, minutes + 4),
        )
    # the partner's word skipped "accepted": the driver counts from "arriving"; retried
    # after a first request, the wait counts from the first
    _timed_ride(make_ride, account, start, (S.REQUESTED, 0), (S.ARRIVING, 70), (S.ON_TRIP, 75))
    _timed_ride(
        make_ride, account, start, (S.REQUESTED, 0), (S.NEEDS_ATTENTION, 1), (S.REQUESTED, 20),
        (S.DRIVER_ASSIGNED, 30),
    )  # fmt: skip
    # never got a driver: in neither wait
    _timed_ride(make_ride, account, start, (S.REQUESTED, 0), (S.NO_DRIVER, 15))

    report = report_build(_this_month(), _scope(pipeline_unit))

    waits = [float(m) for m in range(1, 11)] + [70.0, 30.0]
    assert report.to_driver.count == 12
    assert report.to_driver.p50_minutes == pytest.approx(_percentile(waits, 0.5))
    assert report.to_driver.p90_minutes == pytest.approx(_percentile(waits, 0.9))
    assert [(b.label, b.count) for b in report.to_driver.buckets] == [
        ("under 2 min", 1),  # 1
        ("2–5 min", 3),  # 2, 3, 4
        ("5–10 min", 5),  # 5 … 9
        ("10–15 min", 1),  # 10
        ("15–30 min", 0),
        ("30–60 min", 1),  # 30
        ("60 min or more", 1),  # 70
    ]
    assert report.to_pickup.count == 11
    assert report.to_pickup.p50_minutes == pytest.approx(4)
    assert report.to_pickup.buckets[1].count == 10 and report.to_pickup.buckets[2].count == 1
    assert report.total == 13


def test_spend_is_the_ledger_charges_of_the_periods_rides_against_the_budget(
    office, make_office, settings
):
    settings.FUNDING_UNIT_MONTHLY_BUDGET = 1_000_000
    cache_clear()
    case = open_case(office)
    done = book(office, case, end=S.COMPLETED)
    ride_settle(ride_id=done.pk, unit_id=done.unit_id, fare=51_500)
    cancelled = book(office, case, end=S.CANCELLED)
    ride_fee(ride_id=cancelled.pk, unit_id=cancelled.unit_id, fee=10_000)
    other = make_office("JAKBAR")
    other_ride = book(other, open_case(other), end=S.COMPLETED)
    ride_settle(ride_id=other_ride.pk, unit_id=other_ride.unit_id, fare=99_000)

    report = report_build(_this_month(), _scope(office["unit"]))
    [row] = report.spend
    assert (row.unit, row.spent, row.budget) == (office["unit"].name, 61_500, 1_000_000)
    assert row.share == pytest.approx(6.15)

    today = timezone.localdate()
    three_months = Period(today.replace(day=1) - dt.timedelta(days=40), today)
    both = report_build(three_months, _scope(office["unit"], other["unit"]))
    assert [(r.spent, r.budget) for r in both.spend] == [(61_500, 3_000_000), (99_000, 3_000_000)]
    assert (both.spent, both.budget) == (160_500, 6_000_000)


def test_alerts_by_kind_with_the_time_to_acknowledge(office, make_office):
    case = open_case(office)
    now = timezone.now()
    rides = [book(office, case) for _ in range(4)]
    for ride, minutes in zip(rides[:3], (10, 20, 30), strict=True):
        Alert.objects.create(
            unit=office["unit"], ride=ride, kind=AlertKind.NO_DRIVER_YET, message="—",
            created_at=now - dt.timedelta(minutes=60),
            resolved_at=now - dt.timedelta(minutes=60 - minutes),
        )  # fmt: skip
    stopped = alert_raise(ride=rides[3], kind=AlertKind.CAR_STOPPED, message="—")
    Alert.objects.create(kind=AlertKind.PARTNER_DOWN, message="—")  # every unit's
    Alert.objects.create(kind=AlertKind.LOW_BALANCE, audience=Audience.ADMINS, message="—")
    other = make_office("JAKPUS")
    other_ride = book(other, open_case(other))
    alert_raise(ride=other_ride, kind=AlertKind.NO_DRIVER_YET, message="—")

    report = report_build(_this_month(), _scope(office["unit"]))
    rows = {row.label: row for row in report.alerts}
    assert set(rows) == {"No driver yet", "Car stopped mid-trip", "Partner not answering"}
    no_driver = rows["No driver yet"]
    assert (no_driver.raised, no_driver.acknowledged) == (3, 3)
    assert no_driver.p50_minutes == pytest.approx(20)
    assert no_driver.p90_minutes == pytest.approx(28)
    assert (
        rows["Car stopped mid-trip"].acknowledged,
        rows["Car stopped mid-trip"].p50_minutes,
    ) == (
        0,
        None,
    )
    alert_acknowledge(alert_id=stopped.pk, user=office["supervisor"], note="Sudah ditelepon.")
    total = report_build(_this_month(), _scope(office["unit"])).alerts_total
    assert (total.raised, total.acknowledged) == (5, 4)


# --- who sees what -------------------------------------------------------------------------


def test_a_supervisor_sees_their_unit_and_the_provincial_centre_every_unit(
    office, make_office, make_user
):
    book(office, open_case(office))
    other = make_office("JAKSEL2")
    book(other, open_case(other))
    book(other, open_case(other))
    url = reverse("supervision:reports")

    own = logged_in_client(office["supervisor"]).get(url, {"unit": other["unit"].pk})
    assert own.status_code == 200
    assert own.context["report"].total == 1  # the unit field is not theirs to choose
    assert "unit" not in own.context["form"].fields

    centre = Unit.objects.create(
        code="PUSAT", name="Pusat Pelayanan Provinsi", kind=Unit.Kind.PROVINCIAL_CENTRE
    )
    chief = logged_in_client(make_user(Role.SUPERVISOR, centre))
    assert chief.get(url).context["report"].total == 3
    narrowed = chief.get(url, {"unit": other["unit"].pk})
    assert narrowed.context["report"].total == 2
    assert [row.label for row in narrowed.context["report"].by_unit] == [other["unit"].name]

    admin = logged_in_client(make_user(Role.ADMIN, None))
    page = admin.get(url)
    assert page.status_code == 200 and page.context["report"].total == 3
    assert reverse("supervision:reports_simfoni_csv") not in page.content.decode()
    assert admin.get(reverse("supervision:reports_simfoni_csv")).status_code == 403
    refused = logged_in_client(office["caseworker"]).get(url)
    assert refused.status_code == 403


def test_a_bad_period_is_answered_with_every_message_and_the_values_kept(office):
    client = logged_in_client(office["supervisor"])
    url = reverse("supervision:reports")
    response = client.get(url, {"month": "2026-13", "date_from": "kemarin", "date_to": ""})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["month"] == ["Enter the month as YYYY-MM, for example 2026-12."]
    assert errors["date_from"] == ["Enter the first day as a date, for example 2026-12-01."]
    assert errors["date_to"] == ["Give the last day of the period too."]
    html = response.content.decode()
    assert 'value="2026-13"' in html and 'value="kemarin"' in html
    assert "report" not in response.context or response.context.get("report") is None

    backwards = client.get(url, {"date_from": "2026-12-10", "date_to": "2026-12-01"})
    assert backwards.context["form"].errors == {
        "date_to": ["The last day must be on or after the first day."]
    }
    too_long = client.get(url, {"date_from": "2025-01-01", "date_to": "2026-06-30"})
    assert too_long.context["form"].errors == {
        "date_to": ["A period can be at most 366 days long."]
    }
    export = client.get(reverse("supervision:reports_csv"), {"date_to": "2026-12-01"})
    assert export.status_code == 400
    assert export.context["form"].errors == {"date_from": ["Give the first day of the period too."]}


def test_the_month_defaults_to_the_current_jakarta_month_and_a_period_replaces_it(office):
    client = logged_in_client(office["supervisor"])
    url = reverse("supervision:reports")
    default = client.get(url)
    today = timezone.localdate()
    assert default.context["report"].period == Period.month_of(today)
    assert f'value="{today:%Y-%m}"' in default.content.decode()
    chosen = client.get(
        url, {"month": "2026-02", "date_from": "2026-03-05", "date_to": "2026-03-09"}
    )
    assert chosen.context["report"].period == Period(dt.date(2026, 3, 5), dt.date(2026, 3, 9))
    assert client.get(url, {"month": "2026-02"}).context["report"].period == Period(
        dt.date(2026, 2, 1), dt.date(2026, 2, 28), is_month=True
    )


# --- the query count ---------------------------------------------------------------------


def _many(office, case, n: int, start: int = 0) -> None:
    """`n` rides of the unit with a trip log, a charge and an alert each third: rows made
    in bulk, because only how many there are matters here."""
    account = office["unit"].default_partner.partner_account
    now = timezone.now()
    purposes = ["medical_exam", "police_report", "court_hearing", "counselling"]
    statuses = [S.COMPLETED, S.CANCELLED, S.NO_DRIVER, S.ON_TRIP, S.FAILED]
    rides = Ride.objects.bulk_create(
        Ride(
            case=case, unit=office["unit"], partner_account=account,
            booked_by=office["caseworker"], purpose=purposes[i % 4], status=statuses[i % 5],
            pickup={"latitude": -6.2, "longitude": 106.8, "address": "Jl. A"},
            dropoff={"latitude": -6.3, "longitude": 106.9, "address": "Jl. B"},
            rider_phone="+6281234567890", rider_alias="Penumpang 1",
        )
        for i in range(start, start + n)
    )  # fmt: skip
    events = []
    for i, ride in enumerate(rides):
        for status, minutes in ((S.REQUESTED, 0), (S.DRIVER_ASSIGNED, 1 + i % 40), (S.ON_TRIP, 50)):
            events.append(
                TripEvent(ride=ride, at=now + dt.timedelta(minutes=minutes), cause=Cause.POLL,
                          new_status=status)
            )  # fmt: skip
    TripEvent.objects.bulk_create(events)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            kind=EntryKind.CHARGE,
            amount=40_000 + i,
            ride=ride,
            unit=office["unit"],
            budget_month=timezone.localdate().replace(day=1),
        )
        for i, ride in enumerate(rides)
    )
    Alert.objects.bulk_create(
        Alert(
            unit=office["unit"], ride=ride, kind=AlertKind.values[i % 6], message="—",
            resolved_at=now + dt.timedelta(minutes=i % 17) if i % 2 else None,
        )
        for i, ride in enumerate(rides) if i % 3 == 0
    )  # fmt: skip


def _queries(client, url) -> int:
    cache_clear()  # the SOP snapshot is read afresh each time, as at its first use
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_10_and_1000_rides(office):
    client = logged_in_client(office["supervisor"])
    url = reverse("supervision:reports")
    case = open_case(office)
    _many(office, case, 10)
    few = _queries(client, url)
    assert client.get(url).context["report"].total == 10
    _many(office, case, 990, start=10)
    many = _queries(client, url)
    report = client.get(url).context["report"]
    assert report.total == 1000 and report.to_driver.count == 1000
    assert report.spent == sum(40_000 + i for i in range(10)) + sum(40_000 + i for i in range(990))
    assert few == many, (few, many)
    assert _queries(client, reverse("supervision:reports_csv")) == _queries(
        client, reverse("supervision:reports_csv")
    )


# --- the exports ---------------------------------------------------------------------------


def _xlsx_texts(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        xml = "".join(
            book.read(name).decode()
            for name in book.namelist()
            if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"
        )
    return [re.sub(r"&apos;", "'", t) for t in re.findall(r"<t[^>]*>([^<]*)</t>", xml)]


def test_the_exports_stream_the_tables_safe_and_without_anything_personal(office):
    office["unit"].name = '=HYPERLINK("http://x")'
    office["unit"].save()
    case = open_case(office, name="Rahasia Sekali")
    book(office, case, end=S.COMPLETED)
    book(office, case, purpose="police_report", end=S.NO_DRIVER)
    client = logged_in_client(office["supervisor"])
    query = {"month": timezone.localdate().strftime("%Y-%m")}

    response = client.get(reverse("supervision:reports_csv"), query)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert re.match(
        r'attachment; filename="laporan-perjalanan-\d{4}-\d{2}-01-', response["Content-Disposition"]
    )
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert ["Rides booked", "2"] in rows
    assert ["Medical examination (visum)", "1"] in rows and ["Police report", "1"] in rows
    assert ["No driver found", "1", "50.0"] in rows
    assert ["Unit", '\'=HYPERLINK("http://x")'] in rows  # never run as a formula
    for secret in (case.code, "Rahasia", case.survivor.alias, "RS Polri", "+62812"):
        assert secret not in text

    xlsx = client.get(reverse("supervision:reports_xlsx"), query)
    assert xlsx.status_code == 200 and xlsx.streaming
    content = b"".join(xlsx.streaming_content)
    texts = _xlsx_texts(content)
    assert "Rides by purpose" in texts and "Spend against budget" in texts
    assert '\'=HYPERLINK("http://x")' in [t.replace("&quot;", '"') for t in texts]
    with zipfile.ZipFile(io.BytesIO(content)) as book_file:
        sheet = book_file.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere
    assert case.code not in sheet and "Rahasia" not in "".join(texts)


def test_a_ride_counts_in_the_jakarta_month_it_was_booked_in(office):
    case = open_case(office)
    late, early = book(office, case), book(office, case, purpose="police_report")
    jakarta = timezone.get_current_timezone()
    Ride.objects.filter(pk=late.pk).update(
        created_at=dt.datetime(2026, 11, 30, 23, 50, tzinfo=jakarta)  # 16:50 UTC
    )
    Ride.objects.filter(pk=early.pk).update(
        created_at=dt.datetime(2026, 12, 1, 0, 10, tzinfo=jakarta)  # 17:10 UTC, 30 November
    )
    november = report_build(Period.month_of(dt.date(2026, 11, 5)), _scope(office["unit"]))
    december = report_build(Period.month_of(dt.date(2026, 12, 5)), _scope(office["unit"]))
    assert (november.total, december.total) == (1, 1)
    assert [row.label for row in december.by_purpose if row.count] == ["Police report"]
    assert Period.month_of(dt.date(2026, 2, 10)) == Period(
        dt.date(2026, 2, 1), dt.date(2026, 2, 28), is_month=True
    )
    assert Period(dt.date(2026, 11, 20), dt.date(2027, 1, 3)).months == 3
