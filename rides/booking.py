"""Booking a ride: the SOP rules and the services that book, rebook, approve and reject.

The browser, the API and any command call these, so the SOP holds everywhere:
- the case is visible to the person (else 404: its existence is not revealed), active,
  and the person is assigned to it or supervises its unit;
- transport consent is recorded;
- a child travels with an escort (name and phone), whose phone becomes the rider's;
- the rider's phone is the escort's, else the survivor's when consent allows giving it
  to the driver; every phone is a valid Indonesian mobile number, stored as E.164;
- cars only, never a motorbike (`car`, or `car_xl` for more than four passengers);
- both points inside Jabodetabek, at least 100 m apart; a protected place is stored
  (and so sent) as its neutral point;
- a scheduled time is at least 15 minutes and at most 30 days ahead;
- a fare above BOOKING_FARE_CEILING, an unknown fare, or a pickup outside
  BOOKING_SERVICE_HOURS waits for a supervisor (`awaiting_approval`); anything else is
  `requested` and dispatched on commit.
Every rule that fails says what to do, keyed by the field it concerns; all failures are
reported together and nothing is written unless every rule holds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from cases.models import Case, Place, SavedAddress
from cases.selectors import (
    case_can_book,
    case_get_for_user,
    consent_allows_sharing_phone,
    consent_for_transport,
    places_for,
)
from partners.models import PartnerAccount
from rides.models import Cause, Purpose, Ride, RideStatus, TripEvent

# Jabodetabek, the partner's service area, as a rough box (WGS84 degrees).
SERVICE_AREA = {"lat_min": -6.8, "lat_max": -5.9, "lon_min": 106.3, "lon_max": 107.3}
MIN_SEPARATION_METERS = 100
SCHEDULE_MIN_LEAD = dt.timedelta(minutes=15)
SCHEDULE_MAX_AHEAD = dt.timedelta(days=30)
MAX_PASSENGERS = 6
CAR_MAX_PASSENGERS = 4
CAR_PRODUCTS = ("car", "car_xl")
ADDRESS_MAX_LENGTH = 255
PURPOSE_NOTE_MAX_LENGTH = 500
ESCORT_NAME_MAX_LENGTH = 80
DEFAULT_ALIAS = "Penumpang"

# Machine names of the reasons a ride waits for approval (stored on the ride, shown in
# the API; the pages show approval_reason_text()).
FARE_ABOVE_CEILING = "fare_above_ceiling"
FARE_UNKNOWN = "fare_unknown"
OUTSIDE_SERVICE_HOURS = "outside_service_hours"


@dataclass(frozen=True)
class FareQuote:
    """The partner's estimate for the product the SOP chose (never a bike)."""

    product_id: str
    fare_amount: int
    pickup_eta_seconds: int | None = None
    currency: str = "IDR"
    # The partner locks the fare for a short while; the dispatch sends the id only
    # while it is still fresh (rides/partner_payload.py).
    fare_id: str = ""
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class ResolvedPoint:
    """A pickup or drop-off as stored on the ride and sent to the partner.

    For a protected place this is its neutral point: the house itself is never stored on
    the ride, so nothing that reads the ride can pass it on.
    """

    latitude: float
    longitude: float
    address: str
    place: Place | None = None

    def as_json(self) -> dict:
        return {"latitude": self.latitude, "longitude": self.longitude, "address": self.address}


@dataclass
class BookingPlan:
    """Everything the rules resolved; `ride_book` writes it, the views show it."""

    case: Case
    purpose: str
    purpose_note: str
    pickup: ResolvedPoint
    dropoff: ResolvedPoint
    scheduled_pickup_at: dt.datetime | None
    passenger_count: int
    escort_name: str
    escort_phone: str
    rider_phone: str
    rider_alias: str
    product_id: str
    partner_account: object
    approval_reasons: list[dict] = field(default_factory=list)
    fare_check_at_dispatch: bool = False

    @property
    def needs_approval(self) -> bool:
        return bool(self.approval_reasons)

    def quote_fingerprint(self) -> str:
        """Identifies what an estimate depends on, so a kept estimate is reused only for
        the same trip."""
        return "|".join(
            str(part)
            for part in (
                getattr(self.partner_account, "pk", ""),
                self.product_id,
                round(self.pickup.latitude, 6),
                round(self.pickup.longitude, 6),
                round(self.dropoff.latitude, 6),
                round(self.dropoff.longitude, 6),
                self.passenger_count,
            )
        )


class _Errors:
    def __init__(self):
        self.by_field: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.by_field.setdefault(key, []).append(message)

    def __contains__(self, key):
        return key in self.by_field

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


# --- single rules, usable on their own (forms call them for early feedback) ------------


def normalize_indonesian_phone(raw: str) -> str:
    """A valid Indonesian mobile number as E.164 (+62…); ValidationError otherwise."""
    text = (raw or "").strip()
    message = _(
        "Enter a valid Indonesian mobile number, for example 0812 3456 7890 or +62 812 3456 7890."
    )
    if not text:
        raise ValidationError(message)
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(message) from exc
    if (
        not phonenumbers.is_valid_number(number)
        or phonenumbers.region_code_for_number(number) != "ID"
        or phonenumbers.number_type(number)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        raise ValidationError(message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def product_for(passenger_count: int) -> str:
    """Cars only: `car` up to four passengers, `car_xl` above."""
    return "car" if passenger_count <= CAR_MAX_PASSENGERS else "car_xl"


def distance_meters(a: ResolvedPoint, b: ResolvedPoint) -> float:
    """Great-circle distance (haversine) on a spherical Earth."""
    radius = 6_371_000.0
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(h))


def _coordinate(value) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError):
        return None
    return number if math.isfinite(number) else None


def check_coordinates(latitude, longitude) -> tuple[float, float]:
    """Parses a point and checks it is a real point inside Jabodetabek."""
    lat, lon = _coordinate(latitude), _coordinate(longitude)
    if lat is None or lon is None:
        raise ValidationError(_("Set the pin on the map (latitude and longitude are missing)."))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(
            _(
                "These coordinates do not exist: latitude must be between -90 and 90 and "
                "longitude between -180 and 180. Set the pin on the map again."
            )
        )
    box = SERVICE_AREA
    if not (box["lat_min"] <= lat <= box["lat_max"] and box["lon_min"] <= lon <= box["lon_max"]):
        raise ValidationError(
            _(
                "This point is outside Jabodetabek, where the partner drives. Check the pin: "
                "Jakarta is around latitude -6.2, longitude 106.8."
            )
        )
    return lat, lon


def parse_service_hours(text: str) -> tuple[dt.time, dt.time]:
    start_text, _sep, end_text = (text or "").partition("-")
    try:
        return dt.time.fromisoformat(start_text.strip()), dt.time.fromisoformat(end_text.strip())
    except ValueError as exc:
        raise ValueError(f"BOOKING_SERVICE_HOURS {text!r} is not like 06:00-21:00") from exc


def within_service_hours(moment: dt.datetime) -> bool:
    """Whether a pickup at `moment` (any zone) falls in the service hours, Jakarta time.
    A range like 21:00-06:00 runs over midnight; equal start and end mean all day."""
    start, end = parse_service_hours(settings.BOOKING_SERVICE_HOURS)
    local = timezone.localtime(moment).time()
    if start == end:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end


def check_scheduled_time(
    scheduled_pickup_at: dt.datetime | None, *, now: dt.datetime | None = None
) -> dt.datetime | None:
    if scheduled_pickup_at is None:
        return None
    if timezone.is_naive(scheduled_pickup_at):
        scheduled_pickup_at = timezone.make_aware(scheduled_pickup_at)
    now = now or timezone.now()
    if scheduled_pickup_at <= now:
        raise ValidationError(
            _("This time has passed. Choose now, or a time at least 15 minutes ahead.")
        )
    if scheduled_pickup_at < now + SCHEDULE_MIN_LEAD:
        raise ValidationError(
            _(
                "Choose now or at least 15 minutes ahead: the partner needs 15 minutes' "
                "notice for a scheduled ride."
            )
        )
    if scheduled_pickup_at > now + SCHEDULE_MAX_AHEAD:
        raise ValidationError(
            _("Rides can be booked at most 30 days ahead. Choose an earlier day.")
        )
    return scheduled_pickup_at


def approval_reason_text(reason: dict) -> str:
    from portal.templatetags.portal_format import rupiah

    code = reason.get("code")
    if code == FARE_ABOVE_CEILING:
        return _("The estimated fare %(fare)s is above the ceiling of %(ceiling)s.") % {
            "fare": rupiah(reason.get("fare")),
            "ceiling": rupiah(reason.get("ceiling")),
        }
    if code == FARE_UNKNOWN:
        return _("The partner could not give a fare, so it cannot be checked against the ceiling.")
    if code == OUTSIDE_SERVICE_HOURS:
        return _("The pickup is outside the service hours (%(hours)s).") % {
            "hours": reason.get("service_hours", "")
        }
    return str(code)


# --- resolving the points ---------------------------------------------------------------


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
        place = places_for(user).filter(pk=_int_or_none(spec["place"])).first()
        if place is None:
            raise ValidationError(_("This place is not in the list. Choose another place."))
        point = _place_point(place)
        check_coordinates(point.latitude, point.longitude)
        return point
    if chosen == ["saved_address"]:
        saved = SavedAddress.objects.filter(
            pk=_int_or_none(spec["saved_address"]), survivor__case=case
        ).first()
        if saved is None:
            raise ValidationError(_("This saved address is not on the case. Choose another one."))
        if not saved.latitude or not saved.longitude:
            raise ValidationError(
                _("This saved address has no map point: type the address and set the pin.")
            )
        lat, lon = check_coordinates(saved.latitude, saved.longitude)
        return ResolvedPoint(lat, lon, saved.address[:ADDRESS_MAX_LENGTH])
    lat, lon = check_coordinates(spec.get("latitude"), spec.get("longitude"))
    address = str(spec.get("address") or "").strip()
    if not address:
        raise ValidationError(
            _("Describe the place (street, number, landmark) so the driver can find it.")
        )
    if len(address) > ADDRESS_MAX_LENGTH:
        raise ValidationError(_("Shorten the address to 255 characters."))
    return ResolvedPoint(lat, lon, address)


def _int_or_none(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- the whole check ------------------------------------------------------------------


def _bookable_case(*, user, case_code: str) -> Case:
    """The case if `user` may book for it; Http404 when it is not visible; ValidationError
    when it is visible but cannot take a ride (closed)."""
    case = case_get_for_user(user=user, code=case_code or "")
    if not case.is_active:
        raise ValidationError(
            {"case": [_("This case is closed. Reopen it before booking a ride.")]}
        )
    if not case_can_book(user=user, case=case):
        raise Http404("No such case.")
    return case


def _partner_account_for(case: Case, partner_account_id):
    from partners.selectors import default_partner_account_for

    if partner_account_id not in (None, ""):
        account = PartnerAccount.objects.filter(
            pk=_int_or_none(partner_account_id), enabled=True
        ).first()
        if account is None:
            raise ValidationError(_("This partner account does not exist or is switched off."))
        return account
    account = default_partner_account_for(case.unit)
    if account is None:
        raise ValidationError(
            _("No transport partner is set up for this unit. Ask an administrator to set one.")
        )
    return account


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
    errors = _Errors()
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

    purpose = (purpose or "").strip()
    purpose_note = (purpose_note or "").strip()
    if purpose not in Purpose.values:
        errors.add("purpose", _("Choose the purpose of the ride from the list."))
    elif purpose == Purpose.OTHER and not purpose_note:
        errors.add("purpose_note", _("Say in a few words what the ride is for."))
    if len(purpose_note) > PURPOSE_NOTE_MAX_LENGTH:
        errors.add("purpose_note", _("Shorten the note to 500 characters."))

    points = {}
    for key, spec in (("pickup", pickup), ("dropoff", dropoff)):
        try:
            points[key] = _resolve_point(spec, user=user, case=case)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add(key, message)
    if len(points) == 2 and (
        distance_meters(points["pickup"], points["dropoff"]) < MIN_SEPARATION_METERS
    ):
        errors.add(
            "dropoff",
            _("Pickup and drop-off are less than 100 m apart. Check both points."),
        )

    try:
        scheduled_pickup_at = check_scheduled_time(scheduled_pickup_at, now=now)
    except ValidationError as exc:
        errors.add("scheduled_pickup_at", exc.messages[0])
        scheduled_pickup_at = None

    count = _int_or_none(passenger_count)
    if count is None or not 1 <= count <= MAX_PASSENGERS:
        errors.add("passenger_count", _("Enter the number of passengers, from 1 to 6."))
        count = 1

    escort_name = (escort_name or "").strip()
    escort_phone_raw = (escort_phone or "").strip()
    escort_phone = ""
    if len(escort_name) > ESCORT_NAME_MAX_LENGTH:
        errors.add("escort_name", _("Shorten the escort's name to 80 characters."))
    if escort_phone_raw:
        try:
            escort_phone = normalize_indonesian_phone(escort_phone_raw)
        except ValidationError as exc:
            errors.add("escort_phone", exc.messages[0])
    has_escort = bool(escort_name or escort_phone_raw)
    if survivor.is_child and not has_escort:
        errors.add(
            "escort_name",
            _("A child travels with an escort: enter the escort's name and phone."),
        )
    if has_escort and not escort_name:
        errors.add("escort_name", _("Enter the escort's name."))
    if has_escort and not escort_phone_raw:
        errors.add("escort_phone", _("Enter the escort's phone: the driver will call this number."))
    if has_escort and "passenger_count" not in errors and count < 2:
        errors.add(
            "passenger_count",
            _("The survivor and the escort travel together: enter at least 2 passengers."),
        )

    rider_phone = ""
    if has_escort:
        rider_phone = escort_phone
    elif not consent_allows_sharing_phone(case):
        errors.add(
            "escort_phone",
            _(
                "The driver needs a phone number: record the survivor's consent to give their "
                "phone to the driver, or add an escort with a phone."
            ),
        )
    elif not survivor.phone:
        errors.add(
            "escort_phone",
            _(
                "The case has no phone for the survivor: add one on the case page, "
                "or add an escort."
            ),
        )
    else:
        try:
            rider_phone = normalize_indonesian_phone(survivor.phone)
        except ValidationError:
            errors.add(
                "escort_phone",
                _(
                    "The survivor's phone on the case is not a valid Indonesian mobile number: "
                    "correct it on the case page, or add an escort."
                ),
            )

    account = None
    try:
        account = _partner_account_for(case, partner_account_id)
    except ValidationError as exc:
        errors.add("partner_account", exc.messages[0])

    errors.raise_if_any()

    product_id = product_for(count)
    plan = BookingPlan(
        case=case,
        purpose=purpose,
        purpose_note=purpose_note,
        pickup=points["pickup"],
        dropoff=points["dropoff"],
        scheduled_pickup_at=scheduled_pickup_at,
        passenger_count=count,
        escort_name=escort_name,
        escort_phone=escort_phone,
        rider_phone=rider_phone,
        rider_alias=(survivor.alias or DEFAULT_ALIAS)[:26],
        product_id=product_id,
        partner_account=account,
    )
    plan.approval_reasons = approval_reasons_for(
        plan, quote=quote, fare_unavailable=fare_unavailable, now=now
    )
    plan.fare_check_at_dispatch = fare_unavailable and quote is None and not plan.approval_reasons
    return plan


def approval_reasons_for(
    plan: BookingPlan, *, quote: FareQuote | None, fare_unavailable: bool = False, now=None
) -> list[dict]:
    """Why the SOP wants a supervisor's approval for the plan (none: it is sent at once).

    A fare the partner could not give just now (`fare_unavailable`: it did not answer) is
    asked for again at dispatch and checked against the ceiling then, unless the ride
    waits for approval anyway, when the supervisor is told the fare is unknown. A partner
    that answered but offers no car for the trip leaves the fare unknown: approval."""
    reasons = []
    ceiling = settings.BOOKING_FARE_CEILING
    pickup_at = plan.scheduled_pickup_at or now or timezone.now()
    outside_hours = not within_service_hours(pickup_at)
    if quote is None or quote.product_id != plan.product_id:
        if not fare_unavailable or outside_hours:
            reasons.append({"code": FARE_UNKNOWN, "ceiling": ceiling})
    elif quote.fare_amount > ceiling:
        reasons.append({"code": FARE_ABOVE_CEILING, "fare": quote.fare_amount, "ceiling": ceiling})
    if outside_hours:
        reasons.append(
            {
                "code": OUTSIDE_SERVICE_HOURS,
                "pickup_at": pickup_at.isoformat(),
                "service_hours": settings.BOOKING_SERVICE_HOURS,
            }
        )
    return reasons


def fare_check_at_dispatch_apply(*, ride: Ride, estimates) -> bool:
    """The fare asked for at dispatch (the partner could not give one at booking), applied
    to the locked ride with the same ceiling rule as at booking. True: the ride may be sent
    (the fare and its locked fare id kept). False: it now waits for a supervisor."""
    quote = quote_from_estimates(estimates, product_id=ride.product_id)
    ceiling = settings.BOOKING_FARE_CEILING
    ride.fare_check_at_dispatch = False
    if quote is not None and quote.fare_amount <= ceiling:
        ride.estimate_fare = quote.fare_amount
        ride.estimate_pickup_eta_seconds = quote.pickup_eta_seconds
        ride.fare_id = quote.fare_id
        ride.fare_expires_at = quote.expires_at if quote.fare_id else None
        ride.save()
        return True
    if quote is None:
        reason = {"code": FARE_UNKNOWN, "ceiling": ceiling}
    else:
        ride.estimate_fare = quote.fare_amount
        reason = {"code": FARE_ABOVE_CEILING, "fare": quote.fare_amount, "ceiling": ceiling}
    ride.approval_reasons = [reason]
    ride.dispatch_due_at = None
    ride.dispatch_deadline_at = None
    ride.apply_transition(
        RideStatus.AWAITING_APPROVAL, cause=Cause.DISPATCH, reason=approval_reason_text(reason)
    )
    return False


def quote_from_estimates(estimates, *, product_id: str) -> FareQuote | None:
    """The partner's estimate for the SOP's product; a bike is never taken."""
    for estimate in estimates:
        if estimate.product_id == product_id and product_id in CAR_PRODUCTS:
            return FareQuote(
                product_id=estimate.product_id,
                fare_amount=int(estimate.fare_amount),
                pickup_eta_seconds=estimate.pickup_eta_seconds,
                currency=getattr(estimate, "currency", "IDR"),
                fare_id=getattr(estimate, "fare_id", "") or "",
                expires_at=getattr(estimate, "expires_at", None),
            )
    return None


def booking_estimate(plan: BookingPlan) -> FareQuote | None:
    """Asks the partner for a fare (outside any transaction). Only coordinates go out:
    the estimate needs no address. Partner errors (partners.errors) propagate so the
    caller can show them; None when the partner offers no car for this trip."""
    from partners.client.registry import client_for

    estimates = client_for(plan.partner_account).estimate(
        pickup={"latitude": plan.pickup.latitude, "longitude": plan.pickup.longitude},
        dropoff={"latitude": plan.dropoff.latitude, "longitude": plan.dropoff.longitude},
        passenger_count=plan.passenger_count,
    )
    return quote_from_estimates(estimates, product_id=plan.product_id)


# --- writes ---------------------------------------------------------------------------


def _write_ride(*, plan: BookingPlan, user, quote: FareQuote | None, rebooked_from=None) -> Ride:
    from rides.services import ride_request_dispatch

    status = RideStatus.AWAITING_APPROVAL if plan.needs_approval else RideStatus.REQUESTED
    quoted = quote is not None and quote.product_id == plan.product_id
    ride = Ride.objects.create(
        case=plan.case,
        unit=plan.case.unit,
        partner_account=plan.partner_account,
        booked_by=user,
        rebooked_from=rebooked_from,
        purpose=plan.purpose,
        purpose_note=plan.purpose_note,
        pickup_place=plan.pickup.place,
        pickup=plan.pickup.as_json(),
        dropoff_place=plan.dropoff.place,
        dropoff=plan.dropoff.as_json(),
        scheduled_pickup_at=plan.scheduled_pickup_at,
        passenger_count=plan.passenger_count,
        escort_name=plan.escort_name,
        escort_phone=plan.escort_phone,
        rider_phone=plan.rider_phone,
        rider_alias=plan.rider_alias,
        product_id=plan.product_id,
        estimate_fare=quote.fare_amount if quoted else None,
        estimate_pickup_eta_seconds=quote.pickup_eta_seconds if quoted else None,
        # A ride that waits for approval goes later: its locked fare will have expired.
        fare_id=quote.fare_id if quoted and status == RideStatus.REQUESTED else "",
        fare_expires_at=(
            quote.expires_at
            if quoted and status == RideStatus.REQUESTED and quote.fare_id
            else None
        ),
        approval_reasons=plan.approval_reasons,
        fare_check_at_dispatch=plan.fare_check_at_dispatch,
        status=status,
    )
    note = f"rebooked from {rebooked_from.reference}" if rebooked_from else "booked"
    TripEvent.objects.create(
        ride=ride,
        at=ride.status_changed_at,
        cause=Cause.USER,
        actor=user,
        previous_status="",
        new_status=status,
        note=note,
    )
    if status == RideStatus.REQUESTED:
        ride_request_dispatch(ride=ride)
    return ride


def ride_book(*, user, quote: FareQuote | None = None, **booking) -> Ride:
    """Books a ride: checks every SOP rule (see booking_check for the arguments), then
    writes the ride and its first trip-log row in one transaction. A ride that needs
    approval waits in `awaiting_approval`; any other is `requested` and dispatched once
    the transaction commits."""
    with transaction.atomic():
        plan = booking_check(user=user, quote=quote, **booking)
        return _write_ride(plan=plan, user=user, quote=quote)


def _ride_for_update(*, ride_id, user) -> Ride:
    ride = (
        Ride.objects.visible_to(user)
        .select_for_update(of=("self",))
        .select_related("case", "case__survivor", "case__unit", "partner_account")
        .filter(pk=ride_id)
        .first()
    )
    if ride is None:
        raise Http404("No such ride.")
    return ride


def _point_spec(ride: Ride, which: str) -> dict:
    place = getattr(ride, f"{which}_place")
    if place is not None:
        return {"place": place.pk}
    return dict(getattr(ride, which))


def ride_rebook(*, ride_id, user, quote: FareQuote | None = None) -> Ride:
    """One click after no driver, a driver's cancellation, a failure or needs attention: a
    new ride copying the old one (same SOP checks, a fresh estimate when given, else the
    old one). A scheduled time that is no longer 15 minutes ahead becomes "now"."""
    now = timezone.now()
    with transaction.atomic():
        old = _ride_for_update(ride_id=ride_id, user=user)
        if not old.can_rebook:
            raise ValidationError(
                {"ride": [_("Only a ride that ended without a trip can be rebooked.")]}
            )
        existing = old.rebookings.order_by("created_at").first()
        if existing is not None:
            raise ValidationError(
                {
                    "ride": [
                        _("This ride was already rebooked as %(ref)s.")
                        % {"ref": existing.reference}
                    ]
                }
            )
        if old.status == RideStatus.NEEDS_ATTENTION and old.partner_trip_id:
            raise ValidationError(
                {
                    "ride": [
                        _(
                            "The partner may still hold this trip: cancel the ride first, "
                            "then rebook."
                        )
                    ]
                }
            )
        scheduled = old.scheduled_pickup_at
        if scheduled is not None and scheduled < now + SCHEDULE_MIN_LEAD:
            scheduled = None
        if quote is None and old.estimate_fare is not None:
            quote = FareQuote(old.product_id, old.estimate_fare, old.estimate_pickup_eta_seconds)
        plan = booking_check(
            user=user,
            case_code=old.case.code,
            purpose=old.purpose,
            purpose_note=old.purpose_note,
            pickup=_point_spec(old, "pickup"),
            dropoff=_point_spec(old, "dropoff"),
            scheduled_pickup_at=scheduled,
            passenger_count=old.passenger_count,
            escort_name=old.escort_name,
            escort_phone=old.escort_phone,
            partner_account_id=old.partner_account_id,
            quote=quote,
            now=now,
        )
        ride = _write_ride(plan=plan, user=user, quote=quote, rebooked_from=old)
        if old.status == RideStatus.NEEDS_ATTENTION:
            from rides.alerts import alerts_resolve_for_ride

            # So nobody retries the old one as well: one survivor, one ride.
            alerts_resolve_for_ride(ride=old, user=user)
            old.apply_transition(
                RideStatus.CANCELLED,
                cause=Cause.USER,
                actor=user,
                reason=_("Rebooked as %(ref)s.") % {"ref": ride.reference},
            )
        return ride


def _check_supervises(user, ride: Ride) -> None:
    if user.role != Role.SUPERVISOR or user.unit_id != ride.unit_id:
        raise Http404("No such ride.")


def ride_approve(*, ride_id, user) -> Ride:
    """A supervisor of the ride's unit lets a waiting ride go: requested and dispatched.
    A scheduled time that came closer than 15 minutes while it waited is sent as "now"."""
    with transaction.atomic():
        ride = _ride_for_update(ride_id=ride_id, user=user)
        _check_supervises(user, ride)
        if ride.status != RideStatus.AWAITING_APPROVAL:
            raise ValidationError(
                {
                    "ride": [
                        _("This ride is not waiting for approval (it is %(status)s).")
                        % {"status": ride.get_status_display()}
                    ]
                }
            )
        # What held at booking may have changed while the ride waited.
        if not ride.case.is_active:
            raise ValidationError(
                {"ride": [_("The case was closed while the ride waited. Reject the ride.")]}
            )
        if consent_for_transport(ride.case) is None:
            raise ValidationError(
                {
                    "ride": [
                        _(
                            "The consent to transport was withdrawn while the ride waited. "
                            "Reject the ride, or record consent again first."
                        )
                    ]
                }
            )
        note = "approved"
        now = timezone.now()
        if (
            ride.scheduled_pickup_at is not None
            and ride.scheduled_pickup_at < now + SCHEDULE_MIN_LEAD
        ):
            ride.scheduled_pickup_at = None
            note = "approved; the scheduled time was less than 15 minutes away, sent as now"
        ride.decided_by = user
        ride.decided_at = now
        # apply_transition saves the whole row, the decision with it.
        ride.apply_transition(RideStatus.REQUESTED, cause=Cause.USER, actor=user, note=note)
        from rides.services import ride_request_dispatch

        ride_request_dispatch(ride=ride)
        return ride


def ride_reject(*, ride_id, user, reason: str) -> Ride:
    """A supervisor of the ride's unit refuses a waiting ride, saying why: it is cancelled
    and the caseworker sees the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": [_("Say why the ride is rejected; the caseworker will read it.")]}
        )
    if len(reason) > PURPOSE_NOTE_MAX_LENGTH:
        raise ValidationError({"reason": [_("Shorten the reason to 500 characters.")]})
    with transaction.atomic():
        ride = _ride_for_update(ride_id=ride_id, user=user)
        _check_supervises(user, ride)
        if ride.status != RideStatus.AWAITING_APPROVAL:
            raise ValidationError(
                {
                    "ride": [
                        _("This ride is not waiting for approval (it is %(status)s).")
                        % {"status": ride.get_status_display()}
                    ]
                }
            )
        ride.decided_by = user
        ride.decided_at = timezone.now()
        ride.rejection_reason = reason
        # apply_transition saves the whole row, the decision with it; the reason becomes
        # the status reason the caseworker reads.
        ride.apply_transition(RideStatus.CANCELLED, cause=Cause.USER, actor=user, reason=reason)
        return ride
