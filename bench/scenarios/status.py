"""Scenario b: partner status change → portal state, with webhooks and with polling only;
and how fast the webhook endpoint answers a signed event."""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import time
from collections import Counter

import httpx
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from bench.measure import log, parse_time, summary, wait_for
from bench.world import World
from rides.models import Ride
from rides.models.states import ACTIVE_WITH_PARTNER

CYCLE = [
    ("accepted", "driver_assigned"),
    ("arriving", "arriving"),
    ("driver_redispatched", "searching"),
]


def _status_changes(stack, account, rides: list[int], changes: int, gap: tuple) -> list:
    """Moves trips at the partner one at a time and times how long until the portal
    shows each change (the database is read every 20 ms)."""
    trip_of = dict(Ride.objects.filter(pk__in=rides).values_list("pk", "partner_trip_id"))
    step = dict.fromkeys(rides, 0)
    pending: dict[int, tuple[str, float]] = {}
    latencies: list[float] = []
    issued = 0
    next_change = time.time()
    deadline = time.time() + changes * gap[1] + 120
    while (issued < changes or pending) and time.time() < deadline:
        now = time.time()
        if issued < changes and now >= next_change:
            free = [ride for ride in rides if ride not in pending]
            if free:
                ride = random.choice(free)
                partner_status, portal_status = CYCLE[step[ride] % len(CYCLE)]
                step[ride] += 1
                trip = stack.sandbox.control.set_trip_status(trip_of[ride], partner_status)
                pending[ride] = (portal_status, parse_time(trip["updated_at"]))
                issued += 1
            next_change = now + random.uniform(*gap)
        if pending:
            rows = Ride.objects.filter(pk__in=list(pending)).values_list(
                "pk", "status", "partner_updated_at"
            )
            seen_at = time.time()
            for ride_id, status, partner_updated_at in rows:
                wanted, changed_at = pending[ride_id]
                if (
                    status == wanted
                    and partner_updated_at is not None
                    and partner_updated_at.timestamp() >= changed_at - 1e-6
                ):
                    latencies.append(seen_at - changed_at)
                    del pending[ride_id]
        time.sleep(0.02)
    if pending:
        log(f"{len(pending)} changes never reached the portal")
    return latencies


def run(stack, args) -> dict:
    stack.start_sandbox(paused=True)
    stack.start_web()
    stack.start_worker()
    world = World(stack)
    results = {}
    for mode in ("webhooks", "polling_only"):
        account = world.account(webhook_url="portal" if mode == "webhooks" else None, name=mode)
        rides = [world.book(account)[0] for _ in range(20)]
        wait_for(
            lambda rides=rides: (
                Ride.objects.filter(pk__in=rides, status__in=ACTIVE_WITH_PARTNER).count()
                == len(rides)
            ),
            timeout=60,
            what="rides with the partner",
        )
        time.sleep(3)
        gap = (0.3, 1.0) if mode == "webhooks" else (0.8, 1.6)
        latencies = _status_changes(stack, account, rides, args.changes, gap)
        results[mode] = summary(latencies)
        results[mode]["poll_interval_s"] = (
            settings.PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS
            if mode == "webhooks"
            else settings.PIPELINE_POLL_INTERVAL
        )
        log(f"{mode}: {results[mode]}")
        if mode == "webhooks":
            results["webhook_endpoint_answer_s"] = _webhook_answer_times(stack, account)
            log(f"webhook endpoint: {results['webhook_endpoint_answer_s']}")
    return results


def _webhook_answer_times(stack, account, count: int = 300) -> dict:
    """How fast the endpoint answers a signed event (through gunicorn, over HTTP)."""
    signer = Webhook(account.webhook_secret)
    url = f"{stack.web_url}{account.webhook_path}"
    times, statuses = [], Counter()
    with httpx.Client(timeout=5) as http:
        for index in range(count):
            body = json.dumps(
                {
                    "type": "trip.driver_location",
                    "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                    "data": {
                        "trip_id": f"trp_bench_{index}",
                        "external_reference": "",
                        "status": "arriving",
                        "updated_at": dt.datetime.now(dt.UTC).isoformat(),
                    },
                }
            )
            event_id = f"msg_bench_{secrets.token_hex(8)}"
            moment = dt.datetime.now(dt.UTC)
            headers = {
                "webhook-id": event_id,
                "webhook-timestamp": str(int(moment.timestamp())),
                "webhook-signature": signer.sign(event_id, moment, body),
                "content-type": "application/json",
            }
            started = time.perf_counter()
            response = http.post(url, content=body, headers=headers)
            times.append(time.perf_counter() - started)
            statuses[response.status_code] += 1
    return {**summary(times), "statuses": dict(statuses)}
