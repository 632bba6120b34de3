"""Reads of the booking pipeline's state (for supervisors' pages and monitoring)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from rides.models import Alert, PollState, Ride, RideStatus, WebhookRejection
from rides.models.states import ACTIVE_WITH_PARTNER

S = RideStatus


def alerts_open_for(user, *, limit: int = 100):
    """A supervisor's open alerts (their unit's), newest first, with the ride's reference."""
    return (
        Alert.objects.open()
        .for_supervisor(user)
        .select_related("ride")
        .only("id", "kind", "message", "created_at", "unit_id", "ride__id", "ride__reference")
        .order_by("-created_at")[:limit]
    )


def pipeline_overview(*, now: dt.datetime | None = None) -> dict:
    """Counts that tell whether the pipeline keeps up (one query for the rides, one for
    polling, one for refused webhooks of the last day)."""
    now = now or timezone.now()
    rides = Ride.objects.aggregate(
        waiting_to_send=Count("pk", filter=Q(status=S.REQUESTED)),
        sending=Count("pk", filter=Q(status=S.DISPATCHING)),
        outcome_unknown=Count("pk", filter=Q(status=S.DISPATCH_UNKNOWN)),
        overdue=Count(
            "pk",
            filter=Q(
                status__in=[S.REQUESTED, S.DISPATCHING, S.DISPATCH_UNKNOWN],
                dispatch_due_at__lt=now - dt.timedelta(minutes=1),
            ),
        ),
        with_partner=Count("pk", filter=Q(status__in=ACTIVE_WITH_PARTNER)),
        needs_attention=Count("pk", filter=Q(status=S.NEEDS_ATTENTION)),
        cancel_pending=Count("pk", filter=Q(cancel_due_at__isnull=False)),
        receipts_pending=Count("pk", filter=Q(receipt__isnull=True, receipt_due_at__isnull=False)),
    )
    polls = list(
        PollState.objects.select_related("account")
        .only("account__name", "last_polled_at", "last_error", "last_calls", "next_poll_at")
        .order_by("account__name")
    )
    since = timezone.localdate(now) - dt.timedelta(days=1)
    rejected = sum(WebhookRejection.objects.filter(day__gte=since).values_list("count", flat=True))
    return {"rides": rides, "polls": polls, "webhooks_rejected_since_yesterday": rejected}
