"""The trip log's reads: the rides a supervisor oversees (rides.selectors.rides_overseen_by)
filtered, newest booked first, keyset-paged (portal/keyset.py), and the same rows for
the exports. Each page costs two queries whatever its length (its rides, then which of
them ever had an alert); no survivor's data is read (only the columns the list shows, no
encrypted field).

Whether a ride had an alert is asked of the page's rides alone: as a column of the page's
query (EXISTS per row), PostgreSQL plans it for every ride the query could return, not
the page's 26, and hashes every alert's ride before the first row (at 1,000,000 rides:
20,326 alerts read, 6.0 of the query's 6.4 ms; docs/benchmarks.md). The exports, which
read every ride, keep it as a column."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from portal.keyset import KeysetPage, keyset_page
from rides.models import Alert, Ride
from rides.selectors import rides_overseen_by

PAGE_SIZE = 25

# What a row of the list and of the exports reads of a ride (and of its unit, booker and
# partner account): never a point, a phone, a name of the survivor or a note.
LIST_FIELDS = (
    "reference",
    "created_at",
    "scheduled_pickup_at",
    "purpose",
    "status",
    "estimate_fare",
    "fare_amount",
    "final_fare",
    "unit",
    "unit__code",
    "booked_by",
    "booked_by__username",
    "booked_by__first_name",
    "booked_by__last_name",
    "partner_account",
    "partner_account__name",
)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def trip_log_rides(
    user,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    unit=None,
    booked_by=None,
    purpose: str = "",
    status: str = "",
    partner_account=None,
    flagged: str = "",
) -> QuerySet[Ride]:
    """The rides `user` oversees, filtered: booked on these days (Jakarta, both ends
    included), of a unit, booked by a person, for a purpose, in a status, with a partner
    account, with or without any alert (`flagged` "yes" / "no")."""
    rides = rides_overseen_by(user)
    if date_from:
        rides = rides.filter(created_at__gte=_start_of(date_from))
    if date_to:
        rides = rides.filter(created_at__lt=_start_of(date_to + dt.timedelta(days=1)))
    if unit is not None:
        rides = rides.filter(unit_id=unit.pk)
    if booked_by is not None:
        rides = rides.filter(booked_by_id=booked_by.pk)
    if purpose:
        rides = rides.filter(purpose=purpose)
    if status:
        rides = rides.filter(status=status)
    if partner_account is not None:
        rides = rides.filter(partner_account_id=partner_account.pk)
    if flagged == "yes":
        rides = rides.filter(_had_an_alert())
    elif flagged == "no":
        rides = rides.filter(~_had_an_alert())
    return rides.select_related("unit", "booked_by", "partner_account").only(*LIST_FIELDS)


def _had_an_alert() -> Exists:
    return Exists(Alert.objects.filter(ride_id=OuterRef("pk")))


def trip_log_page(
    user, *, after: str | None = None, before: str | None = None, size: int = 0, **filters
) -> KeysetPage:
    """One page of the trip log, newest booked first (see portal/keyset.py); each row
    carries `flagged`, whether the ride ever had an alert (module docstring)."""
    rides = trip_log_rides(user, **filters)
    page = keyset_page(
        rides, field="created_at", size=size or PAGE_SIZE, after=after, before=before
    )
    ids = [ride.pk for ride in page.rows]
    alerted = set(
        Alert.objects.filter(ride_id__in=ids).order_by().values_list("ride_id", flat=True)
    )
    for ride in page.rows:
        ride.flagged = ride.pk in alerted
    return page


# The columns of an export row, in order (tuples, not model instances: a fraction of the
# time per row).
EXPORT_FIELDS = (
    "reference",
    "created_at",
    "scheduled_pickup_at",
    "unit__code",
    "booked_by__username",
    "purpose",
    "status",
    "partner_account__name",
    "final_fare",
    "fare_amount",
    "estimate_fare",
    "flagged",
)


def trip_log_export_rows(user, **filters):
    """Every ride of the filtered trip log as EXPORT_FIELDS tuples, newest first, read
    through a server-side cursor 2,000 rows at a time (constant memory, however many)."""
    rides = trip_log_rides(user, **filters).annotate(flagged=_had_an_alert())
    rides = rides.order_by("-created_at", "-id")
    return rides.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)


def fare_of(final_fare, fare_amount, estimate_fare) -> int | None:
    """The fare a list shows: the final one once known, else the partner's, else the
    estimate at booking."""
    return next((f for f in (final_fare, fare_amount, estimate_fare) if f is not None), None)


def ride_fare(ride: Ride) -> int | None:
    return fare_of(ride.final_fare, ride.fare_amount, ride.estimate_fare)
