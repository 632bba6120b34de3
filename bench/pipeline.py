"""Benchmarks of the booking pipeline against the sandbox partner (not tests).

    python -m bench.pipeline --scenario a   # ride committed → the partner holds the trip
    python -m bench.pipeline --scenario b   # partner status change → portal state
    python -m bench.pipeline --scenario c   # 1,000 rides booked in a burst
    python -m bench.pipeline --scenario d   # 2,000 active rides, webhooks off
    python -m bench.pipeline --scenario chaos  # 200 rides against a bad day (bench/chaos.py)

Each run builds the production shape on this machine: a fresh database on the configured
PostgreSQL (DATABASE_URL, else the embedded one), the configured Redis (REDIS_URL, else
the embedded one) under its own key prefix, the sandbox partner as a process, gunicorn
for webhooks, a Celery worker (4 processes) and beat, all with the portal's default
pipeline settings (production settings, DEBUG off). The driver (this process) books
rides through the same services as the booking pages and reads results from the
database and the sandbox's call log. Method and results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_DB = "bench_pipeline"
PREFIX = "bench-"


def log(message: str) -> None:
    sys.stdout.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stdout.flush()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[index]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 4),
        "p95": round(percentile(values, 95), 4),
        "max": round(max(values), 4) if values else None,
        "mean": round(statistics.fmean(values), 4) if values else None,
    }


def free_port() -> int:
    from sandbox.testing import free_port as pick

    return pick()


# --- the stack ---------------------------------------------------------------------------------


class Stack:
    """Database, environment and the processes of one benchmark run."""

    def __init__(self, *, keep_db: bool = False) -> None:
        self.keep_db = keep_db
        self.processes: dict[str, subprocess.Popen] = {}
        self.log_dir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        self.sandbox = None
        self.web_url: str | None = None
        self.env: dict[str, str] = {}

    # environment and database
    def prepare(self) -> None:
        from portal import embedded

        embedded.provide_missing()
        database_url = os.environ["DATABASE_URL"]
        redis_url = os.environ["REDIS_URL"]
        import psycopg

        with psycopg.connect(
            database_url.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        parts = urlsplit(database_url)
        bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        self.base_database_url = database_url
        from cryptography.fernet import Fernet

        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_ENV_FILE": os.devnull,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": bench_url,
            "REDIS_URL": redis_url,
            "CELERY_KEY_PREFIX": PREFIX,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        os.environ.update(self.env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        import redis

        client = redis.Redis.from_url(redis_url)
        stale = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
        stale += list(client.scan_iter(match="partners:*", count=1000))
        if stale:
            client.delete(*stale)

    # processes
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        handle = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed at stop
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        process._log = handle  # type: ignore[attr-defined]
        self.processes[name] = process
        return process

    def start_sandbox(self, **knobs) -> None:
        from sandbox.testing import start_sandbox

        self.sandbox = start_sandbox(
            log_level="warning", log_path=self.log_dir / "sandbox.log", **knobs
        )

    def start_web(self) -> None:
        port = free_port()
        self._spawn(
            "web",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "-k",
                "gthread",
                "--threads",
                "8",
                "--log-level",
                "warning",
            ],
        )
        self.web_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.web_url}/healthz", timeout=1).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def start_worker(self, concurrency: int = 4) -> None:
        self._spawn(
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "-l",
                "warning",
                "--concurrency",
                str(concurrency),
                "-n",
                f"bench-{secrets.token_hex(3)}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )
        self._spawn(
            "beat",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "portal",
                "beat",
                "-l",
                "warning",
                "-s",
                str(self.log_dir / "celerybeat-schedule"),
            ],
        )
        time.sleep(4)  # the worker's pool and beat's first tick

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
            process._log.close()  # type: ignore[attr-defined]
        if self.sandbox is not None:
            self.sandbox.stop()
        from django.db import connections

        connections.close_all()
        if not self.keep_db:
            import psycopg

            url = self.base_database_url.replace("postgres://", "postgresql://")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        log(f"process logs: {self.log_dir}")


# --- data ------------------------------------------------------------------------------------

PICKUPS = [(-6.2250, 106.8450), (-6.2000, 106.8166), (-6.1754, 106.8272), (-6.2615, 106.7810)]
DROPOFFS = [(-6.1862, 106.8310), (-6.2297, 106.8295), (-6.1950, 106.8230), (-6.2405, 106.8000)]


class World:
    """A unit, a caseworker, a case and a partner account registered at the sandbox."""

    def __init__(self, stack: Stack) -> None:
        from accounts.models import Role, Unit, User
        from cases.services import case_create

        self.stack = stack
        self.unit = Unit.objects.create(code="BENCH", name="Bench unit", kind="city_office")
        self.user = User.objects.create(username="bench-cw", role=Role.CASEWORKER, unit=self.unit)
        self.case = case_create(
            user=self.user,
            survivor={"name": "Bench Survivor", "phone": "0812-3456-7890"},
            violence_types=["physical"],
            stage="accompaniment",
        )

    def account(self, *, webhook_url: str | None, rate_limit: int = 300, name: str = "bench"):
        from partners.models import PartnerAccount
        from sandbox.testing import generate_webhook_secret

        client_id = f"{name}-{secrets.token_hex(4)}"
        client_secret = secrets.token_hex(16)
        webhook_secret = generate_webhook_secret()
        account = PartnerAccount.objects.create(
            name=client_id,
            base_url=self.stack.sandbox.base_url,
            client_id=client_id,
            client_secret=client_secret,
            webhook_secret=webhook_secret,
            rate_limit_per_minute=rate_limit,
        )
        if webhook_url == "portal":
            webhook_url = f"{self.stack.web_url}{account.webhook_path}"
        self.stack.sandbox.control.create_client(
            client_id,
            client_secret,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            rate_limit_per_minute=rate_limit,
        )
        return account

    def book(self, account) -> tuple[int, float]:
        """Books one ride as the booking service does; returns (id, commit time)."""
        from django.db import transaction

        from rides.models import Ride, RideStatus
        from rides.services import ride_request_dispatch

        pickup = random.choice(PICKUPS)
        dropoff = random.choice(DROPOFFS)
        committed: list[float] = []
        with transaction.atomic():
            ride = Ride.objects.create(
                case=self.case,
                unit=self.unit,
                partner_account=account,
                booked_by=self.user,
                purpose="medical_exam",
                pickup={"latitude": pickup[0], "longitude": pickup[1], "address": "Jl. Bench 1"},
                dropoff={"latitude": dropoff[0], "longitude": dropoff[1], "address": "Jl. B 2"},
                rider_phone="+6281234567890",
                rider_alias="Bunga",
                status=RideStatus.REQUESTED,
            )
            # Runs first among the on-commit hooks: the moment the booking is committed.
            transaction.on_commit(lambda: committed.append(time.time()))
            ride_request_dispatch(ride=ride)
        return ride.pk, committed[0]


def all_calls(sandbox, client_id: str) -> list[dict]:
    calls, after = [], None
    while True:
        page = sandbox.control.calls(client_id=client_id, after_id=after, limit=10_000)
        calls += page
        if len(page) < 10_000:
            return calls
        after = page[-1]["id"]


def max_per_minute(calls: list[dict]) -> int:
    times = sorted(call["at_unix"] for call in calls)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 60:
            start += 1
        best = max(best, end - start + 1)
    return best


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(what or "condition")
        time.sleep(interval)


def parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


# --- scenarios -------------------------------------------------------------------------------


def scenario_a(stack: Stack, args) -> dict:
    """Committed → the partner holds the trip, one ride at a time (idle worker)."""
    from rides.models import Ride

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


CYCLE = [
    ("accepted", "driver_assigned"),
    ("arriving", "arriving"),
    ("driver_redispatched", "searching"),
]


def _status_changes(stack: Stack, account, rides: list[int], changes: int, gap: tuple) -> list:
    """Moves trips at the partner one at a time and times how long until the portal
    shows each change (the database is read every 20 ms)."""
    from rides.models import Ride

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


def scenario_b(stack: Stack, args) -> dict:
    """Partner status change → portal state, with webhooks and with polling only."""
    from django.conf import settings

    from rides.models import ACTIVE_WITH_PARTNER, Ride

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


def _webhook_answer_times(stack: Stack, account, count: int = 300) -> dict:
    """How fast the endpoint answers a signed event (through gunicorn, over HTTP)."""
    from standardwebhooks.webhooks import Webhook

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


def scenario_c(stack: Stack, args) -> dict:
    """A burst of bookings, webhooks on, the default 300 requests a minute."""
    from rides.models import TERMINAL, Ride

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


def scenario_d(stack: Stack, args) -> dict:
    """2,000 active rides, webhooks off (polling only), the default 300 requests a minute.

    Set-up dispatches the rides under a raised limit (creating 2,000 trips at 300 a minute
    alone takes 7 minutes); then the limit goes back to 300 and the measurement starts.
    Ground truth: the sandbox also sends its webhooks to a recorder in this process (not
    to the portal), so every partner status change and its time is known.
    """
    from rides.models import ACTIVE_WITH_PARTNER, PARTNER_STATUS_MAP, TERMINAL, Ride, TripEvent
    from sandbox.testing import WebhookReceiver

    receiver = WebhookReceiver()
    stack.start_sandbox(time_scale=args.time_scale, seed=7, webhook_concurrency=32)
    stack.start_worker()
    world = World(stack)
    account = world.account(webhook_url=receiver.url, rate_limit=20_000)
    started = time.time()
    rides = [world.book(account)[0] for _ in range(args.rides)]
    wait_for(
        lambda: (
            Ride.objects.filter(pk__in=rides, status__in=ACTIVE_WITH_PARTNER).count()
            >= len(rides) * 0.98
        ),
        timeout=600,
        interval=1,
        what="rides with the partner",
    )
    log(f"set-up: {len(rides)} rides with the partner after {time.time() - started:.0f}s")
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
        "max_requests_in_any_60s": max_per_minute(calls),
        "answers_429": sum(1 for call in calls if call["status"] == 429),
        "final_states_at_end": dict(statuses),
        "terminal_at_end": sum(n for s, n in statuses.items() if s in TERMINAL),
    }


def scenario_chaos(stack: Stack, args) -> dict:
    from bench.chaos import scenario_chaos as run

    return run(stack, args)


SCENARIOS = {
    "a": scenario_a,
    "b": scenario_b,
    "c": scenario_c,
    "d": scenario_d,
    "chaos": scenario_chaos,
}
DEFAULTS = {
    "a": {"rides": 100},
    "b": {"changes": 60},
    "c": {"rides": 1000, "time_scale": 60.0, "timeout": 1800},
    "d": {"rides": 2000, "time_scale": 3.0, "measure": 300},
    "chaos": {
        "rides": 200,
        "time_scale": 20.0,
        "timeout": 1500,
        "outage_at": 60.0,
        "outage_seconds": 90.0,
    },
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--rides", type=int)
    parser.add_argument("--changes", type=int)
    parser.add_argument("--time-scale", type=float)
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--measure", type=float, help="scenario d: seconds of measurement")
    parser.add_argument(
        "--outage-at", type=float, help="scenario chaos: seconds after the burst's start"
    )
    parser.add_argument("--outage-seconds", type=float, help="scenario chaos: outage length")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    for name, value in DEFAULTS[args.scenario].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    stack = Stack(keep_db=args.keep_db)
    stack.prepare()
    started = time.time()
    try:
        results = SCENARIOS[args.scenario](stack, args)
    finally:
        stack.stop()
    results = {
        "scenario": args.scenario,
        "seconds": round(time.time() - started, 1),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        **results,
    }
    text = json.dumps(results, indent=2, default=str)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
