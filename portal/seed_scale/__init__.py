"""Seeding at scale (`manage.py seed_scale`): a country's worth of units, cases and rides
with their trip log, ledger, alerts and audit trail, written with COPY for benchmarks.

Modules: copying (COPY writer, ciphertext pools, progress), people (units, users,
partner accounts, the fund), casework (cases and survivors), rides (ride plans and rows),
history (trip log, ledger, alerts, audit events).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from portal.seed_scale.casework import cases_create
from portal.seed_scale.copying import Progress
from portal.seed_scale.history import alerts_write, audit_write, events_write, ledger_write
from portal.seed_scale.people import fund_create, people_create
from portal.seed_scale.rides import rides_plan, rides_write

TABLES = ["accounts_unit", "accounts_user", "cases_case", "cases_survivor",
          "cases_case_assigned_caseworkers", "rides_ride", "rides_tripevent",
          "funding_ledgerentry", "rides_alert", "audit_auditevent"]  # fmt: skip


@dataclass
class Seeded:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    busiest_unit: str = ""
    known: dict = field(default_factory=dict)


def seed(
    *, cases: int, rides: int, years: int, password: str, seed_value: int = 13,
    progress: Progress | None = None,
) -> Seeded:  # fmt: skip
    """Writes it all in one transaction (nothing is left half-seeded), then vacuums and
    analyses the tables: the planner knows their sizes, and the visibility map is set as
    autovacuum keeps it on a database years old (without it, the board's count over its
    partial index reads every row's heap page: 111 ms instead of a few at 1,000,000)."""
    progress = progress or Progress()
    rng = random.Random(seed_value)
    started = time.monotonic()
    end = timezone.now() - dt.timedelta(minutes=1)
    start = end - dt.timedelta(days=365 * years)
    result = Seeded()
    with transaction.atomic():
        people = people_create(password=password, rng=rng)
        seeded_cases = cases_create(
            count=cases, people=people, start=start, end=end, rng=rng, progress=progress
        )
        plans = rides_plan(
            count=rides, cases=seeded_cases, people=people, start=start, end=end, rng=rng
        )
        plans = rides_write(plans=plans, people=people, rng=rng, progress=progress)
        events_write(plans=plans, people=people, progress=progress, rng=rng)
        _, charged = ledger_write(plans=plans, progress=progress)
        alerts_write(plans=plans, people=people, progress=progress, rng=rng)
        audit_write(plans=plans, people=people, progress=progress)
        held = sum(p.estimate for p in plans) // 5  # holds of active rides, with room
        fund_create(spent=charged + held, first_day=start.date(), admin_id=people.admins[0])
    # Inside a caller's transaction (a test's) VACUUM cannot run: ANALYZE alone.
    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f'{verb} "{table}"')  # noqa: S608 (the names above)
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
            result.counts[table] = cursor.fetchone()[0]
    result.seconds = time.monotonic() - started
    result.busiest_unit = people.busiest.code
    result.known = people.known
    return result
