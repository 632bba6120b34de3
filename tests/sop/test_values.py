"""The SOP's values: defaults from the settings, changes by admins only and all checked at
once, the history append-only in PostgreSQL, the snapshot fresh after a change."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone, translation

from accounts.models import Role
from sop import selectors
from sop.models import SopChange, SopValue
from sop.registry import KEYS, unit_field
from sop.selectors import current
from sop.services import sop_change

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_never_set_means_the_settings(settings, unit):
    settings.BOOKING_FARE_CEILING = 123_000
    settings.BOOKING_SERVICE_HOURS = "07:00-20:00"
    settings.BOOKING_APPROVAL_MARGIN_PERCENT = 7
    settings.FUNDING_UNIT_MONTHLY_BUDGET = 5_000_000
    settings.FUNDING_HOLD_MARGIN_PERCENT = 15
    sop = current()
    assert (sop.fare_ceiling, sop.service_hours, sop.approval_margin_percent) == (
        123_000,
        "07:00-20:00",
        7,
    )
    assert sop.unit_monthly_budget(unit) == 5_000_000 == sop.unit_monthly_budget(None)
    assert sop.hold_margin_percent == 15
    assert not any(sop.is_set(key) for key in KEYS)


def test_a_change_is_read_at_once_and_recorded(admin_user, unit, other_unit, settings):
    settings.FUNDING_UNIT_MONTHLY_BUDGET = 5_000_000
    before = current()
    rows = sop_change(
        user=admin_user,
        fare_ceiling="Rp 300.000",
        service_hours="05:30-22:00",
        **{unit_field("unit_monthly_budget", unit.pk): "8000000"},
    )
    sop = current()
    assert sop is not before
    assert sop.fare_ceiling == 300_000 and sop.service_hours == "05:30-22:00"
    assert sop.unit_monthly_budget(unit) == 8_000_000
    assert sop.unit_monthly_budget(other_unit.pk) == 5_000_000  # the default for the rest
    assert before.fare_ceiling == settings.BOOKING_FARE_CEILING  # snapshots never change
    assert {(row.key, row.unit_id, row.old_value, row.new_value) for row in rows} == {
        ("fare_ceiling", None, None, 300_000),
        ("service_hours", None, None, "05:30-22:00"),
        ("unit_monthly_budget", unit.pk, None, 8_000_000),
    }
    assert all(row.changed_by == admin_user and row.changed_at for row in rows)

    again = sop_change(user=admin_user, fare_ceiling=300_000, approval_margin_percent=12)
    assert [(row.key, row.old_value, row.new_value) for row in again] == [
        ("approval_margin_percent", None, 12)
    ]
    back = sop_change(user=admin_user, fare_ceiling="")
    assert [(row.key, row.old_value, row.new_value) for row in back] == [
        ("fare_ceiling", 300_000, None)
    ]
    assert current().fare_ceiling == settings.BOOKING_FARE_CEILING
    assert SopChange.objects.count() == 5


def test_every_problem_is_reported_at_once_and_nothing_is_written(admin_user, unit):
    with pytest.raises(ValidationError) as caught:
        sop_change(
            user=admin_user,
            fare_ceiling="-5",
            service_hours="pagi",
            approval_margin_percent="lots",
            hold_margin_percent=5000,
            **{unit_field("unit_monthly_budget", unit.pk): "12,5"},
            **{unit_field("unit_monthly_budget", 999_999): "1000"},
            colour="blue",
        )
    errors = caught.value.message_dict
    assert set(errors) == {
        "fare_ceiling",
        "service_hours",
        "approval_margin_percent",
        "hold_margin_percent",
        unit_field("unit_monthly_budget", unit.pk),
        unit_field("unit_monthly_budget", 999_999),
        "colour",
    }
    assert "06:00-21:00" in errors["service_hours"][0]
    assert "0% to 1000%" in errors["hold_margin_percent"][0]
    assert not SopValue.objects.exists() and not SopChange.objects.exists()


def test_the_messages_are_in_indonesian_for_indonesian_users(admin_user):
    with translation.override("id"), pytest.raises(ValidationError) as caught:
        sop_change(user=admin_user, service_hours="pagi")
    assert "Tulis jam" in caught.value.message_dict["service_hours"][0]


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.SUPERVISOR])
def test_only_admins_change_them(make_user, unit, role):
    with pytest.raises(PermissionDenied):
        sop_change(user=make_user(role, unit), fare_ceiling=1)
    assert not SopValue.objects.exists()


def test_the_history_refuses_update_and_delete_in_the_database(admin_user):
    (row,) = sop_change(user=admin_user, fare_ceiling=1_000)
    for statement in (
        "UPDATE sop_sopchange SET new_value = '5' WHERE id = %s",
        "DELETE FROM sop_sopchange WHERE id = %s",
    ):
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [row.pk])
    assert SopChange.objects.get(pk=row.pk).new_value == 1_000


def test_one_value_per_key_and_per_unit(admin_user, unit):
    sop_change(user=admin_user, fare_ceiling=1_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        SopValue.objects.create(
            key="fare_ceiling", value=2, changed_at=timezone.now(), changed_by=admin_user
        )


def test_the_snapshot_is_kept_without_queries_until_it_may_be_stale(
    admin_user, django_assert_num_queries, monkeypatch
):
    first = current()
    with django_assert_num_queries(0):
        assert current() is first
    # Another process's change shows once the snapshot is older than CACHE_SECONDS.
    SopValue.objects.create(
        key="fare_ceiling", value=77_000, changed_at=timezone.now(), changed_by=admin_user
    )
    assert current().fare_ceiling == first.fare_ceiling
    clock = selectors.time.monotonic() + selectors.CACHE_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock)
    assert current().fare_ceiling == 77_000


def test_a_change_in_this_process_is_never_stale_also_after_commit(
    admin_user, django_capture_on_commit_callbacks
):
    current()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sop_change(user=admin_user, approval_margin_percent=25)
    assert callbacks  # the cache is emptied again on commit
    assert current().approval_margin_percent == 25


def test_a_changed_setting_is_a_new_default_at_once(settings):
    assert current().fare_ceiling == settings.BOOKING_FARE_CEILING
    settings.BOOKING_FARE_CEILING = 4_321
    assert current().fare_ceiling == 4_321
