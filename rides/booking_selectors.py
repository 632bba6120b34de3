"""Reads behind the booking pages and the rides API, with need-to-know in one place:
a caseworker sees the rides of their cases, a supervisor their unit's, nobody else any.
Each list costs a fixed number of queries, whatever its length."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Role
from rides.models import Ride, RideStatus, TripEvent
from rides.models.states import HELD, TERMINAL

LIST_RELATED = ("case", "unit", "booked_by", "pickup_place", "dropoff_place")


def rides_visible_to(user) -> QuerySet[Ride]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Ride.objects.none()
    return Ride.objects.visible_to(user)


def ride_get_for_user(*, user, reference: str, with_events: bool = False) -> Ride:
    """The ride if `user` may see it; Http404 otherwise (missing and hidden look alike)."""
    rides = rides_visible_to(user).select_related(
        *LIST_RELATED, "partner_account", "decided_by", "rebooked_from"
    )
    if with_events:
        rides = rides.prefetch_related(
            Prefetch(
                "events", queryset=TripEvent.objects.select_related("actor").order_by("at", "id")
            ),
            Prefetch(
                "rebookings", queryset=Ride.objects.only("id", "reference", "rebooked_from_id")
            ),
        )
    ride = rides.filter(reference=str(reference).strip().upper()).first()
    if ride is None:
        raise Http404("No such ride.")
    return ride


def _start_of_today() -> dt.datetime:
    today = timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today, dt.time.min))


def rides_today_for(user) -> QuerySet[Ride]:
    """ "My rides today": every ride still going on, and those booked for or created
    today (Jakarta), newest first. A supervisor sees the unit's."""
    start = _start_of_today()
    end = start + dt.timedelta(days=1)
    ongoing = ~Q(status__in=TERMINAL)
    return (
        rides_visible_to(user)
        .filter(
            ongoing
            | Q(created_at__gte=start, created_at__lt=end)
            | Q(scheduled_pickup_at__gte=start, scheduled_pickup_at__lt=end)
        )
        .select_related(*LIST_RELATED)
        .order_by("-created_at", "-id")
    )


def rides_awaiting_approval_for(user) -> QuerySet[Ride]:
    """The approval queue of a supervisor's unit, oldest first (first come, first decided)."""
    if getattr(user, "role", None) != Role.SUPERVISOR or user.unit_id is None:
        return Ride.objects.none()
    return (
        Ride.objects.filter(unit_id=user.unit_id, status=RideStatus.AWAITING_APPROVAL)
        .select_related(*LIST_RELATED)
        .order_by("created_at", "id")
    )


def rides_of_case(*, user, case, limit: int = 20) -> list[Ride]:
    return list(
        rides_visible_to(user)
        .filter(case=case)
        .select_related("pickup_place", "dropoff_place")
        .order_by("-created_at", "-id")[:limit]
    )


def ride_is_live(ride: Ride) -> bool:
    """Whether the ride page keeps refreshing itself (until the ride is final)."""
    return ride.status not in TERMINAL


def ride_needs_person(ride: Ride) -> bool:
    return ride.status in HELD
