"""Every read of rides, with need-to-know in one place: a caseworker sees the rides of
their cases, a supervisor their unit's, nobody else any. Each list costs a fixed number
of queries, whatever its length.

- the booking pages and the rides API: one ride, today's rides, the history (filtered,
  keyset-paged), the approval queue, the actions a ride page offers, what a list shows
  for a ride's point;
- the case page: a case's latest rides;
- supervision: the rides of the units a supervisor oversees (the trip log), and one
  ride's timeline (its trip log and its partner calls, in one order);
- supervisors' monitoring: open alerts and whether the pipeline keeps up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from portal.keyset import KeysetPage, keyset_page
from rides.models import (
    Alert,
    PartnerCall,
    PollState,
    Ride,
    RideStatus,
    TripEvent,
    WebhookRejection,
)
from rides.models.states import ACTIVE_WITH_PARTNER, TERMINAL
from rides.rules import decision_refusal, rebook_refusal, retry_refusal

S = RideStatus

LIST_RELATED = ("case", "unit", "booked_by", "pickup_place", "dropoff_place")


def rides_visible_to(user) -> QuerySet[Ride]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Ride.objects.none()
    return Ride.objects.visible_to(user)


def rides_overseen_by(user) -> QuerySet[Ride]:
    """The rides a supervisor oversees: their unit's, every unit's for the provincial
    centre (Unit.oversees_all_units); nobody else's."""
    if (
        not getattr(user, "is_authenticated", False)
        or not user.is_active
        or user.role != Role.SUPERVISOR
        or user.unit_id is None
    ):
        return Ride.objects.none()
    if user.unit.oversees_all_units:
        return Ride.objects.all()
    return Ride.objects.filter(unit_id=user.unit_id)


def ride_get_overseen(*, user, reference: str) -> Ride:
    """A ride the supervisor oversees, with what its timeline's header shows (no
    survivor's data is decrypted); Http404 otherwise (missing and hidden look alike)."""
    ride = (
        rides_overseen_by(user)
        .select_related("unit", "booked_by", "partner_account", "case", "pickup_place")
        .select_related("dropoff_place")
        .only(*TIMELINE_HEADER_FIELDS)
        .filter(reference=str(reference).strip().upper())
        .first()
    )
    if ride is None:
        raise Http404(_("No ride with this reference that you may see."))
    return ride


# What a timeline's header reads of a ride: no encrypted field (points, phones, notes).
TIMELINE_HEADER_FIELDS = (
    *("unit", "booked_by", "partner_account", "case", "pickup_place", "dropoff_place"),
    "reference",
    "status",
    "status_reason",
    "purpose",
    "created_at",
    "scheduled_pickup_at",
    "estimate_fare",
    "fare_amount",
    "final_fare",
    "cancellation_fee",
    "unit__code",
    "unit__name",
    "booked_by__username",
    "booked_by__first_name",
    "booked_by__last_name",
    "partner_account__name",
    "case__code",
    "pickup_place__name",
    "dropoff_place__name",
)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a ride's timeline: a trip-log row (`event`) or a partner call (`call`)."""

    at: dt.datetime
    event: TripEvent | None = None
    call: PartnerCall | None = None

    @property
    def kind(self) -> str:
        return "status" if self.event is not None else "call"


def ride_timeline(ride: Ride) -> list[TimelineEntry]:
    """Every trip-log row and every partner call of the ride, oldest first, in two
    queries. A call is stamped when it started, so it comes before the change its
    answer made; at the same moment a call comes first."""
    events = TripEvent.objects.filter(ride_id=ride.pk).select_related("actor")
    calls = PartnerCall.objects.filter(ride_id=ride.pk)
    entries = [TimelineEntry(at=e.at, event=e) for e in events.order_by("at", "id")]
    entries += [TimelineEntry(at=c.at, call=c) for c in calls.order_by("at", "id")]
    # sorted() is stable: within a kind the (at, id) order of the queries stays.
    return sorted(entries, key=lambda entry: (entry.at, entry.kind == "status"))


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
        raise Http404(_("No ride with this reference that you may see."))
    return ride


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _start_of_today() -> dt.datetime:
    return _start_of(timezone.localdate())


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


HISTORY_PAGE_SIZE = 25


def rides_history_for(
    user,
    *,
    case: str = "",
    reference: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    status: str = "",
) -> QuerySet[Ride]:
    """Every ride `user` may see, filtered: the case's code, the start of a reference, the
    days it was booked on (Jakarta, both ends included), its status."""
    rides = rides_visible_to(user)
    if case:
        rides = rides.filter(case__code=case.strip().upper())
    if reference:
        rides = rides.filter(reference__startswith=reference.strip().upper())
    if date_from:
        rides = rides.filter(created_at__gte=_start_of(date_from))
    if date_to:
        rides = rides.filter(created_at__lt=_start_of(date_to + dt.timedelta(days=1)))
    if status:
        rides = rides.filter(status=status)
    return rides.select_related(*LIST_RELATED)


def rides_history_page(
    user, *, after: str | None = None, before: str | None = None, size: int = 0, **filters
) -> KeysetPage:
    """One page of the history, newest booked first (see portal/keyset.py)."""
    rides = rides_history_for(user, **filters)
    size = size or HISTORY_PAGE_SIZE
    return keyset_page(rides, field="created_at", size=size, after=after, before=before)


def rides_awaiting_approval_for(user) -> QuerySet[Ride]:
    """The approval queue of a supervisor's unit, oldest first (first come, first decided)."""
    if getattr(user, "role", None) != Role.SUPERVISOR or user.unit_id is None:
        return Ride.objects.none()
    return (
        Ride.objects.filter(unit_id=user.unit_id, status=RideStatus.AWAITING_APPROVAL)
        .select_related(*LIST_RELATED)
        .order_by("created_at", "id")
    )


def point_label(place, point) -> str:
    """What a list of rides shows for a pickup or drop-off: a place by its name, a
    protected place (a safe house) by its neutral meeting point only, never its name or
    address, a typed point by its address."""
    if place is None:
        return (point or {}).get("address", "")
    if place.is_protected:
        return _("Meeting point: %(point)s") % {"point": place.neutral_address}
    return place.name


def ride_is_live(ride: Ride) -> bool:
    """Whether the ride page keeps refreshing itself (until the ride is final)."""
    return ride.status not in TERMINAL


@dataclass(frozen=True)
class RideActions:
    """What the ride page offers on a ride; the services decide the same way when asked."""

    cancel: bool
    rebook: bool
    retry: bool
    decide: bool  # approve or reject: a supervisor of the ride's unit who did not book it
    decide_refusal: str | None  # why such a supervisor may not (they booked it)


def ride_actions_for(user, ride: Ride, *, rebooking: Ride | None) -> RideActions:
    """`rebooking`: the ride that replaced this one, if any (ride_get_for_user prefetches
    it with the events)."""
    supervises = user.role == Role.SUPERVISOR and user.unit_id == ride.unit_id
    refusal = decision_refusal(ride, user) if supervises else None
    return RideActions(
        cancel=ride.can_cancel and ride.cancel_requested_at is None,
        rebook=rebook_refusal(ride, rebooked_as=rebooking) is None,
        retry=retry_refusal(ride) is None,
        decide=supervises and refusal is None,
        decide_refusal=refusal,
    )


def case_rides(case, *, limit: int = 20) -> QuerySet[Ride]:
    """A case's latest rides for the case page, without decrypting their points (only
    those who may see the case see the page)."""
    return (
        Ride.objects.filter(case=case)
        .only("reference", "purpose", "status", "scheduled_pickup_at", "created_at", "case_id")
        .order_by("-created_at", "-id")[:limit]
    )


# --- monitoring ---------------------------------------------------------------------------


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
