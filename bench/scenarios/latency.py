"""Scenario a: ride committed → the partner holds the trip, one ride at a time (idle worker)."""

from __future__ import annotations

import time

from bench.measure import parse_time, summary, wait_for
from bench.world import World
from rides.models import Ride


def run(stack, args) -> dict:
    stack.start_sandbox(paused=True)
    stack.start_worker()
    world = World(stack)
    account = world.account(webhook_url=None)
    latencies, known = [], []
    for index in range(args.rides + 5):
        ride_id, committed = world.book(account)
        trip_id = wait_for(
            lambda ride_id=ride_id: (
                Ride.objects.filter(pk=ride_id)
                .exclude(partner_trip_id="")
                .values_list("partner_trip_id", flat=True)
                .first()
            ),
            timeout=30,
            interval=0.002,
        )
        seen = time.time()
        created = parse_time(stack.sandbox.control.trip(trip_id)["trip"]["created_at"])
        if index >= 5:  # the first few warm up the token, pools and caches
            latencies.append(created - committed)
            known.append(seen - committed)
        time.sleep(0.3)
    return {
        "commit_to_partner_holds_trip_s": summary(latencies),
        "commit_to_portal_shows_partner_status_s": summary(known),
    }
