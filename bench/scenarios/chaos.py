"""Scenario "chaos": the pipeline against a partner having a bad day (not a test).

    python -m bench.pipeline --scenario chaos [--rides 200] [--time-scale 20]

200 rides are booked in a burst through REST API v1 (bearer token, as an outside
integration books) against the sandbox's chaos profile: 5xx, 429 with Retry-After,
garbage and cut-off bodies, answers slower than the read timeout with the action done
anyway, quirks (fields the contract does not name, informational fields null or absent,
null fees in receipts, null driver ratings), webhooks duplicated, reordered and dropped,
no drivers, drivers who cancel — and one 90-second outage (503 to everything) in the
middle of the burst's aftermath. Then it waits until every trip at the partner has ended
and every ride has settled, and compares each ride with its trip.

Printed: rides per final state next to the partner's final state of each trip; rides a
person had to act on, and why; rides lost (no trip, not with a person), doubled (two
trips for a reference or two rides on a trip) and stuck (not final at the end); time from
booking to the final state; staleness of each ride's final state behind its trip's
(less the time the partner answered nothing); partner calls per ride. Method and results:
docs/benchmarks.md. Loaded by bench/pipeline.py once Django is set up.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
from django.conf import settings

from accounts.services import api_token_issue
from bench.measure import all_calls, log, max_per_minute, parse_time, summary
from bench.stack import Stack
from bench.world import DROPOFFS, PICKUPS, World
from cases.models import Consent
from partners.client.contract import TERMINAL_TRIP_STATUSES
from partners.models import UnitDefaultPartner
from rides.models import Alert, AlertKind, Ride
from rides.models.states import HELD, PARTNER_STATUS_MAP, TERMINAL

# Destinations are booked as coordinates, 3 to 12 km from the pickups (bench/world.py).


def _api_world(stack: Stack):
    """The caseworker's case with consent, the account as its unit's default, a token."""
    world = World(stack)
    account = world.account(webhook_url="portal")
    Consent.objects.create(
        case=world.case,
        given_by="survivor",
        scopes=["transport", "share_phone"],
        recorded_by=world.user,
    )
    UnitDefaultPartner.objects.create(unit=world.unit, partner_account=account)
    return world, account, api_token_issue(user=world.user)


def _book_burst(stack: Stack, world: World, token: str, count: int) -> list[dict]:
    """POSTs `count` rides at once (8 connections); returns what each answer said."""
    url = f"{stack.web_url}/api/v1/rides/"
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}

    def book(index: int) -> dict:
        pickup = PICKUPS[index % len(PICKUPS)]
        dropoff = DROPOFFS[(index // len(PICKUPS)) % len(DROPOFFS)]
        body = {
            "case": world.case.code,
            "purpose": "medical_exam",
            "pickup": {"latitude": pickup[0], "longitude": pickup[1], "address": "Jl. Uji 1"},
            "dropoff": {"latitude": dropoff[0], "longitude": dropoff[1], "address": "Jl. Uji 2"},
            "passenger_count": 1,
        }
        started = time.time()
        with httpx.Client(timeout=30, trust_env=False) as client:
            response = client.post(url, json=body, headers=headers)
        data = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        return {
            "status": response.status_code,
            "reference": data.get("reference"),
            "booked_at": started,
            "answered_in": time.time() - started,
        }

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(book, range(count)))


def _settle(stack: Stack, account, rides: list[int], timeout: float) -> float:
    """Waits until every trip at the partner has ended and every ride is final or with a
    person; returns the seconds it took."""
    started = time.time()
    last = 0.0
    while True:
        trips = stack.sandbox.control.trips(account.client_id)
        open_trips = sum(1 for t in trips if t["trip"]["status"] not in TERMINAL_TRIP_STATUSES)
        states = Counter(Ride.objects.filter(pk__in=rides).values_list("status", flat=True))
        open_rides = sum(n for s, n in states.items() if s not in TERMINAL and s not in HELD)
        if not open_trips and not open_rides:
            return time.time() - started
        if time.time() - last > 15:
            log(f"waiting: {open_trips} trips and {open_rides} rides not final: {dict(states)}")
            last = time.time()
        if time.time() - started > timeout:
            log(f"gave up waiting after {timeout:.0f}s")
            return time.time() - started
        time.sleep(2)


def run(stack: Stack, args) -> dict:
    stack.env["BOOKING_SERVICE_HOURS"] = "00:00-00:00"  # the clock must not decide
    # The profile's own outage is replaced by one placed in the burst's aftermath.
    knobs = {"time_scale": args.time_scale, "seed": 11, "outage_seconds": 0}
    stack.start_sandbox(profile="chaos", **knobs)
    stack.start_web()
    stack.start_worker()
    world, account, token = _api_world(stack)
    outage: dict = {}

    def start_outage():
        outage.update(stack.sandbox.control.outage(args.outage_seconds))
        log(f"outage: the partner answers 503 to everything for {args.outage_seconds:.0f}s")

    timer = threading.Timer(args.outage_at, start_outage)
    burst_started = time.time()
    timer.start()
    answers = _book_burst(stack, world, token, args.rides)
    log(f"{len(answers)} bookings answered in {time.time() - burst_started:.1f}s")
    refused = [a for a in answers if a["status"] != 201]
    booked = {a["reference"]: a for a in answers if a["status"] == 201}
    ride_of = dict(Ride.objects.filter(reference__in=booked).values_list("reference", "pk"))
    rides = list(ride_of.values())
    timer.join()
    settle = _settle(stack, account, rides, args.timeout)
    time.sleep(2 * float(settings.PIPELINE_POLL_INTERVAL))  # the last poll's chance
    receipts_from = time.time()
    charged = Ride.objects.filter(pk__in=rides, status="completed")
    while charged.filter(receipt__isnull=True).exists() and time.time() - receipts_from < 600:
        time.sleep(2)
    receipts_wait = time.time() - receipts_from

    trips = stack.sandbox.control.trips(account.client_id)
    trips_per_reference = Counter(t["trip"]["external_reference"] for t in trips)
    trip_of = {t["trip"]["external_reference"]: t["trip"] for t in trips}
    outage_start = outage.get("starts_at") or 0.0
    outage_end = outage.get("ends_at") or 0.0
    table: dict[str, Counter] = defaultdict(Counter)
    mismatched, lost, stuck, people = [], [], [], []
    to_final, staleness, stalest = [], [], []
    for ride in Ride.objects.filter(pk__in=rides).prefetch_related("events"):
        trip = trip_of.get(ride.reference)
        partner_status = trip["status"] if trip else "(no trip)"
        table[ride.status][partner_status] += 1
        events = list(ride.events.all())
        if ride.status in HELD or any(e.new_status == "awaiting_approval" for e in events):
            people.append({"reference": ride.reference, "why": ride.status_reason})
        if trip is None:
            if ride.status not in HELD:
                lost.append(ride.reference)
            continue
        if ride.status not in TERMINAL and ride.status not in HELD:
            stuck.append(ride.reference)
        if PARTNER_STATUS_MAP.get(trip["status"]) != ride.status:
            mismatched.append((ride.reference, ride.status, trip["status"]))
            continue
        final_event = next((e for e in reversed(events) if e.new_status == ride.status), None)
        if final_event is None:
            continue
        partner_at = parse_time(trip["updated_at"])
        learned_at = final_event.at.timestamp()
        # The time the partner answered nothing does not count; the portal's own delay in
        # noticing that it answers again (the breaker's next probe) does.
        unreachable = max(0.0, min(learned_at, outage_end) - max(partner_at, outage_start))
        stale = max(0.0, learned_at - partner_at - unreachable)
        staleness.append(stale)
        stalest.append(
            (
                round(stale, 1),
                ride.reference,
                final_event.cause,
                round(partner_at - burst_started, 1),
            )
        )
        to_final.append(final_event.at.timestamp() - booked[ride.reference]["booked_at"])
    doubled_rides = sum(
        1
        for n in Counter(
            Ride.objects.filter(pk__in=rides)
            .exclude(partner_trip_id="")
            .values_list("partner_trip_id", flat=True)
        ).values()
        if n > 1
    )
    calls = all_calls(stack.sandbox, account.client_id)
    completed = sum(1 for pk in rides if Ride.objects.filter(pk=pk, status="completed").exists())
    alerts = Counter(
        Alert.objects.filter(unit__isnull=True, partner_account=account).values_list(
            "kind", flat=True
        )
    )
    down_alert = Alert.objects.filter(partner_account=account, kind=AlertKind.PARTNER_DOWN).first()
    return {
        "rides_booked": len(rides),
        "bookings_refused": [(a["status"], a.get("reference")) for a in refused],
        "final_states_vs_partner": {state: dict(c) for state, c in sorted(table.items())},
        "rides_not_matching_their_trip": mismatched,
        "rides_lost": lost,
        "rides_doubled": sum(1 for n in trips_per_reference.values() if n > 1) + doubled_rides,
        "rides_stuck": stuck,
        "rides_a_person_acted_on": people,
        "booking_to_final_s": summary(to_final),
        "final_state_staleness_s": summary(staleness),
        # (seconds, reference, how the portal learned it, partner's end after the burst's start)
        "stalest": sorted(stalest, reverse=True)[:8],
        "poll_interval_s": float(settings.PIPELINE_POLL_INTERVAL),
        "poll_interval_with_webhooks_s": float(settings.PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS),
        "outage": {
            "seconds": args.outage_seconds,
            "started_after_burst_s": round(outage_start - burst_started, 1) if outage else None,
            "partner_down_alerts": dict(alerts),
            "alert_raised": down_alert.created_at.isoformat() if down_alert else None,
            "alert_cleared": (
                down_alert.cleared_at.isoformat() if down_alert and down_alert.cleared_at else None
            ),
            "outage_ended": dt.datetime.fromtimestamp(outage_end, dt.UTC).isoformat()
            if outage_end
            else None,
        },
        # the list calls around the end of the outage: (seconds after it, status, fault)
        "polls_after_outage": [
            (round(c["at_unix"] - outage_end, 1), c["status"], c["fault"])
            for c in calls
            if c["endpoint"] == "list_trips" and outage_end - 15 <= c["at_unix"] <= outage_end + 60
        ][:20],
        "settle_seconds": round(settle, 1),
        "receipts_wait_seconds": round(receipts_wait, 1),
        "completed_without_receipt": charged.filter(receipt__isnull=True).count(),
        "completed_without_driver_details": charged.filter(driver_name="").count(),
        "partner_calls": len(calls),
        "calls_by_endpoint": dict(Counter(call["endpoint"] for call in calls)),
        "faults_injected": dict(
            Counter((c["fault"] or "").split("+")[0] for c in calls if c["fault"])
        ),
        "calls_per_ride": round(len(calls) / max(1, len(rides)), 2),
        "calls_per_completed_ride": round(len(calls) / max(1, completed), 2),
        "max_requests_in_any_60s": max_per_minute(calls),
    }
