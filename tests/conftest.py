import pytest
from django.test import Client

from accounts.models import Role, Unit
from tests.factories import TEST_PASSWORD, UnitFactory, UserFactory

pytest_plugins = ["tests.stack"]

# The ledger refuses TRUNCATE (funding/migrations/0002), but the test runner empties the
# database after each transactional test with one TRUNCATE of every table. In the test
# database only, that trigger is off; tests/funding/test_ledger.py turns it on again
# inside its own transaction to see the refusal.
LEDGER_TRUNCATE_TRIGGER = "funding_ledgerentry_no_truncate"
# The audit trail's TRUNCATE trigger (audit/migrations/0002), likewise off in the test
# database only; tests/audit/ turn it on again inside their transaction.
AUDIT_TRUNCATE_TRIGGER = "audit_auditevent_no_truncate"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, with the ledger's and the audit trail's TRUNCATE
    triggers off (above)."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE funding_ledgerentry DISABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}")
        cursor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER}")


@pytest.fixture(autouse=True)
def _sop_values_of_this_test():
    """The SOP snapshot is kept for a few seconds per process: a value set by an earlier
    test (rolled back since) must not reach the next one."""
    from sop.selectors import cache_clear

    cache_clear()
    yield
    cache_clear()


@pytest.fixture
def make_unit(db):
    def make(code=None, name=None, kind=Unit.Kind.CITY_OFFICE):
        fields = {"code": code} if code else {}
        if name:
            fields["name"] = name
        return UnitFactory(kind=kind, **fields)

    return make


@pytest.fixture
def unit(make_unit):
    return make_unit(code="JAKTIM", name="Pos Pelayanan PPA Jakarta Timur")


@pytest.fixture
def other_unit(make_unit):
    return make_unit(code="JAKSEL", name="Pos Pelayanan PPA Jakarta Selatan")


@pytest.fixture
def make_user(db):
    def make(role=Role.CASEWORKER, unit=None, username=None, password=TEST_PASSWORD):
        fields = {"username": username} if username else {}
        return UserFactory(role=role, unit=unit, password=password, **fields)

    return make


@pytest.fixture
def caseworker(make_user, unit):
    return make_user(Role.CASEWORKER, unit, username="caseworker1")


@pytest.fixture
def supervisor(make_user, unit):
    return make_user(Role.SUPERVISOR, unit, username="supervisor1")


@pytest.fixture
def caseworker_other_unit(make_user, other_unit):
    return make_user(Role.CASEWORKER, other_unit, username="caseworker2")


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, None, username="admin1")


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
