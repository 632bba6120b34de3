"""The report of a period, computed in the database: rides by purpose, unit and status;
the waits (requested → driver assigned → picked up) as histograms with their p50 and p90;
the cancellation and no-driver rates; the spend of the period's rides against their units'
monthly budgets; alerts by kind with the time to acknowledge them.

Who may see which units (`report_units`): a supervisor their unit's, the provincial
centre's supervisors and admins every unit's (aggregates only, nothing personal). A ride
belongs to the period it was booked in (Jakarta time). Every figure is a GROUP BY or an
ordered-set aggregate (percentile_cont) in PostgreSQL: no ride is loaded into Python, so
the number of queries is the same for ten rides or a million.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, Unit
from funding.models import LedgerEntry
from funding.selectors import SPENT, funding_rules
from rides.models import Alert, AlertKind, Purpose, Ride, RideStatus
from rides.models.alerts import Audience

S = RideStatus

# The histogram's bucket edges, in minutes: under 2, 2–5, …, 60 and more.
WAIT_EDGES_MINUTES = (2, 5, 10, 15, 30, 60)
# When a ride had a driver: the first of these; when it was picked up: on_trip.
DRIVER_STATES = (S.DRIVER_ASSIGNED, S.ARRIVING)


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the continuous percentile of the values (NULLs left
    out), of numbers or of intervals."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


# --- who sees what, and when ----------------------------------------------------------


def report_units(user) -> list[Unit]:
    """The units `user` may report on; PermissionDenied for anyone else than a supervisor
    or an admin."""
    role = getattr(user, "role", None)
    if role == Role.ADMIN or (
        role == Role.SUPERVISOR and user.unit and user.unit.oversees_all_units
    ):
        return list(Unit.objects.order_by("name"))
    if role == Role.SUPERVISOR and user.unit_id is not None:
        return [user.unit]
    raise PermissionDenied(_("Reports are for supervisors and administrators."))


@dataclass(frozen=True)
class Period:
    """From `first` to `last`, both days included (Jakarta); a calendar month or not."""

    first: dt.date
    last: dt.date
    is_month: bool = False

    @classmethod
    def month_of(cls, day: dt.date) -> Period:
        first = day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return cls(first, following - dt.timedelta(days=1), is_month=True)

    @property
    def starts_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.first, dt.time.min))

    @property
    def ends_before(self) -> dt.datetime:
        return timezone.make_aware(
            dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min)
        )

    @property
    def months(self) -> int:
        """How many calendar months the period touches (each has its budget)."""
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1


@dataclass(frozen=True)
class Scope:
    """The units a report counts: `units` the user may see, narrowed to `unit` if chosen."""

    units: tuple[Unit, ...]
    unit: Unit | None = None

    @property
    def counted(self) -> tuple[Unit, ...]:
        return (self.unit,) if self.unit is not None else self.units

    @property
    def label(self) -> str:
        """The unit counted, or "All units" when there are several."""
        counted = self.counted
        return counted[0].name if len(counted) == 1 else _("All units")

    @property
    def unit_ids(self) -> list[int]:
        return [unit.pk for unit in self.counted]


def rides_in(period: Period, scope: Scope) -> QuerySet[Ride]:
    """The rides booked in the period by the scope's units (a query, never evaluated here)."""
    return Ride.objects.filter(
        created_at__gte=period.starts_at,
        created_at__lt=period.ends_before,
        unit_id__in=scope.unit_ids,
    )


# --- the report's parts ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    count: int


@dataclass(frozen=True)
class Waits:
    count: int
    p50_seconds: float | None
    p90_seconds: float | None
    buckets: tuple[Row, ...]

    @property
    def p50_minutes(self) -> float | None:
        return None if self.p50_seconds is None else self.p50_seconds / 60

    @property
    def p90_minutes(self) -> float | None:
        return None if self.p90_seconds is None else self.p90_seconds / 60


@dataclass(frozen=True)
class SpendRow:
    unit: str
    spent: int
    budget: int  # rupiah for the period; 0 = no limit

    @property
    def share(self) -> float | None:
        return self.spent * 100 / self.budget if self.budget else None


@dataclass(frozen=True)
class AlertRow:
    label: str
    raised: int
    acknowledged: int
    p50_minutes: float | None
    p90_minutes: float | None


@dataclass(frozen=True)
class Report:
    period: Period
    scope: Scope
    total: int
    by_purpose: tuple[Row, ...]
    by_unit: tuple[Row, ...]
    by_status: tuple[Row, ...]
    cancelled: int
    no_driver: int
    to_driver: Waits
    to_pickup: Waits
    spend: tuple[SpendRow, ...]
    alerts: tuple[AlertRow, ...]
    alerts_total: AlertRow

    @property
    def cancellation_rate(self) -> float | None:
        return self.cancelled * 100 / self.total if self.total else None

    @property
    def no_driver_rate(self) -> float | None:
        return self.no_driver * 100 / self.total if self.total else None

    @property
    def spent(self) -> int:
        return sum(row.spent for row in self.spend)

    @property
    def budget(self) -> int:
        """The budgets together; 0 when a unit has no limit (the sum would mislead)."""
        if any(row.budget == 0 for row in self.spend):
            return 0
        return sum(row.budget for row in self.spend)


def _counts(rides: QuerySet[Ride], field: str) -> dict:
    rows = rides.values(field).annotate(n=Count("id")).order_by()
    return {row[field]: row["n"] for row in rows}


def wait_bucket_labels() -> list[str]:
    edges = WAIT_EDGES_MINUTES
    labels = [_("under %(minutes)s min") % {"minutes": edges[0]}]
    labels += [
        _("%(low)s–%(high)s min") % {"low": low, "high": high}
        for low, high in zip(edges, edges[1:], strict=False)
    ]
    labels.append(_("%(minutes)s min or more") % {"minutes": edges[-1]})
    return labels


WAITS_SQL = """
WITH per_ride AS (
    SELECT e.ride_id,
           MIN(e.at) FILTER (WHERE e.new_status = %s) AS requested_at,
           MIN(e.at) FILTER (WHERE e.new_status = ANY(%s)) AS driver_at,
           MIN(e.at) FILTER (WHERE e.new_status = %s) AS picked_up_at
    FROM rides_tripevent e
    WHERE e.ride_id IN ({rides})
    GROUP BY e.ride_id
), waits AS (
    SELECT 'driver' AS kind, EXTRACT(EPOCH FROM driver_at - requested_at)::float8 AS seconds
    FROM per_ride WHERE driver_at >= requested_at
    UNION ALL
    SELECT 'pickup', EXTRACT(EPOCH FROM picked_up_at - driver_at)::float8
    FROM per_ride WHERE picked_up_at >= driver_at
)
SELECT kind, bucket, GROUPING(bucket) = 1 AS is_total, COUNT(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)
FROM (SELECT kind, seconds, width_bucket(seconds, %s::float8[]) AS bucket FROM waits) w
GROUP BY GROUPING SETS ((kind), (kind, bucket))
"""


def ride_waits(rides: QuerySet[Ride]) -> dict[str, Waits]:
    """From the trip log, per ride: the first `requested` → the first moment with a driver
    (driver_assigned, or arriving when the partner's word skipped it) → the first
    `on_trip`. Rides that never reached a step are not in its wait. One query."""
    rides_sql, rides_params = rides.values("id").query.sql_with_params()
    edges = [float(minutes * 60) for minutes in WAIT_EDGES_MINUTES]
    statuses = [str(S.REQUESTED), [str(s) for s in DRIVER_STATES], str(S.ON_TRIP)]
    params = [*statuses, *rides_params, edges]
    with connection.cursor() as cursor:
        cursor.execute(WAITS_SQL.format(rides=rides_sql), params)
        rows = cursor.fetchall()
    labels = wait_bucket_labels()
    result = {}
    for kind in ("driver", "pickup"):
        counts = [0] * len(labels)
        total, p50, p90 = 0, None, None
        for row_kind, bucket, is_total, count, row_p50, row_p90 in rows:
            if row_kind != kind:
                continue
            if is_total:
                total, p50, p90 = count, row_p50, row_p90
            else:
                counts[bucket] = count
        buckets = tuple(Row(label, n) for label, n in zip(labels, counts, strict=True))
        result[kind] = Waits(total, p50, p90, buckets)
    return result


def spend_against_budget(rides: QuerySet[Ride], period: Period, scope: Scope) -> list[SpendRow]:
    """What the funding ledger charged for the period's rides (fares and fees), by unit,
    beside the unit's monthly budget (funding_rules) for each month the period touches."""
    spent = {
        row["ride__unit_id"]: row["total"]
        for row in LedgerEntry.objects.filter(ride__in=rides.values("id"), kind__in=SPENT)
        .values("ride__unit_id")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    return [
        SpendRow(
            unit=unit.name,
            spent=spent.get(unit.pk, 0),
            budget=funding_rules(unit.pk).unit_monthly_budget * period.months,
        )
        for unit in scope.counted
    ]


def _minutes(value: dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 60


def alerts_by_kind(period: Period, scope: Scope) -> tuple[list[AlertRow], AlertRow]:
    """The supervisors' alerts raised in the period for the scope's units (and those about
    a partner account, which every unit's supervisors see), by kind: how many, how many
    acknowledged, and the median and p90 of the time from raised to acknowledged."""
    alerts = Alert.objects.filter(
        audience=Audience.SUPERVISORS,
        created_at__gte=period.starts_at,
        created_at__lt=period.ends_before,
    ).filter(Q(unit_id__in=scope.unit_ids) | Q(unit__isnull=True))
    to_acknowledge = F("resolved_at") - F("created_at")
    figures = {
        "raised": Count("id"),
        "acknowledged": Count("id", filter=Q(resolved_at__isnull=False)),
        "p50": Percentile(to_acknowledge, 0.5, output_field=DurationField()),
        "p90": Percentile(to_acknowledge, 0.9, output_field=DurationField()),
    }
    labels = dict(AlertKind.choices)
    rows = [
        AlertRow(
            str(labels.get(row["kind"], row["kind"])),
            row["raised"],
            row["acknowledged"],
            _minutes(row["p50"]),
            _minutes(row["p90"]),
        )
        for row in alerts.values("kind").annotate(**figures).order_by("-raised", "kind")
    ]
    total = alerts.aggregate(**figures)
    overall = AlertRow(
        _("All alerts"),
        total["raised"],
        total["acknowledged"],
        _minutes(total["p50"]),
        _minutes(total["p90"]),
    )
    return rows, overall


def report_build(period: Period, scope: Scope) -> Report:
    rides = rides_in(period, scope)
    by_purpose = _counts(rides, "purpose")
    by_unit = _counts(rides, "unit_id")
    by_status = _counts(rides, "status")
    waits = ride_waits(rides)
    alert_rows, alerts_total = alerts_by_kind(period, scope)
    return Report(
        period=period,
        scope=scope,
        total=sum(by_status.values()),
        by_purpose=tuple(
            Row(str(label), by_purpose.get(value, 0)) for value, label in Purpose.choices
        ),
        by_unit=tuple(Row(unit.name, by_unit.get(unit.pk, 0)) for unit in scope.counted),
        by_status=tuple(
            Row(str(label), by_status[value]) for value, label in S.choices if by_status.get(value)
        ),
        cancelled=by_status.get(S.CANCELLED, 0),
        no_driver=by_status.get(S.NO_DRIVER, 0),
        to_driver=waits["driver"],
        to_pickup=waits["pickup"],
        spend=tuple(spend_against_budget(rides, period, scope)),
        alerts=tuple(alert_rows),
        alerts_total=alerts_total,
    )
