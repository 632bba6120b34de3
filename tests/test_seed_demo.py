import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import Role, Unit, User


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
