"""Retention by crypto-shredding: an old closed case's data key is destroyed; its rows in
the append-only tables stay as they are but can never be read again; the reports and the
ledger count the same; the pages show the removed marker; recent and open cases are left."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from audit.models import AuditEvent
from cases.models import Case, CaseKey, Stage, Survivor
from cases.retention import cases_anonymise_due
from cases.tasks import APPLY_RETENTION
from funding.services import ride_settle
from portal import data_keys
from portal.crypto import REMOVED
from rides.models import Alert, AlertKind, Cause, Ride, RideStatus, TripEvent
from rides.pipeline.ledger_check import ledger_differences
from supervision.reports.selectors import Period, Scope, report_build
from tests.conftest import logged_in_client
from tests.supervision.reports.conftest import book, booking_rules, make_office, open_case  # noqa: F401

pytestmark = pytest.mark.django_db
NOTE = "Paman menunggu di Gang Kelinci 77"
ALERT_TEXT = "Penjemputan di Gang Kelinci 77 tertunda"


@pytest.fixture
def office(make_office):  # noqa: F811
    return make_office("JAKUT")


def _close(case, *, days_ago: int):
    Case.objects.filter(pk=case.pk).update(
        stage=Stage.CLOSED, closed_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def _raw_rows(table: str, column: str, where: str, value, *, pk: str = "id") -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {column} FROM {table} WHERE {where} = %s ORDER BY {pk}",  # noqa: S608
            [value],
        )
        return cursor.fetchall()


def _ledger_check() -> list[str]:
    """What ledger_check would print: the differences between ledger and rides."""
    return ledger_differences()


def _report(office):
    report = report_build(Period.month_of(timezone.localdate()), Scope(units=(office["unit"],)))
    return report.total, report.spent, [(row.label, row.count) for row in report.by_status]


@pytest.fixture
def old_case(office):
    """A case closed three years ago: a completed, paid ride with a trip-log note and an
    alert about it."""
    case = open_case(office)
    ride = book(office, case, end=RideStatus.COMPLETED)
    ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=51_500)
    ride = Ride.objects.get(pk=ride.pk)
    TripEvent.objects.create(
        ride=ride,
        cause=Cause.USER,
        previous_status=RideStatus.COMPLETED,
        new_status=RideStatus.COMPLETED,
        note=NOTE,
    )
    Alert.objects.create(
        unit=ride.unit, ride=ride, kind=AlertKind.NEEDS_ATTENTION, message=ALERT_TEXT
    )
    _close(case, days_ago=3 * 365)
    return case


def test_a_closed_case_past_retention_is_shredded_and_the_logs_stay_as_they_were(office, old_case):
    ride = old_case.rides.get()
    recent = open_case(office)
    _close(recent, days_ago=30)
    still_open = open_case(office)
    events_before = _raw_rows("rides_tripevent", "note", "ride_id", ride.pk)
    alerts_before = _raw_rows("rides_alert", "message", "ride_id", ride.pk)
    assert any(note.startswith(f"case:{old_case.pk}:") for _, note in events_before)
    assert TripEvent.objects.filter(ride=ride, note=NOTE).exists() is False  # not searchable
    assert NOTE in [event.note for event in TripEvent.objects.filter(ride=ride)]
    report_before, ledger_before = _report(office), _ledger_check()

    result = cases_anonymise_due()

    assert result.codes == [old_case.code]
    assert not CaseKey.objects.filter(case=old_case).exists()
    data_keys.forget_case_key()  # as any other process after its cache's lifetime
    # the append-only rows are all there, byte for byte; nothing can open them
    assert _raw_rows("rides_tripevent", "note", "ride_id", ride.pk) == events_before
    assert _raw_rows("rides_alert", "message", "ride_id", ride.pk) == alerts_before
    sealed = next(note for _, note in events_before if note.startswith("case:"))
    for key in (Fernet(k) for k in data_keys_settings()):
        with pytest.raises(Exception):  # noqa: B017,PT011 (no master key opens a data key's token)
            key.decrypt(sealed.split(":", 2)[2].encode())
    notes = [event.note for event in TripEvent.objects.filter(ride=ride)]
    assert NOTE not in notes and str(REMOVED) in notes
    assert Alert.objects.get(ride=ride).message == str(REMOVED)
    survivor = Survivor.objects.get(case=old_case)
    assert survivor.name == str(REMOVED) and survivor.alias == ""
    assert survivor.birth_date is None and survivor.age_group != ""  # the group is kept
    anonymised = Case.objects.get(pk=old_case.pk)
    assert anonymised.anonymised_at is not None and anonymised.stage == Stage.CLOSED
    # the figures and the fund
    assert _report(office) == report_before
    assert _ledger_check() == ledger_before
    # the recent closed case and the open one keep everything
    for kept in (recent, still_open):
        assert CaseKey.objects.filter(case=kept).exists()
        assert Survivor.objects.get(case=kept).name == kept.survivor.name != str(REMOVED)
        assert Case.objects.get(pk=kept.pk).anonymised_at is None
    event = AuditEvent.objects.get(action="anonymised")
    assert (event.object_type, event.object_id) == ("case", old_case.code)
    assert NOTE not in str(event.changes)
    # running again finds nothing to do
    assert cases_anonymise_due().codes == []


def data_keys_settings():
    from django.conf import settings

    return settings.FIELD_ENCRYPTION_KEYS


def test_the_pages_and_the_api_show_the_removed_marker(office, old_case, make_user):
    ride = old_case.rides.get()
    cases_anonymise_due()
    data_keys.forget_case_key()
    supervisor = office["supervisor"]
    caseworker = office["caseworker"]
    pages = [
        (caseworker, reverse("cases:detail", args=[old_case.code])),
        (caseworker, reverse("rides:detail", args=[ride.reference])),
        (caseworker, reverse("rides:list")),
        (supervisor, reverse("supervision:trip_log")),
        (supervisor, reverse("supervision:trip_timeline", args=[ride.reference])),
        (supervisor, reverse("supervision:alert_history")),
    ]
    for user, url in pages:
        response = logged_in_client(user).get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "Gang Kelinci" not in body, url
    timeline = logged_in_client(supervisor).get(
        reverse("supervision:trip_timeline", args=[ride.reference])
    )
    assert str(REMOVED) in timeline.content.decode() or "dihapus" in timeline.content.decode()
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=caseworker)}")
    for url in (f"/api/v1/cases/{old_case.code}/", f"/api/v1/rides/{ride.reference}/"):
        answer = api.get(url)
        assert answer.status_code == 200, url
        assert "Gang Kelinci" not in answer.content.decode()
    assert api.get(f"/api/v1/cases/{old_case.code}/").json()["survivor"]["name"] == str(REMOVED)


def test_the_dry_run_lists_codes_and_counts_and_changes_nothing(office, old_case):
    before = _raw_rows("cases_casekey", "key", "case_id", old_case.pk, pk="case_id")
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    output = out.getvalue()
    assert "would anonymise 1 cases" in output and old_case.code in output
    assert "data keys destroyed: 1" in output
    assert "Gang Kelinci" not in output and old_case.survivor.name not in output
    assert _raw_rows("cases_casekey", "key", "case_id", old_case.pk, pk="case_id") == before
    assert Case.objects.get(pk=old_case.pk).anonymised_at is None
    assert Survivor.objects.get(case=old_case).alias == old_case.survivor.alias
    assert not AuditEvent.objects.filter(action="anonymised").exists()

    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "anonymised 1 cases" in out.getvalue()
    assert not CaseKey.objects.filter(case=old_case).exists()


def test_the_period_is_a_setting_and_beat_runs_it_daily(office, settings):
    case = open_case(office)
    _close(case, days_ago=40)
    settings.RETENTION_CLOSED_CASE_DAYS = 60
    assert cases_anonymise_due(dry_run=True).codes == []
    settings.RETENTION_CLOSED_CASE_DAYS = 30
    assert cases_anonymise_due(dry_run=True).codes == [case.code]
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == APPLY_RETENTION]
    assert entry["schedule"] == 86400.0


def test_closing_a_case_stores_when_and_reopening_clears_it(office):
    from cases.services import case_update

    case = open_case(office)
    assert case.closed_at is None
    case = case_update(user=office["caseworker"], case=case, stage=Stage.CLOSED)
    assert case.closed_at is not None
    case = case_update(user=office["caseworker"], case=case, stage=Stage.RECOVERY)
    assert case.closed_at is None


def test_master_key_rotation_keeps_an_old_case_readable(office, old_case, settings):
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        call_command("rotate_encryption_keys", stdout=io.StringIO())
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        data_keys.forget_case_key()
        ride = old_case.rides.get()
        assert NOTE in [event.note for event in TripEvent.objects.filter(ride=ride)]
        assert Alert.objects.get(ride=ride).message == ALERT_TEXT
