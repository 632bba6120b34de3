"""`manage.py ledger_check`: clean when the ledger agrees with the rides and receipts,
and each kind of difference printed, with exit status 1."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from funding.models import Adjustment, EntryKind, LedgerEntry, Tranche
from funding.services import ride_fee, ride_hold, ride_release, ride_settle
from rides.models import RideStatus
from tests.factories import PartnerAccountFactory

pytestmark = pytest.mark.django_db
S = RideStatus


def check() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ledger_check", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def ride_in(make_ride):
    account = PartnerAccountFactory()

    def make(status, held=55_000, **fields):
        ride = make_ride(account, status=status, **fields)
        if held:
            ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=held)
        return ride

    return make


@pytest.fixture
def funded(fund):
    fund(10_000_000)


def test_a_ledger_that_agrees_is_clean(funded, ride_in):
    completed = ride_in(S.COMPLETED, final_fare=48_000, receipt={"total_amount": 48_000})
    ride_settle(ride_id=completed.pk, unit_id=completed.unit_id, fare=48_000)
    cancelled = ride_in(S.CANCELLED, cancellation_fee=10_000, receipt={"cancellation_fee": 10_000})
    ride_fee(ride_id=cancelled.pk, unit_id=cancelled.unit_id, fee=10_000)
    no_driver = ride_in(S.NO_DRIVER)
    ride_release(ride_id=no_driver.pk)
    ride_in(S.SEARCHING)  # still under way: it holds
    ride_in(S.COMPLETED, receipt_due_at=timezone.now())  # the receipt is on its way
    assert check() == (0, "The ledger agrees with the rides, receipts, tranches and adjustments.\n")


def test_a_completed_ride_never_charged(funded, ride_in):
    ride = ride_in(S.COMPLETED, held=0, final_fare=48_000)
    code, out = check()
    assert code == 1
    assert f"ride {ride.reference}: completed with a final fare of Rp 48.000, charged 0" in out


def test_a_completed_ride_charged_another_fare(funded, ride_in):
    ride = ride_in(S.COMPLETED, final_fare=48_000)
    ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=50_000)
    code, out = check()
    assert code == 1 and "Rp 50.000 in all" in out and ride.reference in out


def test_an_ended_ride_that_still_holds(funded, ride_in):
    ride = ride_in(S.CANCELLED)
    code, out = check()
    assert code == 1
    assert f"ride {ride.reference}: cancelled, but still holds Rp 55.000" in out


def test_a_fee_other_than_the_receipts(funded, ride_in):
    ride = ride_in(S.CANCELLED, cancellation_fee=10_000, receipt={"cancellation_fee": 10_000})
    ride_fee(ride_id=ride.pk, unit_id=ride.unit_id, fee=12_000)
    code, out = check()
    assert code == 1 and "cancelled with a fee of Rp 10.000, charged 1 fee(s), Rp 12.000" in out


def test_a_fee_no_receipt_gives(funded, ride_in):
    ride = ride_in(S.CANCELLED, receipt={"cancellation_fee": None})
    ride_fee(ride_id=ride.pk, unit_id=ride.unit_id, fee=12_000)
    code, out = check()
    assert code == 1 and f"ride {ride.reference}: charged a fee of Rp 12.000 no receipt" in out


def test_a_cancelled_ride_whose_fee_was_never_charged(funded, ride_in):
    ride = ride_in(S.CANCELLED, held=0, cancellation_fee=9_000, receipt={"cancellation_fee": 9_000})
    code, out = check()
    assert code == 1 and f"ride {ride.reference}: cancelled with a fee of Rp 9.000" in out


def test_a_charge_on_a_ride_that_did_not_complete(funded, ride_in):
    ride = ride_in(S.FAILED)
    ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=30_000)
    code, out = check()
    assert code == 1 and f"ride {ride.reference}: failed, yet charged a fare of Rp 30.000" in out


def test_a_release_greater_than_the_hold(funded, ride_in):
    ride = ride_in(S.SEARCHING, held=10_000)
    LedgerEntry.objects.create(
        kind=EntryKind.RELEASE,
        amount=15_000,
        ride=ride,
        unit=ride.unit,
        budget_month=dt.date(2026, 1, 1),
    )
    code, out = check()
    assert code == 1 and f"ride {ride.reference}: released Rp 5.000 more than it held" in out


def test_rows_naming_another_unit(funded, ride_in, make_unit):
    ride = ride_in(S.SEARCHING, held=0)
    LedgerEntry.objects.create(
        kind=EntryKind.HOLD,
        amount=1_000,
        ride=ride,
        unit=make_unit("Lain"),
        budget_month=dt.date(2026, 1, 1),
    )
    code, out = check()
    assert code == 1 and f"ride {ride.reference}: ledger rows name another unit" in out


def test_a_tranche_received_without_its_row(agreement, admins):
    Tranche.objects.create(
        agreement=agreement,
        planned_on=dt.date(2026, 1, 1),
        planned_amount=1_000,
        received_on=dt.date(2026, 1, 2),
        received_amount=1_000,
        confirmed_by=admins[0],
    )
    code, out = check()
    assert code == 1 and "received Rp 1.000, in the ledger Rp 0" in out


def test_an_adjustment_confirmed_without_its_row(funded, admins):
    Adjustment.objects.create(
        amount=-5_000,
        reason="salah catat",
        proposed_by=admins[0],
        confirmed_by=admins[1],
        confirmed_at=timezone.now(),
    )
    code, out = check()
    assert code == 1 and "adjustments: -Rp 5.000 confirmed, Rp 0 in the ledger" in out
