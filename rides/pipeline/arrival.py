"""After the ride: the survivor arrived safely, or there was a problem.

When a ride completes, its caseworkers and its unit's supervisors (those who see the
ride) confirm "arrived safely" or report a problem with a note of what happened; the
note may describe the survivor's situation, so it is stored encrypted and never leaves
in an email. A problem raises ARRIVAL_PROBLEM for the unit's supervisors. Nobody answering
within the SOP's minutes (arrival_confirm_minutes) raises ARRIVAL_UNCONFIRMED, from beat;
an answer given later clears it (a supervisor still acknowledges it).

Beat looks back one day past the threshold only: a ride that ended longer ago (before this
rule existed, or while the portal was down for a day) is not alerted now, years late.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.pipeline.alerts import alert_raise
from rides.pipeline.common import locked_ride
from sop.selectors import current

S = RideStatus
NOTE_MIN_LENGTH = 5
NOTE_MAX_LENGTH = 2000
LOOK_BACK = dt.timedelta(days=1)


def arrival_pending(ride: Ride) -> bool:
    """Whether the ride waits for someone to confirm the survivor's arrival."""
    return ride.status == S.COMPLETED and ride.arrival_confirmed_at is None


def _answerable(ride_id: int, user) -> Ride:
    ride = locked_ride(ride_id)
    if ride is None or not Ride.objects.visible_to(user).filter(pk=ride_id).exists():
        raise PermissionDenied("ride not visible to this user")
    if not arrival_pending(ride):
        raise ValidationError(
            _("The arrival of this ride was already confirmed, or the ride has not ended.")
        )
    return ride


def _answered(ride: Ride, user, problem: str) -> None:
    ride.arrival_confirmed_at = timezone.now()
    ride.arrival_confirmed_by = user
    ride.arrival_problem = problem
    ride.save(update_fields=["arrival_confirmed_at", "arrival_confirmed_by", "arrival_problem"])
    Alert.objects.open().filter(
        ride=ride, kind=AlertKind.ARRIVAL_UNCONFIRMED, cleared_at__isnull=True
    ).update(cleared_at=ride.arrival_confirmed_at)


def ride_arrival_confirm(*, ride_id: int, user) -> Ride:
    """The survivor arrived safely."""
    with transaction.atomic():
        ride = _answerable(ride_id, user)
        _answered(ride, user, "")
    return ride


def ride_arrival_problem(*, ride_id: int, user, note: str) -> Ride:
    """Something went wrong on or after the ride: the note is kept (encrypted) and the
    unit's supervisors are alerted. ValidationError({"note": ...}) for a missing note."""
    note = (note or "").strip()
    if len(note) < NOTE_MIN_LENGTH:
        raise ValidationError(
            {"note": _("Write what happened (at least %(n)s characters).") % {"n": NOTE_MIN_LENGTH}}
        )
    with transaction.atomic():
        ride = _answerable(ride_id, user)
        _answered(ride, user, note[:NOTE_MAX_LENGTH])
        alert_raise(
            ride=ride,
            kind=AlertKind.ARRIVAL_PROBLEM,
            message=_(
                "A problem was reported after ride %(reference)s. Read the report on the ride's "
                "page."
            )
            % {"reference": ride.reference},
        )
    return ride


def arrivals_unconfirmed_watch(*, now=None) -> int:
    """Beat: raises ARRIVAL_UNCONFIRMED for every ride that ended the SOP's minutes ago
    (within the look-back) without an answer and without that alert. Returns how many."""
    now = now or timezone.now()
    minutes = int(current().value("arrival_confirm_minutes"))
    limit = now - dt.timedelta(minutes=minutes)
    alerted = Alert.objects.filter(ride_id=OuterRef("pk"), kind=AlertKind.ARRIVAL_UNCONFIRMED)
    rides = (
        Ride.objects.filter(
            status=S.COMPLETED,
            arrival_confirmed_at__isnull=True,
            status_changed_at__lte=limit,
            status_changed_at__gt=limit - LOOK_BACK,
        )
        .filter(~Exists(alerted))
        .only("id", "reference", "unit_id")[:500]
    )
    raised = 0
    for ride in rides:
        alert_raise(
            ride=ride,
            kind=AlertKind.ARRIVAL_UNCONFIRMED,
            message=ngettext(
                "Nobody has confirmed the safe arrival of ride %(reference)s, which ended "
                "%(minutes)s minute ago.",
                "Nobody has confirmed the safe arrival of ride %(reference)s, which ended "
                "%(minutes)s minutes ago.",
                minutes,
            )
            % {"reference": ride.reference, "minutes": minutes},
        )
        raised += 1
    return raised
