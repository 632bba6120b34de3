"""The ride pipeline's money, with the sandbox partner over HTTP: a hold before a ride is
sent, a ride the fund cannot cover waiting for a supervisor, settlement from the receipt,
the fee from a cancellation, release on every other ending; each written once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from funding.models import EntryKind, LedgerEntry
from funding.selectors import fund_balance, ride_ledger
from funding.services import tranche_plan, tranche_receive
from partners.client.registry import client_for
from rides.booking.services import ride_approve, ride_reject
from rides.models import RideStatus
from rides.pipeline.apply import ride_apply_partner_trip
from rides.pipeline.cancel import ride_cancel, ride_cancel_at_partner
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.funds import ride_funds_follow
from rides.pipeline.receipts import ride_fetch_receipt
from rides.pipeline.sweeper import outbox_sweep
from rides.rules import approval_reason_text
from tests.factories import ConsentFactory

pytestmark = pytest.mark.django_db
S = RideStatus
FARE = 50_000
HOLD = 55_000  # the fare plus the 10% margin


def rows(ride, kind=None):
    entries = LedgerEntry.objects.filter(ride=ride)
    if kind:
        entries = entries.filter(kind=kind)
    return list(entries.values_list("kind", "amount"))


def sync(account, ride):
    trip = client_for(account).get_trip(ride.partner_trip_id)
    ride_apply_partner_trip(ride_id=ride.pk, trip=trip, cause="poll")
    ride.refresh_from_db()
    return ride


@pytest.fixture
def sent(fund, partner_account, make_ride):
    """sent() -> a ride sent to the sandbox, holding its estimate plus the margin."""
    fund(1_000_000)

    def make():
        ride = make_ride(partner_account, estimate_fare=FARE)
        assert ride_dispatch(ride_id=ride.pk) == "created"
        ride.refresh_from_db()
        return ride

    return make


def test_a_dispatch_holds_the_estimate_plus_the_margin_once(sent, partner_account):
    ride = sent()
    assert rows(ride) == [(EntryKind.HOLD, HOLD)]
    assert ride_dispatch(ride_id=ride.pk) == "not_requested"  # a task run twice
    assert rows(ride) == [(EntryKind.HOLD, HOLD)]
    assert fund_balance().held == HOLD


def test_a_ride_the_fund_cannot_cover_is_not_sent_and_waits_with_the_reason(
    sandbox, fund, partner_account, make_ride
):
    fund(HOLD - 1)
    ride = make_ride(partner_account, estimate_fare=FARE)
    assert ride_dispatch(ride_id=ride.pk) == "awaiting_approval"
    ride.refresh_from_db()
    assert ride.status == S.AWAITING_APPROVAL
    assert ride.status_reason == "The fund has Rp 54.999 available; this ride needs Rp 55.000."
    assert ride.approval_reasons[0]["code"] == "funds_short"
    assert ride.idempotency_key == "" and ride.dispatch_due_at is None
    assert rows(ride) == []
    assert sandbox.control.calls("create_trip", partner_account.client_id) == []
    with translation.override("id"):
        text = approval_reason_text(ride.approval_reasons[0])
    assert text == "Dana yang tersedia Rp 54.999; perjalanan ini memerlukan Rp 55.000."


def test_the_units_monthly_budget_holds_a_ride_back(settings, fund, partner_account, make_ride):
    settings.FUNDING_UNIT_MONTHLY_BUDGET = 100_000
    fund(1_000_000)
    first = make_ride(partner_account, estimate_fare=FARE)
    second = make_ride(partner_account, estimate_fare=FARE)
    assert ride_dispatch(ride_id=first.pk) == "created"
    assert ride_dispatch(ride_id=second.pk) == "awaiting_approval"
    second.refresh_from_db()
    assert second.status_reason == (
        "The unit's budget for this month has Rp 45.000 left; this ride needs Rp 55.000."
    )


def test_approval_runs_the_hold_again_once_money_arrives(
    sandbox, agreement, admins, fund, partner_account, make_ride, pipeline_supervisor
):
    fund(10_000)
    ride = make_ride(partner_account, estimate_fare=FARE)
    ConsentFactory(case=ride.case, recorded_by=ride.booked_by)
    assert ride_dispatch(ride_id=ride.pk) == "awaiting_approval"
    # Approved while the fund is still short: it waits again, nothing sent.
    ride_approve(ride_id=ride.pk, user=pipeline_supervisor)
    assert ride_dispatch(ride_id=ride.pk) == "awaiting_approval"
    assert sandbox.control.calls("create_trip", partner_account.client_id) == []
    tranche = tranche_plan(agreement=agreement, planned_on=dt.date(2026, 7, 1), planned_amount=HOLD)
    tranche_receive(tranche=tranche, amount=HOLD, received_on=dt.date(2026, 1, 20), user=admins[0])
    ride_approve(ride_id=ride.pk, user=pipeline_supervisor)
    assert ride_dispatch(ride_id=ride.pk) == "created"
    assert ride_ledger(ride.pk).held > 0
    assert len(sandbox.control.calls("create_trip", partner_account.client_id)) == 1


def test_the_receipt_settles_the_hold_with_the_final_fare_once(sandbox, sent, partner_account):
    ride = sent()
    sandbox.control.set_trip_status(ride.partner_trip_id, "in_progress")
    sandbox.control.set_trip_status(ride.partner_trip_id, "completed")
    ride = sync(partner_account, ride)
    assert rows(ride) == [(EntryKind.HOLD, HOLD)]  # held until the receipt says the fare
    assert ride_fetch_receipt(ride_id=ride.pk) == "stored"
    ride.refresh_from_db()
    assert rows(ride) == [
        (EntryKind.HOLD, HOLD),
        (EntryKind.RELEASE, HOLD),
        (EntryKind.CHARGE, ride.final_fare),
    ]
    ride_funds_follow(ride)  # a repeat (a retried task, the sweeper) writes nothing
    sync(partner_account, ride)
    assert len(rows(ride)) == 3
    balance = fund_balance()
    assert (balance.held, balance.charged) == (0, ride.final_fare)


def test_a_cancellation_with_a_fee_charges_the_fee_the_receipt_gives(
    sandbox, sent, partner_account, pipeline_caseworker
):
    ride = sent()
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    ride = sync(partner_account, ride)
    ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    assert ride_cancel_at_partner(ride_id=ride.pk) == "cancelled"
    ride.refresh_from_db()
    assert ride.status == S.CANCELLED and ride.cancellation_fee
    assert ride_fetch_receipt(ride_id=ride.pk) == "stored"
    ride.refresh_from_db()
    assert rows(ride, EntryKind.FEE) == [(EntryKind.FEE, ride.cancellation_fee)]
    assert ride_ledger(ride.pk).held == 0
    ride_funds_follow(ride)
    assert len(rows(ride, EntryKind.FEE)) == 1


@pytest.mark.parametrize(
    ("partner_status", "ended"),
    [("no_drivers_available", S.NO_DRIVER), ("failed", S.FAILED)],
)
def test_a_trip_that_ends_without_a_fare_releases_the_hold(
    sandbox, sent, partner_account, partner_status, ended
):
    ride = sent()
    sandbox.control.set_trip_status(ride.partner_trip_id, partner_status)
    ride = sync(partner_account, ride)
    assert ride.status == ended
    assert rows(ride) == [(EntryKind.HOLD, HOLD), (EntryKind.RELEASE, HOLD)]
    assert fund_balance().held == 0


def test_a_cancellation_before_the_partner_releases_the_hold(
    sandbox, fund, partner_account, make_ride, pipeline_caseworker
):
    fund(1_000_000)
    ride = make_ride(partner_account, estimate_fare=FARE)
    sandbox.control.force_fault("create_trip", "429", count=1)
    assert ride_dispatch(ride_id=ride.pk) == "retry_later"
    assert rows(ride) == [(EntryKind.HOLD, HOLD)]  # kept for the retry
    ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    assert rows(ride) == [(EntryKind.HOLD, HOLD), (EntryKind.RELEASE, HOLD)]


def test_a_rejected_ride_holds_nothing(fund, partner_account, make_ride, pipeline_supervisor):
    fund(10_000)
    ride = make_ride(partner_account, estimate_fare=FARE)
    assert ride_dispatch(ride_id=ride.pk) == "awaiting_approval"
    ride_reject(ride_id=ride.pk, user=pipeline_supervisor, reason="Tidak ada dana")
    ride.refresh_from_db()
    assert ride.status == S.REJECTED and ride_ledger(ride.pk).held == 0


def test_the_sweeper_resending_a_dispatch_holds_once(sent, partner_account, make_ride):
    ride = sent()
    outbox_sweep()
    assert ride_dispatch(ride_id=ride.pk) == "not_requested"
    assert len(rows(ride, EntryKind.HOLD)) == 1


def test_without_enforcement_the_pipeline_leaves_the_ledger_alone(
    settings, partner_account, make_ride
):
    settings.FUNDING_ENFORCED = False
    ride = make_ride(partner_account, estimate_fare=FARE)
    assert ride_dispatch(ride_id=ride.pk) == "created"
    assert LedgerEntry.objects.count() == 0
