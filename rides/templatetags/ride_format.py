"""Template filters that show a ride: its status badge, an ETA in minutes, the car."""

from django import template
from django.utils.translation import gettext, ngettext

from rides.models import RideStatus

register = template.Library()

GOOD = {RideStatus.COMPLETED}
BAD = {
    RideStatus.CANCELLED,
    RideStatus.REJECTED,
    RideStatus.NO_DRIVER,
    RideStatus.FAILED,
    RideStatus.NEEDS_ATTENTION,
}


@register.filter
def status_class(status: str) -> str:
    """The badge style of a ride status: finished well, finished badly, or under way."""
    if status in GOOD:
        return "final-good"
    if status in BAD:
        return "final-bad"
    if status == RideStatus.AWAITING_APPROVAL:
        return "waiting"
    return "active"


@register.filter
def eta_minutes(seconds) -> str:
    """An ETA in whole minutes, rounded up: "about 4 minutes"; under a minute says so."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    if seconds < 60:
        return gettext("less than a minute")
    minutes = (seconds + 59) // 60
    return ngettext("about %(n)d minute", "about %(n)d minutes", minutes) % {"n": minutes}


@register.filter
def product_label(product_id: str) -> str:
    if product_id == "car_xl":
        return gettext("Car XL (5 to 6 passengers)")
    return gettext("Car")
