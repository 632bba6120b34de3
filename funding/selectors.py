"""Reading the fund: its balance, a unit's spend in a month, a ride's open hold."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum

from funding.ledger import Balance
from funding.models import LedgerEntry


def _totals(rows) -> dict[str, int]:
    return {
        row["kind"]: row["total"]
        for row in rows.values("kind").annotate(total=Sum("amount")).order_by()
    }


def fund_balance() -> Balance:
    return Balance.of(_totals(LedgerEntry.objects.all()))


def unit_month_committed(unit_id: int, month: dt.date) -> int:
    """What the unit's rides of `month` were charged (fares, fees) and still hold; a
    ride counts in the month of its first hold."""
    rows = LedgerEntry.objects.filter(unit_id=unit_id, budget_month=month.replace(day=1))
    balance = Balance.of(_totals(rows))
    return balance.charged + balance.held


def ride_ledger(ride_id: int) -> Balance:
    """The ride's own rows: what it holds and what it was charged."""
    return Balance.of(_totals(LedgerEntry.objects.filter(ride_id=ride_id)))
