"""Scenario c: a burst of bookings (1,000 by default), webhooks on, the default 300
requests a minute; how long until every ride is final and every receipt is in, and what
it cost in partner calls."""

from __future__ import annotations

import time
from collections import Counter

from bench.measure import all_calls, log, max_per_minute, wait_for
from bench.world import World
from rides.models import Ride
from rides.models.states import TERMINAL


def run(stack, args) -> dict:
    stack.start_sandbox(time_scale=args.time_scale, seed=7)
    stack.start_web()
    stack.start_worker()
    world = World(stack)
    account = world.account(webhook_url="portal")
    started = time.time()
    rides = [world.book(account)[0] for _ in range(args.rides)]
    log(f"{len(rides)} rides booked in {time.time() - started:.1f}s")

    def progress():
        counts = Counter(Ride.objects.filter(pk__in=rides).values_list("status", flat=True))
        done = sum(n for status, n in counts.items() if status in TERMINAL)
        return done, counts

    last_log = 0.0
    while True:
        done, counts = progress()
        if done == len(rides):
            break
        if time.time() - last_log > 15:
            log(f"{done}/{len(rides)} final: {dict(counts)}")
            last_log = time.time()
        if time.time() - started > args.timeout:
            raise TimeoutError(f"not all final after {args.timeout}s: {dict(counts)}")
        time.sleep(1)
    all_final = time.time() - started
    completed = Ride.objects.filter(pk__in=rides, status="completed")
    wait_for(
        lambda: not completed.filter(receipt__isnull=True).exists(),
        timeout=args.timeout,
        interval=1,
        what="receipts",
    )
    receipts_done = time.time() - started
    calls = all_calls(stack.sandbox, account.client_id)
    by_endpoint = Counter(call["endpoint"] for call in calls)
    throttled = Counter(call["endpoint"] for call in calls if call["status"] == 429)
    final = Counter(Ride.objects.filter(pk__in=rides).values_list("status", flat=True))
    trips = Counter(
        item["trip"]["external_reference"]
        for item in stack.sandbox.control.trips(account.client_id)
    )
    references = set(Ride.objects.filter(pk__in=rides).values_list("reference", flat=True))
    without_driver = (
        Ride.objects.filter(pk__in=rides, status="completed").filter(driver_name="").count()
    )
    return {
        "completed_rides_without_driver_details": without_driver,
        "rides": len(rides),
        "final_states": dict(final),
        "seconds_until_all_final": round(all_final, 1),
        "seconds_until_all_receipts": round(receipts_done, 1),
        "partner_calls": len(calls),
        "calls_by_endpoint": dict(by_endpoint),
        "calls_per_completed_ride": round(len(calls) / max(1, final["completed"]), 3),
        "calls_per_ride": round(len(calls) / len(rides), 3),
        "answers_429_by_endpoint": dict(throttled),
        "max_requests_in_any_60s": max_per_minute(calls),
        "trips_per_reference_max": max(trips.values()),
        "rides_without_trip": len(references - set(trips)),
        "trips_without_ride": len(set(trips) - references),
    }
