"""Real-partner quirks in partner API answers and webhook bodies (knob ``quirk_rate``).

Real partners send fields their contract does not name and leave informational fields
null or out altogether. The sandbox does the same so that a client's parsing is tested
against that, not only against the strict schema in ``docs/partner-api.yaml``.

Quirks are applied to a copy of an answer while it is rendered, so what is stored (trips,
receipts, the first answer an idempotent replay repeats) never changes, and each answer
draws its own quirks from the sandbox's seeded generator. What a client needs to work is
never touched: ids, references, statuses, timestamps, product, fare amount and currency,
coordinates, receipt totals, fare ids and expiry, token answers, error bodies, and the
``trips``/``next_cursor`` keys of a page.
"""

from __future__ import annotations

import dataclasses
import json
import random
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .answers import Answer
    from .state import Sandbox

TRIP_OPTIONAL = (
    "status_detail",
    "scheduled_pickup_at",
    "driver_location",
    "pickup_eta_seconds",
    "distance_meters",
    "duration_seconds",
    "cancellation_fee",
)
# A receipt keeps its keys: partners tend to send null for a line they did not compute.
RECEIPT_OPTIONAL = (
    "fees",
    "base_fare",
    "distance_fare",
    "time_fare",
    "distance_meters",
    "duration_seconds",
)
SERVICE_TYPES = ("regular", "priority", "economy")
VEHICLE_TYPES = {"car": "hatchback", "car_xl": "mpv", "bike": "motorcycle"}


def _rupiah(amount: Any) -> str | None:
    return f"Rp {amount:,}".replace(",", ".") if isinstance(amount, int) else None


class _Quirks:
    """One answer's quirks: every decision is a draw from the sandbox's generator."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng = rng
        self.rate = rate

    def hit(self) -> bool:
        return self.rng.random() < self.rate

    def token(self, prefix: str, length: int = 16) -> str:
        return prefix + "".join(self.rng.choices(string.ascii_letters + string.digits, k=length))

    def blank(self, obj: dict[str, Any], key: str, *, may_drop: bool = True) -> None:
        """With chance ``rate``, ``key`` becomes null or (when allowed) disappears."""
        if not self.hit():
            return
        if may_drop and self.rng.random() < 0.5:
            obj.pop(key, None)
        else:
            obj[key] = None

    # --- shapes ----------------------------------------------------------------------------
    def point(self, point: Any, extras: bool) -> None:
        if not isinstance(point, dict):
            return
        self.blank(point, "address")
        self.blank(point, "note")
        if extras:
            point["place_id"] = self.token("ChIJ", 23)

    def trip(self, trip: dict[str, Any]) -> None:
        extras = self.hit()
        for key in TRIP_OPTIONAL:
            self.blank(trip, key)
        fare = trip.get("fare")
        if isinstance(fare, dict):
            self.blank(fare, "type")
            if extras:
                fare["display"] = _rupiah(fare.get("amount"))
        driver = trip.get("driver")
        if isinstance(driver, dict):
            self.blank(driver, "rating", may_drop=False)
            self.blank(driver, "phone_masked")
            if extras:
                driver["photo_url"] = f"https://cdn.partner.example/d/{self.token('', 12)}.jpg"
                driver["driver_id"] = self.token("drv_", 10)
        vehicle = trip.get("vehicle")
        if isinstance(vehicle, dict):
            self.blank(vehicle, "color")
            self.blank(vehicle, "model")
            if extras:
                vehicle["year"] = self.rng.randint(2014, 2025)
                vehicle["vehicle_type"] = VEHICLE_TYPES.get(trip.get("product_id"), "car")
        self.point(trip.get("pickup"), extras)
        self.point(trip.get("dropoff"), extras)
        location = trip.get("driver_location")
        if extras and isinstance(location, dict):
            location["accuracy_meters"] = round(self.rng.uniform(3, 40), 1)
        if extras:
            trip["surge_multiplier"] = 1.0
            trip["service_type"] = self.rng.choice(SERVICE_TYPES)
            trip["_links"] = {"self": f"/v1/trips/{trip.get('trip_id')}"}

    def page(self, page: dict[str, Any]) -> None:
        extras = self.hit()
        for trip in page.get("trips") or []:
            if isinstance(trip, dict):
                self.trip(trip)
        if extras:
            page["total_count"] = len(page.get("trips") or [])
            page["has_more"] = page.get("next_cursor") is not None

    def receipt(self, receipt: dict[str, Any]) -> None:
        extras = self.hit()
        # A partner that charged no fee says nothing rather than 0.
        if receipt.get("cancellation_fee") == 0 or self.hit():
            receipt["cancellation_fee"] = None
        for key in RECEIPT_OPTIONAL:
            self.blank(receipt, key, may_drop=False)
        if extras:
            receipt["payment_method"] = self.rng.choice(("cash", "corporate_account"))
            receipt["tip_amount"] = 0
            receipt["total_display"] = _rupiah(receipt.get("total_amount"))

    def estimates(self, answer: dict[str, Any]) -> None:
        extras = self.hit()
        for item in answer.get("estimates") or []:
            if not isinstance(item, dict):
                continue
            self.blank(item, "pickup_eta_seconds", may_drop=False)
            if self.hit():
                item.pop("display_name", None)
            if extras:
                item["surge_multiplier"] = 1.0
                item["capacity"] = {"car": 4, "car_xl": 6, "bike": 1}.get(item.get("product_id"))
                if isinstance(item.get("fare"), dict):
                    item["fare"]["display"] = _rupiah(item["fare"].get("amount"))
        if extras:
            answer["request_id"] = self.token("req_", 20)


SHAPES: dict[str, Callable[[_Quirks, dict[str, Any]], None]] = {
    "create_trip": _Quirks.trip,
    "get_trip": _Quirks.trip,
    "cancel_trip": _Quirks.trip,
    "list_trips": _Quirks.page,
    "receipt": _Quirks.receipt,
    "estimates": _Quirks.estimates,
}


def applied(sb: Sandbox, endpoint: str, answer: Answer) -> Answer:
    """The answer as it goes out: a quirked copy, or ``answer`` itself when none apply."""
    rate = sb.config.quirk_rate
    shape = SHAPES.get(endpoint)
    if not rate or shape is None or not 200 <= answer.status < 300:
        return answer
    try:
        body = json.loads(answer.text())
    except ValueError:
        return answer
    if not isinstance(body, dict):
        return answer
    shape(_Quirks(sb.rng, rate), body)
    return dataclasses.replace(answer, body=body)


def webhook_payload(sb: Sandbox, payload: dict[str, Any]) -> dict[str, Any]:
    """Extra top-level and ``data`` fields on an event body, with chance ``quirk_rate``."""
    rate = sb.config.quirk_rate
    if rate and sb.rng.random() < rate:
        quirks = _Quirks(sb.rng, rate)
        payload["api_version"] = "2025-01"
        payload["livemode"] = False
        data = payload.get("data")
        if isinstance(data, dict):
            data["region"] = "JKT"
            data["event_sequence"] = sb.rng.randint(1, 10_000)
            data["correlation_id"] = quirks.token("cor_", 16)
    return payload
