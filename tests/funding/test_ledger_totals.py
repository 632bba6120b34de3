"""The ledger's kept sums (funding.models.LedgerTotal, migration 0003): every way a row
enters the ledger (the services, a bulk insert, plain SQL as COPY would) adds its sums in
the same transaction, a rolled-back write adds nothing, folding keeps every sum, a fold
racing an uncommitted write loses nothing, and `ledger_totals_differences` (manage.py
ledger_check) sees a kept sum that is wrong."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction

from funding.ledger import Balance
from funding.models import EntryKind, LedgerEntry, LedgerTotal, TotalCut
from funding.selectors import (
    fund_balance,
    fund_overview,
    ledger_totals_differences,
    spend_by_month,
    spend_by_purpose,
    spend_by_unit,
)
from funding.services import ride_fee, ride_hold, ride_release, ride_settle
from rides.models import Purpose

K = EntryKind


def _insert(rows) -> None:
    """(created_at, kind, amount, ride) rows, written by plain SQL (the trigger's path for
    COPY and any bulk writer) in one statement."""
    values = ", ".join(["(%s, %s, %s, %s, %s, '2026-01-01')"] * len(rows))
    params = [
        p for at, kind, amount, ride in rows for p in (at, kind, amount, ride.pk, ride.unit_id)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO funding_ledgerentry (created_at, kind, amount, ride_id, unit_id, "
            f"budget_month) VALUES {values}",
            params,
        )


@pytest.fixture
def mixed_ledger(fund, new_ride):
    """A tranche, holds, a fare, a fee, a release, over two purposes and a Jakarta month
    boundary; returns the rides."""
    fund(10_000_000)
    court, shelter, third = new_ride(), new_ride(), new_ride()
    for ride, purpose in ((court, Purpose.COURT_HEARING), (shelter, Purpose.COUNSELLING)):
        ride.purpose = purpose
        ride.save(update_fields=["purpose"])
    for ride in (court, shelter, third):
        ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=60_000)
    ride_settle(ride_id=court.pk, unit_id=court.unit_id, fare=48_000)
    ride_fee(ride_id=shelter.pk, unit_id=shelter.unit_id, fee=10_000)
    ride_release(ride_id=third.pk)
    _insert(
        [
            ("2026-01-31T17:30:00Z", K.HOLD, 700, third),  # 1 February in Jakarta
            ("2026-01-31T16:30:00Z", K.HOLD, 300, third),  # still 31 January there
        ]
    )
    return court, shelter, third


def _from_the_ledger() -> dict:
    """What the funding page shows, summed over the ledger itself."""
    from django.db.models import Sum

    by_kind = dict(LedgerEntry.objects.values_list("kind").annotate(t=Sum("amount")).order_by())
    spent = LedgerEntry.objects.filter(kind__in=(K.CHARGE, K.FEE))
    return {
        "kinds": by_kind,
        "spent": spent.aggregate(t=Sum("amount"))["t"],
        "charged_rides": LedgerEntry.objects.filter(kind=K.CHARGE).count(),
    }


@pytest.mark.django_db
def test_the_kept_sums_are_the_ledgers_through_every_kind_of_write(mixed_ledger):
    court = mixed_ledger[0]
    assert ledger_totals_differences() == []
    truth = _from_the_ledger()
    assert fund_balance() == Balance.of(truth["kinds"])
    assert fund_balance().received == 10_000_000
    assert sum(spend_by_month().values()) == truth["spent"] == 58_000
    assert dict(spend_by_unit()) == {court.unit.name: 58_000}
    assert dict(spend_by_purpose()) == {
        str(Purpose.COURT_HEARING.label): 48_000,
        str(Purpose.COUNSELLING.label): 10_000,
    }
    overview = fund_overview()
    assert overview.completed_rides == truth["charged_rides"] == 1
    assert overview.cost_per_ride == 48_000
    months = set(
        LedgerTotal.objects.filter(cut=TotalCut.MONTH, kind=K.HOLD).values_list("month", flat=True)
    )
    assert {dt.date(2026, 1, 1), dt.date(2026, 2, 1)} <= months


@pytest.mark.django_db
def test_folding_keeps_every_sum_in_one_row_per_key(mixed_ledger):
    from funding.services import ledger_totals_compact

    page_before = (fund_balance(), spend_by_month(), spend_by_unit(), spend_by_purpose())
    keys = set(LedgerTotal.objects.values_list("cut", "kind", "month", "unit_id", "purpose"))
    before, after = ledger_totals_compact()
    assert before > after == len(keys)
    assert (fund_balance(), spend_by_month(), spend_by_unit(), spend_by_purpose()) == page_before
    assert ledger_totals_differences() == []
    assert ledger_totals_compact() == (after, after)  # a second fold changes nothing


@pytest.mark.django_db
def test_a_rolled_back_write_adds_nothing(fund, new_ride):
    fund(1_000_000)
    ride = new_ride()
    kept = fund_balance()
    with pytest.raises(RuntimeError), transaction.atomic():
        ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=60_000)
        raise RuntimeError("the booking failed after its hold")
    assert fund_balance() == kept
    assert ledger_totals_differences() == []


@pytest.mark.django_db
def test_the_check_sees_a_kept_sum_that_is_wrong(mixed_ledger):
    court = mixed_ledger[0]
    LedgerTotal.objects.create(
        cut=TotalCut.UNIT, kind=K.CHARGE, unit_id=court.unit_id, total=1, entries=1
    )
    found = ledger_totals_differences()
    assert len(found) == 1
    assert "by unit" in found[0] and "charge" in found[0]


@pytest.mark.django_db(transaction=True)
def test_a_fold_while_a_write_is_uncommitted_loses_nothing(fund, new_ride):
    """The writer's rows are invisible to the fold's DELETE, so they stay and count once
    the writer commits."""
    from funding.services import ledger_totals_compact

    fund(1_000_000)
    ride = new_ride()
    written, release = threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=60_000)
                written.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(timeout=20)
    ledger_totals_compact()
    release.set()
    thread.join(timeout=20)
    assert fund_balance().held == 60_000
    assert ledger_totals_differences() == []
