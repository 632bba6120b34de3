import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role, Unit, User
from funding.models import Agreement, LedgerEntry, Tranche
from funding.selectors import fund_balance


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent():
    call_command("seed_demo", password="demo-pass-123")
    users = {u.username: (u.role, u.unit.code if u.unit else None) for u in User.objects.all()}
    assert users == {
        "caseworker1": (Role.CASEWORKER, "JAKTIM"),
        "supervisor1": (Role.SUPERVISOR, "JAKTIM"),
        "caseworker2": (Role.CASEWORKER, "JAKSEL"),
        "admin1": (Role.ADMIN, None),
    }
    assert User.objects.get(username="caseworker1").check_password("demo-pass-123")
    before = (list(User.objects.values().order_by("pk")), list(Unit.objects.values()))
    call_command("seed_demo", password="another-pass")
    after = (list(User.objects.values().order_by("pk")), list(Unit.objects.values()))
    assert before == after


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_seed_demo_is_refused_in_production_unless_forced():
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", password="demo-pass-123")
    assert not User.objects.exists()
    call_command("seed_demo", password="demo-pass-123", force=True)
    assert User.objects.filter(username="admin1").exists()


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_writes_the_fund_with_its_tranche_schedule_once():
    call_command("seed_demo", password="demo-pass-123")
    (agreement,) = Agreement.objects.all()
    assert (agreement.amount, agreement.starts_on, agreement.ends_on) == (
        300_000_000,
        dt.date(2026, 1, 1),
        dt.date(2030, 12, 31),
    )
    tranches = list(agreement.tranches.order_by("planned_on"))
    assert [t.planned_amount for t in tranches] == [30_000_000] * 10
    assert tranches[0].planned_on == dt.date(2026, 1, 15)
    assert tranches[-1].planned_on == dt.date(2030, 7, 15)
    due = [t for t in tranches if t.planned_on <= timezone.localdate()]
    assert [t.received_amount for t in tranches if t.received_on] == [30_000_000] * len(due)
    assert fund_balance().available == 30_000_000 * len(due)
    rows = list(LedgerEntry.objects.values_list("pk", flat=True))
    call_command("seed_demo", password="demo-pass-123")
    assert list(LedgerEntry.objects.values_list("pk", flat=True)) == rows
    assert Tranche.objects.count() == 10
