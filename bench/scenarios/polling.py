"""Scenario d: 2,000 active rides, webhooks off (polling only), the default 300 requests
a minute: how stale the portal's view of each ride gets.

Set-up dispatches the rides under a raised limit (creating 2,000 trips at 300 a minute
alone takes 7 minutes) with the sandbox's clock held still, so that the first trips are
still live when the last is created (10,000 dispatches take longer than a trip lives at
the default time scale); then the clock runs again, the limit goes back to 300 and the
measurement starts a minute later.
Ground truth: the sandbox also sends its webhooks to a recorder in this process (not
to the portal), so every partner status change and its time is known. The list calls'
pacing (the sandbox's answer time, the portal's time until its next call) comes from the
sandbox's journal. `--location-jitter` makes the cars report irregularly, as real ones do
(the sandbox's location_update_jitter): their order in the list then shuffles.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from bench.measure import all_calls, log, max_per_minute, parse_time, summary, wait_for
from bench.world import World
from rides.models import Ride, TripEvent
from rides.models.states import ACTIVE_WITH_PARTNER, PARTNER_STATUS_MAP, TERMINAL
from sandbox.testing import WebhookReceiver


def list_pacing(calls: list[dict]) -> dict:
    """How the list calls were spaced: the sandbox's answer time, and the portal's time
    from one answer to its next list call (applying the page, the budget's waits; gaps
    over 5 s are between polls), and how many carried the tail's cursor."""
    lists = sorted((c for c in calls if c["endpoint"] == "list_trips"), key=lambda c: c["at_unix"])
    between = [
        (later["at_unix"] - earlier["at_unix"]) * 1000 - earlier["duration_ms"]
        for earlier, later in zip(lists, lists[1:], strict=False)
    ]
    return {
        "answer_ms": summary([c["duration_ms"] for c in lists]),
        "portal_between_calls_ms": summary([gap for gap in between if gap < 5000]),
        "gaps_over_5s": sum(1 for gap in between if gap >= 5000),
        "with_cursor": sum(1 for c in lists if "cursor=" in (c.get("query") or "")),
    }


def run(stack, args) -> dict:
    receiver = WebhookReceiver()
    stack.start_sandbox(
        time_scale=args.time_scale,
        seed=7,
        webhook_concurrency=32,
        location_update_jitter=args.location_jitter,
    )
    stack.start_worker()
    world = World(stack)
    account = world.account(webhook_url=receiver.url, rate_limit=20_000)
    stack.sandbox.control.set_config(paused=True)
    started = time.time()
    rides = [world.book(account)[0] for _ in range(args.rides)]
    wait_for(
        lambda: (
            Ride.objects.filter(pk__in=rides, status__in=ACTIVE_WITH_PARTNER).count()
            >= len(rides) * 0.98
        ),
        timeout=max(600, len(rides) * 0.3),  # 10,000 rides: 50 minutes at most
        interval=1,
        what="rides with the partner",
    )
    set_up_seconds = time.time() - started
    log(f"set-up: {len(rides)} rides with the partner after {set_up_seconds:.0f}s")
    stack.sandbox.control.set_config(paused=False)
    # The measurement: the default limit from here on. The set-up's calls are still in
    # the partner's and the portal's one-minute windows: measure from a minute later.
    account.rate_limit_per_minute = 300
    account.save(update_fields=["rate_limit_per_minute"])
    stack.sandbox.control.update_client(account.client_id, rate_limit_per_minute=300)
    time.sleep(65)
    measure_from = time.time()
    active_samples = []
    while time.time() - measure_from < args.measure:
        active_samples.append(
            Ride.objects.filter(pk__in=rides, status__in=ACTIVE_WITH_PARTNER).count()
        )
        time.sleep(5)
    measure_to = time.time()
    calls = [
        call
        for call in all_calls(stack.sandbox, account.client_id)
        if measure_from <= call["at_unix"] <= measure_to
    ]
    # Every partner status change during the measurement, from the recorder.
    changes: dict[str, list[tuple[float, str]]] = defaultdict(list)
    seen_ids = set()
    for item in receiver.received:
        if item.event_id in seen_ids:
            continue
        seen_ids.add(item.event_id)
        body = item.json()
        if body.get("type") != "trip.status_changed":
            continue
        data = body["data"]
        changes[data["external_reference"]].append((parse_time(data["updated_at"]), data["status"]))
    receiver.close()
    ride_of = dict(Ride.objects.filter(pk__in=rides).values_list("reference", "pk"))
    events = defaultdict(list)
    for ride_id, at, partner_at in TripEvent.objects.filter(
        ride_id__in=rides, partner_updated_at__isnull=False
    ).values_list("ride_id", "at", "partner_updated_at"):
        events[ride_id].append((partner_at.timestamp(), at.timestamp()))
    staleness, never = [], 0
    for reference, history in changes.items():
        history.sort()
        previous = None
        for changed_at, status in history:
            mapped = PARTNER_STATUS_MAP.get(status)
            if mapped == previous:
                continue  # the portal's state does not change with it
            previous = mapped
            if not measure_from <= changed_at <= measure_to:
                continue
            caught = [
                at
                for partner_at, at in events[ride_of[reference]]
                if partner_at >= changed_at - 1e-6
            ]
            if caught:
                staleness.append(min(caught) - changed_at)
            else:
                never += 1
                staleness.append(measure_to - changed_at)
    statuses = Counter(Ride.objects.filter(pk__in=rides).values_list("status", flat=True))
    return {
        "rides": len(rides),
        "location_jitter": args.location_jitter,
        "set_up_seconds": round(set_up_seconds),
        "active_during_measurement": {
            "min": min(active_samples),
            "max": max(active_samples),
        },
        "measurement_seconds": round(measure_to - measure_from),
        "state_changes_measured": len(staleness),
        "staleness_s": summary(staleness),
        "changes_over_60s_stale": sum(1 for value in staleness if value > 60),
        "changes_not_caught_by_end": never,
        "partner_calls": len(calls),
        "calls_by_endpoint": dict(Counter(call["endpoint"] for call in calls)),
        "list_pacing": list_pacing(calls),
        "max_requests_in_any_60s": max_per_minute(calls),
        "answers_429": sum(1 for call in calls if call["status"] == 429),
        "final_states_at_end": dict(statuses),
        "terminal_at_end": sum(n for s, n in statuses.items() if s in TERMINAL),
    }
