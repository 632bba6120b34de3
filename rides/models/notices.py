"""In-page notices: what a booker hears about their rides (approved, rejected, a driver
assigned, needs attention, ended), one row per recipient and trip-log row.

Why rows and not a view of the trip log since a per-user "read up to" mark: which change
is news is decided once, in Python (`notice_kind`), by `Ride.apply_transition` — the one
place a status changes — in the same transaction as the trip-log row. A view of the trip
log would need the same rule a second time as a SQL filter (for the badge's count) next to
the Python that names each notice, and a "read up to" mark over ids or times that commit
out of order can mark a notice read before anyone saw it. A row has its own read mark and
the badge's count is an indexed lookup of the unread ones.

A notice carries no survivor's data: the ride, the kind, the time. Its sentence is composed
when it is shown, in the reader's language (rides/notices.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.models import Case
from rides.models.states import TERMINAL, RideStatus

S = RideStatus

APPROVED = "approved"

# The states a booker hears about when a ride reaches them. "rejected" joins as soon as
# RideStatus has it (whether or not it is counted among the TERMINAL states).
NOTICE_STATES = frozenset(
    {S.DRIVER_ASSIGNED, S.NEEDS_ATTENTION} | TERMINAL | {s for s in S if s.value == "rejected"}
)


def notice_kind(previous: str, new: str) -> str | None:
    """What a change of status tells the booker, or None when it is no news: approved
    (waiting for approval → requested), else the state reached if it is a NOTICE_STATE."""
    if previous == S.AWAITING_APPROVAL and new == S.REQUESTED:
        return APPROVED
    if new in NOTICE_STATES:
        return str(new)
    return None


def notice_recipients(ride, *, actor=None) -> set[int]:
    """The booker and the case's assigned caseworkers, but not the person who made the
    change (one query)."""
    through = Case.assigned_caseworkers.through
    ids = set(through.objects.filter(case_id=ride.case_id).values_list("user_id", flat=True))
    ids.add(ride.booked_by_id)
    if actor is not None:
        ids.discard(actor.pk)
    return ids


def notices_write(event) -> None:
    """The notices of one trip-log row, if it is news (called by Ride.apply_transition)."""
    kind = notice_kind(event.previous_status, event.new_status)
    if kind is None:
        return
    users = notice_recipients(event.ride, actor=event.actor)
    Notice.objects.bulk_create(
        [
            Notice(user_id=user_id, ride_id=event.ride_id, event=event, kind=kind, at=event.at)
            for user_id in sorted(users)
        ]
    )


class NoticeQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notice(models.Model):
    """One piece of news about a ride for one user; read once `read_at` is set."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    ride = models.ForeignKey("rides.Ride", on_delete=models.CASCADE, related_name="notices")
    event = models.ForeignKey("rides.TripEvent", on_delete=models.CASCADE, related_name="+")
    # APPROVED or the state reached (see notice_kind); no choices, so that a new state
    # needs no migration here.
    kind = models.CharField(max_length=20)
    at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["user", "-at", "-id"], name="notice_user_newest"),
            models.Index(
                fields=["user"], name="notice_user_unread", condition=models.Q(read_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="one_notice_per_event_and_user")
        ]

    def __str__(self):
        return f"{self.user_id}: {self.kind} ({self.ride_id})"
