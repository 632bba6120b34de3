"""The whole booking check: a request (from a page, the API or a rebook) resolved into a
`BookingPlan`, or every problem at once. Writes nothing and never calls the partner.

What it reads for the rules (rides/booking/rules.py): the case and whether the person may
book for it (visible, active, assigned to them or in the unit they supervise: else 404,
so its existence is not revealed), the consent, the places and saved addresses a point
names, the partner account (one of the unit's) and the SOP's values of the moment
(sop.selectors.current(): fare ceiling, service hours). A protected place resolves to
its neutral point.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, Place, SavedAddress
from cases.selectors import (
    case_can_book,
    case_get_for_user,
    consent_allows_sharing_phone,
    consent_for_transport,
    places_for,
)
from partners.models import PartnerAccount
from partners.selectors import default_partner_account_for, partner_accounts_for_unit
from portal.geo import ADDRESS_MAX_LENGTH, service_area_point
from rides.rules import (
    DEFAULT_ALIAS,
    BookingErrors,
    BookingPlan,
    FareQuote,
    ResolvedPoint,
    approval_reasons_for,
    check_escort,
    check_passenger_count,
    check_purpose,
    check_scheduled_time,
    check_separation,
    int_or_none,
    product_for,
    rider_phone_for,
)
from rides.telltale import telltale_words
from sop.selectors import current as sop_now


def _place_point(place: Place) -> ResolvedPoint:
    if place.is_protected:
        return ResolvedPoint(
            float(place.neutral_latitude),
            float(place.neutral_longitude),
            place.neutral_address[:ADDRESS_MAX_LENGTH],
            place,
        )
    return ResolvedPoint(
        float(place.latitude),
        float(place.longitude),
        (place.address or "")[:ADDRESS_MAX_LENGTH],
        place,
    )


def telltale_refusal(address: str) -> str:
    """The message for an address the driver would read as saying what the ride is
    about ("Shelter KDRT", "poli forensik"); empty when it says nothing of the kind."""
    words = telltale_words(address)
    if not words:
        return ""
    return _(
        "The driver would read “%(words)s” in this address, which tells what the ride is "
        "about. Write a neutral point nearby instead (a shop, a gate, a street number), or "
        "choose the place from the list: the agency's offices and safe houses are sent as "
        "their neutral drop-off point."
    ) % {"words": ", ".join(dict.fromkeys(words))}


def _resolve_point(spec, *, user, case: Case) -> ResolvedPoint:
    """`spec` is {"place": id}, {"saved_address": id} or {"latitude", "longitude", "address"}."""
    if not isinstance(spec, dict):
        spec = {}
    chosen = [key for key in ("place", "saved_address") if spec.get(key) not in (None, "")]
    typed = any(spec.get(key) not in (None, "") for key in ("latitude", "longitude", "address"))
    if len(chosen) + typed != 1:
        raise ValidationError(
            _(
                "Choose one: a place from the list, a saved address, or type an address "
                "and set the pin."
            )
        )
    if chosen == ["place"]:
        place = places_for(user).filter(pk=int_or_none(spec["place"])).first()
        if place is None:
            raise ValidationError(_("This place is not in the list. Choose another place."))
        point = _place_point(place)
        service_area_point(point.latitude, point.longitude)
        return point
    if chosen == ["saved_address"]:
        saved = SavedAddress.objects.filter(
            pk=int_or_none(spec["saved_address"]), survivor__case=case
        ).first()
        if saved is None:
            raise ValidationError(_("This saved address is not on the case. Choose another one."))
        if not saved.latitude or not saved.longitude:
            raise ValidationError(
                _("This saved address has no map point: type the address and set the pin.")
            )
        lat, lon = service_area_point(saved.latitude, saved.longitude)
        refusal = telltale_refusal(saved.address)
        if refusal:
            raise ValidationError(refusal)
        # Saved before the one address limit held: the partner takes no more.
        return ResolvedPoint(lat, lon, saved.address[:ADDRESS_MAX_LENGTH])
    # The pin and the address are two mistakes of their own: both are reported.
    messages = []
    try:
        lat, lon = service_area_point(spec.get("latitude"), spec.get("longitude"))
    except ValidationError as exc:
        messages.extend(exc.messages)
    address = str(spec.get("address") or "").strip()
    if not address:
        messages.append(
            _("Describe the place (street, number, landmark) so the driver can find it.")
        )
    elif len(address) > ADDRESS_MAX_LENGTH:
        messages.append(_("Shorten the address to 255 characters."))
    elif refusal := telltale_refusal(address):
        messages.append(refusal)
    if messages:
        raise ValidationError(messages)
    return ResolvedPoint(lat, lon, address)


def _bookable_case(*, user, case_code: str) -> Case:
    """The case if `user` may book for it; Http404 when it is not visible; ValidationError
    when it is visible but cannot take a ride (closed)."""
    case = case_get_for_user(user=user, code=case_code or "")
    if not case.is_active:
        raise ValidationError(
            {"case": [_("This case is closed. Reopen it before booking a ride.")]}
        )
    if not case_can_book(user=user, case=case):
        raise Http404(_("No case with this code that you may see."))
    return case


def _partner_account_for(case: Case, partner_account_id):
    """The chosen account, which must be one of the case's unit's (partners/selectors.py
    partner_accounts_for_unit), else the unit's default."""
    if partner_account_id not in (None, ""):
        pk = int_or_none(partner_account_id)
        account = partner_accounts_for_unit(case.unit_id).filter(pk=pk).first()
        if account is not None:
            return account
        if PartnerAccount.objects.filter(pk=pk, enabled=True).exists():
            raise ValidationError(
                _(
                    "This partner account is not one of your unit's. Choose one of the "
                    "unit's accounts, or leave the choice to the unit's default."
                )
            )
        raise ValidationError(_("This partner account does not exist or is switched off."))
    account = default_partner_account_for(case.unit)
    if account is None:
        raise ValidationError(
            _("No transport partner is set up for this unit. Ask an administrator to set one.")
        )
    return account


def booking_problems(*, user, unread=(), **booking) -> dict[str, list[str]]:
    """Every problem `booking_check` finds in a request (same arguments), by field key,
    without raising; {} when it holds. Keys in `unread` are left out: their input could
    not be read at all (a form's or serializer's own message says so), and the check's
    message about the missing value would only repeat it."""
    try:
        booking_check(user=user, **booking)
    except ValidationError as exc:
        return {key: texts for key, texts in exc.message_dict.items() if key not in unread}
    return {}


def booking_check(
    *,
    user,
    case_code: str,
    purpose: str,
    purpose_note: str = "",
    pickup,
    dropoff,
    scheduled_pickup_at: dt.datetime | None = None,
    passenger_count=1,
    escort_name: str = "",
    escort_phone: str = "",
    partner_account_id=None,
    quote: FareQuote | None = None,
    fare_unavailable: bool = False,
    now: dt.datetime | None = None,
) -> BookingPlan:
    """Applies every SOP rule; returns the plan or raises one ValidationError with all the
    problems (field keys), or Http404 for a case the person may not book for. Writes nothing.
    """
    now = now or timezone.now()
    case = _bookable_case(user=user, case_code=case_code)
    errors = BookingErrors()
    survivor = getattr(case, "survivor", None)
    if survivor is None:
        errors.add("case", _("The case has no survivor recorded yet. Complete the case first."))
        errors.raise_if_any()

    if consent_for_transport(case) is None:
        errors.add(
            "case",
            _(
                "No consent to transport is recorded for this case. Record the survivor's "
                "(or guardian's) consent on the case page, then book."
            ),
        )

    purpose, purpose_note = check_purpose(purpose, purpose_note, errors)

    points = {}
    for key, spec in (("pickup", pickup), ("dropoff", dropoff)):
        try:
            points[key] = _resolve_point(spec, user=user, case=case)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add(key, message)
    if len(points) == 2:
        check_separation(points["pickup"], points["dropoff"], errors)

    try:
        scheduled_pickup_at = check_scheduled_time(scheduled_pickup_at, now=now)
    except ValidationError as exc:
        errors.add("scheduled_pickup_at", exc.messages[0])
        scheduled_pickup_at = None

    count = check_passenger_count(passenger_count, errors)
    escort = check_escort(
        escort_name,
        escort_phone,
        is_child=survivor.is_child,
        passenger_count=count,
        errors=errors,
    )
    rider_phone = rider_phone_for(
        escort,
        may_share_phone=not escort.present and consent_allows_sharing_phone(case),
        survivor_phone=survivor.phone,
        errors=errors,
    )

    account = None
    try:
        account = _partner_account_for(case, partner_account_id)
    except ValidationError as exc:
        errors.add("partner_account", exc.messages[0])

    errors.raise_if_any()

    plan = BookingPlan(
        case=case,
        purpose=purpose,
        purpose_note=purpose_note,
        pickup=points["pickup"],
        dropoff=points["dropoff"],
        scheduled_pickup_at=scheduled_pickup_at,
        passenger_count=count,
        escort_name=escort.name,
        escort_phone=escort.phone,
        rider_phone=rider_phone,
        rider_alias=(survivor.alias or DEFAULT_ALIAS)[:26],
        product_id=product_for(count),
        partner_account=account,
    )
    sop = sop_now()
    plan.approval_reasons = approval_reasons_for(
        plan,
        quote=quote,
        ceiling=sop.fare_ceiling,
        service_hours=sop.service_hours,
        fare_unavailable=fare_unavailable,
        now=now,
    )
    plan.fare_check_at_dispatch = fare_unavailable and quote is None and not plan.approval_reasons
    return plan
