"""The SIMFONI-PPA figures: the suppression rule on its own, the survivors served with
completed rides counted by kind of violence, age group and service (each survivor once,
small counts suppressed with their complement), the survivor's age group kept from the
birth date when it is saved and filled by the migration, and the exports."""

from __future__ import annotations

import csv
import importlib
import io
import zipfile

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import AgeGroup, Survivor, age_group_of
from cases.services import case_update
from rides.models import Ride, RideStatus
from supervision.reports.selectors import Period, Scope
from supervision.reports.simfoni import COMPLEMENTARY, SMALL, simfoni_tables, suppressed
from tests.conftest import logged_in_client
from tests.factories import CaseFactory, child_birth_date
from tests.supervision.reports.conftest import book, open_case

S = RideStatus


@pytest.mark.parametrize(
    ("counts", "total", "shown", "shown_total"),
    [
        ([5, 6, 0], 11, [5, 6, 0], 11),  # nothing small
        ([3, 10, 7], 20, [SMALL, 10, COMPLEMENTARY], 20),  # one small: the next smallest too
        ([2, 3, 10], 15, [SMALL, SMALL, 10], 15),  # two small: neither gives the other away
        ([0, 12, 3], 15, [0, COMPLEMENTARY, SMALL], 15),  # zero is no complement
        ([3, 0], 3, [SMALL, 0], SMALL),  # a small total is suppressed itself
        ([4, 0], 9, [SMALL, 0], COMPLEMENTARY),  # no other cell: the total hides instead
        ([0, 0], 0, [0, 0], 0),
    ],
)
def test_small_counts_and_their_complement_are_suppressed(counts, total, shown, shown_total):
    assert suppressed(counts, total) == (shown, shown_total)


@pytest.mark.parametrize(
    ("age", "group"),
    [(0, "0-5"), (5, "0-5"), (6, "6-12"), (12, "6-12"), (13, "13-17"), (17, "13-17"),
     (18, "18-24"), (24, "18-24"), (25, "25-44"), (44, "25-44"), (45, "45-59"),
     (59, "45-59"), (60, "60+"), (97, "60+")],
)  # fmt: skip
def test_the_age_groups_of_the_national_reporting(age, group):
    today = timezone.localdate()
    assert age_group_of(child_birth_date(age), today) == group
    assert age_group_of(None, today) == ""


@pytest.mark.django_db
def test_the_age_group_follows_the_birth_date_and_the_migration_fills_it(office):
    case = open_case(office, birth_date=child_birth_date(30))
    assert Survivor.objects.get(case=case).age_group == AgeGroup.FROM_25
    case_update(user=office["caseworker"], case=case, survivor={"birth_date": child_birth_date(15)})
    assert Survivor.objects.get(case=case).age_group == AgeGroup.FROM_13
    case_update(user=office["caseworker"], case=case, survivor={"birth_date": None})
    assert Survivor.objects.get(case=case).age_group == ""

    later = open_case(office, birth_date=child_birth_date(70))
    Survivor.objects.filter(case=later).update(age_group="")
    migration = importlib.import_module("cases.migrations.0006_reporting_age_group")
    migration.fill_age_groups(apps, None)
    assert Survivor.objects.get(case=later).age_group == AgeGroup.FROM_60


@pytest.fixture
def served(office, make_office):
    """Six survivors served with completed rides this month: five of 30 (physical, a
    medical examination; one of them twice), one of 20 (sexual and psychological, to the
    police). Not served: a survivor whose only ride was cancelled, one with no driver, and
    another unit's."""
    for i in range(5):
        case = open_case(office, birth_date=child_birth_date(30), violence_types=["physical"])
        book(office, case, end=S.COMPLETED)
        if i == 0:
            book(office, case, end=S.COMPLETED)
    young = open_case(
        office, birth_date=child_birth_date(20), violence_types=["sexual", "psychological"]
    )
    book(office, young, purpose="police_report", end=S.COMPLETED)
    book(office, open_case(office, birth_date=child_birth_date(40)), end=S.CANCELLED)
    book(office, open_case(office, birth_date=child_birth_date(50)), end=S.NO_DRIVER)
    other = make_office("JAKBAR")
    book(other, open_case(other, birth_date=child_birth_date(8)), end=S.COMPLETED)
    return office


@pytest.mark.django_db
def test_the_survivors_served_by_kind_age_and_service_with_small_counts_suppressed(served):
    period = Period.month_of(timezone.localdate())
    total, (kinds, ages, services) = simfoni_tables(period, Scope(units=(served["unit"],)))

    assert total == 6
    assert dict(kinds.rows) == {
        "Physical": 5,
        "Psychological": SMALL,
        "Sexual": SMALL,
        "Neglect": 0,
        "Trafficking": 0,
        "Exploitation": 0,
        "Other": 0,
        "Not recorded": 0,
    }
    assert dict(ages.rows) == {
        "0–5 years": 0,
        "6–12 years": 0,
        "13–17 years": 0,
        "18–24 years": SMALL,
        "25–44 years": COMPLEMENTARY,  # 5: with the total it would give the 1 away
        "45–59 years": 0,
        "60 years and older": 0,
        "Not recorded": 0,
    }
    assert ages.total == 6
    assert dict(services.rows) == {
        "Health service": COMPLEMENTARY,
        "Law enforcement": SMALL,
        "Legal aid": 0,
        "Psychosocial rehabilitation": 0,
        "Temporary shelter": 0,
        "Social reintegration / repatriation": 0,
        "Other": 0,
    }


@pytest.mark.django_db
def test_the_simfoni_exports_carry_only_the_suppressed_counts(served):
    client = logged_in_client(served["supervisor"])
    query = {"month": timezone.localdate().strftime("%Y-%m")}
    response = client.get(reverse("supervision:reports_simfoni_csv"), query)
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert ["Survivors served", "6"] in rows
    assert ["18–24 years", "<5"] in rows and ["25–44 years", "x"] in rows
    assert ["Law enforcement", "<5"] in rows
    for case in served["unit"].cases.all():
        assert case.code not in text and case.survivor.alias not in text
    assert "Siti" not in text

    xlsx = client.get(reverse("supervision:reports_simfoni_xlsx"), query)
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(xlsx.streaming_content))) as book_file:
        xml = "".join(
            book_file.read(name).decode()
            for name in book_file.namelist()
            if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"
        )
    assert "Survivors by service" in xml and "&lt;5" in xml
    assert all(case.code not in xml for case in served["unit"].cases.all())


def _served_in_bulk(office, n: int) -> None:
    """`n` survivors of assorted ages and kinds, each with a completed ride (rides made in
    bulk: only how many there are matters here)."""
    kinds = (["physical"], ["sexual", "psychological"], ["neglect"], ["other"])
    account = office["unit"].default_partner.partner_account
    cases = [
        CaseFactory(
            user=office["caseworker"],
            birth_date=child_birth_date(19 + i % 50),
            violence_types=kinds[i % 4],
        )
        for i in range(n)
    ]
    Ride.objects.bulk_create(
        Ride(
            case=case, unit=office["unit"], partner_account=account,
            booked_by=office["caseworker"], purpose=("medical_exam", "counselling")[i % 2],
            status=S.COMPLETED, rider_phone="+6281234567890", rider_alias="Penumpang 1",
            pickup={"latitude": -6.2, "longitude": 106.8, "address": "Jl. A"},
            dropoff={"latitude": -6.3, "longitude": 106.9, "address": "Jl. B"},
        )
        for i, case in enumerate(cases)
    )  # fmt: skip


@pytest.mark.django_db
def test_the_simfoni_export_costs_the_same_queries_for_few_and_many_survivors(office):
    client = logged_in_client(office["supervisor"])
    url = reverse("supervision:reports_simfoni_csv")

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            text = b"".join(client.get(url).streaming_content).decode()
        return len(captured), text

    _served_in_bulk(office, 4)
    few, text = queries()
    assert ["Survivors served", "<5"] in list(csv.reader(io.StringIO(text)))
    _served_in_bulk(office, 60)
    many, text = queries()
    assert ["Survivors served", "64"] in list(csv.reader(io.StringIO(text)))
    assert few == many, (few, many)
