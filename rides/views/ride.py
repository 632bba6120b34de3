"""The ride page and what a person does on it: watch, cancel, rebook, send again.

The page refreshes itself (htmx) while the ride is active; its map (static/js/ride_map.js)
shows the pickup, the drop-off and, while a driver is on the way, the driver's position,
which the refreshed partial carries in data attributes. The buttons it shows are the
ones rides.selectors.ride_actions_for allows, decided as the services decide.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.places import place_address_views_record
from cases.selectors import place_address_visible_to
from cases.services import access_log_record
from portal.views import passive
from rides.booking.services import ride_rebook as rebook
from rides.forms import ArrivalProblemForm, CancelForm, RejectForm
from rides.models import RideStatus
from rides.models.states import TERMINAL
from rides.pipeline.arrival import arrival_pending
from rides.pipeline.cancel import ride_cancel as cancel
from rides.pipeline.dispatch import ride_retry as retry
from rides.rules import approval_reason_text
from rides.selectors import ride_actions_for, ride_get_for_user, ride_is_live
from rides.views.common import announce_booking, require_booking_role, show_errors

# The ride page shows these protected values (typed points may be a survivor's home).
RIDE_PAGE_FIELDS = ["ride.pickup", "ride.dropoff", "ride.escort", "ride.rider_phone"]
# The statuses in which the map shows the driver's position.
DRIVER_SHOWN = frozenset({RideStatus.DRIVER_ASSIGNED, RideStatus.ARRIVING, RideStatus.ON_TRIP})


def _point_label(user, place, point) -> dict:
    """What the page shows for a point: a place by name (a protected one's address only
    to those who may see it; its neutral point otherwise), a typed point by its address."""
    point = point or {}
    if place is None:
        return {"name": "", "address": point.get("address", "")}
    if place.is_protected and not place_address_visible_to(user, place):
        return {
            "name": place.name,
            "address": _("Meeting point: %(point)s") % {"point": place.neutral_address},
        }
    if place.is_protected:
        place_address_views_record(user=user, places=[place], view="rides:ride")
    return {"name": place.name, "address": place.address}


def _map_point(point, label: dict, kind: str) -> dict | None:
    """A pin for the ride map: the point the partner got (a protected place's neutral
    point, never the house), labelled as the page labels it."""
    point = point or {}
    try:
        latitude, longitude = float(point["latitude"]), float(point["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    # A typed address reads "name or street, district, city": its first part labels the
    # pin (the whole of it ran off a phone's map); the page lists the full address.
    name = label["name"] or label["address"].split(",", 1)[0].strip()
    return {"lat": latitude, "lon": longitude, "label": kind, "name": name}


def _ride_map(ride, pickup_label: dict, dropoff_label: dict) -> dict | None:
    pins = [
        _map_point(ride.pickup, pickup_label, str(_("Pickup"))),
        _map_point(ride.dropoff, dropoff_label, str(_("Drop-off"))),
    ]
    pins = [pin for pin in pins if pin]
    if not pins:
        return None
    return {
        "pins": pins,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }


def _driver_position(ride) -> dict | None:
    """Where the partner last said the driver is, while the ride is under way."""
    if ride.status not in DRIVER_SHOWN or ride.driver_latitude is None:
        return None
    if ride.driver_longitude is None:
        return None
    return {"lat": ride.driver_latitude, "lon": ride.driver_longitude}


def ride_context(request, ride, **extra) -> dict:
    rebooking = next(iter(ride.rebookings.all()), None)
    actions = ride_actions_for(request.user, ride, rebooking=rebooking)
    pickup_label = _point_label(request.user, ride.pickup_place, ride.pickup)
    dropoff_label = _point_label(request.user, ride.dropoff_place, ride.dropoff)
    return {
        "ride": ride,
        "live": ride_is_live(ride),
        "events": list(ride.events.all()),
        "rebooking": rebooking,
        "is_supervisor_of_unit": actions.decide,
        "decide_refusal": actions.decide_refusal,
        "pickup_label": pickup_label,
        "dropoff_label": dropoff_label,
        "ride_map": _ride_map(ride, pickup_label, dropoff_label),
        "driver_position": _driver_position(ride),
        "approval_reasons": [approval_reason_text(r) for r in ride.approval_reasons],
        "cancel_form": CancelForm(),
        "reject_form": RejectForm(prefix=f"r{ride.pk}"),
        "terminal": ride.status in TERMINAL,
        "show_cancel": actions.cancel,
        "can_rebook": actions.rebook,
        "can_retry": actions.retry,
        "arrival_pending": arrival_pending(ride),
        "arrival_form": ArrivalProblemForm(),
        **extra,
    }


@require_GET
def ride_detail(request, reference):
    require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference, with_events=True)
    access_log_record(
        user=request.user,
        case=ride.case,
        fields=RIDE_PAGE_FIELDS,
        request=request,
        view="rides:detail",
    )
    return render(request, "rides/detail.html", ride_context(request, ride))


@passive
@require_GET
def ride_live(request, reference):
    """htmx partial: status, driver, vehicle, ETA and the trip log (no protected data)."""
    require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference, with_events=True)
    response = render(request, "rides/_live.html", ride_context(request, ride, partial=True))
    patch_vary_headers(response, ["HX-Request"])
    return response


def _back_to_ride(ride_reference):
    return redirect("rides:detail", reference=ride_reference)


@require_POST
def ride_cancel(request, reference):
    require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        ride = cancel(ride_id=ride.pk, user=request.user, reason=reason)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        if ride.status == RideStatus.CANCELLED:
            messages.success(request, _("The ride is cancelled."))
        else:
            messages.info(
                request,
                _("Cancellation requested. The page shows it once the partner confirms."),
            )
    return _back_to_ride(ride.reference)


@require_POST
def ride_rebook(request, reference):
    require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    try:
        new = rebook(ride_id=ride.pk, user=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
        return _back_to_ride(ride.reference)
    announce_booking(request, new, rebooked=True)
    return _back_to_ride(new.reference)


@require_POST
def ride_retry(request, reference):
    require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    try:
        retry(ride_id=ride.pk, user=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Sent to the partner again."))
    return _back_to_ride(ride.reference)
