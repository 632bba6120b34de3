"""The booking form's address search (htmx): what a person typed → the geocoder's places.

The query may be a survivor's address, so it comes by POST (never in a URL a server
logs), is sent to the geocoder only (portal/geocoder.py), and is neither stored nor
logged. The answer is a list of suggestions for the pickup or the drop-off; picking one
is static/js/address_search.js's work.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from portal import geocoder
from rides.views.common import require_booking_role

POINTS = ("pickup", "dropoff")
MIN_QUERY_LENGTH = 3
QUERY_MAX_LENGTH = 120
SUGGESTIONS = 8
# What a suggestion says a place is, by the geocoder's type.
KIND_LABELS = {
    "hospital": _("Hospital"),
    "clinic": _("Clinic"),
    "police": _("Police station"),
    "courthouse": _("Court"),
    "government": _("Government office"),
    "townhall": _("Government office"),
    "station": _("Station"),
    "bus_station": _("Bus terminal"),
    "attraction": _("Landmark"),
    "monument": _("Landmark"),
    "administrative": _("Kelurahan"),
}
PLACE_WORD = _("Place")
UNAVAILABLE = _(
    "The address search is not available right now. Type the address and set the pin on the map."
)


def _suggestion(place: geocoder.Place) -> dict:
    return {
        "name": place.name,
        "kind": KIND_LABELS.get(place.kind, PLACE_WORD),
        "address": place.address,
        "latitude": f"{place.latitude:.6f}",
        "longitude": f"{place.longitude:.6f}",
        "fill": f"{place.name}, {place.address}" if place.address else place.name,
    }


@require_POST
def address_search(request):
    require_booking_role(request.user)  # caseworkers and supervisors, each of a unit
    point = request.POST.get("point", "")
    if point not in POINTS:
        point = POINTS[0]
    query = " ".join(request.POST.get(f"{point}_search", "").split())[:QUERY_MAX_LENGTH]
    context = {"point": point, "query": query, "suggestions": [], "message": ""}
    if len(query) < MIN_QUERY_LENGTH:
        context["message"] = _("Type at least %(count)d letters to search.") % {
            "count": MIN_QUERY_LENGTH
        }
        if not query:
            context["message"] = ""
    else:
        try:
            places = geocoder.search(query, limit=SUGGESTIONS)
        except geocoder.GeocoderUnavailable:
            context["message"] = UNAVAILABLE
        else:
            context["suggestions"] = [_suggestion(p) for p in places]
            if not places:
                context["message"] = _(
                    "Nothing found. Try another name or street, or set the pin on the map."
                )
    response = render(request, "rides/_address_suggestions.html", context)
    response["Cache-Control"] = "no-store"
    return response
