"""Batched polling against the sandbox: list calls with updated_since, pages, pacing."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from partners.client import errors
from partners.client.registry import client_for
from rides.models import PollState, Ride, RideStatus
from rides.pipeline import polling
from rides.pipeline.polling import partner_account_poll, polls_schedule

pytestmark = pytest.mark.django_db

S = RideStatus


def list_calls(sandbox, account):
    return sandbox.control.calls("list_trips", account.client_id)


def make_due(account):
    PollState.objects.filter(account=account).update(next_poll_at=timezone.now())


def test_no_active_rides_means_no_polling_calls(sandbox, partner_account, make_ride):
    make_ride(partner_account)  # requested: not with the partner yet
    assert polls_schedule() == []
    summary = partner_account_poll(account_id=partner_account.pk)
    assert summary.skipped == "nothing_active" and summary.calls == 0
    assert sandbox.control.calls(client_id=partner_account.client_id) == []


def test_one_list_call_brings_every_change(sandbox, partner_account, dispatched_ride):
    rides = [dispatched_ride(partner_account) for _ in range(3)]
    sandbox.control.set_trip_status(rides[0].partner_trip_id, "accepted")
    sandbox.control.set_trip_status(rides[1].partner_trip_id, "no_drivers_available")
    sandbox.control.set_trip_status(rides[2].partner_trip_id, "accepted")
    sandbox.control.set_trip_status(rides[2].partner_trip_id, "completed")
    assert polls_schedule() == [partner_account.pk]
    assert polls_schedule() == []  # claimed: not twice at once
    summary = partner_account_poll(account_id=partner_account.pk)
    assert summary.calls == 1 and summary.applied == 3
    statuses = [Ride.objects.get(pk=r.pk).status for r in rides]
    assert statuses == [S.DRIVER_ASSIGNED, S.NO_DRIVER, S.COMPLETED]
    assert Ride.objects.get(pk=rides[0].pk).driver_name
    assert Ride.objects.get(pk=rides[2].pk).receipt_due_at is not None  # ended: receipt due
    (call,) = list_calls(sandbox, partner_account)
    assert "updated_since=" in call["query"] and "status=" not in call["query"]
    assert sandbox.control.calls("get_trip", partner_account.client_id) == []


def test_the_watermark_moves_and_repeats_change_nothing(sandbox, partner_account, dispatched_ride):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    partner_account_poll(account_id=partner_account.pk)
    state = PollState.objects.get(account=partner_account)
    assert state.watermark == Ride.objects.get(pk=ride.pk).partner_updated_at
    events = ride.events.count()
    make_due(partner_account)
    summary = partner_account_poll(account_id=partner_account.pk)
    assert summary.applied == 0  # the overlap returned the same version again
    assert ride.events.count() == events


def test_pages_are_followed_with_the_cursor(sandbox, partner_account, dispatched_ride, monkeypatch):
    monkeypatch.setattr(polling, "PAGE_SIZE", 2)
    rides = [dispatched_ride(partner_account) for _ in range(5)]
    for ride in rides:
        sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    summary = partner_account_poll(account_id=partner_account.pk)
    assert summary.calls == 3 and summary.applied == 5
    assert {Ride.objects.get(pk=r.pk).status for r in rides} == {S.DRIVER_ASSIGNED}
    assert PollState.objects.get(account=partner_account).cursor == ""


def test_a_poll_stays_inside_its_share_of_the_rate_limit(
    sandbox, make_partner_account, dispatched_ride, monkeypatch
):
    # 20 requests a minute, half of them for polling, a poll every 10 s: one page a poll.
    account = make_partner_account(rate_limit_per_minute=20)
    monkeypatch.setattr(polling, "PAGE_SIZE", 2)
    rides = [dispatched_ride(account) for _ in range(5)]
    for ride in rides:
        sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    with override_settings(PIPELINE_SAFETY_NET_BATCH=0, PIPELINE_POLL_RATE_SHARE_IDLE=0.5):
        first = partner_account_poll(account_id=account.pk)
        assert first.calls == 1 and first.applied == 2
        state = PollState.objects.get(account=account)
        assert state.cursor  # resumed next time
        # one call of a 10-a-minute budget: the next poll waits at least 6 s
        assert state.next_poll_at - timezone.now() > dt.timedelta(seconds=5)
        for _ in range(2):
            make_due(account)
            partner_account_poll(account_id=account.pk)
    assert {Ride.objects.get(pk=r.pk).status for r in rides} == {S.DRIVER_ASSIGNED}
    assert PollState.objects.get(account=account).cursor == ""
    statuses = [c["status"] for c in sandbox.control.calls(client_id=account.client_id)]
    assert 429 not in statuses


def test_a_finished_poll_waits_the_interval_longer_while_webhooks_arrive(
    sandbox, partner_account, dispatched_ride
):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    with override_settings(PIPELINE_POLL_INTERVAL=10, PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS=30):
        partner_account_poll(account_id=partner_account.pk)
        wait = PollState.objects.get(account=partner_account).next_poll_at - timezone.now()
        assert dt.timedelta(seconds=8) < wait <= dt.timedelta(seconds=10)
        polling.note_trip_seen(partner_account.pk, webhook=True)
        make_due(partner_account)
        partner_account_poll(account_id=partner_account.pk)
        wait = PollState.objects.get(account=partner_account).next_poll_at - timezone.now()
        assert dt.timedelta(seconds=28) < wait <= dt.timedelta(seconds=30)


def test_the_safety_net_reads_a_trip_nobody_heard_of(sandbox, partner_account, dispatched_ride):
    ride = dispatched_ride(partner_account)
    quiet_since = timezone.now() - dt.timedelta(minutes=10)
    Ride.objects.filter(pk=ride.pk).update(partner_seen_at=quiet_since)
    # Nothing changed since the watermark: the list call returns no trip.
    PollState.objects.update_or_create(
        account=partner_account, defaults={"watermark": timezone.now() + dt.timedelta(minutes=1)}
    )
    summary = partner_account_poll(account_id=partner_account.pk)
    assert summary.trips == 0
    assert summary.safety_net_reads == 1
    (read,) = sandbox.control.calls("get_trip", partner_account.client_id)
    assert read["trip_id"] == ride.partner_trip_id
    assert Ride.objects.get(pk=ride.pk).partner_seen_at > quiet_since


def test_a_change_the_list_missed_is_caught_by_the_safety_net(
    sandbox, partner_account, dispatched_ride
):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "completed")
    # A watermark past the change (as if the partner's clock had jumped): the list misses it.
    PollState.objects.update_or_create(
        account=partner_account,
        defaults={"watermark": timezone.now() + dt.timedelta(minutes=5)},
    )
    Ride.objects.filter(pk=ride.pk).update(partner_seen_at=timezone.now() - dt.timedelta(hours=1))
    partner_account_poll(account_id=partner_account.pk)
    assert Ride.objects.get(pk=ride.pk).status == S.COMPLETED


def test_a_redispatch_clears_the_old_driver(sandbox, partner_account, dispatched_ride):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    partner_account_poll(account_id=partner_account.pk)
    assert Ride.objects.get(pk=ride.pk).vehicle_plate
    sandbox.control.set_trip_status(ride.partner_trip_id, "driver_redispatched")
    make_due(partner_account)
    partner_account_poll(account_id=partner_account.pk)
    ride.refresh_from_db()
    assert ride.status == S.SEARCHING
    assert ride.driver_name == "" and ride.vehicle_plate == ""
    assert ride.events.filter(previous_status=S.DRIVER_ASSIGNED, new_status=S.SEARCHING).exists()


def test_a_failing_list_call_is_tried_at_the_next_interval(
    sandbox, partner_account, dispatched_ride
):
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    sandbox.control.force_fault("list_trips", "503")
    summary = partner_account_poll(account_id=partner_account.pk)
    assert summary.error
    state = PollState.objects.get(account=partner_account)
    assert state.last_error and state.next_poll_at > timezone.now()
    make_due(partner_account)
    partner_account_poll(account_id=partner_account.pk)
    assert Ride.objects.get(pk=ride.pk).status == S.DRIVER_ASSIGNED


def test_a_moving_driver_is_refreshed_in_bulk_without_trip_log_rows(
    sandbox, partner_account, dispatched_ride
):
    import time

    from partners.client.registry import client_for
    from rides.pipeline.apply import refresh_in_bulk

    sandbox.control.set_config(location_update_seconds=0.2)
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    partner_account_poll(account_id=partner_account.pk)
    ride.refresh_from_db()
    events, version = ride.events.count(), ride.partner_updated_at
    old_trip = client_for(partner_account).get_trip(ride.partner_trip_id)
    time.sleep(0.6)  # the driver moves: newer versions, same status
    make_due(partner_account)
    summary = partner_account_poll(account_id=partner_account.pk)
    ride.refresh_from_db()
    assert summary.applied == 0
    assert ride.partner_updated_at > version
    assert ride.status == S.DRIVER_ASSIGNED and ride.events.count() == events
    assert ride.driver_latitude is not None and ride.pickup_eta_seconds is not None
    # an older version never overwrites a newer one
    newer = ride.partner_updated_at
    assert refresh_in_bulk([(ride.pk, old_trip)], timezone.now()) == 0
    assert Ride.objects.get(pk=ride.pk).partner_updated_at == newer


def test_a_backlog_of_bookings_never_starves_polling(
    sandbox, make_partner_account, dispatched_ride
):
    # 20 a minute less 10% headroom: 18 calls; bookings leave 10% of them to polls.
    account = make_partner_account(rate_limit_per_minute=20)
    ride = dispatched_ride(account)  # the token and the create
    client = client_for(account)
    with pytest.raises(errors.RateLimited) as held:
        for _ in range(30):
            client.find_trip_by_reference("RNOTHERE")  # bookings' priority
    assert held.value.details["reason"] == "budget"
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    summary = partner_account_poll(account_id=account.pk)
    assert summary.error == "" and summary.applied == 1
    assert Ride.objects.get(pk=ride.pk).status == S.DRIVER_ASSIGNED


@pytest.mark.parametrize("ending", ["completed", "rider_canceled"])
def test_the_drivers_last_position_is_dropped_when_the_trip_ends(
    sandbox, partner_account, dispatched_ride, ending
):
    """Where the car stood last is where the survivor was set down (or picked up): the
    portal keeps it only while the trip runs."""
    sandbox.control.set_config(location_update_seconds=0.2)
    ride = dispatched_ride(partner_account)
    sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    partner_account_poll(account_id=partner_account.pk)
    ride.refresh_from_db()
    assert ride.driver_latitude is not None, "known while the trip runs"
    sandbox.control.set_trip_status(ride.partner_trip_id, "in_progress")
    sandbox.control.set_trip_status(ride.partner_trip_id, ending)
    make_due(partner_account)
    partner_account_poll(account_id=partner_account.pk)
    ride.refresh_from_db()
    assert ride.status in {S.COMPLETED, S.CANCELLED}
    assert ride.driver_latitude is None and ride.driver_longitude is None


def test_a_page_of_new_statuses_is_applied_under_one_lock(
    sandbox, partner_account, dispatched_ride
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rides = [dispatched_ride(partner_account) for _ in range(4)]
    for ride in rides:
        sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    with CaptureQueriesContext(connection) as queries:
        summary = partner_account_poll(account_id=partner_account.pk)
    assert summary.applied == 4
    assert {Ride.objects.get(pk=r.pk).status for r in rides} == {S.DRIVER_ASSIGNED}
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1, locks  # the page's rides together, not one lock each
    for ride in rides:  # each change still in the trip log, once
        assert ride.events.filter(new_status=S.DRIVER_ASSIGNED).count() == 1


def test_a_trip_that_cannot_be_applied_does_not_hold_back_its_page(
    sandbox, partner_account, dispatched_ride, monkeypatch
):
    from rides.pipeline import apply

    rides = [dispatched_ride(partner_account) for _ in range(3)]
    for ride in rides:
        sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    broken, held = rides[1].partner_trip_id, Ride.objects.get(pk=rides[1].pk).status
    copy_details = apply._copy_details

    def failing(ride, trip):
        if trip.trip_id == broken:
            raise ValueError("a trip the portal cannot apply")
        copy_details(ride, trip)

    monkeypatch.setattr(apply, "_copy_details", failing)
    partner_account_poll(account_id=partner_account.pk)
    statuses = [Ride.objects.get(pk=r.pk).status for r in rides]
    assert statuses[0] == statuses[2] == S.DRIVER_ASSIGNED
    assert statuses[1] == held != S.DRIVER_ASSIGNED  # rolled back alone, nothing half-done
    assert not rides[1].events.filter(new_status=S.DRIVER_ASSIGNED).exists()
    monkeypatch.setattr(apply, "_copy_details", copy_details)
    make_due(partner_account)
    PollState.objects.filter(account=partner_account).update(watermark=None)
    partner_account_poll(account_id=partner_account.pk)  # read again: applied this time
    assert Ride.objects.get(pk=rides[1].pk).status == S.DRIVER_ASSIGNED


@override_settings(PIPELINE_POLL_OVERLAP_SECONDS=60)
def test_an_overtaken_tail_hands_the_rest_of_the_poll_to_the_head(
    sandbox, partner_account, dispatched_ride, monkeypatch
):
    """The list changes faster than the tail reads it (its next page starts well past
    the last trip it read): the rest of the poll reads from the head, in turn."""
    monkeypatch.setattr(polling, "PAGE_SIZE", 2)
    rides = [dispatched_ride(partner_account) for _ in range(6)]
    partner_account_poll(account_id=partner_account.pk)
    state = PollState.objects.get(account=partner_account)
    # The tail last read a trip well before every change that follows.
    state.watermark = timezone.now() - dt.timedelta(seconds=10)
    state.cursor, state.head_since = "", None
    state.save()
    for ride in rides:
        sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    make_due(partner_account)
    before = len(list_calls(sandbox, partner_account))
    summary = partner_account_poll(account_id=partner_account.pk)
    calls = list_calls(sandbox, partner_account)[before:]
    assert summary.head_calls == len(calls) - 1 >= 2
    assert "cursor=" not in calls[0]["query"]  # the tail, from its watermark
    assert all("cursor=" not in call["query"] for call in calls[1:])  # the head: no cursor
    assert {Ride.objects.get(pk=r.pk).status for r in rides} == {S.DRIVER_ASSIGNED}
    state.refresh_from_db()
    assert state.cursor  # the tail's place is kept for the next poll
    newest = max(Ride.objects.get(pk=r.pk).partner_updated_at for r in rides)
    assert state.head_since == newest and state.watermark < newest


def test_a_tail_that_is_not_overtaken_reads_on_with_its_cursor(
    sandbox, partner_account, dispatched_ride, monkeypatch
):
    monkeypatch.setattr(polling, "PAGE_SIZE", 2)
    rides = [dispatched_ride(partner_account) for _ in range(5)]
    for ride in rides:
        sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    before = len(list_calls(sandbox, partner_account))
    summary = partner_account_poll(account_id=partner_account.pk)
    calls = list_calls(sandbox, partner_account)[before:]
    assert summary.head_calls == 0
    assert all("cursor=" in call["query"] for call in calls[1:])


def _page(first: dt.datetime, count: int, spacing: float, *, has_more: bool = True):
    from types import SimpleNamespace

    trips = [
        SimpleNamespace(updated_at=first + dt.timedelta(seconds=spacing * i)) for i in range(count)
    ]
    return SimpleNamespace(trips=trips, next_cursor="c" if has_more else None)


@pytest.mark.parametrize(
    ("gap", "has_more", "expected"),
    [(0.0, True, "on"), (0.0, False, "stop"), (5.0, True, "restart"), (None, True, "empty")],
)
def test_the_head_starts_over_when_it_is_overtaken(gap, has_more, expected):
    head = timezone.now() - dt.timedelta(seconds=3)
    page = (
        _page(head, 0, 1.0, has_more=has_more)
        if gap is None
        else _page(head + dt.timedelta(seconds=gap), 2, 1.0, has_more=has_more)
    )
    trips = page.trips
    before = timezone.now()
    position, reads_on = polling._head_next(page, head)
    if expected == "on":
        assert position == trips[-1].updated_at and reads_on
    elif expected == "stop":
        assert position == trips[-1].updated_at and not reads_on
    elif expected == "restart":
        # A jump longer than the overlap: back from now by the overlap (2 s by default).
        assert reads_on and position is not None
        assert before - dt.timedelta(seconds=2) <= position <= timezone.now()
    else:
        assert position is None and not reads_on


def test_a_dense_page_that_jumps_a_fraction_of_a_second_is_overtaken():
    """Thousands of moving cars: a page of 100 spans a tenth of a second. The head that
    reached the oldest edge of the list sees each page start a fifth of a second past
    the last trip it read; that is a jump, and the head goes back from now by it (the
    trips it skipped have just changed again), not the whole overlap."""
    head = timezone.now() - dt.timedelta(seconds=10)
    page = _page(head + dt.timedelta(seconds=0.2), 100, 0.001)
    assert polling._jump(page, head) == dt.timedelta(seconds=0.2)
    before = timezone.now()
    position, reads_on = polling._head_next(page, head)
    assert reads_on
    assert (
        before - dt.timedelta(seconds=0.2) <= position <= timezone.now() - dt.timedelta(seconds=0.2)
    )


def test_a_sparse_page_with_a_natural_gap_reads_on():
    """A few cars, a page spread over many seconds: the same fifth of a second between the
    last trip read and the next is no jump, and neither is most of a second."""
    head = timezone.now() - dt.timedelta(seconds=20)
    for gap in (0.2, 0.9):
        page = _page(head + dt.timedelta(seconds=gap), 10, 0.5)
        assert polling._jump(page, head) is None
        position, reads_on = polling._head_next(page, head)
        assert position == page.trips[-1].updated_at and reads_on


@pytest.mark.parametrize("waiting", ["nothing", "a booking", "a cancellation"])
def test_polls_take_the_larger_share_only_while_nothing_else_waits(
    sandbox, make_partner_account, dispatched_ride, make_ride, monkeypatch, waiting
):
    # 60 a minute, a poll every 10 s: half is 5 calls a poll, 0.7 is 7.
    account = make_partner_account(rate_limit_per_minute=60)
    monkeypatch.setattr(polling, "PAGE_SIZE", 1)
    rides = [dispatched_ride(account) for _ in range(9)]
    for ride in rides:
        sandbox.control.set_trip_status(ride.partner_trip_id, "accepted")
    if waiting == "a booking":
        make_ride(account)  # requested, in the dispatch outbox
    elif waiting == "a cancellation":
        Ride.objects.filter(pk=rides[0].pk).update(cancel_due_at=timezone.now())
    assert polling.others_wait(account) is (waiting != "nothing")
    with override_settings(
        PIPELINE_SAFETY_NET_BATCH=0,
        PIPELINE_POLL_INTERVAL=10,
        PIPELINE_POLL_RATE_SHARE=0.5,
        PIPELINE_POLL_RATE_SHARE_IDLE=0.7,
    ):
        summary = partner_account_poll(account_id=account.pk)
    assert summary.calls == (7 if waiting == "nothing" else 5)
    assert summary.applied == summary.calls
    statuses = [c["status"] for c in sandbox.control.calls(client_id=account.client_id)]
    assert 429 not in statuses


def test_a_booking_sent_with_another_account_does_not_shrink_the_share(
    make_partner_account, make_ride
):
    account, other = make_partner_account(), make_partner_account()
    make_ride(other)
    assert polling.others_wait(other) and not polling.others_wait(account)


def test_a_ride_in_no_outbox_does_not_shrink_the_share(make_partner_account, make_ride):
    account = make_partner_account()
    ride = make_ride(account)
    assert polling.others_wait(account)
    Ride.objects.filter(pk=ride.pk).update(dispatch_due_at=None)  # held: not to be sent
    assert not polling.others_wait(account)
