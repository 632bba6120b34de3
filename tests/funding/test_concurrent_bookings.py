"""Bookings racing for the last funds: several processes book at once, a real Celery
worker (several processes of its own) dispatches them to the sandbox over HTTP, on real
PostgreSQL. Exactly the rides the fund covers are sent; the others wait for a
supervisor, told why; the ledger agrees with the rides afterwards."""

from __future__ import annotations

import io
import multiprocessing

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from funding.models import EntryKind, LedgerEntry
from funding.selectors import fund_balance
from rides.models import Ride, RideStatus
from rides.pipeline.common import ride_request_dispatch
from tests.pipeline.test_integration import FAST, WITH_PARTNER, wait_all
from tests.stack import trips_by_reference

S = RideStatus
FARE = 50_000
HOLD = 55_000  # the fare plus the 10% margin
FITS = 5
BOOKED = 12
PROCESSES = 3


def _book_each(values: dict, count: int, results) -> None:
    """One booking process: writes its rides with their dispatch intent (the outbox)."""
    connections.close_all()  # the parent's connection is not this process's
    for _ in range(count):
        with transaction.atomic():
            ride = Ride.objects.create(**values)
            ride_request_dispatch(ride=ride)
        results.put(ride.pk)
    connections.close_all()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_bookings_racing_for_the_last_funds(
    fund, sandbox, partner_account, make_ride, celery_worker_process
):
    fund(FITS * HOLD + HOLD // 2)  # five rides and half of a sixth
    template = make_ride(partner_account, estimate_fare=FARE, status=S.CANCELLED)
    values = {
        field: getattr(template, field)
        for field in ("case", "unit", "partner_account", "booked_by", "purpose")
    } | {
        "pickup": template.pickup,
        "dropoff": template.dropoff,
        "rider_phone": template.rider_phone,
        "rider_alias": template.rider_alias,
        "estimate_fare": FARE,
        "status": S.REQUESTED,
    }
    celery_worker_process(env=dict(FAST, FUNDING_ENFORCED="true"), beat=True, concurrency=3)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    bookers = [
        context.Process(target=_book_each, args=(values, BOOKED // PROCESSES, results))
        for _ in range(PROCESSES)
    ]
    for booker in bookers:
        booker.start()
    for booker in bookers:
        booker.join(60)
        assert booker.exitcode == 0
    ride_ids = [results.get(timeout=5) for _ in range(BOOKED)]
    rides = list(Ride.objects.filter(pk__in=ride_ids))
    statuses = wait_all(rides, WITH_PARTNER | {S.AWAITING_APPROVAL}, timeout=90)

    sent = {pk for pk, status in statuses.items() if status in WITH_PARTNER}
    waiting = {pk for pk, status in statuses.items() if status == S.AWAITING_APPROVAL}
    assert (len(sent), len(waiting)) == (FITS, BOOKED - FITS)
    held = LedgerEntry.objects.filter(kind=EntryKind.HOLD).values_list("ride_id", flat=True)
    assert sorted(held) == sorted(sent)  # one hold per ride sent, none for a waiting one
    balance = fund_balance()
    assert (balance.held, balance.available) == (FITS * HOLD, HOLD // 2)
    # The partner holds exactly the rides sent, one trip each; the others were never sent.
    references = dict(Ride.objects.filter(pk__in=ride_ids).values_list("pk", "reference"))
    assert trips_by_reference(sandbox, partner_account.client_id) == {
        references[pk]: 1 for pk in sent
    }
    for ride in Ride.objects.filter(pk__in=waiting):
        assert ride.status_reason == (
            "The fund has Rp 27.500 available; this ride needs Rp 55.000."
        )
        assert not ride.events.filter(new_status=S.DISPATCHING).exists()
    out = io.StringIO()
    call_command("ledger_check", stdout=out)  # exits 1 on any difference
    assert "agrees" in out.getvalue()
