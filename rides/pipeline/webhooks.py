"""The partner's webhook events: recorded once, then processed as hints.

The endpoint (rides/webhook_view.py) verifies a webhook and hands it here:
`webhook_event_receive` stores its ids, status and time once per event id (INSERT …
ON CONFLICT DO NOTHING) and enqueues `rides.process_webhook_event` on commit; refused
webhooks are counted per account, day and reason. Processing applies a newer status,
and reads the full trip only when its details are needed (driver, vehicle, fee); when
the read fails, the hint is applied and the details are read later.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone

from partners.client import errors
from partners.client.registry import client_for
from portal.queue import enqueue, enqueue_on_commit
from rides.models import Cause, PartnerOperation, Ride, RideStatus, WebhookEvent
from rides.models.states import PARTNER_STATUS_MAP, TERMINAL
from rides.pipeline.apply import (
    ride_apply_partner_status,
    ride_apply_partner_trip,
    ride_note_unusable,
)
from rides.pipeline.calls import partner_call
from rides.pipeline.common import FETCH_RECEIPT, PROCESS_WEBHOOK_EVENT
from rides.pipeline.details import schedule_details
from rides.pipeline.polling import note_trip_seen, poll_soon

S = RideStatus
log = logging.getLogger("rides.pipeline")

# The event types the portal acts on (others, such as trip.driver_location, are recorded
# and marked ignored: polling brings the driver's position).
STATUS_CHANGED = "trip.status_changed"
RECEIPT_READY = "trip.receipt_ready"

# Partner statuses whose details (driver, vehicle, fee) the webhook hint lacks: a GET
# follows. Others are applied from the hint alone (the poller still confirms them).
_NEEDS_FULL_TRIP = frozenset({S.DRIVER_ASSIGNED, S.CANCELLED})

_INSERT = """
INSERT INTO rides_webhookevent
    (account_id, event_id, event_type, trip_id, external_reference, partner_status,
     partner_updated_at, received_at, outcome)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '')
ON CONFLICT (account_id, event_id) DO NOTHING
RETURNING id
"""

_COUNT = """
INSERT INTO rides_webhookrejection
    (account_id, day, reason, count, last_at, last_webhook_id)
VALUES (%s, %s, %s, 1, %s, %s)
ON CONFLICT (account_id, day, reason)
DO UPDATE SET count = rides_webhookrejection.count + 1,
              last_at = EXCLUDED.last_at, last_webhook_id = EXCLUDED.last_webhook_id
"""


def webhook_event_record(*, account_id: int, event_id: str, event: dict) -> int | None:
    """Stores a verified event once; returns its row id, or None for a duplicate."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                account_id,
                event_id,
                event["event_type"],
                event["trip_id"],
                event["external_reference"],
                event["partner_status"],
                event["partner_updated_at"],
                timezone.now(),
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def webhook_event_receive(*, account_id: int, event_id: str, event: dict) -> bool:
    """Records a verified event and enqueues its processing once it is committed; a
    lost enqueue is left to the sweeper (the row stays unprocessed) and to polling.
    Answers False for a duplicate (nothing recorded, nothing enqueued)."""
    row_id = webhook_event_record(account_id=account_id, event_id=event_id, event=event)
    if row_id is None:
        return False
    enqueue_on_commit(PROCESS_WEBHOOK_EVENT, row_id)
    return True


def webhook_rejection_record(*, account_id: int, reason: str, webhook_id: str) -> None:
    """Counts one refused webhook of the account, for today and `reason`."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_COUNT, [account_id, timezone.localdate(now), reason, now, webhook_id])


def webhook_event_process(*, event_id: int) -> str:
    """Applies one recorded webhook event (a hint): newer status applied, full trip read
    only when its details are needed. Safe to run twice."""
    event = WebhookEvent.objects.select_related("account").filter(pk=event_id).first()
    if event is None:
        return "missing"
    if event.processed_at is not None:
        return "done_before"
    ride = (
        Ride.objects.filter(partner_account_id=event.account_id)
        .filter(partner_trip_id=event.trip_id)
        .only("id", "status", "partner_trip_id", "partner_updated_at", "driver_name", "receipt")
        .first()
    )
    if ride is None and event.external_reference:
        ride = (
            Ride.objects.filter(
                partner_account_id=event.account_id, reference=event.external_reference
            )
            .only("id", "status", "partner_trip_id", "partner_updated_at", "driver_name", "receipt")
            .first()
        )
    outcome = "ignored"
    if ride is None:
        outcome = "unknown_trip"
    elif event.event_type == STATUS_CHANGED:
        outcome = _process_status_event(event, ride)
    elif event.event_type == RECEIPT_READY:
        if ride.receipt is None and ride.status in TERMINAL:
            updated = Ride.objects.filter(
                pk=ride.pk, receipt__isnull=True, partner_trip_id__gt=""
            ).update(receipt_due_at=timezone.now())
            if updated:
                enqueue(FETCH_RECEIPT, ride.pk)
            outcome = "receipt_due"
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), outcome=outcome[:20]
    )
    note_trip_seen(event.account_id, webhook=True)
    return outcome


def _process_status_event(event: WebhookEvent, ride: Ride) -> str:
    if event.partner_updated_at is None:
        return "malformed"
    if ride.partner_updated_at is not None and event.partner_updated_at <= ride.partner_updated_at:
        return "stale"
    if ride.status in TERMINAL:
        return "ride_ended"
    new_status = PARTNER_STATUS_MAP.get(event.partner_status)
    wants_trip = (
        not ride.partner_trip_id
        or new_status in _NEEDS_FULL_TRIP
        or (new_status in (S.ARRIVING, S.ON_TRIP) and not ride.driver_name)
    )
    retry_after = None
    if wants_trip:
        try:
            with partner_call(
                account_id=event.account_id, operation=PartnerOperation.GET_TRIP, ride_id=ride.pk
            ):
                trip = client_for(event.account).get_trip(
                    event.trip_id, priority="poll", kind="detail"
                )
        except errors.RateLimited:
            # The budget is spent (a burst of bookings): one list call soon brings the
            # details of every trip that changed, instead of a read per trip.
            poll_soon(event.account_id)
        except errors.PartnerError as exc:
            log.info("ride %s: trip read after webhook failed (%s); hint applied", ride.pk, exc)
            retry_after = float(exc.retry_after or 0) if exc.temporary else None
            if isinstance(exc, errors.UnusableAnswer):
                ride_note_unusable(ride_id=ride.pk, reason=str(exc))
        else:
            return ride_apply_partner_trip(ride_id=ride.pk, trip=trip, cause=Cause.WEBHOOK)
    outcome = ride_apply_partner_status(
        ride_id=ride.pk,
        trip_id=event.trip_id,
        status=event.partner_status,
        updated_at=event.partner_updated_at,
        cause=Cause.WEBHOOK,
        external_reference=event.external_reference,
    )
    if retry_after is not None:
        schedule_details(ride.pk, retry_after, attempt=1)
    return outcome


def webhook_events_prune(*, now: dt.datetime | None = None) -> int:
    """Forgets processed webhook ids older than the retention (duplicates come within an
    hour of the first delivery)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.PIPELINE_WEBHOOK_RETENTION_DAYS)
    deleted, _counts = WebhookEvent.objects.filter(
        received_at__lt=cutoff, processed_at__isnull=False
    ).delete()
    return deleted
