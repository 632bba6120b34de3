"""The circuit breaker tells "the partner is down" from "some calls fail": it opens on the
failure rate of the calls that matter over a window with a minimum number of calls, and
receipts and detail reads never open it. Against the sandbox over real HTTP."""

from __future__ import annotations

import time
import uuid

import pytest

from partners.client import errors
from partners.client.http import PartnerClient
from partners.client.registry import breaker_state

from .conftest import trip_body


@pytest.fixture
def window_settings(partner_settings):
    """The production shape of the breaker: >= 50 % of >= 20 calls in 30 s."""
    partner_settings.PARTNER_BREAKER_WINDOW_SECONDS = 30.0
    partner_settings.PARTNER_BREAKER_MIN_CALLS = 20
    partner_settings.PARTNER_BREAKER_FAILURE_RATE = 0.5
    partner_settings.PARTNER_BREAKER_RESET_SECONDS = 1.0
    return partner_settings


def test_a_few_failures_in_a_row_inside_a_burst_do_not_open_it(account, control, window_settings):
    client = PartnerClient(account)
    for _ in range(10):
        client.list_trips()
    control.force_fault("list_trips", "503", count=6)
    for _ in range(6):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    for _ in range(10):
        client.list_trips()
    assert breaker_state(account) == "closed"
    client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")


def test_it_opens_when_most_calls_fail(account, control, window_settings):
    client = PartnerClient(account)
    for _ in range(8):
        client.list_trips()
    control.force_fault("list_trips", "503", count=12)
    for _ in range(12):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    assert breaker_state(account) == "open"  # 12 failures of 20 calls
    with pytest.raises(errors.PartnerUnavailable):
        client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")
    assert control.calls(endpoint="create_trip") == []


def test_below_the_minimum_number_of_calls_it_stays_closed(account, control, window_settings):
    client = PartnerClient(account)
    control.force_fault("list_trips", "503", count=10)
    for _ in range(10):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    assert breaker_state(account) == "closed"  # 10 of 10 failed, but only 10 calls


def test_failing_receipts_and_detail_reads_never_block_a_dispatch(
    account, control, partner_settings
):
    client = PartnerClient(account)  # 3 failures of 3 calls would open it
    booked = client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")
    control.force_fault("receipt", "malformed", count=10)
    control.force_fault("get_trip", "500", count=10)
    for _ in range(10):
        with pytest.raises(errors.TemporaryPartnerError):
            client.get_receipt(booked.trip.trip_id)
        with pytest.raises(errors.TemporaryPartnerError):
            client.get_trip(booked.trip.trip_id, kind="detail")
    assert breaker_state(account) == "closed"
    client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")
    client.find_trip_by_reference("RNOTHINGHERE")
    client.list_trips()


def test_while_half_open_the_most_urgent_waiting_call_probes(account, control, partner_settings):
    client = PartnerClient(account)
    client.list_trips()
    control.force_fault("list_trips", "500", count=3)
    for _ in range(3):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    assert breaker_state(account) == "open"
    # A dispatch waits for the partner: it is refused while open, and says so.
    with pytest.raises(errors.PartnerUnavailable) as refused:
        client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")
    time.sleep(refused.value.retry_after + 0.05)
    assert breaker_state(account) == "half_open"
    # A receipt and a poll come first, but the waiting dispatch has the probe.
    with pytest.raises(errors.PartnerUnavailable):
        client.get_receipt("trp_x")
    with pytest.raises(errors.PartnerUnavailable):
        client.list_trips()
    assert control.calls(endpoint="receipt") == []
    client.create_trip(body=trip_body(), idempotency_key=f"k-{uuid.uuid4()}")
    assert breaker_state(account) == "closed"
    client.list_trips()


def test_with_nobody_more_urgent_waiting_a_poll_probes(account, control, partner_settings):
    client = PartnerClient(account)
    client.list_trips()
    control.force_fault("list_trips", "500", count=3)
    for _ in range(3):
        with pytest.raises(errors.TemporaryPartnerError):
            client.list_trips()
    with pytest.raises(errors.PartnerUnavailable) as refused:
        client.list_trips()
    time.sleep(refused.value.retry_after + 0.05)
    client.list_trips()
    assert breaker_state(account) == "closed"
