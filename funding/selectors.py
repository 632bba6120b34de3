"""Reading the fund: its knobs (funding_rules), its balance, a unit's spend in a month,
a ride's open hold; the funding page's overview (spend by month, unit and purpose, the
burn-down, the cost of a ride) and the alerts admins see. The fund-wide sums read the
ledger's kept sums (funding.models.LedgerTotal), never the whole ledger;
ledger_totals_differences checks them against it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, DateField, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from funding.ledger import Balance, BurnPoint, burn_down, months_between, runs_out_before
from funding.models import Agreement, EntryKind, LedgerEntry, LedgerTotal, TotalCut, Tranche
from portal.templatetags.portal_format import rupiah
from sop.selectors import current


@dataclass(frozen=True)
class FundingRules:
    enforced: bool
    hold_margin_percent: int
    unit_monthly_budget: int  # rupiah; 0 = no limit
    low_balance_threshold: int


def funding_rules(unit_id: int | None = None) -> FundingRules:
    """The fund's knobs, read in this one place: the hold margin, the monthly budget
    (of `unit_id`, or the default of every unit) and the low-balance threshold from the
    SOP values admins edit (sop/, with the FUNDING_* settings as defaults); whether the
    fund is enforced from the settings."""
    sop = current()
    return FundingRules(
        enforced=settings.FUNDING_ENFORCED,
        hold_margin_percent=sop.hold_margin_percent,
        unit_monthly_budget=sop.unit_monthly_budget(unit_id),
        low_balance_threshold=sop.value("low_balance_threshold"),
    )


def _totals(rows) -> dict[str, int]:
    return {
        row["kind"]: row["total"]
        for row in rows.values("kind").annotate(total=Sum("amount")).order_by()
    }


def _cut(cut: str):
    """The kept sums of one cut (funding.models.LedgerTotal): summed by key, they are the
    whole ledger's, at the cost of a few thousand rows however long the ledger."""
    return LedgerTotal.objects.filter(cut=cut)


def fund_balance() -> Balance:
    """The whole fund: what came in, is held, was charged, by kind of entry."""
    rows = _cut(TotalCut.MONTH).values("kind").annotate(total=Sum("total")).order_by()
    return Balance.of({row["kind"]: row["total"] for row in rows})


def unit_month_committed(unit_id: int, month: dt.date) -> int:
    """What the unit's rides of `month` were charged (fares, fees) and still hold; a
    ride counts in the month of its first hold."""
    rows = LedgerEntry.objects.filter(unit_id=unit_id, budget_month=month.replace(day=1))
    balance = Balance.of(_totals(rows))
    return balance.charged + balance.held


def ride_ledger(ride_id: int) -> Balance:
    """The ride's own rows: what it holds and what it was charged."""
    return Balance.of(_totals(LedgerEntry.objects.filter(ride_id=ride_id)))


# --- the funding page and the foundation's report --------------------------------------

SPENT = (EntryKind.CHARGE, EntryKind.FEE)


def _spent(cut: str):
    return _cut(cut).filter(kind__in=SPENT)


def spend_by_month() -> dict[dt.date, int]:
    """Fares and fees by the month they were charged (Jakarta time)."""
    rows = _spent(TotalCut.MONTH).values("month").annotate(spent=Sum("total")).order_by()
    return {row["month"]: row["spent"] for row in rows}


def spend_by_unit() -> list[tuple[str, int]]:
    rows = (
        _spent(TotalCut.UNIT)
        .values("unit__name")
        .annotate(spent=Sum("total"))
        .order_by("-spent", "unit__name")
    )
    return [(row["unit__name"] or "–", row["spent"]) for row in rows]


def spend_by_purpose() -> list[tuple[str, int]]:
    """By the ride's purpose, named in the current language (the ride's own choices)."""
    ride_model = LedgerEntry._meta.get_field("ride").related_model
    labels = dict(ride_model._meta.get_field("purpose").flatchoices)
    rows = (
        _spent(TotalCut.PURPOSE).values("purpose").annotate(spent=Sum("total")).order_by("-spent")
    )
    return [(str(labels.get(row["purpose"], row["purpose"])), row["spent"]) for row in rows]


def _kept(cut: str, key: str) -> dict[tuple, tuple[int, int]]:
    rows = _cut(cut).values("kind", key).annotate(t=Sum("total"), n=Sum("entries")).order_by()
    return {(row["kind"], row[key]): (row["t"], row["n"]) for row in rows if row["n"]}


def _summed(key, **annotations) -> dict[tuple, tuple[int, int]]:
    rows = (
        LedgerEntry.objects.annotate(**annotations)
        .values("kind", key)
        .annotate(t=Sum("amount"), n=Count("pk"))
        .order_by()
    )
    return {(row["kind"], row[key]): (row["t"], row["n"]) for row in rows}


def ledger_totals_differences() -> list[str]:
    """Where the kept sums (LedgerTotal) differ from the ledger summed afresh, cut by cut
    (manage.py ledger_check reports them): empty when they agree."""
    tz = timezone.get_current_timezone()
    month = TruncMonth("created_at", tzinfo=tz, output_field=DateField())
    cuts = {
        TotalCut.MONTH: (_kept(TotalCut.MONTH, "month"), _summed("m", m=month)),
        TotalCut.UNIT: (_kept(TotalCut.UNIT, "unit_id"), _summed("unit_id")),
        TotalCut.PURPOSE: (
            _kept(TotalCut.PURPOSE, "purpose"),
            _summed("p", p=Coalesce("ride__purpose", Value(""))),
        ),
    }
    found = []
    for cut, (kept, summed) in cuts.items():
        for key in sorted(set(kept) | set(summed), key=str):
            if kept.get(key) != summed.get(key):
                found.append(
                    f"kept sums by {cut} {key}: {kept.get(key)} kept, {summed.get(key)} "
                    "(amount, entries) in the ledger"
                )
    return found


@dataclass(frozen=True)
class FundOverview:
    balance: Balance
    spent_this_month: int
    spent_this_year: int
    completed_rides: int  # rides charged a fare
    cost_per_ride: int | None
    monthly_rate: int  # the average spend of the last three months
    next_tranche: Tranche | None
    agreements: list
    burn: list[BurnPoint]
    by_month: list[tuple[dt.date, int]]


def fund_overview(*, today: dt.date | None = None) -> FundOverview:
    today = today or timezone.localdate()
    by_month = spend_by_month()
    this_month = today.replace(day=1)
    first = this_month
    for _month in range(2):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    monthly_rate = sum(by_month.get(m, 0) for m in months_between(first, this_month)) // 3
    # One fare per ride (the ledger's unique constraint): charge entries count the rides.
    charges = (
        _cut(TotalCut.MONTH)
        .filter(kind=EntryKind.CHARGE)
        .aggregate(total=Sum("total"), rides=Sum("entries"))
    )
    agreements = list(Agreement.objects.select_related("funder").prefetch_related("tranches"))
    schedule = [(t.planned_on, t.planned_amount) for a in agreements for t in a.tranches.all()]
    burn = []
    if agreements:
        burn = burn_down(
            schedule=schedule,
            spend_by_month=by_month,
            monthly_rate=monthly_rate,
            start=min(a.starts_on for a in agreements),
            end=max(a.ends_on for a in agreements),
            today=today,
        )
    this_year = _spent(TotalCut.MONTH).filter(month__gte=dt.date(today.year, 1, 1))
    return FundOverview(
        balance=fund_balance(),
        spent_this_month=by_month.get(this_month, 0),
        spent_this_year=this_year.aggregate(spent=Sum("total"))["spent"] or 0,
        completed_rides=charges["rides"] or 0,
        cost_per_ride=(charges["total"] // charges["rides"]) if charges["rides"] else None,
        monthly_rate=monthly_rate,
        next_tranche=Tranche.objects.filter(received_on__isnull=True, planned_on__gte=today)
        .order_by("planned_on")
        .first(),
        agreements=agreements,
        burn=burn,
        by_month=sorted(by_month.items(), reverse=True)[:12],
    )


# The fund alerts' codes (the alert kinds the rides app raises for admins by these names).
LOW_BALANCE = "low_balance"
FUNDS_RUN_OUT = "funds_run_out"


def fund_alert_conditions(
    overview: FundOverview, *, threshold: int, today: dt.date | None = None
) -> dict[str, str]:
    """What admins are told about the fund, by code: the money below the threshold
    (LOW_BALANCE), or the forecast running out before the next tranche (FUNDS_RUN_OUT)."""
    today = today or timezone.localdate()
    alerts = {}
    available = overview.balance.available
    if available < threshold:
        alerts[LOW_BALANCE] = _(
            "The fund's available money (%(available)s) is below %(threshold)s."
        ) % {"available": rupiah(available), "threshold": rupiah(threshold)}
    next_on = overview.next_tranche.planned_on if overview.next_tranche else None
    if runs_out_before(
        available=available, monthly_rate=overview.monthly_rate, today=today, next_tranche=next_on
    ):
        if next_on:
            alerts[FUNDS_RUN_OUT] = _(
                "At the spending of the last three months (%(rate)s a month) the money "
                "runs out before the next tranche on %(date)s."
            ) % {"rate": rupiah(overview.monthly_rate), "date": date_format(next_on, "j F Y")}
        else:
            alerts[FUNDS_RUN_OUT] = _(
                "At the spending of the last three months (%(rate)s a month) the money "
                "runs out within a month, and no tranche is planned."
            ) % {"rate": rupiah(overview.monthly_rate)}
    return alerts


def fund_alerts(
    overview: FundOverview, *, threshold: int, today: dt.date | None = None
) -> list[str]:
    """The messages of fund_alert_conditions (the funding page lists them)."""
    return list(fund_alert_conditions(overview, threshold=threshold, today=today).values())
