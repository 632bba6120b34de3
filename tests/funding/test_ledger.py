"""The fund's ledger: append-only in the database, tranches within their agreement, holds
that the balance covers, settlement, release, fees and two-admin adjustments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from funding.models import EntryKind, LedgerEntry
from funding.selectors import fund_balance, ride_ledger, unit_month_committed
from funding.services import (
    HoldRefused,
    adjustment_confirm,
    adjustment_propose,
    ride_fee,
    ride_hold,
    ride_release,
    ride_settle,
    tranche_plan,
)
from tests.conftest import LEDGER_TRUNCATE_TRIGGER


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE funding_ledgerentry SET amount = 1",
        "DELETE FROM funding_ledgerentry",
        "TRUNCATE funding_ledgerentry CASCADE",
    ],
)
def test_the_database_refuses_to_change_or_remove_ledger_rows(fund, statement):
    fund(1_000_000)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: TRUNCATE may run
        # off for the test runner's own emptying (tests/conftest.py); on, as in production
        cursor.execute(f"ALTER TABLE funding_ledgerentry ENABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}")
    with pytest.raises(DatabaseError, match="the ledger is append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert LedgerEntry.objects.get().amount == 1_000_000


def test_a_tranche_outside_its_agreement_or_beyond_it_is_refused(agreement):
    tranche_plan(agreement=agreement, planned_on=dt.date(2026, 6, 1), planned_amount=200_000_000)
    with pytest.raises(ValidationError) as failed:
        tranche_plan(
            agreement=agreement, planned_on=dt.date(2031, 6, 1), planned_amount=150_000_000
        )
    problems = failed.value.message_dict
    assert "within the agreement" in problems["planned_on"][0]
    assert "Rp 100.000.000 of it is left" in problems["planned_amount"][0]
    for amount in (0, -5, 1.5):
        with pytest.raises(ValidationError) as failed:
            tranche_plan(agreement=agreement, planned_on=dt.date(2026, 7, 1), planned_amount=amount)
        assert "above zero" in failed.value.message_dict["planned_amount"][0]
    assert agreement.tranches.count() == 1


def test_a_hold_the_fund_cannot_cover_is_refused_and_nothing_is_written(fund, new_ride):
    fund(100_000)
    first, second = new_ride(), new_ride()
    ride_hold(ride_id=first.pk, unit_id=first.unit_id, amount=60_000)
    with pytest.raises(HoldRefused) as refused:
        ride_hold(ride_id=second.pk, unit_id=second.unit_id, amount=60_000)
    assert refused.value.code == "fund" and refused.value.left == 40_000
    assert refused.value.message == "The fund has Rp 40.000 available; this ride needs Rp 60.000."
    assert not LedgerEntry.objects.filter(ride=second).exists()
    assert fund_balance().available == 40_000


def test_a_unit_monthly_budget_caps_its_rides(fund, new_ride):
    fund(10_000_000)
    first, second = new_ride(), new_ride()
    ride_hold(ride_id=first.pk, unit_id=first.unit_id, amount=70_000, unit_monthly_budget=100_000)
    with pytest.raises(HoldRefused) as refused:
        ride_hold(
            ride_id=second.pk, unit_id=second.unit_id, amount=40_000, unit_monthly_budget=100_000
        )
    assert refused.value.code == "unit_budget" and refused.value.left == 30_000


def test_a_hold_twice_is_one_hold(fund, new_ride):
    fund(1_000_000)
    ride = new_ride()
    ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=55_000)
    ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=55_000)
    assert ride_ledger(ride.pk).held == 55_000


def test_settlement_releases_the_hold_and_charges_the_fare_once(fund, new_ride):
    fund(1_000_000)
    ride = new_ride()
    ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=57_310)
    ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=52_100)
    ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=52_100)  # the receipt read twice
    position = ride_ledger(ride.pk)
    assert (position.held, position.charged) == (0, 52_100)
    assert fund_balance().available == 1_000_000 - 52_100
    month = LedgerEntry.objects.filter(ride=ride).values_list("budget_month", flat=True)
    assert len(set(month)) == 1
    assert unit_month_committed(ride.unit_id, next(iter(month))) == 52_100


def test_release_and_fee(fund, new_ride):
    fund(1_000_000)
    cancelled, no_driver = new_ride(), new_ride()
    for ride in (cancelled, no_driver):
        ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=50_000)
    ride_fee(ride_id=cancelled.pk, unit_id=cancelled.unit_id, fee=10_000)
    ride_fee(ride_id=cancelled.pk, unit_id=cancelled.unit_id, fee=10_000)
    ride_release(ride_id=no_driver.pk)
    ride_release(ride_id=no_driver.pk)
    assert fund_balance().available == 1_000_000 - 10_000
    assert fund_balance().held == 0
    kinds = list(LedgerEntry.objects.filter(ride=no_driver).values_list("kind", flat=True))
    assert kinds == [EntryKind.HOLD, EntryKind.RELEASE]


def test_an_adjustment_needs_a_second_admin(fund, admins):
    fund(500_000)
    first, second = admins
    with pytest.raises(ValidationError) as failed:
        adjustment_propose(user=first, amount=0, reason=" ")
    assert set(failed.value.message_dict) == {"amount", "reason"}
    adjustment = adjustment_propose(user=first, amount=-20_000, reason="Bank fee, transfer 14/1")
    assert fund_balance().available == 500_000  # not yet
    with pytest.raises(ValidationError, match="Another admin must confirm"):
        adjustment_confirm(adjustment=adjustment, user=first)
    adjustment_confirm(adjustment=adjustment, user=second)
    assert fund_balance().available == 480_000
    with pytest.raises(ValidationError, match="confirmed already"):
        adjustment_confirm(adjustment=adjustment, user=second)
    too_much = adjustment_propose(user=first, amount=-480_001, reason="typo")
    with pytest.raises(ValidationError, match="cannot go below zero"):
        adjustment_confirm(adjustment=too_much, user=second)
