"""The de-identified monthly figures in the national reporting categories (SIMFONI-PPA):
how many survivors (one case, one survivor) were served with a completed ride booked in
the month, by kind of violence (cases.ViolenceType; a case of several kinds counts in
each), by age group (cases.AgeGroup, the survivor's age when the case was opened, stored
unencrypted so no birth date is decrypted here) and by service (the ride's purpose as the
SIMFONI service it stands for, SERVICE_OF_PURPOSE; a case served with two services counts
in both). The case model records no sex, so there is no table by sex.

Small counts are suppressed so that no survivor can be singled out:
- a count from 1 to 4 (a cell or a table's total) is shown as "<5" (SMALL);
- when exactly one cell of a table is suppressed and its total is shown, the total and the
  other cells would give it away: the smallest other non-zero cell is suppressed too
  (COMPLEMENTARY, "x"); if there is none, the total is suppressed instead;
- zero is shown as 0: there is no one to single out.
Every count is a GROUP BY in the database; no case code and no personal data is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, QuerySet, TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import AgeGroup, Case, ViolenceType
from rides.models import Purpose, Ride, RideStatus
from supervision.reports.selectors import Period, Scope, rides_in

SMALL = "<5"
COMPLEMENTARY = "x"
SMALLEST_SHOWN = 5


class Service(TextChoices):
    """SIMFONI-PPA's kinds of service a survivor receives."""

    HEALTH = "health", gettext_lazy("Health service")
    LAW_ENFORCEMENT = "law_enforcement", gettext_lazy("Law enforcement")
    LEGAL_AID = "legal_aid", gettext_lazy("Legal aid")
    SOCIAL_REHABILITATION = "social_rehabilitation", gettext_lazy("Psychosocial rehabilitation")
    SHELTER = "shelter", gettext_lazy("Temporary shelter")
    REINTEGRATION = "reintegration", gettext_lazy("Social reintegration / repatriation")
    OTHER = "other", gettext_lazy("Other")


SERVICE_OF_PURPOSE = {
    Purpose.MEDICAL_EXAM: Service.HEALTH,
    Purpose.POLICE_REPORT: Service.LAW_ENFORCEMENT,
    Purpose.COURT_HEARING: Service.LEGAL_AID,
    Purpose.COUNSELLING: Service.SOCIAL_REHABILITATION,
    Purpose.SAFE_HOUSE_TRANSFER: Service.SHELTER,
    Purpose.RETURN_HOME: Service.REINTEGRATION,
    Purpose.OTHER: Service.OTHER,
}


@dataclass(frozen=True)
class Table:
    title: str
    rows: tuple[tuple[str, int | str], ...]  # (category, count or its suppression mark)
    total: int | str


def suppressed(counts: list[int], total: int) -> tuple[list[int | str], int | str]:
    """The cells and the total as they may be shown (the rule in the module's docstring)."""
    cells: list[int | str] = [SMALL if 0 < n < SMALLEST_SHOWN else n for n in counts]
    shown_total: int | str = SMALL if 0 < total < SMALLEST_SHOWN else total
    hidden = [i for i, cell in enumerate(cells) if cell == SMALL]
    if len(hidden) == 1 and shown_total != SMALL:
        others = [i for i, cell in enumerate(cells) if isinstance(cell, int) and cell > 0]
        if others:
            cells[min(others, key=lambda i: (counts[i], i))] = COMPLEMENTARY
        else:
            shown_total = COMPLEMENTARY
    return cells, shown_total


def _table(title: str, labelled_counts: list[tuple[str, int]], total: int) -> Table:
    cells, shown_total = suppressed([n for _label, n in labelled_counts], total)
    return Table(
        title, tuple(zip([label for label, _n in labelled_counts], cells, strict=True)), shown_total
    )


def served_rides(period: Period, scope: Scope) -> QuerySet[Ride]:
    return rides_in(period, scope).filter(status=RideStatus.COMPLETED)


VIOLENCE_SQL = """
SELECT kind, COUNT(DISTINCT c.id)
FROM cases_case c CROSS JOIN LATERAL unnest(c.violence_types) AS kind
WHERE c.id IN ({cases})
GROUP BY kind
"""


def _by_violence(cases: QuerySet[Case]) -> dict[str, int]:
    sql, params = cases.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(VIOLENCE_SQL.format(cases=sql), params)
        return dict(cursor.fetchall())


def simfoni_tables(period: Period, scope: Scope) -> tuple[int | str, list[Table]]:
    """The survivors served (shown total) and the three tables; four queries."""
    rides = served_rides(period, scope)
    cases = Case.objects.filter(id__in=rides.values("case_id"))
    by_age = {
        row["survivor__age_group"] or "": row["n"]
        for row in cases.values("survivor__age_group").annotate(n=Count("id")).order_by()
    }
    total = sum(by_age.values())
    not_recorded = _("Not recorded")
    ages = [(str(label), by_age.get(value, 0)) for value, label in AgeGroup.choices]
    ages.append((not_recorded, by_age.get("", 0)))
    violence = _by_violence(cases)
    kinds = [(str(label), violence.get(value, 0)) for value, label in ViolenceType.choices]
    kinds.append((not_recorded, cases.filter(violence_types=[]).count()))
    by_purpose = {
        row["purpose"]: row["n"]
        for row in rides.values("purpose").annotate(n=Count("case_id", distinct=True)).order_by()
    }
    services = [
        (str(Service(SERVICE_OF_PURPOSE[purpose]).label), by_purpose.get(purpose, 0))
        for purpose in Purpose.values
    ]
    tables = [
        _table(_("Survivors by kind of violence"), kinds, total),
        _table(_("Survivors by age group"), ages, total),
        _table(_("Survivors by service"), services, total),
    ]
    return suppressed([], total)[1], tables
