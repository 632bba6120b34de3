"""Request body checks, exactly as the contract states them.

Unknown fields are refused: a partner that silently accepted extra fields would hide a
client sending more than its allow-list.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .clock import parse_rfc3339
from .errors import ApiError, invalid
from .pricing import PRODUCTS

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MIN_SCHEDULE_AHEAD_S = 15 * 60
MAX_SCHEDULE_AHEAD_S = 30 * 86_400
MAX_SHARE_CONTACTS = 5


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, "must be a JSON object")
    return value


def _no_unknown(obj: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
    for key in sorted(set(obj) - allowed):
        raise invalid(f"{prefix}{key}", "is not a known field")


def _required(obj: dict[str, Any], key: str, field: str) -> Any:
    if key not in obj or obj[key] is None:
        raise invalid(field, "is required")
    return obj[key]


def _text(value: Any, field: str, max_len: int) -> str:
    if not isinstance(value, str):
        raise invalid(field, "must be a string")
    if not value.strip():
        raise invalid(field, "must not be blank")
    if len(value) > max_len:
        raise invalid(field, f"must be at most {max_len} characters")
    return value


def _optional_text(obj: dict[str, Any], key: str, field: str, max_len: int) -> str | None:
    value = obj.get(key)
    return None if value is None else _text(value, field, max_len)


def _integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, "must be a whole number")
    if not low <= value <= high:
        raise invalid(field, f"must be between {low} and {high}")
    return value


def _boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(field, "must be true or false")
    return value


def _phone(value: Any, field: str) -> str:
    if not isinstance(value, str) or not E164.match(value):
        raise invalid(field, "must be an E.164 phone number such as +6281234567890")
    return value


def _coordinate(value: Any, field: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(field, "must be a number")
    if not -limit <= value <= limit:
        raise invalid(field, f"must be between -{limit:g} and {limit:g}")
    return float(value)


def point(value: Any, field: str) -> dict[str, Any]:
    obj = _object(value, field)
    _no_unknown(obj, {"latitude", "longitude", "address", "note"}, f"{field}.")
    result: dict[str, Any] = {
        "latitude": _coordinate(
            _required(obj, "latitude", f"{field}.latitude"), f"{field}.latitude", 90
        ),
        "longitude": _coordinate(
            _required(obj, "longitude", f"{field}.longitude"), f"{field}.longitude", 180
        ),
    }
    address = _optional_text(obj, "address", f"{field}.address", 255)
    if address is not None:
        result["address"] = address
    note = _optional_text(obj, "note", f"{field}.note", 140)
    if note is not None:
        result["note"] = note
    return result


def _passenger_count(obj: dict[str, Any]) -> int:
    return _integer(_required(obj, "passenger_count", "passenger_count"), "passenger_count", 1, 6)


def estimate_request(body: Any) -> dict[str, Any]:
    obj = _object(body, "body")
    _no_unknown(obj, {"pickup", "dropoff", "passenger_count"})
    return {
        "pickup": point(_required(obj, "pickup", "pickup"), "pickup"),
        "dropoff": point(_required(obj, "dropoff", "dropoff"), "dropoff"),
        "passenger_count": _passenger_count(obj),
    }


TRIP_FIELDS = {
    "external_reference",
    "product_id",
    "fare_id",
    "rider",
    "pickup",
    "dropoff",
    "scheduled_pickup_at",
    "passenger_count",
    "note_for_driver",
    "sender_display_name",
    "notifications",
}


def create_trip_request(body: Any, now_us: int) -> dict[str, Any]:
    """The checked request; raises 400 validation_failed or 422 unsupported_product."""
    obj = _object(body, "body")
    _no_unknown(obj, TRIP_FIELDS)
    external_reference = _text(
        _required(obj, "external_reference", "external_reference"), "external_reference", 64
    )
    product_id = _required(obj, "product_id", "product_id")
    if not isinstance(product_id, str):
        raise invalid("product_id", "must be a string")
    fare_id = _optional_text(obj, "fare_id", "fare_id", 128)

    rider = _object(_required(obj, "rider", "rider"), "rider")
    _no_unknown(rider, {"display_name", "phone_number", "locale"}, "rider.")
    display_name = _text(
        _required(rider, "display_name", "rider.display_name"), "rider.display_name", 26
    )
    phone = _phone(_required(rider, "phone_number", "rider.phone_number"), "rider.phone_number")
    locale = _required(rider, "locale", "rider.locale")
    if locale not in ("id", "en"):
        raise invalid("rider.locale", 'must be "id" or "en"')

    pickup = point(_required(obj, "pickup", "pickup"), "pickup")
    dropoff = point(_required(obj, "dropoff", "dropoff"), "dropoff")

    scheduled_us = None
    if obj.get("scheduled_pickup_at") is not None:
        raw = obj["scheduled_pickup_at"]
        if not isinstance(raw, str):
            raise invalid("scheduled_pickup_at", "must be an RFC 3339 date-time string")
        try:
            scheduled_us = parse_rfc3339(raw)
        except ValueError as exc:
            raise invalid("scheduled_pickup_at", str(exc)) from None
        ahead = (scheduled_us - now_us) / 1_000_000
        if ahead < MIN_SCHEDULE_AHEAD_S:
            raise invalid("scheduled_pickup_at", "must be at least 15 minutes ahead")
        if ahead > MAX_SCHEDULE_AHEAD_S:
            raise invalid("scheduled_pickup_at", "must be at most 30 days ahead")

    passenger_count = _passenger_count(obj)
    note = _optional_text(obj, "note_for_driver", "note_for_driver", 140)
    sender = _optional_text(obj, "sender_display_name", "sender_display_name", 26)

    notifications = _object(_required(obj, "notifications", "notifications"), "notifications")
    _no_unknown(notifications, {"sms", "call_enabled", "share_trip_contacts"}, "notifications.")
    sms = _boolean(_required(notifications, "sms", "notifications.sms"), "notifications.sms")
    call_enabled = _boolean(
        _required(notifications, "call_enabled", "notifications.call_enabled"),
        "notifications.call_enabled",
    )
    contacts = notifications.get("share_trip_contacts") or []
    if not isinstance(contacts, list):
        raise invalid("notifications.share_trip_contacts", "must be a list of phone numbers")
    if len(contacts) > MAX_SHARE_CONTACTS:
        raise invalid(
            "notifications.share_trip_contacts", f"must hold at most {MAX_SHARE_CONTACTS} numbers"
        )
    for index, contact in enumerate(contacts):
        _phone(contact, f"notifications.share_trip_contacts[{index}]")

    product = PRODUCTS.get(product_id)
    if product is None:
        raise ApiError(
            422,
            "unsupported_product",
            f"product_id: {product_id!r} is not offered (one of {', '.join(PRODUCTS)})",
            details={"field": "product_id"},
        )
    if passenger_count > product.max_passengers:
        raise ApiError(
            422,
            "unsupported_product",
            f"product_id: {product_id} carries at most {product.max_passengers} passenger(s)",
            details={"field": "passenger_count", "max_passengers": product.max_passengers},
        )
    return {
        "external_reference": external_reference,
        "product_id": product_id,
        "fare_id": fare_id,
        "rider": {"display_name": display_name, "phone_number": phone, "locale": locale},
        "pickup": pickup,
        "dropoff": dropoff,
        "scheduled_us": scheduled_us,
        "passenger_count": passenger_count,
        "note_for_driver": note,
        "sender_display_name": sender,
        "notifications": {"sms": sms, "call_enabled": call_enabled, "contacts": contacts},
    }
