"""Two worker processes (each with two of its own) and two web processes (gunicorn)
against one database, one Redis and the sandbox, with rides booked through REST API v1
as an outside integration books them, alternating between the web processes.

- The partner's per-minute limit is one budget for all of them, kept in Redis
  (partners/client/ratelimit.py): a burst of bookings larger than the minute's budget
  never draws a 429 from the partner's own limiter, and no minute of the partner's call
  log holds more than the budget, although the web processes' estimates and the
  workers' dispatches and polls all spend from it.
- The circuit breaker is one per account, kept in Redis (partners/client/breaker.py):
  while the partner is down, it is called as often as one breaker allows, not once per
  process.

In both, every ride reaches the partner exactly once, both web processes served
bookings and both workers dispatched. docs/scaling.md says why this is what lets the
portal add web and worker replicas.
"""

from __future__ import annotations

import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings

from accounts.services import api_token_issue
from partners.client.registry import breaker_episode
from rides.models import Ride, RideStatus, WebhookEvent
from rides.models.states import ACTIVE_WITH_PARTNER
from tests.factories import ConsentFactory, UnitDefaultPartnerFactory
from tests.pipeline.conftest import DROPOFF, PICKUP
from tests.pipeline.test_integration import FAST, assert_no_lost_or_doubled_trips, wait_all
from tests.stack import wait_until

RIDES_API = "/api/v1/rides/"
WORKERS, CHILDREN = 2, 2  # worker processes, and the pool processes of each
WITH_PARTNER = ACTIVE_WITH_PARTNER | {RideStatus.COMPLETED}
# Polls every 5 s, with or without webhooks: the bookings, not the polls, fill the minute.
POLLING = {
    "PIPELINE_POLL_INTERVAL": "5",
    "PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS": "5",
    "PIPELINE_POLL_TICK": "1",
    # Booked at any hour (the SOP's service hours are tested on their own).
    "BOOKING_SERVICE_HOURS": "00:00-00:00",
}


def start_stack(sandbox, account, celery_worker_process, web_process, env):
    """Two workers (one with beat) and two web processes; the account's webhooks go to the
    first web process."""
    workers = [celery_worker_process(env=env, beat=True, concurrency=CHILDREN)]
    workers += [celery_worker_process(env=env, concurrency=CHILDREN)]
    webs = [web_process(env=env), web_process(env=env)]
    sandbox.control.update_client(account.client_id, webhook_url=webs[0].url + account.webhook_path)
    return workers, webs


def integration_token(account, case, caseworker) -> str:
    """What an outside integration holds: a caseworker's bearer token for a case with
    consent to transport, in a unit whose partner is `account`."""
    UnitDefaultPartnerFactory(unit=case.unit, partner_account=account)
    ConsentFactory(case=case, recorded_by=caseworker)
    return api_token_issue(user=caseworker)


def book_through_api(webs, token, case, count, *, parallel=4) -> list[dict]:
    """Books `count` rides with POST /api/v1/rides/, the i-th at web process i % 2;
    returns the answers (each a 201)."""
    body = {"case": case.code, "purpose": "medical_exam", "pickup": PICKUP, "dropoff": DROPOFF}

    def book(index: int) -> dict:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        with httpx.Client(base_url=webs[index % len(webs)].url, trust_env=False) as http:
            answer = http.post(RIDES_API, json=body, headers=headers, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(book, range(count)))


def rides_of(answers) -> list[Ride]:
    rides = list(Ride.objects.filter(reference__in=[answer["reference"] for answer in answers]))
    assert len(rides) == len(answers)
    return rides


def assert_every_process_took_part(workers, webs, account, booked: int) -> None:
    for web in webs:  # its access log: the bookings it answered
        assert web.served("POST", RIDES_API, 201) == booked // len(webs), web.log_tail()
    for worker in workers:
        assert "rides.dispatch_ride" in worker.worker_log.read_text(), worker.worker_log
    wait_until(  # the sandbox's webhooks reached the first web process
        lambda: (
            WebhookEvent.objects.filter(account=account).exists()
            and webs[0].served("POST", account.webhook_path, 204) > 0
        ),
        timeout=30,
        message="no webhook was received",
    )


def busiest_span(times: list[float], seconds: float) -> int:
    """The most calls any `seconds`-long span of the log holds."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


LIMIT = 60  # requests a minute, for the account at the sandbox and in the portal
RIDES = 30  # an estimate (web) and a create (worker) each: more than the minute's budget


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_web_processes_keep_one_rate_limit_for_the_account(
    sandbox,
    make_partner_account,
    pipeline_case,
    pipeline_caseworker,
    celery_worker_process,
    web_process,
):
    account = make_partner_account(rate_limit_per_minute=LIMIT)
    env = dict(FAST, **POLLING)
    workers, webs = start_stack(sandbox, account, celery_worker_process, web_process, env)
    token = integration_token(account, pipeline_case, pipeline_caseworker)
    answers = book_through_api(webs, token, pipeline_case, RIDES)
    rides = rides_of(answers)
    wait_all(rides, WITH_PARTNER, timeout=240)
    assert_no_lost_or_doubled_trips(sandbox, account, rides)
    calls = sandbox.control.calls(client_id=account.client_id)
    refused = [c for c in calls if c["status"] == 429 and not c["fault"]]
    assert refused == [], refused[:3]
    assert len(calls) > LIMIT  # the work did take more than one minute's budget
    # The portal's budget is the limit less its headroom, over any 60 s of Redis's clock;
    # the sandbox logs a call when it arrives, a moment later: a second of slack.
    budget = math.floor(LIMIT * (1 - settings.PARTNER_RATE_LIMIT_HEADROOM))
    assert busiest_span([c["at_unix"] for c in calls], 59.0) <= budget
    # The web processes spent from that budget too: some bookings were quoted at once.
    assert any(answer["fare"]["estimate"] is not None for answer in answers)
    assert_every_process_took_part(workers, webs, account, RIDES)


# The breaker on a test's scale: it opens once half of at least 4 calls within 10 s
# failed, and stays open 3 s before one probe may try the partner again.
BREAKER = {
    "PARTNER_BREAKER_WINDOW_SECONDS": "10",
    "PARTNER_BREAKER_MIN_CALLS": "4",
    "PARTNER_BREAKER_FAILURE_RATE": "0.5",
    "PARTNER_BREAKER_RESET_SECONDS": "3",
}
OUTAGE_SECONDS = 10
OUTAGE_RIDES = 8


def calls_one_breaker_allows(outage_seconds: float, callers: int) -> int:
    """The most calls an outage can draw when every process shares one breaker.

    The partner was not called before the outage, so every counted call fails and the
    breaker opens at the MIN_CALLS-th failure; the other callers may each have one call
    on its way by then (a task or a request makes one call at a time). Open, it lets one
    probe through per reset period; each probe fails and opens it again."""
    min_calls = int(BREAKER["PARTNER_BREAKER_MIN_CALLS"])
    probes = math.ceil(outage_seconds / float(BREAKER["PARTNER_BREAKER_RESET_SECONDS"]))
    return min_calls + (callers - 1) + probes


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_web_processes_share_one_breaker_through_an_outage(
    sandbox,
    make_partner_account,
    pipeline_case,
    pipeline_caseworker,
    celery_worker_process,
    web_process,
):
    """The partner answers 503 to everything while rides are booked (the web processes
    ask for their fares) and dispatched (the workers send them): the sandbox receives no
    more calls than one breaker lets through, and afterwards every ride reaches it once."""
    account = make_partner_account()
    env = dict(FAST, **POLLING, **BREAKER, PIPELINE_DISPATCH_DEADLINE_SECONDS="60")
    workers, webs = start_stack(sandbox, account, celery_worker_process, web_process, env)
    token = integration_token(account, pipeline_case, pipeline_caseworker)
    outage = sandbox.control.outage(OUTAGE_SECONDS)
    # One booking at a time: the only web caller; each worker's pool process is another.
    answers = book_through_api(webs, token, pipeline_case, OUTAGE_RIDES, parallel=1)
    time.sleep(max(0.0, outage["ends_at"] - time.time()))
    rides = rides_of(answers)
    wait_all(rides, WITH_PARTNER, timeout=90)
    assert_no_lost_or_doubled_trips(sandbox, account, rides)
    calls = sandbox.control.calls(client_id=account.client_id)
    during = [c for c in calls if c["fault"] == "outage"]
    callers = WORKERS * CHILDREN + 1
    assert int(BREAKER["PARTNER_BREAKER_MIN_CALLS"]) <= len(during)
    assert len(during) <= calls_one_breaker_allows(OUTAGE_SECONDS, callers), during
    episode = breaker_episode(account)  # opened during the outage, closed after it
    assert outage["starts_at"] <= episode.last_down_since.timestamp() <= outage["ends_at"]
    assert episode.last_recovered_at.timestamp() >= outage["ends_at"]
    assert_every_process_took_part(workers, webs, account, OUTAGE_RIDES)
