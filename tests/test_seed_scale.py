"""`manage.py seed_scale` on a small scale: the counts, real ciphertext, a clean ledger,
the refusal in production, and the trip log of a seeded supervisor."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from accounts.models import Role, User
from cases.models import Case, Survivor
from funding.models import EntryKind, LedgerEntry
from portal.seed_scale.people import PROVINCES
from rides.models import Ride, RideStatus, TripEvent
from rides.pipeline.ledger_check import ledger_differences
from tests.conftest import logged_in_client

PASSWORD = "seeded-pass-2026"


@pytest.fixture
def seeded(db):
    with override_settings(DEBUG=True):
        call_command("seed_scale", cases=30, rides=200, years=3, password=PASSWORD)


def test_seed_scale_writes_units_cases_rides_and_their_history(seeded):
    assert Case.objects.count() == Survivor.objects.count() == 30
    assert Ride.objects.count() == 200
    assert {status for status in Ride.objects.values_list("status", flat=True)} >= {
        RideStatus.COMPLETED,
        RideStatus.CANCELLED,
    }
    provinces = {
        code.split("-")[0] for code in User.objects.values_list("unit__code", flat=True) if code
    }
    assert len(provinces) == len(PROVINCES) == 38
    assert TripEvent.objects.count() > 2 * Ride.objects.count()
    completed = Ride.objects.filter(status=RideStatus.COMPLETED).count()
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == completed
    years = {ride.created_at.year for ride in Ride.objects.all()}
    assert len(years) >= 3
    for username in ("bench_caseworker", "bench_supervisor", "bench_admin"):
        assert User.objects.get(username=username).check_password(PASSWORD)


def test_seeded_ledger_agrees_with_the_rides(seeded):
    assert ledger_differences() == []


def test_seeded_protected_fields_are_ciphertext_in_the_database(seeded):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone FROM cases_survivor")
        survivors = cursor.fetchall()
        cursor.execute("SELECT pickup, dropoff, rider_phone FROM rides_ride")
        rides = cursor.fetchall()
    for value in [v for row in survivors + rides for v in row]:
        assert value.startswith("fernet:"), value[:20]
    survivor = Survivor.objects.first()
    assert survivor.name and not survivor.name.startswith("fernet:")
    ride = Ride.objects.first()
    assert set(ride.pickup) == {"latitude", "longitude", "address"}


@override_settings(DEBUG=False)
def test_seed_scale_is_refused_in_production_unless_forced(db):
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_scale", cases=5, rides=10, password=PASSWORD)
    assert not Ride.objects.exists()
    call_command("seed_scale", cases=5, rides=10, years=1, password=PASSWORD, force=True)
    assert Ride.objects.count() == 10


def test_a_seeded_supervisor_reads_the_trip_log_of_their_unit(seeded):
    supervisor = User.objects.get(username="bench_supervisor", role=Role.SUPERVISOR)
    reference = Ride.objects.filter(unit_id=supervisor.unit_id).latest("created_at").reference
    response = logged_in_client(supervisor).get("/supervision/trips/")
    assert response.status_code == 200
    assert reference in response.content.decode()


def test_seeded_rides_that_went_to_a_supervisor_say_why_on_their_page(seeded):
    """The seeded approval reasons are what the booking writes (rides/rules.py), so the
    ride page, the API's ride list and the approval queue read them."""
    ride = Ride.objects.exclude(approval_reasons=[]).select_related("booked_by").first()
    assert ride is not None
    client = logged_in_client(ride.booked_by)
    client.cookies["django_language"] = "en"
    page = client.get(f"/rides/{ride.reference}/")
    assert page.status_code == 200
    assert "The partner could not give a fare" in page.content.decode()
    assert client.get("/api/v1/rides/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_seed_scale_leaves_the_tables_vacuumed_for_index_only_scans():
    with override_settings(DEBUG=True):
        call_command("seed_scale", cases=5, rides=20, years=1, password=PASSWORD)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL"
            " AND relname IN ('rides_ride', 'rides_tripevent', 'funding_ledgerentry')"
        )
        vacuumed = {name for (name,) in cursor.fetchall()}
    assert vacuumed == {"rides_ride", "rides_tripevent", "funding_ledgerentry"}
