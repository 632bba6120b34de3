"""Batched polling of the partners' trips: the part that makes the pipeline correct.

Webhooks make status changes fast; polling makes sure none is missed. Per partner
account, one list call asks for every trip changed since a watermark (the newest
`updated_at` seen, minus a small overlap for changes committed out of order), pages
through the answer with the cursor, and applies each trip through the same transition
as webhooks. Trips that just ended are included (no `status=active` filter), so a ride
is never stuck because its final change was missed.

Two lanes. The tail (the watermark and the cursor) is what makes polling complete: it
walks every change in order and never skips one. When the partner's list changes faster
than the budget can read it (thousands of moving cars, each new position a new
`updated_at`), the trips just past the tail's cursor change again before they are read
and jump ahead of it: the tail then only samples the newest positions, and a ride can
go unread for minutes by chance. So once the tail is within PIPELINE_POLL_FRESH_SECONDS
of now and its next page jumps, the rest of the poll reads from the head: from a moment
ago forward, page after page, until the trips at its position have changed again (its
page jumps too) and it goes back from now by that jump: to the trips it skipped, which
have just changed again. Each pass of the head reads the trips the last pass had to
leave, so every moving trip is read in turn (a round robin over the active trips)
instead of by chance; the tail still takes the first page of every poll, so a trip that
stopped changing (one that ended) is read by it within seconds.

Pacing: an account with no active trips is not polled at all. Otherwise it is polled
every PIPELINE_POLL_INTERVAL seconds (the longer PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS
while verified webhooks keep arriving), and never faster than its share of the
account's rate limit allows for the pages the last poll needed (many active trips →
more pages → a longer gap): PIPELINE_POLL_RATE_SHARE while a booking or cancellation
waits to be sent with the account, the larger PIPELINE_POLL_RATE_SHARE_IDLE while none
does (thousands of moving cars need most of the budget; the rest still serves a booking
that arrives mid-poll, and the next poll sees it waiting). Polls run at the adapter's
"poll" priority: bookings and cancellations leave them a share of the per-minute budget
(PARTNER_POLL_RESERVE), so a backlog of dispatches after an outage never leaves statuses
stale; failed polls are asked again within seconds. A safety net reads single trips
nobody heard of for PIPELINE_SAFETY_NET_SECONDS, a few per poll. The rides a page
refreshed in bulk (the car moved, the status did not) go through the monitoring rules
together (rides/pipeline/monitoring.rides_monitor).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from partners.client.errors import PartnerError, PartnerUnavailable, RateLimited, UnusableAnswer
from partners.client.registry import client_for
from partners.models import PartnerAccount
from rides.models import Cause, PartnerOperation, PollState, Ride
from rides.models.states import ACTIVE_WITH_PARTNER, BEFORE_PARTNER, TERMINAL
from rides.pipeline.apply import (
    refresh_in_bulk,
    ride_apply_partner_trip,
    ride_note_unusable,
    rides_apply_partner_trips,
)
from rides.pipeline.calls import partner_call
from rides.pipeline.monitoring import rides_monitor

log = logging.getLogger("rides.polling")

PAGE_SIZE = 100
# How long a claimed poll may take before the scheduler claims the account again.
CLAIM_SECONDS = 60
# A webhook within this many intervals counts as "webhooks are arriving".
WEBHOOK_FRESH_INTERVALS = 2
# Writing "a webhook arrived" at most this often per account (one row, many workers).
WEBHOOK_NOTE_SECONDS = 5
# How soon a poll brought forward runs (a webhook whose details could not be read).
POLL_SOON_SECONDS = 1.0
# A list page whose first trip is much newer than the last trip its lane read: the trips
# in between changed again before they could be read (the lane was overtaken). "Much":
# JUMP_SPACINGS times the page's own spacing between trips (a page of 100 moving cars out
# of thousands spans a tenth of a second), at least JUMP_FLOOR_SECONDS, at most
# JUMP_SECONDS. A fixed second missed the lane riding the oldest edge of the list, where
# each page jumps by a fraction of a second and the lane only samples.
JUMP_SECONDS = 1.0
JUMP_FLOOR_SECONDS = 0.05
JUMP_SPACINGS = 20


@dataclass
class PollSummary:
    account_id: int
    calls: int = 0
    head_calls: int = 0
    trips: int = 0
    applied: int = 0
    safety_net_reads: int = 0
    skipped: str = ""
    error: str = ""


def _seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=float(value))


def note_trip_seen(account_id: int, *, webhook: bool = False) -> None:
    """Remembers that verified webhooks arrive for the account (polling may slow down)."""
    if not webhook:
        return
    now = timezone.now()
    stale = now - _seconds(WEBHOOK_NOTE_SECONDS)
    updated = (
        PollState.objects.filter(account_id=account_id)
        .filter(Q(last_webhook_at__isnull=True) | Q(last_webhook_at__lt=stale))
        .update(last_webhook_at=now)
    )
    if not updated and not PollState.objects.filter(account_id=account_id).exists():
        PollState.objects.get_or_create(account_id=account_id, defaults={"last_webhook_at": now})


def poll_soon(account_id: int) -> None:
    """Brings the account's next poll forward to a second from now (at most every two
    seconds), unless a poll is running (claimed) or the budget keeps it further away."""
    now = timezone.now()
    soon = now + _seconds(POLL_SOON_SECONDS)
    longest = _seconds(settings.PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS) + dt.timedelta(seconds=1)
    PollState.objects.filter(
        account_id=account_id, next_poll_at__gt=soon, next_poll_at__lte=now + longest
    ).exclude(last_polled_at__gt=now - dt.timedelta(seconds=2)).update(next_poll_at=soon)


def poll_interval(state: PollState, now: dt.datetime) -> dt.timedelta:
    with_webhooks = float(settings.PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS)
    if state.last_webhook_at is not None and now - state.last_webhook_at < _seconds(
        with_webhooks * WEBHOOK_FRESH_INTERVALS
    ):
        return _seconds(max(with_webhooks, float(settings.PIPELINE_POLL_INTERVAL)))
    return _seconds(settings.PIPELINE_POLL_INTERVAL)


def others_wait(account: PartnerAccount) -> bool:
    """Whether a booking or a cancellation waits to be sent with the account: a ride in
    the dispatch or the cancellation outbox (both partial indexes). A ride before the
    partner that is in no outbox (held, or given up) is not waiting to be sent."""
    dispatches = Ride.objects.filter(
        status__in=BEFORE_PARTNER, dispatch_due_at__isnull=False
    ).filter(Q(partner_account=account) | Q(partner_account__isnull=True))
    cancels = Ride.objects.filter(partner_account=account, cancel_due_at__isnull=False)
    return dispatches.exists() or cancels.exists()


def poll_budget_per_minute(account: PartnerAccount, *, others_waiting: bool = True) -> float:
    """The polls' share of the account's limit: PIPELINE_POLL_RATE_SHARE, or the larger
    PIPELINE_POLL_RATE_SHARE_IDLE while no booking or cancellation waits for it."""
    share = float(settings.PIPELINE_POLL_RATE_SHARE)
    if not others_waiting:
        share = max(share, float(settings.PIPELINE_POLL_RATE_SHARE_IDLE))
    return max(1.0, account.rate_limit_per_minute * share)


def polls_schedule(now: dt.datetime | None = None) -> list[int]:
    """Claims the accounts whose poll is due and that have active trips; returns their
    ids (the caller enqueues one poll each). Cheap enough to run every second."""
    now = now or timezone.now()
    watched = (
        PartnerAccount.objects.filter(enabled=True)
        .filter(
            Exists(
                Ride.objects.filter(partner_account=OuterRef("pk"), status__in=ACTIVE_WITH_PARTNER)
            )
        )
        .values_list("pk", flat=True)
    )
    account_ids = list(watched)
    if not account_ids:
        return []
    known = set(
        PollState.objects.filter(account_id__in=account_ids).values_list("account_id", flat=True)
    )
    for account_id in set(account_ids) - known:
        PollState.objects.get_or_create(account_id=account_id, defaults={"next_poll_at": now})
    claimed = []
    for account_id in account_ids:
        if PollState.objects.filter(account_id=account_id, next_poll_at__lte=now).update(
            next_poll_at=now + _seconds(CLAIM_SECONDS)
        ):
            claimed.append(account_id)
    return claimed


def _up_to_date(ride: Ride, trip) -> bool:
    held = ride.partner_updated_at
    if held is None:
        return False
    if trip.updated_at < held:
        return True
    if trip.updated_at == held:
        # Same version: only worth applying if the details never arrived (a webhook's
        # hint was applied and the read that should follow failed).
        return ride.partner_status == trip.status and (bool(ride.driver_name) or not trip.driver)
    return False


def apply_trip_page(account: PartnerAccount, trips, now: dt.datetime | None = None) -> int:
    """Applies a page of the partner's trips to the rides they belong to; returns how
    many were applied (the others were already known)."""
    if not trips:
        return 0
    now = now or timezone.now()
    trip_ids = [trip.trip_id for trip in trips]
    references = [trip.external_reference for trip in trips if trip.external_reference]
    rides = (
        Ride.objects.filter(partner_account=account)
        .filter(Q(partner_trip_id__in=trip_ids) | Q(reference__in=references))
        .only(
            "id",
            "reference",
            "partner_trip_id",
            "status",
            "partner_status",
            "partner_updated_at",
            "driver_name",
        )
    )
    by_trip = {ride.partner_trip_id: ride for ride in rides if ride.partner_trip_id}
    by_reference = {ride.reference: ride for ride in rides}
    seen, refreshes, changes = [], [], []
    for trip in trips:
        ride = by_trip.get(trip.trip_id) or by_reference.get(trip.external_reference)
        if ride is None:
            continue
        seen.append(ride.pk)
        if _up_to_date(ride, trip) or (
            ride.status in TERMINAL
            and ride.partner_status == trip.status
            and (bool(ride.driver_name) or not trip.driver)
        ):
            continue
        if _only_moved(ride, trip):
            refreshes.append((ride.pk, trip))
            continue
        changes.append((ride.pk, trip))
    # The new statuses together: one transaction, the page's rides locked at once.
    rides_apply_partner_trips(changes, cause=Cause.POLL)
    if refresh_in_bulk(refreshes, now):
        # Cars that moved without a status change: the monitoring rules for those rides
        # (a status change ran them already, in apply).
        rides_monitor([ride_id for ride_id, _trip in refreshes])
    if seen:
        Ride.objects.filter(pk__in=seen).update(partner_seen_at=now)
    return len(changes)


def _only_moved(ride: Ride, trip) -> bool:
    """A newer version of the trip in the same status with the driver already known: the
    driver moved, the ETA changed. Nothing for the trip log; refreshed in bulk."""
    return (
        ride.partner_updated_at is not None
        and trip.updated_at > ride.partner_updated_at
        and ride.partner_status == trip.status
        and ride.status not in TERMINAL
        and (bool(ride.driver_name) or not trip.driver)
    )


def _safety_net(account: PartnerAccount, client, now: dt.datetime, limit: int) -> int:
    """Reads, one by one, the few active trips nobody heard of for too long."""
    if limit <= 0:
        return 0
    cutoff = now - _seconds(settings.PIPELINE_SAFETY_NET_SECONDS)
    quiet = (
        Ride.objects.filter(partner_account=account, status__in=ACTIVE_WITH_PARTNER)
        .exclude(partner_trip_id="")
        .filter(Q(partner_seen_at__lt=cutoff) | Q(partner_seen_at__isnull=True))
        .order_by("partner_seen_at")
        .values_list("pk", "partner_trip_id")[:limit]
    )
    reads = 0
    for ride_id, trip_id in quiet:
        try:
            with partner_call(
                account_id=account.pk, operation=PartnerOperation.GET_TRIP, ride_id=ride_id
            ):
                trip = client.get_trip(trip_id, priority="low", kind="detail")
        except UnusableAnswer as exc:
            reads += 1
            ride_note_unusable(ride_id=ride_id, reason=str(exc))
            continue  # this trip's data, not the partner: read the others
        except PartnerError as exc:
            log.info("safety-net read of ride %s failed (%s)", ride_id, exc)
            reads += 1
            break
        reads += 1
        ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.POLL)
        Ride.objects.filter(pk=ride_id).update(partner_seen_at=timezone.now())
    return reads


def note_unusable_trips(account: PartnerAccount, unusable) -> int:
    """Counts an unusable answer on each ride whose trip a list answer could not read (the
    rest of the page was applied); returns how many rides it found."""
    if not unusable:
        return 0
    trip_ids = [item.trip_id for item in unusable if item.trip_id]
    references = [item.external_reference for item in unusable if item.external_reference]
    found = Ride.objects.filter(partner_account=account).filter(
        Q(partner_trip_id__in=trip_ids) | Q(reference__in=references)
    )
    reasons = {item.trip_id or item.external_reference: item.reason for item in unusable}
    rides = list(found.values_list("pk", "partner_trip_id", "reference"))
    for ride_id, trip_id, reference in rides:
        reason = reasons.get(trip_id) or reasons.get(reference) or "unusable"
        ride_note_unusable(ride_id=ride_id, reason=reason)
    return len(rides)


def _wait_after_error(failure, retry_after, interval: dt.timedelta) -> dt.timedelta:
    """When to poll again after a failed list call. Refused by the portal (an open breaker,
    the budget): when the refusal says. A failure at the partner: again within a second or
    two (its Retry-After honoured), never later than the regular interval — one lost
    answer must not leave every ride a whole interval further behind."""
    wait = float(retry_after or 0)
    if isinstance(failure, PartnerUnavailable | RateLimited):
        return _seconds(max(wait, 0.5))
    return min(interval, _seconds(max(1.0, wait)))


def _start_since(account: PartnerAccount, state: PollState) -> dt.datetime | None:
    overlap = _seconds(settings.PIPELINE_POLL_OVERLAP_SECONDS)
    if state.watermark is not None:
        return state.watermark - overlap
    oldest = (
        Ride.objects.filter(partner_account=account, status__in=ACTIVE_WITH_PARTNER)
        .exclude(partner_updated_at__isnull=True)
        .order_by("partner_updated_at")
        .values_list("partner_updated_at", flat=True)
        .first()
    )
    return None if oldest is None else oldest - overlap


def _jump(page, last_read: dt.datetime | None) -> dt.timedelta | None:
    """How far the page's first trip lies past the last trip the lane read, when that is
    a jump (the lane was overtaken); None when the page reads on where the lane was."""
    if not page.trips or last_read is None:
        return None
    gap = page.trips[0].updated_at - last_read
    threshold = _seconds(JUMP_SECONDS)
    if len(page.trips) > 1:
        spacing = (page.trips[-1].updated_at - page.trips[0].updated_at) / (len(page.trips) - 1)
        threshold = min(threshold, max(_seconds(JUMP_FLOOR_SECONDS), spacing * JUMP_SPACINGS))
    return gap if gap > threshold else None


def _jumped(page, last_read: dt.datetime | None) -> bool:
    return _jump(page, last_read) is not None


def _newest(trips) -> dt.datetime | None:
    return max((trip.updated_at for trip in trips), default=None)


def _is_fresh(moment: dt.datetime | None) -> bool:
    fresh = _seconds(settings.PIPELINE_POLL_FRESH_SECONDS)
    return moment is not None and timezone.now() - moment < fresh


def _head_since(head: dt.datetime | None) -> dt.datetime:
    """Where the head lane asks from: where it stopped, or (overtaken, or too long ago)
    a moment ago: the overlap, against changes committed late."""
    if _is_fresh(head):
        return head
    return timezone.now() - _seconds(settings.PIPELINE_POLL_OVERLAP_SECONDS)


def _head_next(page, head: dt.datetime | None) -> tuple[dt.datetime | None, bool]:
    """After a head page: where the head stands now, and whether it reads on.

    Overtaken, the head goes back from now by the jump it saw (at most the overlap): the
    trips it skipped are those that changed again during the last moment as long as the
    jump, so it reads them first and then goes on in turn, where the pass before left
    off. Going back the whole overlap would read again trips this pass has just read."""
    if not page.trips:
        return None, False  # nothing since: start over a moment ago, next poll
    jump = _jump(page, head)
    if jump is not None:
        back = min(jump, _seconds(settings.PIPELINE_POLL_OVERLAP_SECONDS))
        return timezone.now() - back, True
    return _newest(page.trips), bool(page.next_cursor)


def partner_account_poll(*, account_id: int) -> PollSummary:
    """One poll of one account: list calls with `updated_since`, paged, inside the
    account's polling budget; then the safety net; then the next poll is planned."""
    summary = PollSummary(account_id=account_id)
    account = PartnerAccount.objects.filter(pk=account_id).first()
    if account is None:
        summary.skipped = "missing"
        return summary
    state, _created = PollState.objects.get_or_create(account=account)
    now = timezone.now()
    interval = poll_interval(state, now)
    active = Ride.objects.filter(partner_account=account, status__in=ACTIVE_WITH_PARTNER)
    if not account.enabled or not active.exists():
        summary.skipped = "nothing_active" if account.enabled else "disabled"
        state.next_poll_at = now + interval
        state.cursor = ""
        state.save(update_fields=["next_poll_at", "cursor", "updated_at"])
        return summary

    budget = poll_budget_per_minute(account, others_waiting=others_wait(account))
    max_calls = max(1, int(budget * interval.total_seconds() / 60))
    client = client_for(account)
    # Polls draw on a share of the budget that bookings leave them (partners/ratelimit.py):
    # a backlog of dispatches never starves them.
    priority = "poll"
    since = _start_since(account, state)
    cursor = state.cursor or None
    newest = state.watermark
    head, in_head = state.head_since, False
    retry_after = None
    failure = None
    answered = False
    while summary.calls < max_calls:
        try:
            if in_head:
                page = client.list_trips(
                    updated_since=_head_since(head), limit=PAGE_SIZE, priority=priority
                )
            else:
                page = client.list_trips(
                    updated_since=since, limit=PAGE_SIZE, cursor=cursor, priority=priority
                )
        except PartnerError as exc:
            summary.error = str(exc)[:200]
            failure = exc
            retry_after = getattr(exc, "retry_after", None)
            if exc.sent:
                summary.calls += 1
            break
        summary.calls += 1
        answered = True
        summary.trips += len(page.trips)
        summary.applied += apply_trip_page(account, page.trips, now)
        note_unusable_trips(account, page.unusable)
        if in_head:
            summary.head_calls += 1
            head, reads_on = _head_next(page, head if _is_fresh(head) else None)
            if not reads_on:
                break
            continue
        # The tail: only its pages move the watermark (the head's would skip changes).
        overtaken = _jumped(page, newest)
        newest = max(filter(None, (newest, _newest(page.trips))), default=None)
        cursor = page.next_cursor
        if not cursor:
            break
        in_head = overtaken and _is_fresh(newest)
    unfinished = bool(cursor) and not summary.error
    if not summary.error:
        state.cursor = cursor or ""
        spare = max_calls - summary.calls
        summary.safety_net_reads = _safety_net(
            account, client, now, min(spare, settings.PIPELINE_SAFETY_NET_BATCH)
        )
    calls = summary.calls + summary.safety_net_reads
    gap = _seconds(calls * 60 / budget)
    if summary.error:
        wait = _wait_after_error(failure, retry_after, interval)
    elif unfinished:
        wait = gap  # more pages wait: continue as soon as the budget allows
    else:
        wait = max(interval, gap)
    state.watermark = newest
    state.head_since = head
    # The period counts from the poll's start (a long poll is not followed by a full wait).
    state.next_poll_at = max(now + wait, timezone.now())
    if answered or state.last_polled_at is None:
        state.last_polled_at = now  # the last poll the partner answered
    state.last_calls = calls
    state.last_trips = summary.trips
    state.last_error = summary.error
    state.save()
    if summary.error:
        log.info("poll of account %s stopped: %s", account_id, summary.error)
    return summary
