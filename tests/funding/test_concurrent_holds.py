"""Rides racing for the last funds from several processes, on real PostgreSQL: exactly
the holds the fund covers are written."""

from __future__ import annotations

import multiprocessing

import pytest
from django.db import connections

from funding.models import EntryKind, LedgerEntry
from funding.selectors import fund_balance

pytestmark = pytest.mark.django_db(transaction=True)


def _hold_each(ride_ids, unit_id, amount, results):
    connections.close_all()  # the parent's connection is not this process's
    from funding.services import HoldRefused, ride_hold

    for ride_id in ride_ids:
        try:
            ride_hold(ride_id=ride_id, unit_id=unit_id, amount=amount)
        except HoldRefused:
            results.put((ride_id, False))
        else:
            results.put((ride_id, True))
    connections.close_all()


def test_racing_holds_take_exactly_what_the_fund_covers(fund, new_ride):
    fund(250_000)  # five rides of Rp 50.000
    rides = [new_ride() for _ in range(12)]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(
            target=_hold_each,
            args=([r.pk for r in rides[i::4]], rides[0].unit_id, 50_000, results),
        )
        for i in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    outcomes = dict(results.get(timeout=5) for _ in rides)
    assert sum(outcomes.values()) == 5
    held = set(LedgerEntry.objects.filter(kind=EntryKind.HOLD).values_list("ride_id", flat=True))
    assert held == {ride_id for ride_id, ok in outcomes.items() if ok}
    assert fund_balance().available == 0
