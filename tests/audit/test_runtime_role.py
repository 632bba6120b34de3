"""The database role split, on the real PostgreSQL: a runtime role given its rights by
grant_runtime_role does the portal's normal work (books a ride through the service,
writes the access log, the audit trail and a ledger row), and cannot UPDATE, DELETE or
TRUNCATE the rows of the append-only tables, nor ALTER TABLE … DISABLE TRIGGER them:
only their owner could, and it is not the owner."""

import datetime as dt
import os
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from psycopg import sql

from audit.models import AuditEvent, Kind
from audit.roles import APPEND_ONLY_TABLES
from audit.services import audit_record
from cases.models import AccessLog
from cases.services import access_log_record
from funding.models import Agreement, Funder, LedgerEntry
from funding.services import tranche_plan, tranche_receive
from rides.booking.services import ride_book
from rides.models import TripEvent
from rides.pipeline.cancel import ride_cancel
from tests.booking.conftest import CHEAP, booking_args

pytestmark = pytest.mark.django_db

REFUSED = "permission denied|must be owner"


def _execute(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def runtime_role(db):
    """A fresh role (its creation is rolled back with the test's transaction), given its
    rights by the command, as docker-compose's migrate service does."""
    role = f"portal_runtime_{os.getpid()}"
    _execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    call_command("grant_runtime_role", role, verbosity=0)
    return role


@contextmanager
def acting_as(role):
    _execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing deferred waits on the tables
    _execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    try:
        yield
    finally:
        _execute("RESET ROLE")


def _refused(statement):
    with pytest.raises(DatabaseError, match=REFUSED):
        with transaction.atomic():
            _execute(statement)


def test_the_runtime_role_works_and_cannot_change_or_remove_append_only_rows(
    runtime_role, adult_case, places, caseworker, admin_user
):
    funder = Funder.objects.create(name="Yayasan Uji")
    agreement = Agreement.objects.create(
        funder=funder,
        title="Uji peran",
        amount=10_000_000,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2030, 12, 31),
    )
    with acting_as(runtime_role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == runtime_role
        # the portal's normal work, through its services
        ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
        access_log_record(user=caseworker, case=adult_case, fields=["name"], view="cases:survivor")
        tranche = tranche_plan(
            agreement=agreement, planned_on=dt.date(2026, 2, 1), planned_amount=1_000_000
        )
        tranche_receive(
            tranche=tranche, amount=1_000_000, received_on=dt.date(2026, 2, 1), user=admin_user
        )
        audit_record(Kind.EXPORT, actor=admin_user, object_type="report", object_id="uji")
        ride_cancel(ride_id=ride.pk, user=caseworker)  # an UPDATE of an ordinary table
        counts = {
            "audit_auditevent": AuditEvent.objects.count(),
            "cases_accesslog": AccessLog.objects.count(),
            "rides_tripevent": TripEvent.objects.filter(ride=ride).count(),
            "funding_ledgerentry": LedgerEntry.objects.count(),
        }
        assert all(counts.values()), counts

        for table in APPEND_ONLY_TABLES:
            _refused(f"UPDATE {table} SET id = id")
            _refused(f"DELETE FROM {table}")
            _refused(f"TRUNCATE {table} CASCADE")
            _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            _refused(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            _refused(f"ALTER TABLE {table} OWNER TO {runtime_role}")
        _refused("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        _refused("DROP TRIGGER audit_auditevent_append_only ON audit_auditevent")
        _refused("CREATE TABLE audit_copy (id int)")

    assert {
        "audit_auditevent": AuditEvent.objects.count(),
        "cases_accesslog": AccessLog.objects.count(),
        "rides_tripevent": TripEvent.objects.filter(ride=ride).count(),
        "funding_ledgerentry": LedgerEntry.objects.count(),
    } == counts


def test_the_rights_are_exactly_select_and_insert_on_the_append_only_tables(runtime_role):
    call_command("grant_runtime_role", runtime_role, verbosity=0)  # a second run: the same

    def rights(table):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE',"
                "'REFERENCES','TRIGGER']) p WHERE has_table_privilege(%s, %s, p)",
                [runtime_role, table],
            )
            return {row[0] for row in cursor.fetchall()}

    for table in APPEND_ONLY_TABLES:
        assert rights(table) == {"SELECT", "INSERT"}, table
    for table in ("rides_ride", "cases_case", "accounts_user", "django_session"):
        assert rights(table) == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = %s", [runtime_role])
        assert cursor.fetchone()[0] == 0
        # tables the owner creates later get the usual rights by default
        cursor.execute("CREATE TABLE audit_later_table (id int)")
        cursor.execute(
            "SELECT has_table_privilege(%s, 'audit_later_table', 'UPDATE')", [runtime_role]
        )
        assert cursor.fetchone()[0] is True


def test_the_command_refuses_a_role_that_could_undo_the_protection(db):
    with pytest.raises(CommandError, match="there is no database role"):
        call_command("grant_runtime_role", "no_such_role_here", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="superuser|running this command"):
        call_command("grant_runtime_role", owner, verbosity=0)
    owning = f"portal_owning_{os.getpid()}"
    _execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(owning)))
    _execute("CREATE TABLE audit_owned_elsewhere (id int)")
    _execute(
        sql.SQL("ALTER TABLE audit_owned_elsewhere OWNER TO {}").format(sql.Identifier(owning))
    )
    with pytest.raises(CommandError, match="owns tables"):
        call_command("grant_runtime_role", owning, verbosity=0)
