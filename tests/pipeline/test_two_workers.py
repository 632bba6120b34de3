"""Two worker processes (each with two of its own) against one database, one Redis and
the sandbox: the partner's per-minute limit is one budget for all of them, kept in Redis
(partners/client/ratelimit.py), so a burst of bookings larger than the minute's budget
never draws a 429 from the partner's own limiter, every ride reaches the partner once,
and both workers did dispatch. docs/scaling.md says why this is what lets the portal add
workers."""

from __future__ import annotations

import pytest

from rides.models import RideStatus
from rides.models.states import ACTIVE_WITH_PARTNER
from tests.pipeline.test_integration import FAST, assert_no_lost_or_doubled_trips, book, wait_all

LIMIT = 60  # requests a minute, for the account at the sandbox and in the portal


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_workers_keep_one_rate_limit_for_the_account(
    sandbox, make_partner_account, make_ride, celery_worker_process
):
    account = make_partner_account(webhooks=False, rate_limit_per_minute=LIMIT)
    env = dict(FAST, PIPELINE_POLL_INTERVAL="5", PIPELINE_POLL_TICK="1")
    first = celery_worker_process(env=env, beat=True)
    second = celery_worker_process(env=env)
    rides = book(make_ride, account, count=LIMIT)  # more than the minute's budget
    wait_all(rides, ACTIVE_WITH_PARTNER | {RideStatus.COMPLETED}, timeout=240)
    assert_no_lost_or_doubled_trips(sandbox, account, rides)
    calls = sandbox.control.calls(client_id=account.client_id)
    refused = [c for c in calls if c["status"] == 429 and not c["fault"]]
    assert refused == [], refused[:3]
    assert len(calls) > LIMIT  # the work did take more than one minute's budget
    for worker in (first, second):
        assert "rides.dispatch_ride" in worker.worker_log.read_text(), worker.worker_log
