"""Tokens, failures, Retry-After, the circuit breaker and the request budget, against
the sandbox partner over real HTTP."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from partners.client import errors
from partners.client.http import PartnerClient
from partners.client.registry import breaker_state, client_for
from sandbox.testing import free_port

from .conftest import trip_body


def calls_to(control, endpoint=None):
    return control.calls(endpoint=endpoint)


# --- the token -------------------------------------------------------------------------


def test_one_token_serves_many_calls_and_both_clients(account, control):
    first, second = PartnerClient(account), PartnerClient(account)
    for client in (first, second, first, second):
        client.list_trips()
    assert len(calls_to(control, "token")) == 1
    assert len(calls_to(control, "list_trips")) == 4


def test_the_token_is_stored_encrypted_in_redis(account, settings):
    client = PartnerClient(account)
    client.list_trips()
    connection = redis.Redis.from_url(settings.REDIS_URL)
    stored = connection.get(client._tokens.key)
    assert stored.startswith(b"fernet:")
    token = client._tokens.get().access_token
    assert token.encode() not in stored


def test_concurrent_first_calls_fetch_one_token(account, control):
    clients = [PartnerClient(account) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    failures = []

    def call(client):
        barrier.wait()
        try:
            client.list_trips()
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(calls_to(control, "token")) == 1
    assert len(calls_to(control, "list_trips")) == 6


def test_a_revoked_token_is_refreshed_once_and_the_call_repeated(account, control):
    client = PartnerClient(account)
    trip = client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}").trip
    control.revoke_tokens(account.client_id)

    assert client.get_trip(trip.trip_id).trip_id == trip.trip_id
    assert [c["status"] for c in calls_to(control, "get_trip")] == [401, 200]
    assert len(calls_to(control, "token")) == 2
    # The other processes use the refreshed token too.
    PartnerClient(account).get_trip(trip.trip_id)
    assert len(calls_to(control, "token")) == 2


def test_a_second_401_is_not_retried_again(account, control):
    client = PartnerClient(account)
    client.list_trips()
    # The partner revokes the token and the portal's secret is no longer accepted.
    control.update_client(account.client_id, client_secret="changed-at-the-partner")
    control.revoke_tokens(account.client_id)

    with pytest.raises(errors.CredentialsRejected) as rejected:
        client.list_trips()
    assert rejected.value.http_status == 401 and not rejected.value.temporary
    assert "administrator" in rejected.value.user_message
    assert len(calls_to(control, "token")) == 2
    assert len(calls_to(control, "list_trips")) == 2


def test_a_short_lived_token_is_refreshed_before_it_expires(account, control):
    control.set_config(token_ttl_seconds=2)
    client = PartnerClient(account)
    client.list_trips()
    client.list_trips()
    assert len(calls_to(control, "token")) == 1
    time.sleep(1.1)  # past half its life: refreshed before the partner would refuse it
    client.list_trips()
    assert len(calls_to(control, "token")) == 2
    assert {c["status"] for c in calls_to(control, "list_trips")} == {200}


# --- error classes from forced faults -----------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        ("500", "internal_error", 500),
        ("502", "unavailable", 502),
        ("504", "unavailable", 504),
        ("malformed", "malformed_response", 200),
        ("cutoff", "malformed_response", 200),
    ],
)
def test_faults_are_temporary(account, control, fault, code, status):
    client = PartnerClient(account)
    trip = client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}").trip
    control.force_fault("get_trip", fault)
    with pytest.raises(errors.TemporaryPartnerError) as failed:
        client.get_trip(trip.trip_id)
    error = failed.value
    assert type(error) is errors.TemporaryPartnerError
    assert (error.code, error.http_status, error.sent) == (code, status, True)
    assert error.user_message.startswith("The partner did not answer properly")
    # The fault was one answer: the next call succeeds.
    assert client.get_trip(trip.trip_id).trip_id == trip.trip_id


def test_a_garbled_create_is_temporary_with_an_unknown_outcome(account, control):
    client = PartnerClient(account)
    body = trip_body()
    control.force_fault("create_trip", "malformed")
    with pytest.raises(errors.TemporaryPartnerError) as failed:
        client.create_trip(body=body, idempotency_key=f"k-{uuid.uuid4()}")
    assert failed.value.sent is True
    # The partner did create it: looking the reference up finds it.
    assert client.find_trip_by_reference(body["external_reference"]) is not None


def test_an_answer_slower_than_the_read_timeout(account, control):
    client = PartnerClient(account)  # read timeout 1 s (partner_settings)
    client.list_trips()
    control.force_fault("list_trips", "slow", seconds=3)
    with pytest.raises(errors.TemporaryPartnerError) as failed:
        client.list_trips()
    assert (failed.value.code, failed.value.sent, failed.value.http_status) == (
        "timeout",
        True,
        None,
    )


def test_a_partner_nobody_listens_for_is_a_connection_error_that_was_not_sent(make_account):
    account = make_account(base_url=f"http://127.0.0.1:{free_port()}", register=False)
    with pytest.raises(errors.TemporaryPartnerError) as failed:
        PartnerClient(account).list_trips()
    assert failed.value.code == "connect_error" and failed.value.sent is False


def test_json_of_the_wrong_shape_is_temporary(make_account, counting_server):
    def answer(handler):
        if handler.path == "/oauth/token":
            body = b'{"access_token": "t", "token_type": "Bearer", "expires_in": 60}'
        else:
            body = b'{"trip_id": "trp_1", "status": "teleported"}'
        return 200, {"content-type": "application/json"}, body

    server = counting_server(answer)
    client = PartnerClient(make_account(base_url=server.url, register=False))
    with pytest.raises(errors.TemporaryPartnerError) as failed:
        client.get_trip("trp_1")
    assert failed.value.code == "malformed_response"


# --- redirects and hosts -----------------------------------------------------------------


def test_a_redirect_is_never_followed(make_account, counting_server):
    elsewhere = counting_server()
    redirecting = counting_server(
        lambda handler: (302, {"location": f"{elsewhere.url}{handler.path}"}, b"")
    )
    client = PartnerClient(make_account(base_url=redirecting.url, register=False))
    with pytest.raises(errors.TemporaryPartnerError) as failed:
        client.list_trips()
    assert (failed.value.code, failed.value.http_status) == ("redirect", 302)
    assert redirecting.requests == [("POST", "/oauth/token")]
    assert elsewhere.requests == []


def test_proxy_settings_in_the_environment_are_ignored(
    account, control, counting_server, monkeypatch
):
    proxy = counting_server()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    PartnerClient(account).list_trips()
    assert proxy.requests == []
    assert len(calls_to(control, "list_trips")) == 1


# --- Retry-After ---------------------------------------------------------------------------


def test_429_with_retry_after_holds_every_process_back_until_then(account, control):
    client = PartnerClient(account)
    client.list_trips()
    control.force_fault("list_trips", "429", retry_after=1)
    with pytest.raises(errors.RateLimited) as limited:
        client.list_trips()
    assert (limited.value.http_status, limited.value.retry_after, limited.value.sent) == (
        429,
        1.0,
        True,
    )
    # Inside the window nothing reaches the partner, from this client or any other.
    for other in (client, PartnerClient(account)):
        with pytest.raises(errors.RateLimited) as held:
            other.get_trip("trp_anything")
        assert held.value.sent is False and 0 < held.value.retry_after <= 1.0
    assert len(control.calls()) == 3  # token, list, the 429
    time.sleep(held.value.retry_after + 0.05)
    client.list_trips()
    assert len(control.calls()) == 4


def test_503_with_retry_after_is_temporary_and_honoured(account, control):
    client = PartnerClient(account)
    client.list_trips()
    control.force_fault("list_trips", "503", retry_after=1)
    with pytest.raises(errors.TemporaryPartnerError) as failed:
        client.list_trips()
    assert not isinstance(failed.value, errors.RateLimited)
    assert (failed.value.http_status, failed.value.retry_after) == (503, 1.0)
    with pytest.raises(errors.RateLimited) as held:
        client.list_trips()
    assert held.value.sent is False
    assert len(calls_to(control, "list_trips")) == 2


# --- the circuit breaker -------------------------------------------------------------------


def test_the_breaker_opens_fails_fast_probes_once_and_closes(account, control):
    client = PartnerClient(account)  # 3 failures open it for 1 s (partner_settings)
    client.list_trips()
    control.force_fault("list_trips", "500", count=3)
    for _ in range(3):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    assert breaker_state(account) == "open"

    for other in (client, PartnerClient(account), client_for(account)):
        with pytest.raises(errors.PartnerUnavailable) as unavailable:
            other.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")
        assert unavailable.value.sent is False and unavailable.value.retry_after > 0
        assert unavailable.value.message == "partner unreachable"
    assert len(calls_to(control, "list_trips")) == 4
    assert calls_to(control, "create_trip") == []

    time.sleep(unavailable.value.retry_after + 0.05)
    assert breaker_state(account) == "half_open"
    # the dispatch refused while open is the most urgent call waiting: it probes
    client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")
    assert breaker_state(account) == "closed"


def test_a_failed_probe_opens_the_breaker_again(account, control):
    client = PartnerClient(account)
    client.list_trips()
    control.force_fault("list_trips", "503", count=4)
    for _ in range(3):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    time.sleep(1.05)
    with pytest.raises(errors.TemporaryPartnerError):
        client.list_trips()  # the probe, answered 503
    assert breaker_state(account) == "open"
    with pytest.raises(errors.PartnerUnavailable):
        client.list_trips()


def test_half_open_lets_exactly_one_probe_through(account, control):
    client = PartnerClient(account)
    client.list_trips()
    control.force_fault("list_trips", "500", count=3)
    for _ in range(3):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    time.sleep(1.05)
    breaker = PartnerClient(account)._breaker
    assert breaker.before_call() is True  # this caller probes
    with pytest.raises(Exception, match="circuit open"):
        breaker.before_call()  # everyone else waits for the probe's verdict
    breaker.record_success(True)
    assert breaker.state() == "closed" and breaker.before_call() is False


def test_permanent_errors_and_429_do_not_open_the_breaker(account, control):
    client = PartnerClient(account)
    for _ in range(4):
        with pytest.raises(errors.NotFound):
            client.get_trip("trp_missing")
    control.force_fault("list_trips", "429", retry_after=0, count=4)
    for _ in range(4):
        with pytest.raises(errors.RateLimited):
            client.list_trips()
    assert breaker_state(account) == "closed"


def test_a_breaker_belongs_to_one_account(make_account, control):
    dead = make_account(base_url=f"http://127.0.0.1:{free_port()}", register=False)
    alive = make_account()
    for _ in range(3):
        with pytest.raises(errors.TemporaryPartnerError):
            PartnerClient(dead).list_trips()
    assert breaker_state(dead) == "open"
    assert breaker_state(alive) == "closed"
    PartnerClient(alive).list_trips()


# --- the request budget --------------------------------------------------------------------


def test_low_priority_calls_stop_first_and_leave_the_rest_for_bookings(make_account, control):
    account = make_account(rate_limit_per_minute=10)  # budget 9 after the 10% headroom
    client = PartnerClient(account)
    polled = 0
    with pytest.raises(errors.RateLimited) as held:
        while polled < 20:
            client.list_trips()  # low priority
            polled += 1
    assert held.value.sent is False and held.value.details["reason"] == "budget"
    # token + 6 polls = 7 of 9: polling stops while no more than 25% is left.
    assert polled == 6
    with pytest.raises(errors.RateLimited):
        client.get_receipt("trp_x")  # receipts are low priority too

    booked = client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")
    client.get_trip(booked.trip.trip_id)
    with pytest.raises(errors.RateLimited) as full:
        client.get_trip(booked.trip.trip_id)
    assert full.value.sent is False and full.value.retry_after > 0
    calls = control.calls()
    assert len(calls) == 9 and {c["status"] for c in calls} == {200, 201}


def test_the_partners_own_lower_limit_is_respected(make_account, control):
    account = make_account(rate_limit_per_minute=300)
    control.update_client(account.client_id, rate_limit_per_minute=6)
    client = PartnerClient(account)
    made = 0
    with pytest.raises(errors.RateLimited) as held:
        while made < 20:
            client.find_trip_by_reference("R1")
            made += 1
    assert held.value.sent is False
    assert all(c["status"] != 429 for c in control.calls())


# --- Redis down ------------------------------------------------------------------------------


def test_calls_still_work_while_redis_is_unreachable(account, control):
    dead_redis = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    client = PartnerClient(account, connection=dead_redis)
    client.list_trips()
    client.list_trips()
    assert len(calls_to(control, "token")) == 1  # kept in the process meanwhile
    assert len(calls_to(control, "list_trips")) == 2


def test_a_probe_held_back_by_the_budget_lets_the_next_caller_probe(account, control):
    client = PartnerClient(account)
    client.list_trips()
    control.force_fault("list_trips", "500", count=3)
    for _ in range(3):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    time.sleep(1.05)
    client._limiter.block_for(0.5)  # as after a Retry-After
    with pytest.raises(errors.RateLimited):
        client.list_trips()  # would have been the probe
    assert client._breaker.before_call() is True  # the probe is free again
