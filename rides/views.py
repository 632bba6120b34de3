"""Booking and ride pages: thin — parse, call the booking service or a selector, render.

The booking page works without JavaScript (one form in sections; "Get fare estimate"
and "Book the ride" are ordinary submit buttons); htmx only makes the estimate arrive
without a page load, and the ride page refresh itself while the ride is active.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from cases.models import SavedAddress
from cases.selectors import (
    case_get_for_user,
    consent_allows_sharing_phone,
    consent_for_transport,
    place_address_visible_to,
    places_for,
)
from cases.services import access_log_record
from partners.client.errors import OutsideServiceArea, PartnerError
from rides import booking
from rides.booking_selectors import (
    ride_get_for_user,
    ride_is_live,
    rides_awaiting_approval_for,
    rides_today_for,
)
from rides.forms import (
    BookingForm,
    CancelForm,
    CaseFinderForm,
    RejectForm,
    apply_booking_errors,
)
from rides.models import TERMINAL, RideStatus

# A kept estimate is reused for the booking while it is this fresh (seconds).
QUOTE_MAX_AGE = 300
QUOTES_KEPT = 10
TOKENS_KEPT = 30
# Field groups the htmx estimate refreshes out of band, so their errors show or clear.
ERROR_SLOTS = tuple(
    f"{prefix}_{part}"
    for prefix in ("pickup", "dropoff")
    for part in ("source", "place", "saved", "address", "latitude", "longitude")
) + (
    "purpose",
    "purpose_note",
    "when",
    "scheduled_at",
    "passenger_count",
    "escort_name",
    "escort_phone",
)
# The ride page shows these protected values (typed points may be a survivor's home).
RIDE_PAGE_FIELDS = ["ride.pickup", "ride.dropoff", "ride.escort", "ride.rider_phone"]


def _require_booking_role(user) -> None:
    """Booking is for caseworkers and supervisors; admins never see case contents."""
    if user.role not in (Role.CASEWORKER, Role.SUPERVISOR):
        raise PermissionDenied


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


# --- estimates kept in the (server-side) session ----------------------------------------


def _kept_quote(request, plan) -> booking.FareQuote | None:
    kept = request.session.get("booking_quotes", {}).get(plan.quote_fingerprint())
    if not kept or time.time() - kept.get("at", 0) > QUOTE_MAX_AGE:
        return None
    expires_at = kept.get("expires_at")
    return booking.FareQuote(
        product_id=kept["product_id"],
        fare_amount=kept["fare_amount"],
        pickup_eta_seconds=kept.get("pickup_eta_seconds"),
        fare_id=kept.get("fare_id", ""),
        expires_at=dt.datetime.fromisoformat(expires_at) if expires_at else None,
    )


def _keep_quote(request, plan, quote: booking.FareQuote) -> None:
    kept = dict(request.session.get("booking_quotes", {}))
    kept[plan.quote_fingerprint()] = {
        "product_id": quote.product_id,
        "fare_amount": quote.fare_amount,
        "pickup_eta_seconds": quote.pickup_eta_seconds,
        "fare_id": quote.fare_id,
        "expires_at": quote.expires_at.isoformat() if quote.expires_at else None,
        "at": time.time(),
    }
    newest = sorted(kept.items(), key=lambda item: item[1]["at"])[-QUOTES_KEPT:]
    request.session["booking_quotes"] = dict(newest)


def _estimate_shown(plan, quote, error) -> dict:
    reasons = booking.approval_reasons_for(
        plan, quote=quote, fare_unavailable=error is not None and error.temporary
    )
    return {
        "shown": True,
        "plan": plan,
        "quote": quote,
        "error": error,
        "reasons": [booking.approval_reason_text(reason) for reason in reasons],
    }


def _fresh_quote(request, plan) -> tuple[booking.FareQuote | None, PartnerError | None]:
    """Asks the partner (outside any transaction); a failure is returned, not raised."""
    try:
        quote = booking.booking_estimate(plan)
    except PartnerError as exc:
        return None, exc
    if quote is not None:
        _keep_quote(request, plan, quote)
    return quote, None


# --- the booking page -------------------------------------------------------------------


def _booking_context(request, case, form, **extra) -> dict:
    places = list(places_for(request.user))
    map_places = [
        {"id": p.pk, "name": p.name, "lat": float(p.latitude), "lon": float(p.longitude)}
        for p in places
        if not p.is_protected
    ]
    survivor = case.survivor
    return {
        "case": case,
        "form": form,
        "is_child": survivor.is_child,
        "alias": survivor.alias,
        "has_transport_consent": consent_for_transport(case) is not None,
        "may_share_phone": consent_allows_sharing_phone(case),
        "survivor_has_phone": bool(survivor.phone),
        "map_places": map_places,
        "service_area": booking.SERVICE_AREA,
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        **extra,
    }


def _saved_addresses(request, case) -> list[SavedAddress]:
    saved = list(SavedAddress.objects.filter(survivor__case=case).order_by("created_at", "id"))
    if saved:
        access_log_record(
            user=request.user,
            case=case,
            fields=["saved_addresses"],
            request=request,
            view="rides:book",
        )
    return saved


def _case_for_booking(request, code: str):
    """The case to book for, or (None, response) with the case finder and a message."""
    finder = CaseFinderForm({"case": code})
    finder.is_valid()
    try:
        case = case_get_for_user(user=request.user, code=code)
    except Http404:
        finder.add_error(
            "case",
            _(
                "No case with this code that you can book for. Check the code, "
                "or open the case list."
            ),
        )
        return None, render(request, "rides/find_case.html", {"finder": finder}, status=404)
    if not case.is_active:
        finder.add_error("case", _("This case is closed. Reopen it before booking a ride."))
        return None, render(request, "rides/find_case.html", {"finder": finder, "case": case})
    return case, None


def _booked_reference(request, token: str) -> str | None:
    return request.session.get("booking_tokens", {}).get(token) if token else None


def _remember_booking(request, token: str, reference: str) -> None:
    if not token:
        return
    tokens = dict(request.session.get("booking_tokens", {}))
    tokens[token] = reference
    request.session["booking_tokens"] = dict(list(tokens.items())[-TOKENS_KEPT:])


@require_http_methods(["GET", "POST"])
def ride_new(request):
    """Find the case, then one form: purpose, pickup, drop-off, when, passengers and
    escort, the partner's fare and ETA, confirm."""
    _require_booking_role(request.user)
    code = (request.POST.get("case") or request.GET.get("case") or "").strip()
    if not code:
        return render(request, "rides/find_case.html", {"finder": CaseFinderForm()})
    case, response = _case_for_booking(request, code)
    if response is not None:
        return response
    saved = _saved_addresses(request, case)
    places = places_for(request.user)
    if request.method == "GET":
        form = BookingForm(
            places=places,
            saved_addresses=saved,
            initial={
                "booking_token": uuid.uuid4().hex,
                "passenger_count": 2 if case.survivor.is_child else 1,
            },
        )
        return render(request, "rides/book.html", _booking_context(request, case, form))

    form = BookingForm(request.POST, places=places, saved_addresses=saved)
    token = request.POST.get("booking_token", "")
    already = _booked_reference(request, token)
    if already:
        messages.info(request, _("This ride was already booked."))
        return redirect("rides:detail", reference=already)
    action = request.POST.get("action", "book")
    estimate = {}
    if form.is_valid():
        args = form.booking_args(case_code=case.code)
        try:
            plan = booking.booking_check(user=request.user, **args)
        except ValidationError as exc:
            apply_booking_errors(form, exc)
        else:
            if action == "estimate":
                estimate = _estimate_shown(plan, *_fresh_quote(request, plan))
            else:
                return _book(request, form, case, args, plan, token)
    context = _booking_context(request, case, form, estimate=estimate)
    return render(request, "rides/book.html", context)


def _book(request, form, case, args, plan, token):
    quote = _kept_quote(request, plan)
    error = None
    if quote is None:
        quote, error = _fresh_quote(request, plan)
    if isinstance(error, OutsideServiceArea):
        form.add_error(None, error.user_message)
        estimate = _estimate_shown(plan, None, error)
        return render(
            request, "rides/book.html", _booking_context(request, case, form, estimate=estimate)
        )
    unavailable = error is not None and error.temporary
    try:
        ride = booking.ride_book(
            user=request.user, quote=quote, fare_unavailable=unavailable, **args
        )
    except ValidationError as exc:
        apply_booking_errors(form, exc)
        return render(request, "rides/book.html", _booking_context(request, case, form))
    _remember_booking(request, token, ride.reference)
    if ride.status == RideStatus.AWAITING_APPROVAL:
        messages.warning(request, _("The ride is booked and waiting for a supervisor's approval."))
    else:
        messages.success(request, _("The ride is booked. The partner is looking for a driver."))
    return redirect("rides:detail", reference=ride.reference)


@require_POST
def ride_estimate(request):
    """htmx: the partner's fare and pickup ETA for what the form holds now, with every
    field's error slot refreshed out of band (so the form itself is never replaced)."""
    _require_booking_role(request.user)
    code = (request.POST.get("case") or "").strip()
    case = case_get_for_user(user=request.user, code=code)
    # The saved-address fields come back with the answer: that shows them again.
    saved = _saved_addresses(request, case)
    form = BookingForm(request.POST, places=places_for(request.user), saved_addresses=saved)
    estimate = {"shown": True}
    if form.is_valid():
        try:
            plan = booking.booking_check(
                user=request.user, **form.booking_args(case_code=case.code)
            )
        except ValidationError as exc:
            apply_booking_errors(form, exc)
        else:
            estimate = _estimate_shown(plan, *_fresh_quote(request, plan))
    context = {
        "form": form,
        "estimate": estimate,
        "slot_fields": [form[name] for name in ERROR_SLOTS if saved or not name.endswith("_saved")],
        "case": case,
    }
    response = render(request, "rides/_estimate_response.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- the ride page ------------------------------------------------------------------------


def _ride_context(request, ride, **extra) -> dict:
    rebooking = next(iter(ride.rebookings.all()), None)
    return {
        "ride": ride,
        "live": ride_is_live(ride),
        "events": list(ride.events.all()),
        "rebooking": rebooking,
        "is_supervisor_of_unit": (
            request.user.role == Role.SUPERVISOR and request.user.unit_id == ride.unit_id
        ),
        "pickup_label": _point_label(request.user, ride.pickup_place, ride.pickup),
        "dropoff_label": _point_label(request.user, ride.dropoff_place, ride.dropoff),
        "approval_reasons": [booking.approval_reason_text(r) for r in ride.approval_reasons],
        "cancel_form": CancelForm(),
        "reject_form": RejectForm(prefix=f"r{ride.pk}"),
        "terminal": ride.status in TERMINAL,
        "show_cancel": ride.can_cancel and ride.cancel_requested_at is None,
        "can_rebook": rebooking is None
        and ride.can_rebook
        and not ride.rejection_reason
        and not (ride.status == RideStatus.NEEDS_ATTENTION and ride.partner_trip_id),
        "can_retry": ride.status == RideStatus.NEEDS_ATTENTION
        and not ride.partner_trip_id
        and ride.cancel_requested_at is None,
        **extra,
    }


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
    return {"name": place.name, "address": place.address}


@require_GET
def ride_detail(request, reference):
    _require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference, with_events=True)
    access_log_record(
        user=request.user,
        case=ride.case,
        fields=RIDE_PAGE_FIELDS,
        request=request,
        view="rides:detail",
    )
    return render(request, "rides/detail.html", _ride_context(request, ride))


@require_GET
def ride_live(request, reference):
    """htmx partial: status, driver, vehicle, ETA and the trip log (no protected data)."""
    _require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference, with_events=True)
    response = render(request, "rides/_live.html", _ride_context(request, ride, partial=True))
    patch_vary_headers(response, ["HX-Request"])
    return response


def _back_to_ride(ride_reference):
    return redirect("rides:detail", reference=ride_reference)


def _show_errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@require_POST
def ride_cancel(request, reference):
    from rides.services import ride_cancel as cancel

    _require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        ride = cancel(ride_id=ride.pk, user=request.user, reason=reason)
    except ValidationError as exc:
        _show_errors(request, exc)
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
    _require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    try:
        new = booking.ride_rebook(ride_id=ride.pk, user=request.user)
    except ValidationError as exc:
        _show_errors(request, exc)
        return _back_to_ride(ride.reference)
    if new.status == RideStatus.AWAITING_APPROVAL:
        messages.warning(
            request, _("Rebooked. The new ride is waiting for a supervisor's approval.")
        )
    else:
        messages.success(request, _("Rebooked. The partner is looking for a driver."))
    return _back_to_ride(new.reference)


@require_POST
def ride_retry(request, reference):
    from rides.services import ride_retry as retry

    _require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    try:
        retry(ride_id=ride.pk, user=request.user)
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, _("Sent to the partner again."))
    return _back_to_ride(ride.reference)


# --- lists and approvals ------------------------------------------------------------------


@require_GET
def ride_list(request):
    """ "My rides today" (a supervisor: the unit's)."""
    _require_booking_role(request.user)
    rides = list(rides_today_for(request.user))
    template = "rides/_ride_rows.html" if _is_htmx(request) else "rides/list.html"
    response = render(request, template, {"rides": rides})
    patch_vary_headers(response, ["HX-Request"])
    return response


def _require_supervisor(user) -> None:
    if user.role != Role.SUPERVISOR or user.unit_id is None:
        raise PermissionDenied


@require_GET
def approval_queue(request):
    _require_supervisor(request.user)
    return _render_queue(request)


def _render_queue(request, *, reject_forms=None, status=200):
    rides = list(rides_awaiting_approval_for(request.user))
    reject_forms = reject_forms or {}
    rows = [
        {
            "ride": ride,
            "reasons": [booking.approval_reason_text(r) for r in ride.approval_reasons],
            "reject_form": reject_forms.get(ride.pk) or RejectForm(prefix=f"r{ride.pk}"),
        }
        for ride in rides
    ]
    return render(request, "rides/approvals.html", {"rows": rows}, status=status)


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
def ride_approve(request, reference):
    _require_supervisor(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    try:
        booking.ride_approve(ride_id=ride.pk, user=request.user)
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(
            request, _("Ride %(ref)s approved and sent to the partner.") % {"ref": ride.reference}
        )
    return redirect(_next_url(request, reverse("rides:approvals")))


@require_POST
def ride_reject(request, reference):
    _require_supervisor(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    form = RejectForm(request.POST, prefix=f"r{ride.pk}")
    if form.is_valid():
        try:
            booking.ride_reject(
                ride_id=ride.pk, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "reason" in exc.message_dict:
                form.add_error("reason", exc.message_dict["reason"])
            else:
                _show_errors(request, exc)
                return redirect(_next_url(request, reverse("rides:approvals")))
        else:
            messages.success(request, _("Ride %(ref)s rejected.") % {"ref": ride.reference})
            return redirect(_next_url(request, reverse("rides:approvals")))
    return _render_queue(request, reject_forms={ride.pk: form}, status=400)
