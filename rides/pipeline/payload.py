"""What the partner receives when a ride is created: the allow-list, and nothing else.

The body holds an alias, the phone the SOP names, the two points (a protected place
replaced by its neutral point), a neutral sender name, and notifications with calls and
trip-sharing off. Never the case code, the purpose, the kind of violence, a real name,
a note, or words that say what the ride is about. `assert_partner_safe` checks the final
body against the allow-list and against the ride's own sensitive values; a body that
fails is never sent (the ride goes to "needs attention" with the reason). Which words
tell, and how text is compared with them, is rides/telltale.py's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.geo import ADDRESS_MAX_LENGTH
from rides.models import Ride
from rides.telltale import contains_value, has_telltale_words, normal

ALLOWED_PRODUCTS = frozenset({"car", "car_xl"})
MAX_DISPLAY_NAME = 26
NEUTRAL_ALIAS = "Penumpang"
DEFAULT_SENDER_NAME = "Layanan Antar"
# A fare id is sent only while it still holds this long (the partner locks it 2 minutes).
FARE_FRESH_MARGIN = dt.timedelta(seconds=15)

REQUIRED_KEYS = frozenset(
    {
        "external_reference",
        "product_id",
        "rider",
        "pickup",
        "dropoff",
        "passenger_count",
        "sender_display_name",
        "notifications",
    }
)
OPTIONAL_KEYS = frozenset({"fare_id", "scheduled_pickup_at"})
RIDER_KEYS = frozenset({"display_name", "phone_number", "locale"})
POINT_REQUIRED_KEYS = frozenset({"latitude", "longitude"})
POINT_OPTIONAL_KEYS = frozenset({"address"})
NOTIFICATION_KEYS = frozenset({"sms", "call_enabled", "share_trip_contacts"})


class PayloadRefused(ValueError):
    """The ride cannot be sent as it is; `user_message` tells the caseworker what to do."""

    def __init__(self, user_message: str, code: str):
        super().__init__(code)
        self.code = code
        self.user_message = user_message


def _name_tokens(*names: str) -> set[str]:
    """The parts of real names that must not reach the partner (3+ letters each, in the
    normal form of rides/telltale.py: "Séna" is found as "sena")."""
    tokens = set()
    for name in names:
        tokens.update(word for word in normal(name).split() if len(word) >= 3 and word.isalpha())
    return tokens


def _mentions(text: str, tokens: set[str]) -> bool:
    return bool(set(normal(text).split()) & tokens)


def _sensitive_tokens(ride: Ride) -> tuple[set[str], set[str]]:
    """(name tokens, other exact strings) of this ride that must not be sent."""
    survivor_name = guardian_name = ""
    survivor = getattr(ride.case, "survivor", None) if ride.case_id else None
    if survivor is not None:
        survivor_name = survivor.name or ""
        guardian_name = survivor.guardian_name or ""
    names = _name_tokens(survivor_name, guardian_name, ride.escort_name)
    exact = {ride.case.code} if ride.case_id else set()
    return names, {value for value in exact if value}


def _coordinate(value) -> float:
    return round(float(Decimal(str(value))), 6)


def _point(ride: Ride, which: str, name_tokens: set[str]) -> dict:
    place = getattr(ride, f"{which}_place")
    if place is not None and place.is_protected:
        # A safe house: the partner gets the nearby neutral point, never the house.
        point = {
            "latitude": _coordinate(place.neutral_latitude),
            "longitude": _coordinate(place.neutral_longitude),
        }
        address = place.neutral_address or ""
    else:
        stored = getattr(ride, which) or {}
        try:
            point = {
                "latitude": _coordinate(stored["latitude"]),
                "longitude": _coordinate(stored["longitude"]),
            }
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise PayloadRefused(
                _("The %(which)s point has no valid coordinates. Edit the ride and pick it again.")
                % {"which": _("pickup") if which == "pickup" else _("drop-off")},
                code=f"{which}_coordinates",
            ) from exc
        address = str(stored.get("address") or "")
    address = " ".join(address.split())[:ADDRESS_MAX_LENGTH]
    # The coordinates are what the driver needs; an address that would say who travels
    # or why is left out rather than sent.
    if address and not has_telltale_words(address) and not _mentions(address, name_tokens):
        point["address"] = address
    return point


def _display_name(ride: Ride, name_tokens: set[str]) -> str:
    alias = " ".join((ride.rider_alias or "").split())[:MAX_DISPLAY_NAME]
    if not alias or has_telltale_words(alias) or _mentions(alias, name_tokens):
        return NEUTRAL_ALIAS
    return alias


def _phone(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw or "", "ID")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise PayloadRefused(
            _("The rider's phone number is not valid. Edit the ride, then retry."),
            code="rider_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def fare_is_fresh(ride: Ride, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(
        ride.fare_id and ride.fare_expires_at and ride.fare_expires_at > now + FARE_FRESH_MARGIN
    )


def sender_display_name() -> str:
    name = getattr(settings, "PARTNER_SENDER_NAME", "") or DEFAULT_SENDER_NAME
    return name[:MAX_DISPLAY_NAME]


def build_trip_request(ride: Ride) -> dict:
    """The create body for `ride`, exactly the contract's allow-list.

    Deterministic for a given ride row: the dispatch decides once per idempotency key
    whether the fare id is still fresh (clearing `ride.fare_id` when it is not), so a
    repeat of the same key always carries the same body.
    """
    if ride.product_id not in ALLOWED_PRODUCTS:
        raise PayloadRefused(
            _("Only cars may be booked for survivors. Choose a car, then retry."),
            code="product",
        )
    if not 1 <= (ride.passenger_count or 0) <= 6:
        raise PayloadRefused(
            _("A ride carries 1 to 6 passengers. Edit the ride, then retry."),
            code="passenger_count",
        )
    name_tokens, _codes = _sensitive_tokens(ride)
    body = {
        "external_reference": ride.reference,
        "product_id": ride.product_id,
        "rider": {
            "display_name": _display_name(ride, name_tokens),
            "phone_number": _phone(ride.rider_phone),
            "locale": "id",
        },
        "pickup": _point(ride, "pickup", name_tokens),
        "dropoff": _point(ride, "dropoff", name_tokens),
        "passenger_count": int(ride.passenger_count),
        "sender_display_name": sender_display_name(),
        "notifications": {"sms": True, "call_enabled": False, "share_trip_contacts": []},
    }
    if ride.fare_id:
        body["fare_id"] = ride.fare_id
    if ride.scheduled_pickup_at is not None:
        body["scheduled_pickup_at"] = timezone.localtime(ride.scheduled_pickup_at).isoformat()
    assert_partner_safe(body, ride)
    return body


def _human_texts(body: dict) -> list[str]:
    """The values a person wrote or reads (ids, codes and times are machine-made)."""
    texts = [body["rider"]["display_name"], body["sender_display_name"]]
    for which in ("pickup", "dropoff"):
        if "address" in body[which]:
            texts.append(body[which]["address"])
    return [text for text in texts if isinstance(text, str)]


def _check_keys(where: str, actual, required: frozenset, optional: frozenset = frozenset()):
    if not isinstance(actual, dict):
        raise PayloadRefused(_("The ride could not be prepared for the partner."), code=where)
    keys = set(actual)
    if not required <= keys or not keys <= required | optional:
        raise PayloadRefused(_("The ride could not be prepared for the partner."), code=where)


def assert_partner_safe(body: dict, ride: Ride | None = None) -> None:
    """Refuses a body with any key beyond the allow-list or any tell-tale value."""
    _check_keys("body_keys", body, REQUIRED_KEYS, OPTIONAL_KEYS)
    _check_keys("rider_keys", body["rider"], RIDER_KEYS)
    _check_keys("pickup_keys", body["pickup"], POINT_REQUIRED_KEYS, POINT_OPTIONAL_KEYS)
    _check_keys("dropoff_keys", body["dropoff"], POINT_REQUIRED_KEYS, POINT_OPTIONAL_KEYS)
    _check_keys("notification_keys", body["notifications"], NOTIFICATION_KEYS)
    notifications = body["notifications"]
    if notifications["call_enabled"] is not False or notifications["share_trip_contacts"] != []:
        raise PayloadRefused(_("The ride could not be prepared for the partner."), code="sharing")
    if body["product_id"] not in ALLOWED_PRODUCTS:
        raise PayloadRefused(_("Only cars may be booked for survivors."), code="product")
    texts = _human_texts(body)
    if any(has_telltale_words(text) for text in texts):
        raise PayloadRefused(
            _("The ride could not be prepared for the partner."), code="forbidden_words"
        )
    if ride is not None:
        name_tokens, exact = _sensitive_tokens(ride)
        for text in texts:
            if _mentions(text, name_tokens) or any(contains_value(text, value) for value in exact):
                raise PayloadRefused(
                    _("The ride could not be prepared for the partner."), code="sensitive_value"
                )
