"""The booking page: find the case, then one form; "Get fare estimate" and "Book the
ride" each call one booking service (rides/booking/services.py).

The page works without JavaScript (one form in sections; both buttons are ordinary
submit buttons); htmx only makes the estimate arrive without a page load. The estimate
shown is kept in the (server-side) session and reused for the booking while fresh.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.models import SavedAddress
from cases.selectors import (
    case_get_for_user,
    consent_allows_sharing_phone,
    consent_for_transport,
    places_for,
)
from cases.services import access_log_record
from partners.selectors import partner_accounts_for_unit
from portal.geo import SERVICE_AREA
from rides.booking.check import booking_problems
from rides.booking.fare import FareEstimate
from rides.booking.services import TripRefused, booking_estimate, ride_book
from rides.forms import BookingForm, CaseFinderForm, apply_booking_errors
from rides.rules import BookingPlan, FareQuote
from rides.views.common import announce_booking, require_booking_role

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


class SessionQuotes:
    """The estimates a person was shown, kept in their session by what they depend on."""

    def __init__(self, session):
        self.session = session

    def kept(self, plan: BookingPlan) -> FareQuote | None:
        kept = self.session.get("booking_quotes", {}).get(plan.quote_fingerprint())
        if not kept or time.time() - kept.get("at", 0) > QUOTE_MAX_AGE:
            return None
        expires_at = kept.get("expires_at")
        return FareQuote(
            product_id=kept["product_id"],
            fare_amount=kept["fare_amount"],
            pickup_eta_seconds=kept.get("pickup_eta_seconds"),
            fare_id=kept.get("fare_id", ""),
            expires_at=dt.datetime.fromisoformat(expires_at) if expires_at else None,
        )

    def keep(self, plan: BookingPlan, quote: FareQuote) -> None:
        kept = dict(self.session.get("booking_quotes", {}))
        kept[plan.quote_fingerprint()] = {
            "product_id": quote.product_id,
            "fare_amount": quote.fare_amount,
            "pickup_eta_seconds": quote.pickup_eta_seconds,
            "fare_id": quote.fare_id,
            "expires_at": quote.expires_at.isoformat() if quote.expires_at else None,
            "at": time.time(),
        }
        newest = sorted(kept.items(), key=lambda item: item[1]["at"])[-QUOTES_KEPT:]
        self.session["booking_quotes"] = dict(newest)


def _estimate_shown(estimate: FareEstimate) -> dict:
    return {
        "shown": True,
        "plan": estimate.plan,
        "quote": estimate.quote,
        "error": estimate.error,
        "reasons": estimate.approval_reason_texts(),
    }


def _estimate_or_errors(request, form, case) -> dict | None:
    """The estimate for what the form holds; None when the rules' errors went on the form."""
    try:
        estimate = booking_estimate(
            user=request.user,
            quotes=SessionQuotes(request.session),
            **form.booking_args(case_code=case.code),
        )
    except ValidationError as exc:
        apply_booking_errors(form, exc)
        return None
    return _estimate_shown(estimate)


def _add_check_errors(request, form, case) -> None:
    """A form with errors of its own also shows what the SOP check says about the rest,
    so every mistake is reported at once."""
    problems = booking_problems(
        user=request.user, unread=form.unread_keys(), **form.booking_args(case_code=case.code)
    )
    if problems:
        apply_booking_errors(form, ValidationError(problems))


def _booking_context(request, case, form, **extra) -> dict:
    places = list(places_for(request.user))
    map_places = [
        {
            "id": p.pk,
            "name": p.name,
            "kind": str(p.get_kind_display()),
            "lat": float(p.latitude),
            "lon": float(p.longitude),
        }
        for p in places
        if not p.is_protected
    ]
    survivor = case.survivor
    return {
        "guardian_escort": form.guardian,
        "case": case,
        "form": form,
        "is_child": survivor.is_child,
        "alias": survivor.alias,
        "has_transport_consent": consent_for_transport(case) is not None,
        "may_share_phone": consent_allows_sharing_phone(case),
        "survivor_has_phone": bool(survivor.phone),
        "map_places": map_places,
        "service_area": SERVICE_AREA.as_dict(),
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "address_search": bool(settings.GEOCODER_URL),
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


def _guardian(request, case):
    """The case's survivor when a guardian is recorded (offered as the escort: the form
    shows their name and phone, so the view is access-logged), else None."""
    survivor = case.survivor
    if not survivor.has_guardian:
        return None
    access_log_record(
        user=request.user, case=case, fields=["guardian"], request=request, view="rides:book"
    )
    return survivor


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
    require_booking_role(request.user)
    code = (request.POST.get("case") or request.GET.get("case") or "").strip()
    if not code:
        return render(request, "rides/find_case.html", {"finder": CaseFinderForm()})
    case, response = _case_for_booking(request, code)
    if response is not None:
        return response
    saved = _saved_addresses(request, case)
    places = places_for(request.user)
    guardian = _guardian(request, case)
    if request.method == "GET":
        initial = {
            "booking_token": uuid.uuid4().hex,
            "passenger_count": 2 if case.survivor.is_child else 1,
        }
        if guardian is not None and guardian.is_child:
            initial.update(
                escort_from="guardian",
                escort_name=guardian.guardian_name,
                escort_phone=guardian.guardian_phone,
            )
        form = BookingForm(
            places=places,
            saved_addresses=saved,
            guardian=guardian,
            partner_accounts=partner_accounts_for_unit(case.unit_id),
            initial=initial,
        )
        return render(request, "rides/book.html", _booking_context(request, case, form))

    form = BookingForm(
        request.POST,
        places=places,
        saved_addresses=saved,
        guardian=guardian,
        partner_accounts=partner_accounts_for_unit(case.unit_id),
    )
    token = request.POST.get("booking_token", "")
    already = _booked_reference(request, token)
    if already:
        messages.info(request, _("This ride was already booked."))
        return redirect("rides:detail", reference=already)
    estimate = {}
    if form.is_valid():
        if request.POST.get("action", "book") == "estimate":
            estimate = _estimate_or_errors(request, form, case) or {}
        else:
            return _book(request, form, case, token)
    else:
        _add_check_errors(request, form, case)
    context = _booking_context(request, case, form, estimate=estimate)
    return render(request, "rides/book.html", context)


def _book(request, form, case, token):
    try:
        ride = ride_book(
            user=request.user,
            quotes=SessionQuotes(request.session),
            **form.booking_args(case_code=case.code),
        )
    except ValidationError as exc:
        apply_booking_errors(form, exc)
        return render(request, "rides/book.html", _booking_context(request, case, form))
    except TripRefused as refused:
        form.add_error(None, refused.user_message)
        estimate = _estimate_shown(FareEstimate(refused.plan, None, refused.error))
        return render(
            request, "rides/book.html", _booking_context(request, case, form, estimate=estimate)
        )
    _remember_booking(request, token, ride.reference)
    announce_booking(request, ride)
    return redirect("rides:detail", reference=ride.reference)


@require_POST
def ride_estimate(request):
    """htmx: the partner's fare and pickup ETA for what the form holds now, with every
    field's error slot refreshed out of band (so the form itself is never replaced)."""
    require_booking_role(request.user)
    code = (request.POST.get("case") or "").strip()
    case = case_get_for_user(user=request.user, code=code)
    # The saved-address fields come back with the answer: that shows them again.
    saved = _saved_addresses(request, case)
    guardian = case.survivor if case.survivor.has_guardian else None
    form = BookingForm(
        request.POST,
        places=places_for(request.user),
        saved_addresses=saved,
        guardian=guardian,
        partner_accounts=partner_accounts_for_unit(case.unit_id),
    )
    if form.is_valid():
        estimate = _estimate_or_errors(request, form, case) or {"shown": True}
    else:
        _add_check_errors(request, form, case)
        estimate = {"shown": True}
    context = {
        "form": form,
        "estimate": estimate,
        "slot_fields": [form[name] for name in ERROR_SLOTS if saved or not name.endswith("_saved")],
        "case": case,
    }
    response = render(request, "rides/_estimate_response.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response
