"""The fund's pages for admins: every mistake shown at once next to its field with the
values kept and nothing stored; tranches received and adjustments confirmed; the
overview, its alerts, and the foundation's report (aggregated, safe for a spreadsheet)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import pytest
from django.urls import reverse

from funding.ledger import burn_down, runs_out_before
from funding.models import Adjustment, Agreement, EntryKind, LedgerEntry, Tranche
from funding.services import ride_hold, ride_settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admins):
    client.force_login(admins[0])
    return client


def test_an_agreement_with_every_mistake_is_refused_at_once_keeping_the_values(
    admin_client, agreement
):
    response = admin_client.post(
        reverse("funding:agreements"),
        {
            "funder": agreement.funder.pk,
            "title": "Dana kedua",
            "amount": "-5.000",
            "starts_on": "2027-01-01",
            "ends_on": "2026-01-01",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["amount"] == ["Enter an amount in whole rupiah above zero."]
    assert form.errors["ends_on"] == ["The agreement must end after it starts."]
    html = response.content.decode()
    assert 'value="Dana kedua"' in html and 'value="-5.000"' in html
    assert Agreement.objects.count() == 1


def test_a_tranche_outside_the_agreement_and_above_it_gets_both_messages(admin_client, agreement):
    url = reverse("funding:agreement", args=[agreement.pk])
    response = admin_client.post(url, {"planned_on": "2031-03-01", "planned_amount": "300.000.001"})
    assert response.status_code == 400
    errors = response.context["plan_form"].errors
    assert errors["planned_on"] == [
        "The tranche's date must lie within the agreement (2026-01-01 to 2030-12-31)."
    ]
    assert errors["planned_amount"] == [
        "The tranches would exceed the agreement: Rp 300.000.000 of it is left to plan."
    ]
    assert 'value="300.000.001"' in response.content.decode()
    assert Tranche.objects.count() == 0
    for amount in ("0", "abc"):
        response = admin_client.post(url, {"planned_on": "2026-03-01", "planned_amount": amount})
        assert response.status_code == 400
        assert response.context["plan_form"].errors["planned_amount"]
    response = admin_client.post(
        url, {"planned_on": "2026-03-01", "planned_amount": "Rp 30.000.000"}
    )
    assert response.status_code == 302
    assert Tranche.objects.get().planned_amount == 30_000_000


def test_an_admin_records_a_tranche_received(admin_client, agreement, admins):
    tranche = Tranche.objects.create(
        agreement=agreement, planned_on=dt.date(2026, 1, 15), planned_amount=30_000_000
    )
    url = reverse("funding:tranche_receive", args=[tranche.pk])
    prefix = f"t{tranche.pk}-"
    bad = admin_client.post(url, {prefix + "received_on": "2026-01-16", prefix + "amount": "0"})
    assert bad.status_code == 400 and LedgerEntry.objects.count() == 0
    good = admin_client.post(
        url, {prefix + "received_on": "2026-01-16", prefix + "amount": "30.000.000"}
    )
    assert good.status_code == 302
    tranche.refresh_from_db()
    assert (tranche.received_amount, tranche.confirmed_by) == (30_000_000, admins[0])
    assert list(LedgerEntry.objects.values_list("kind", "amount")) == [
        (EntryKind.TRANCHE, 30_000_000)
    ]


def test_an_adjustment_needs_a_second_admin(client, admins, fund):
    fund(1_000_000)
    client.force_login(admins[0])
    url = reverse("funding:adjustments")
    refused = client.post(url, {"amount": "0", "reason": " "})
    assert refused.status_code == 400
    assert set(refused.context["form"].errors) == {"amount", "reason"}
    assert client.post(url, {"amount": "-150.000", "reason": "Salah catat"}).status_code == 302
    adjustment = Adjustment.objects.get()
    confirm = reverse("funding:adjustment_confirm", args=[adjustment.pk])
    page = client.post(confirm, follow=True)
    assert "Another admin must confirm an adjustment you proposed." in page.content.decode()
    assert not LedgerEntry.objects.filter(kind=EntryKind.ADJUSTMENT).exists()
    client.force_login(admins[1])
    client.post(confirm)
    assert LedgerEntry.objects.get(kind=EntryKind.ADJUSTMENT).amount == -150_000


def test_the_ledger_rows_are_paged(admin_client, fund, new_ride):
    fund(10_000_000)
    for _ in range(55):
        ride = new_ride()
        ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=1_000)
    first = admin_client.get(reverse("funding:ledger"))
    assert len(first.context["page"].object_list) == 50
    assert "Page 1 of 2" in first.content.decode()
    second = admin_client.get(reverse("funding:ledger"), {"page": 2})
    assert len(second.context["page"].object_list) == 6  # 55 holds and the tranche


@pytest.fixture
def spent(fund, new_ride, make_unit):
    """Two completed rides charged; one of a unit whose name looks like a formula."""
    fund(20_000_000)
    rides = [new_ride(), new_ride()]
    unit = rides[1].unit
    unit.name = '=HYPERLINK("http://x","klik")'
    unit.save()
    for ride, fare in zip(rides, (40_000, 60_000), strict=True):
        ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=fare)
        ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=fare)
    return rides


def test_the_funding_page_shows_the_fund_without_inline_script_or_style(admin_client, spent):
    response = admin_client.get(reverse("funding:page"))
    html = response.content.decode()
    overview = response.context["overview"]
    assert overview.balance.available == 20_000_000 - 100_000
    assert overview.cost_per_ride == 50_000 and overview.completed_rides == 2
    assert "Rp 19.900.000" in html and "Rp 50.000" in html
    assert 'id="burn-data" type="application/json"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert scripts == []
    assert " style=" not in html and not re.search(r"\son[a-z]+=", html)


def test_the_admins_are_told_when_the_balance_is_low(settings, admin_client, spent):
    settings.FUNDING_LOW_BALANCE_THRESHOLD = 50_000_000
    alerts = admin_client.get(reverse("funding:page")).context["alerts"]
    assert alerts[0] == ("The fund's available money (Rp 19.900.000) is below Rp 50.000.000.")
    settings.FUNDING_LOW_BALANCE_THRESHOLD = 1_000
    assert admin_client.get(reverse("funding:page")).context["alerts"] == []


def test_the_forecast_sees_the_money_run_out_before_the_next_tranche():
    today = dt.date(2026, 3, 1)
    assert runs_out_before(
        available=1_000_000, monthly_rate=2_000_000, today=today, next_tranche=dt.date(2026, 7, 15)
    )
    assert not runs_out_before(
        available=20_000_000, monthly_rate=2_000_000, today=today, next_tranche=dt.date(2026, 7, 15)
    )
    assert not runs_out_before(
        available=0, monthly_rate=0, today=today, next_tranche=dt.date(2026, 7, 15)
    )


def test_the_burn_down_adds_up_the_schedule_and_forecasts_from_this_month():
    points = burn_down(
        schedule=[(dt.date(2026, 1, 15), 30), (dt.date(2026, 7, 15), 30)],
        spend_by_month={dt.date(2026, 1, 1): 5, dt.date(2026, 2, 1): 7},
        monthly_rate=6,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 8, 31),
        today=dt.date(2026, 2, 10),
    )
    assert [p.scheduled for p in points] == [30, 30, 30, 30, 30, 30, 60, 60]
    assert [p.spent for p in points] == [5, 12, None, None, None, None, None, None]
    assert [p.forecast for p in points] == [None, 12, 18, 24, 30, 36, 42, 48]


def _csv_rows(admin_client):
    response = admin_client.get(reverse("funding:report_csv"))
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_report_is_aggregated_and_safe_for_a_spreadsheet(admin_client, spent):
    rows = _csv_rows(admin_client)
    flat = [cell for row in rows for cell in row]
    assert ["Available", "19900000"] in rows
    assert ["Cost per completed ride", "50000"] in rows
    assert '\'=HYPERLINK("http://x","klik")' in flat
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in flat)
    for ride in spent:
        assert ride.case.code not in "\n".join(flat)
        assert ride.reference not in "\n".join(flat)
        assert ride.rider_phone not in "\n".join(flat)
    response = admin_client.get(reverse("funding:report_xlsx"))
    book = zipfile.ZipFile(io.BytesIO(response.content))
    strings = book.read("xl/sharedStrings.xml").decode()
    assert "&apos;=HYPERLINK" in strings or "'=HYPERLINK" in strings
    assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()
    assert spent[0].case.code not in strings


def test_only_admins_see_the_funding_link(client, admins, pipeline_caseworker):
    client.force_login(admins[0])
    assert reverse("funding:page") in client.get("/").content.decode()
    client.force_login(pipeline_caseworker)
    assert reverse("funding:page") not in client.get("/").content.decode()
    assert client.get(reverse("funding:page")).status_code == 403


def test_spend_by_month_puts_each_entry_in_its_jakarta_month(new_ride):
    """Summed by the database in Jakarta time: 00:30 on 1 February in Jakarta is still
    31 January in UTC; holds are not spend."""
    from django.db import connection

    from funding.selectors import spend_by_month

    first, second = new_ride(), new_ride()
    rows = [
        ("2026-01-31T17:30:00Z", "charge", 100, first),
        ("2026-01-31T16:30:00Z", "fee", 20, first),
        ("2026-01-31T17:30:00Z", "hold", 999, second),
        ("2026-02-10T03:00:00Z", "fee", 5, second),
    ]
    with connection.cursor() as cursor:
        for at, kind, amount, ride in rows:
            cursor.execute(
                "INSERT INTO funding_ledgerentry (created_at, kind, amount, ride_id, unit_id, "
                "budget_month) VALUES (%s, %s, %s, %s, %s, '2026-01-01')",
                [at, kind, amount, ride.pk, ride.unit_id],
            )
    assert spend_by_month() == {dt.date(2026, 2, 1): 105, dt.date(2026, 1, 1): 20}
