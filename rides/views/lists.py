"""Lists of rides: "my rides today" (a supervisor: the unit's), and the supervisor's
approval queue with its approve and reject buttons and the header's badge counting the
rides that wait (an htmx partial polled with the notices badge)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.services import access_log_record_many
from portal.views import passive
from rides.booking.services import ride_approve as approve
from rides.booking.services import ride_reject as reject
from rides.forms import RejectForm
from rides.notices import badge_label
from rides.rules import approval_reason_text, decision_refusal
from rides.selectors import (
    point_label,
    ride_get_for_user,
    rides_awaiting_approval_for,
    rides_today_for,
)
from rides.views.common import is_htmx, require_booking_role, require_supervisor, show_errors


@require_GET
def ride_list(request):
    """ "My rides today" (a supervisor: the unit's)."""
    require_booking_role(request.user)
    rides = list(rides_today_for(request.user))
    template = "rides/_ride_rows.html" if is_htmx(request) else "rides/list.html"
    response = render(request, template, {"rides": rides})
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def approval_queue(request):
    require_supervisor(request.user)
    return _render_queue(request)


def _typed_points(ride) -> list[str]:
    """The protected fields a queue card shows: a typed point's address (a survivor's
    home, perhaps); a place's name or a safe house's meeting point is not protected."""
    points = (("ride.pickup", ride.pickup_place), ("ride.dropoff", ride.dropoff_place))
    return [name for name, place in points if place is None]


def _render_queue(request, *, reject_forms=None, status=200):
    rides = list(rides_awaiting_approval_for(request.user))
    reject_forms = reject_forms or {}
    rows = [
        {
            "ride": ride,
            "pickup": point_label(ride.pickup_place, ride.pickup),
            "dropoff": point_label(ride.dropoff_place, ride.dropoff),
            "reasons": [approval_reason_text(r) for r in ride.approval_reasons],
            # Someone else decides on one's own booking: no buttons, the reason instead.
            "refusal": decision_refusal(ride, request.user),
            "reject_form": reject_forms.get(ride.pk) or RejectForm(prefix=f"r{ride.pk}"),
        }
        for ride in rides
    ]
    fields_by_case: dict[int, list[str]] = {}
    for ride in rides:
        fields_by_case.setdefault(ride.case_id, []).extend(_typed_points(ride))
    access_log_record_many(
        user=request.user, fields_by_case=fields_by_case, request=request, view="rides:approvals"
    )
    return render(request, "rides/approvals.html", {"rows": rows}, status=status)


@passive
@require_GET
def approval_badge(request):
    """The header's badge alone (polled by htmx): how many rides wait for approval."""
    require_supervisor(request.user)
    count = rides_awaiting_approval_for(request.user).count()
    response = render(
        request, "rides/_approval_badge.html", {"count": count, "shown": badge_label(count)}
    )
    add_never_cache_headers(response)
    return response


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
def ride_approve(request, reference):
    require_supervisor(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    try:
        approve(ride_id=ride.pk, user=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(
            request, _("Ride %(ref)s approved and sent to the partner.") % {"ref": ride.reference}
        )
    return redirect(_next_url(request, reverse("rides:approvals")))


@require_POST
def ride_reject(request, reference):
    require_supervisor(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    form = RejectForm(request.POST, prefix=f"r{ride.pk}")
    if form.is_valid():
        try:
            reject(ride_id=ride.pk, user=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "reason" in exc.message_dict:
                form.add_error("reason", exc.message_dict["reason"])
            else:
                show_errors(request, exc)
                return redirect(_next_url(request, reverse("rides:approvals")))
        else:
            messages.success(request, _("Ride %(ref)s rejected.") % {"ref": ride.reference})
            return redirect(_next_url(request, reverse("rides:approvals")))
    return _render_queue(request, reject_forms={ride.pk: form}, status=400)
