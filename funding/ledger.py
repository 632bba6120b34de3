"""The ledger's arithmetic, as pure rules: what each kind of row does to the fund, the
balance it adds up to, and how much a ride holds.

    available = received − charged − held

received grows with tranches and moves with adjustments; held grows with a hold and
shrinks with its release; charged grows with fares and cancellation fees. The burn-down
sets the tranche schedule against the spending, with a forecast at the recent rate.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from funding.models import EntryKind
from portal.templatetags.portal_format import rupiah

# What ran short when a hold is refused.
SHORT_FUND = "fund"
SHORT_UNIT_BUDGET = "unit_budget"

# kind → (received, charged, held): the sign each kind's amount counts with.
EFFECTS: dict[str, tuple[int, int, int]] = {
    EntryKind.TRANCHE: (1, 0, 0),
    EntryKind.ADJUSTMENT: (1, 0, 0),  # the amount carries its own sign
    EntryKind.HOLD: (0, 0, 1),
    EntryKind.RELEASE: (0, 0, -1),
    EntryKind.CHARGE: (0, 1, 0),
    EntryKind.FEE: (0, 1, 0),
}


@dataclass(frozen=True)
class Balance:
    received: int = 0
    charged: int = 0
    held: int = 0

    @property
    def available(self) -> int:
        return self.received - self.charged - self.held

    @classmethod
    def of(cls, totals: dict[str, int]) -> Balance:
        """The balance of per-kind sums ({kind: sum of amounts})."""
        received = charged = held = 0
        for kind, total in totals.items():
            r, c, h = EFFECTS[kind]
            received += r * total
            charged += c * total
            held += h * total
        return cls(received=received, charged=charged, held=held)


def hold_for(estimate: int, margin_percent: float) -> int:
    """What a ride holds at dispatch: its fare estimate plus the margin, whole rupiah up."""
    return math.ceil(estimate * (100 + margin_percent) / 100)


def shortfall_message(code: str, *, needed: int, left: int) -> str:
    """Why a ride's hold was refused, in the current language."""
    values = {"left": rupiah(max(left, 0)), "needed": rupiah(needed)}
    if code == SHORT_UNIT_BUDGET:
        return (
            _("The unit's budget for this month has %(left)s left; this ride needs %(needed)s.")
            % values
        )
    return _("The fund has %(left)s available; this ride needs %(needed)s.") % values


# --- the burn-down and its forecast ----------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first days of every month from `first`'s to `last`'s, both included."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


@dataclass(frozen=True)
class BurnPoint:
    month: dt.date
    scheduled: int  # the tranches planned up to this month, together
    spent: int | None  # spent up to the end of this month (None: still to come)
    forecast: int | None  # spent by then at the recent rate (from this month on)


def burn_down(
    *,
    schedule: list[tuple[dt.date, int]],
    spend_by_month: dict[dt.date, int],
    monthly_rate: int,
    start: dt.date,
    end: dt.date,
    today: dt.date,
) -> list[BurnPoint]:
    """Money in (the tranche schedule) against money out (fares and fees), month by month
    from the agreement's start to its end; from this month on a forecast at `monthly_rate`."""
    points, scheduled, spent = [], 0, 0
    current = month_start(today)
    for month in months_between(start, end):
        scheduled += sum(amount for day, amount in schedule if month_start(day) == month)
        if month <= current:
            spent += spend_by_month.get(month, 0)
        ahead = (len(months_between(current, month)) - 1) if month >= current else 0
        points.append(
            BurnPoint(
                month=month,
                scheduled=scheduled,
                spent=spent if month <= current else None,
                forecast=spent + monthly_rate * ahead if month >= current else None,
            )
        )
    return points


def runs_out_before(
    *, available: int, monthly_rate: int, today: dt.date, next_tranche: dt.date | None
) -> bool:
    """The forecast: at the recent rate, the money available now is gone before the next
    tranche comes (no tranche left: before the money is gone there is nothing to wait for)."""
    if monthly_rate <= 0:
        return False
    if next_tranche is None:
        return available < monthly_rate
    days = max((next_tranche - today).days, 0)
    return available < monthly_rate * days / 30
