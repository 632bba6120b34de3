"""The outbox sweeper: resends what is overdue, so no lost enqueue loses a ride.

Every step writes what is due into the ride row before it enqueues a task (the
dispatch, a lookup, a cancellation, a receipt); a webhook event is a row until it is
processed. Run by beat every few seconds, the sweeper enqueues again whatever is past
its due time: the broker was down, a worker was killed, a countdown was too long to
hold in the broker.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from portal.queue import enqueue_on_commit
from rides.models import Cause, Ride, RideStatus, WebhookEvent
from rides.pipeline.common import (
    CANCEL_AT_PARTNER,
    DISPATCH_RIDE,
    FETCH_RECEIPT,
    PROCESS_WEBHOOK_EVENT,
    RECONCILE_RIDE,
    seconds,
)

S = RideStatus
log = logging.getLogger("rides.pipeline")

SWEEP_BATCH = 500


def _resend(due, due_field: str, next_due: dt.datetime, task: str) -> int:
    """Moves the due time of up to SWEEP_BATCH of the `due` rides (locked, skipping those
    a worker holds) on to `next_due` and enqueues `task` for each; how many."""
    ride_ids = list(
        due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if ride_ids:
        Ride.objects.filter(pk__in=ride_ids).update(**{due_field: next_due})
        for ride_id in ride_ids:
            enqueue_on_commit(task, ride_id)
    return len(ride_ids)


def outbox_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Resends what is overdue: dispatches nobody picked up, dispatches whose worker
    died (lease expired → outcome unknown → reconcile), reconciliations, cancellations
    and receipts. Each found row's due time moves on by the grace period, so a backed-up
    queue is not flooded with copies; a copy that does run finds nothing to do."""
    now = now or timezone.now()
    grace = seconds("PIPELINE_DISPATCH_GRACE_SECONDS")
    next_due = now + grace
    counts = {"dispatch": 0, "reconcile": 0, "cancel": 0, "receipt": 0, "webhook": 0}
    with transaction.atomic():
        overdue = list(
            Ride.objects.dispatch_overdue(now)
            .select_for_update(skip_locked=True)
            .order_by("dispatch_due_at")[:SWEEP_BATCH]
        )
        for ride in overdue:
            if ride.status == S.DISPATCHING:
                ride.apply_transition(
                    S.DISPATCH_UNKNOWN, cause=Cause.SWEEPER, note="dispatch lease expired"
                )
            ride.dispatch_due_at = next_due
            ride.save(update_fields=["dispatch_due_at", "updated_at"])
            if ride.status == S.REQUESTED:
                enqueue_on_commit(DISPATCH_RIDE, ride.pk)
                counts["dispatch"] += 1
            else:
                enqueue_on_commit(RECONCILE_RIDE, ride.pk)
                counts["reconcile"] += 1
        due = Ride.objects.filter(cancel_due_at__lte=now)
        counts["cancel"] = _resend(due, "cancel_due_at", next_due, CANCEL_AT_PARTNER)
        due = Ride.objects.filter(receipt__isnull=True, receipt_due_at__lte=now)
        counts["receipt"] = _resend(due, "receipt_due_at", next_due, FETCH_RECEIPT)
        # Webhook events whose enqueue was lost (broker down when they arrived).
        stuck_events = list(
            WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lte=now - grace)
            .order_by("received_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        for event_id in stuck_events:
            enqueue_on_commit(PROCESS_WEBHOOK_EVENT, event_id)
        counts["webhook"] = len(stuck_events)
    if any(counts.values()):
        log.info("outbox sweep: %s", counts)
    return counts
