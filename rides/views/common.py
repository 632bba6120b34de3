"""What every rides page shares: who may use it, how it answers htmx, the links of a
keyset-paged list, and the message that says what happens next to a ride just booked."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from portal.templatetags import portal_format
from rides.models import RideStatus

# A ride scheduled further ahead than this is not being searched for yet.
LATER = dt.timedelta(minutes=10)


def require_booking_role(user) -> None:
    """Booking is for caseworkers and supervisors; admins never see case contents."""
    if user.role not in (Role.CASEWORKER, Role.SUPERVISOR):
        raise PermissionDenied


def require_supervisor(user) -> None:
    if user.role != Role.SUPERVISOR or user.unit_id is None:
        raise PermissionDenied


def is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def pager(page, kept: dict | None = None) -> dict:
    """The query strings of the newer and older pages of a KeysetPage (portal/keyset.py),
    each keeping the filters in `kept`; "" where there is no such page."""

    def query(name: str, cursor: str | None) -> str:
        if page is None or not cursor:
            return ""
        values = QueryDict(mutable=True)
        values.update(kept or {})
        values[name] = cursor
        return values.urlencode()

    return {
        "previous_query": query("before", page and page.previous_cursor),
        "next_query": query("after", page and page.next_cursor),
    }


def show_errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def announce_booking(request, ride, *, rebooked: bool = False) -> None:
    """The message after a ride is booked or rebooked (see booking_outcome)."""
    level, text = booking_outcome(ride, rebooked=rebooked)
    messages.add_message(request, getattr(messages, level.upper()), text)


def booking_outcome(ride, *, rebooked: bool = False) -> tuple[str, str]:
    """What happens next to a ride just booked, as a message level and a sentence: waiting
    for approval is news, not an error; a ride for later is not being searched for yet."""
    if ride.status == RideStatus.AWAITING_APPROVAL:
        if rebooked:
            return "info", _("Rebooked. The new ride is waiting for a supervisor's approval.")
        return "info", _("The ride is booked and waiting for a supervisor's approval.")
    at = ride.scheduled_pickup_at
    if at is not None and at > timezone.now() + LATER:
        when = portal_format.when(at)
        if rebooked:
            text = _("Rebooked for %(when)s. The partner looks for a driver shortly before.")
        else:
            text = _(
                "The ride is booked for %(when)s. The partner looks for a driver shortly before."
            )
        return "success", text % {"when": when}
    if rebooked:
        return "success", _("Rebooked. The partner is looking for a driver.")
    return "success", _("The ride is booked. The partner is looking for a driver.")
