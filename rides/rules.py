"""The booking SOP as pure functions: nothing here reads the database or calls the partner.

- a child travels with an escort (name and phone), whose phone becomes the rider's;
- the rider's phone is the escort's, else the survivor's when consent allows giving it
  to the driver; every phone is a valid Indonesian mobile number, stored as E.164;
- cars only, never a motorbike (`car`, or `car_xl` for more than four passengers);
- pickup and drop-off at least 100 m apart (each inside Jabodetabek: portal/geo.py);
- a scheduled time is at least 15 minutes and at most 30 days ahead;
- a fare above the fare ceiling, an unknown fare, or a pickup outside the service hours
  waits for a supervisor (`awaiting_approval`);
- a fare quoted again at dispatch (its lock ran out) more than the approval margin above
  the one agreed to waits for a supervisor again;
- the supervisor who decides on a ride is never the one who booked it;
- a ride the fund or its unit's monthly budget cannot cover waits for a supervisor
  (the hold itself: rides/pipeline/funds.py);
- which rides may be rebooked or sent again, for the pages and the services alike.
The ceiling, the hours and the margin are the SOP's values of the moment (set on
/admin/sop/, sop.selectors.current()); the callers pass them in.
Each check adds its messages to a `BookingErrors`, keyed by the field it concerns, so
every problem is reported at once (rides/booking/check.py runs them in order).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, Place
from funding.ledger import shortfall_message
from portal.geo import distance_metres
from portal.hours import within_service_hours
from portal.phones import normalize_indonesian_phone
from portal.templatetags.portal_format import rupiah
from rides.models import Purpose, Ride, RideStatus

MIN_SEPARATION_METERS = 100
SCHEDULE_MIN_LEAD = dt.timedelta(minutes=15)
SCHEDULE_MAX_AHEAD = dt.timedelta(days=30)
MAX_PASSENGERS = 6
CAR_MAX_PASSENGERS = 4
CAR_PRODUCTS = ("car", "car_xl")
PURPOSE_NOTE_MAX_LENGTH = 500
ESCORT_NAME_MAX_LENGTH = 80
DEFAULT_ALIAS = "Penumpang"

# Machine names of the reasons a ride waits for approval (stored on the ride, shown in
# the API; the pages show approval_reason_text()).
FARE_ABOVE_CEILING = "fare_above_ceiling"
FARE_UNKNOWN = "fare_unknown"
OUTSIDE_SERVICE_HOURS = "outside_service_hours"
REBOOK_OF_REJECTED = "rebook_of_rejected"
FARE_RISEN = "fare_risen"
FUNDS_SHORT = "funds_short"  # the fund or the unit's monthly budget cannot cover the hold


@dataclass(frozen=True)
class FareQuote:
    """The partner's estimate for the product the SOP chose (never a bike)."""

    product_id: str
    fare_amount: int
    pickup_eta_seconds: int | None = None
    currency: str = "IDR"
    # The partner locks the fare for a short while; the dispatch sends the id only
    # while it is still fresh (rides/pipeline/payload.py).
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
    """Everything the rules resolved; `ride_book` writes it, the pages show it."""

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


@dataclass(frozen=True)
class Escort:
    name: str
    phone: str  # E.164; "" when none was given or it was refused (an error says so)
    present: bool


class BookingErrors:
    """Messages per field, collected over every rule and raised together."""

    def __init__(self):
        self.by_field: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.by_field.setdefault(key, []).append(message)

    def __contains__(self, key):
        return key in self.by_field

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def int_or_none(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- single rules, usable on their own (forms call them for early feedback) ------------


def product_for(passenger_count: int) -> str:
    """Cars only: `car` up to four passengers, `car_xl` above."""
    return "car" if passenger_count <= CAR_MAX_PASSENGERS else "car_xl"


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


def check_purpose(purpose: str, note: str, errors: BookingErrors) -> tuple[str, str]:
    purpose = (purpose or "").strip()
    note = (note or "").strip()
    if purpose not in Purpose.values:
        errors.add("purpose", _("Choose the purpose of the ride from the list."))
    elif purpose == Purpose.OTHER and not note:
        errors.add("purpose_note", _("Say in a few words what the ride is for."))
    if len(note) > PURPOSE_NOTE_MAX_LENGTH:
        errors.add("purpose_note", _("Shorten the note to 500 characters."))
    return purpose, note


def check_separation(pickup: ResolvedPoint, dropoff: ResolvedPoint, errors: BookingErrors):
    gap = distance_metres(pickup.latitude, pickup.longitude, dropoff.latitude, dropoff.longitude)
    if gap < MIN_SEPARATION_METERS:
        errors.add(
            "dropoff",
            _("Pickup and drop-off are less than 100 m apart. Check both points."),
        )


def check_passenger_count(raw, errors: BookingErrors) -> int:
    count = int_or_none(raw)
    if count is None or not 1 <= count <= MAX_PASSENGERS:
        errors.add("passenger_count", _("Enter the number of passengers, from 1 to 6."))
        return 1
    return count


def check_escort(
    name: str, phone: str, *, is_child: bool, passenger_count: int, errors: BookingErrors
) -> Escort:
    """A child travels with an escort; an escort has a name and a mobile phone, and
    travels too (so at least two passengers)."""
    name = (name or "").strip()
    phone_raw = (phone or "").strip()
    phone = ""
    if len(name) > ESCORT_NAME_MAX_LENGTH:
        errors.add("escort_name", _("Shorten the escort's name to 80 characters."))
    if phone_raw:
        try:
            phone = normalize_indonesian_phone(phone_raw)
        except ValidationError as exc:
            errors.add("escort_phone", exc.messages[0])
    has_escort = bool(name or phone_raw)
    if is_child and not has_escort:
        errors.add(
            "escort_name",
            _("A child travels with an escort: enter the escort's name and phone."),
        )
    if has_escort and not name:
        errors.add("escort_name", _("Enter the escort's name."))
    if has_escort and not phone_raw:
        errors.add("escort_phone", _("Enter the escort's phone: the driver will call this number."))
    if has_escort and "passenger_count" not in errors and passenger_count < 2:
        errors.add(
            "passenger_count",
            _("The survivor and the escort travel together: enter at least 2 passengers."),
        )
    return Escort(name=name, phone=phone, present=has_escort)


def rider_phone_for(
    escort: Escort,
    *,
    may_share_phone: bool,
    survivor_phone: str,
    errors: BookingErrors,
) -> str:
    """The phone the driver calls: the escort's; else the survivor's, when consent allows
    giving it to the driver and it is a mobile."""
    if escort.present:
        return escort.phone
    if not may_share_phone:
        errors.add(
            "escort_phone",
            _(
                "The driver needs a phone number: record the survivor's consent to give their "
                "phone to the driver, or add an escort with a phone."
            ),
        )
        return ""
    if not survivor_phone:
        errors.add(
            "escort_phone",
            _(
                "The case has no phone for the survivor: add one on the case page, "
                "or add an escort."
            ),
        )
        return ""
    try:
        return normalize_indonesian_phone(survivor_phone)
    except ValidationError:
        errors.add(
            "escort_phone",
            _(
                "The survivor's phone on the case is not a valid Indonesian mobile number: "
                "correct it on the case page, or add an escort."
            ),
        )
        return ""


# --- fares and approval ----------------------------------------------------------------


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


def fare_reason(quote: FareQuote | None, *, ceiling: int) -> dict | None:
    """Why a fare needs a supervisor: unknown, or above the ceiling; None when it may go."""
    if quote is None:
        return {"code": FARE_UNKNOWN, "ceiling": ceiling}
    if quote.fare_amount > ceiling:
        return {"code": FARE_ABOVE_CEILING, "fare": quote.fare_amount, "ceiling": ceiling}
    return None


def fare_recheck_reason(
    quote: FareQuote | None,
    *,
    agreed_fare: int | None,
    approved: bool,
    ceiling: int,
    margin_percent: int,
) -> dict | None:
    """Why a fare quoted again just before a ride is sent needs a supervisor; None when the
    ride may go with it.

    `agreed_fare` is the fare a person agreed to: the one a supervisor approved
    (`approved`), or the one booked under the ceiling. The new fare may be up to
    `margin_percent` above it; under the ceiling it may always go, since the SOP asks
    nobody about such a fare. With no agreed fare (the partner gave none at booking) the
    ceiling alone decides, as at booking."""
    if quote is None or agreed_fare is None:
        return fare_reason(quote, ceiling=ceiling)
    fare = quote.fare_amount
    if fare <= ceiling or fare * 100 <= agreed_fare * (100 + margin_percent):
        return None
    return {
        "code": FARE_RISEN,
        "fare": fare,
        "agreed": agreed_fare,
        "approved": approved,
        "margin": margin_percent,
    }


def approval_reasons_for(
    plan: BookingPlan,
    *,
    quote: FareQuote | None,
    ceiling: int,
    service_hours: str,
    fare_unavailable: bool = False,
    now=None,
) -> list[dict]:
    """Why the SOP wants a supervisor's approval for the plan (none: it is sent at once).

    A fare the partner could not give just now (`fare_unavailable`: it did not answer) is
    asked for again at dispatch and checked against the ceiling then, unless the ride
    waits for approval anyway, when the supervisor is told the fare is unknown. A partner
    that answered but offers no car for the trip leaves the fare unknown: approval."""
    reasons = []
    pickup_at = plan.scheduled_pickup_at or now or timezone.now()
    outside_hours = not within_service_hours(pickup_at, service_hours)
    if quote is None or quote.product_id != plan.product_id:
        if not fare_unavailable or outside_hours:
            reasons.append(fare_reason(None, ceiling=ceiling))
    else:
        reason = fare_reason(quote, ceiling=ceiling)
        if reason is not None:
            reasons.append(reason)
    if outside_hours:
        reasons.append(
            {
                "code": OUTSIDE_SERVICE_HOURS,
                "pickup_at": pickup_at.isoformat(),
                "service_hours": service_hours,
            }
        )
    return reasons


def decision_refusal(ride: Ride, user) -> str | None:
    """Why `user` may not approve or reject `ride` although they supervise its unit: they
    booked it themselves (a second person checks what the SOP sends for approval)."""
    if ride.booked_by_id is not None and ride.booked_by_id == user.pk:
        return _("You booked this ride yourself, so another supervisor of the unit decides on it.")
    return None


def approval_reason_text(reason: dict) -> str:
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
    if code == FARE_RISEN:
        values = {
            "fare": rupiah(reason.get("fare")),
            "agreed": rupiah(reason.get("agreed")),
            "margin": reason.get("margin"),
        }
        if reason.get("approved"):
            return (
                _(
                    "The fare is now %(fare)s, more than %(margin)s%% above the %(agreed)s "
                    "a supervisor approved."
                )
                % values
            )
        return (
            _("The fare is now %(fare)s, more than %(margin)s%% above the %(agreed)s booked.")
            % values
        )
    if code == FUNDS_SHORT:
        return shortfall_message(
            reason.get("short", ""), needed=reason.get("needed", 0), left=reason.get("left", 0)
        )
    if code == REBOOK_OF_REJECTED:
        return _("It rebooks %(ref)s, which a supervisor rejected.") % {"ref": reason.get("ride")}
    return str(code)


# --- what may happen to a ride that ended without a trip -------------------------------


def rebook_refusal(ride: Ride, *, rebooked_as: Ride | None) -> str | None:
    """Why the ride cannot be rebooked, or None when it can (one click after no driver, a
    cancellation, a rejection, a failure or needs attention; once only; never while the
    partner may still hold the trip). The rebook of a rejected ride waits for a
    supervisor again (rebook_approval_reasons)."""
    if not ride.can_rebook:
        return _("Only a ride that ended without a trip can be rebooked.")
    if rebooked_as is not None:
        return _("This ride was already rebooked as %(ref)s.") % {"ref": rebooked_as.reference}
    if ride.status == RideStatus.NEEDS_ATTENTION and ride.partner_trip_id:
        return _("The partner may still hold this trip: cancel the ride first, then rebook.")
    return None


def approval_holds(old: Ride) -> bool:
    """A supervisor approved `old` (and did not reject it): its rebook keeps the approval."""
    return old.decided_at is not None and old.status != RideStatus.REJECTED


def rebook_approval_reasons(
    old: Ride, reasons: list[dict], *, quote: FareQuote | None, ceiling: int, margin_percent: int
) -> list[dict]:
    """Why the rebook of `old` waits for a supervisor, given `reasons`, those of the SOP's
    checks of the rebook itself (at `quote`, the fare it is rebooked at):
    - a ride a supervisor rejected is never sent on a caseworker's click alone: its
      rebook always waits, saying which ride was rejected;
    - a ride a supervisor approved keeps the approval (a survivor left without a driver
      at night does not wait for a second one), unless its fare rose past the margin;
    - any other is checked like a new booking."""
    if old.status == RideStatus.REJECTED:
        return [{"code": REBOOK_OF_REJECTED, "ride": old.reference}, *reasons]
    if approval_holds(old):
        if quote is None or old.agreed_fare is None:
            return []
        reason = fare_recheck_reason(
            quote,
            agreed_fare=old.agreed_fare,
            approved=True,
            ceiling=ceiling,
            margin_percent=margin_percent,
        )
        return [reason] if reason else []
    return reasons


def retry_refusal(ride: Ride) -> str | None:
    """Why a ride cannot be sent to the partner again, or None when it can (it needs
    attention, the partner holds no trip for it, and nobody asked to cancel it)."""
    if ride.status != RideStatus.NEEDS_ATTENTION:
        return _("Only a ride that needs attention can be retried.")
    if ride.partner_trip_id:
        return _("The partner already holds this ride. Cancel it, or wait for its status.")
    if ride.cancel_requested_at is not None:
        return _("This ride is being cancelled; book a new ride instead.")
    return None
