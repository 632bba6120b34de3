"""Reading the audit trail: the events matching the audit page's filters, and a page of
them newest first (keyset pagination, portal/keyset.py)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent
from portal.keyset import KeysetPage, keyset_page

PAGE_SIZE = 50


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the portal's time zone (Jakarta)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    kind: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
) -> QuerySet[AuditEvent]:
    """The events filtered: the days they happened on (both ends included), their kind,
    the actor's username as recorded (exactly; for a failed login, the one tried), the
    object's type and id or code."""
    events = AuditEvent.objects.all()
    if date_from:
        events = events.filter(at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(at__lt=_start_of(date_to + dt.timedelta(days=1)))
    if kind:
        events = events.filter(kind=kind)
    if actor:
        events = events.filter(actor_name=actor)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id__iexact=object_id)
    return events


def audit_page(
    events: QuerySet[AuditEvent], *, after: str | None = None, before: str | None = None
) -> KeysetPage:
    return keyset_page(events, field="at", size=PAGE_SIZE, after=after, before=before)


def audit_rows(events: QuerySet[AuditEvent], chunk: int = 2000):
    """Every event, newest first, read in chunks (for the streamed export)."""
    return events.order_by("-at", "-id").iterator(chunk_size=chunk)
