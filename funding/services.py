"""Every write to the fund goes through here: funders, agreements and tranches, a ride's hold,
settlement, release and fee, and the two-admin adjustment; and the folding of the ledger's
kept sums (ledger_totals_compact).

Writes that spend money (a hold) take one transaction-level advisory lock, so bookings
racing for the last funds from several processes are decided one at a time: exactly the
holds the balance covers are written. The ride-side writes are idempotent: a task run
twice writes each row once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_change
from funding.ledger import SHORT_FUND, SHORT_UNIT_BUDGET, Balance, shortfall_message
from funding.models import Adjustment, Agreement, EntryKind, Funder, LedgerEntry, Tranche
from funding.selectors import fund_balance, ride_ledger, unit_month_committed
from portal.templatetags.portal_format import rupiah

# Any constant: the one advisory lock every spending write of the fund takes.
FUND_LOCK_KEY = 0x46554E44  # "FUND"


def _lock_fund() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FUND_LOCK_KEY])


# --- agreements and tranches -----------------------------------------------------------


def _amount_problem(value) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return _("Enter an amount in whole rupiah above zero.")
    return None


def funder_create(*, name: str) -> Funder:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Enter the funder's name.")]})
    if Funder.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": [_("A funder of this name exists already.")]})
    funder = Funder.objects.create(name=name)
    audit_change(action="created", object_type="funder", object_id=funder.pk, after={"name": name})
    return funder


@transaction.atomic
def agreement_create(
    *, funder: Funder, title: str, amount, starts_on: dt.date, ends_on: dt.date, purpose: str = ""
) -> Agreement:
    """An agreement of a funder: an amount above zero, an end after its start."""
    problems: dict[str, list[str]] = {}
    if not (title or "").strip():
        problems["title"] = [_("Give the agreement a title.")]
    if message := _amount_problem(amount):
        problems["amount"] = [message]
    if ends_on <= starts_on:
        problems["ends_on"] = [_("The agreement must end after it starts.")]
    if problems:
        raise ValidationError(problems)
    agreement = Agreement.objects.create(
        funder=funder,
        title=title.strip(),
        amount=amount,
        starts_on=starts_on,
        ends_on=ends_on,
        purpose=(purpose or "").strip(),
    )
    audit_change(
        action="created",
        object_type="agreement",
        object_id=agreement.pk,
        after={
            "funder": funder.pk,
            "title": agreement.title,
            "amount": amount,
            "starts_on": starts_on,
            "ends_on": ends_on,
        },
    )
    return agreement


@transaction.atomic
def tranche_plan(*, agreement: Agreement, planned_on: dt.date, planned_amount: int) -> Tranche:
    """A tranche of the agreement: within its dates, and the agreement's tranches together
    never above its amount."""
    problems: dict[str, list[str]] = {}
    if message := _amount_problem(planned_amount):
        problems["planned_amount"] = [message]
    if not agreement.starts_on <= planned_on <= agreement.ends_on:
        problems["planned_on"] = [
            _("The tranche's date must lie within the agreement (%(start)s to %(end)s).")
            % {"start": agreement.starts_on.isoformat(), "end": agreement.ends_on.isoformat()}
        ]
    Agreement.objects.select_for_update().filter(pk=agreement.pk).first()
    planned = agreement.tranches.aggregate(total=Sum("planned_amount"))["total"] or 0
    if "planned_amount" not in problems and planned + planned_amount > agreement.amount:
        problems["planned_amount"] = [
            _("The tranches would exceed the agreement: %(left)s of it is left to plan.")
            % {"left": rupiah(agreement.amount - planned)}
        ]
    if problems:
        raise ValidationError(problems)
    tranche = Tranche.objects.create(
        agreement=agreement, planned_on=planned_on, planned_amount=planned_amount
    )
    audit_change(
        action="planned",
        object_type="tranche",
        object_id=tranche.pk,
        after={
            "agreement": agreement.pk,
            "planned_on": planned_on,
            "planned_amount": planned_amount,
        },
    )
    return tranche


@transaction.atomic
def tranche_receive(*, tranche: Tranche, amount: int, received_on: dt.date, user) -> LedgerEntry:
    """An admin confirms the tranche's money came: the fund grows by what was received."""
    tranche = Tranche.objects.select_for_update().get(pk=tranche.pk)
    problems: dict[str, list[str]] = {}
    if tranche.received_on is not None:
        problems["tranche"] = [_("This tranche was confirmed as received already.")]
    if message := _amount_problem(amount):
        problems["amount"] = [message]
    if received_on > timezone.localdate():
        problems["received_on"] = [_("The date received cannot be in the future.")]
    if problems:
        raise ValidationError(problems)
    audit_change(
        action="received",
        actor=user,
        object_type="tranche",
        object_id=tranche.pk,
        before={"received_on": None, "received_amount": None},
        after={"received_on": received_on, "received_amount": amount},
    )
    tranche.received_on, tranche.received_amount = received_on, amount
    tranche.confirmed_by, tranche.confirmed_at = user, timezone.now()
    tranche.save(update_fields=["received_on", "received_amount", "confirmed_by", "confirmed_at"])
    return LedgerEntry.objects.create(
        kind=EntryKind.TRANCHE, amount=amount, tranche=tranche, created_by=user
    )


# --- a ride's money --------------------------------------------------------------------


@dataclass(frozen=True)
class HoldRefused(Exception):
    """The fund or the unit's monthly budget cannot cover the hold."""

    code: str  # "fund" | "unit_budget"
    needed: int
    left: int

    @property
    def message(self) -> str:
        return shortfall_message(self.code, needed=self.needed, left=self.left)


def _ride_rows(ride_id: int):
    return LedgerEntry.objects.filter(ride_id=ride_id)


@transaction.atomic
def ride_hold(
    *, ride_id: int, unit_id: int, amount: int, unit_monthly_budget: int | None = None
) -> LedgerEntry:
    """Holds `amount` for the ride, or raises HoldRefused. A ride that holds already keeps
    its hold (returned as it is); `unit_monthly_budget` None or 0 means no unit limit."""
    if amount <= 0:
        raise ValueError("a hold is above zero")
    _lock_fund()
    existing = _ride_rows(ride_id).filter(kind=EntryKind.HOLD).order_by("pk").first()
    if existing is not None and ride_ledger(ride_id).held > 0:
        return existing
    available = fund_balance().available
    if amount > available:
        raise HoldRefused(SHORT_FUND, needed=amount, left=available)
    month = existing.budget_month if existing else timezone.localdate().replace(day=1)
    if unit_monthly_budget:
        left = unit_monthly_budget - unit_month_committed(unit_id, month)
        if amount > left:
            raise HoldRefused(SHORT_UNIT_BUDGET, needed=amount, left=left)
    return LedgerEntry.objects.create(
        kind=EntryKind.HOLD, amount=amount, ride_id=ride_id, unit_id=unit_id, budget_month=month
    )


def _release_open_hold(ride_id: int, first: LedgerEntry) -> LedgerEntry | None:
    held = ride_ledger(ride_id).held
    if held <= 0:
        return None
    return LedgerEntry.objects.create(
        kind=EntryKind.RELEASE,
        amount=held,
        ride_id=ride_id,
        unit_id=first.unit_id,
        budget_month=first.budget_month,
    )


def _first_row(ride_id: int) -> LedgerEntry | None:
    return _ride_rows(ride_id).order_by("pk").first()


@transaction.atomic
def ride_release(*, ride_id: int) -> LedgerEntry | None:
    """The ride ended without a fare (cancelled, rejected, no driver, failed): its hold
    is released. Nothing when it holds nothing."""
    _lock_fund()
    first = _first_row(ride_id)
    return _release_open_hold(ride_id, first) if first else None


@transaction.atomic
def ride_settle(*, ride_id: int, unit_id: int, fare: int) -> LedgerEntry | None:
    """The receipt's final fare: the hold released and the fare charged, once."""
    _lock_fund()
    if _ride_rows(ride_id).filter(kind=EntryKind.CHARGE).exists():
        return None
    first = _first_row(ride_id)
    month = first.budget_month if first else timezone.localdate().replace(day=1)
    if first:
        _release_open_hold(ride_id, first)
    if fare <= 0:
        return None
    return LedgerEntry.objects.create(
        kind=EntryKind.CHARGE, amount=fare, ride_id=ride_id, unit_id=unit_id, budget_month=month
    )


@transaction.atomic
def ride_fee(*, ride_id: int, unit_id: int, fee: int) -> LedgerEntry | None:
    """A cancellation fee the partner charged: written once, its hold released."""
    _lock_fund()
    if fee <= 0 or _ride_rows(ride_id).filter(kind=EntryKind.FEE).exists():
        return None
    first = _first_row(ride_id)
    month = first.budget_month if first else timezone.localdate().replace(day=1)
    if first:
        _release_open_hold(ride_id, first)
    return LedgerEntry.objects.create(
        kind=EntryKind.FEE, amount=fee, ride_id=ride_id, unit_id=unit_id, budget_month=month
    )


# --- adjustments -----------------------------------------------------------------------


def adjustment_propose(*, user, amount: int, reason: str) -> Adjustment:
    problems: dict[str, list[str]] = {}
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        problems["amount"] = [_("Enter the adjustment in whole rupiah: above or below zero.")]
    if not reason.strip():
        problems["reason"] = [_("Say why the ledger is adjusted; the confirming admin reads it.")]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        adjustment = Adjustment.objects.create(
            amount=amount, reason=reason.strip(), proposed_by=user
        )
        audit_change(
            action="proposed",
            actor=user,
            object_type="adjustment",
            object_id=adjustment.pk,
            after={"amount": amount},
            protected=["reason"],
        )
    return adjustment


@transaction.atomic
def adjustment_confirm(*, adjustment: Adjustment, user) -> LedgerEntry:
    """A second admin confirms: only then the adjustment reaches the ledger."""
    _lock_fund()
    adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
    if adjustment.confirmed_by_id is not None:
        raise ValidationError({"adjustment": [_("This adjustment was confirmed already.")]})
    if adjustment.proposed_by_id == user.pk:
        raise ValidationError(
            {"adjustment": [_("Another admin must confirm an adjustment you proposed.")]}
        )
    if adjustment.amount < 0 and fund_balance().available + adjustment.amount < 0:
        raise ValidationError(
            {"adjustment": [_("The fund's available money cannot go below zero.")]}
        )
    audit_change(
        action="confirmed",
        actor=user,
        object_type="adjustment",
        object_id=adjustment.pk,
        before={"confirmed": False},
        after={"confirmed": True, "amount": adjustment.amount},
    )
    adjustment.confirmed_by, adjustment.confirmed_at = user, timezone.now()
    adjustment.save(update_fields=["confirmed_by", "confirmed_at"])
    return LedgerEntry.objects.create(
        kind=EntryKind.ADJUSTMENT, amount=adjustment.amount, adjustment=adjustment, created_by=user
    )


__all__ = ["Balance", "HoldRefused"]


# --- the ledger's kept sums ----------------------------------------------------------------

_COMPACT = """
WITH gone AS (
    DELETE FROM funding_ledgertotal
    RETURNING cut, kind, month, unit_id, purpose, total, entries
)
INSERT INTO funding_ledgertotal (cut, kind, month, unit_id, purpose, total, entries)
SELECT cut, kind, month, unit_id, purpose, sum(total), sum(entries)
  FROM gone GROUP BY cut, kind, month, unit_id, purpose
"""


def ledger_totals_compact() -> tuple[int, int]:
    """Folds the kept sums (funding.models.LedgerTotal) into one row per key; returns the
    rows (before, after). One statement: rows that ledger inserts add meanwhile are not
    seen by its DELETE and stay as they are, so no sum is lost or counted twice."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM funding_ledgertotal")
        before = cursor.fetchone()[0]
        cursor.execute(_COMPACT)
        return before, cursor.rowcount
