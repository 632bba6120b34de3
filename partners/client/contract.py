"""The contract's types, and how the portal reads what a partner answers.

Read tolerantly: what the portal needs to keep a ride correct is checked strictly — ids,
the status, the times, the points, the fare amount — and an answer without it is
unusable (`UnusableData`). Everything informational — the driver, the vehicle, the
driver's position, ETA, distances, fees, ratings, fare type, names — is taken when
usable and left out when not, and so are fields the contract does not name. One
warning per answer names the fields that were left out (names only: values can be
personal). Real partners add fields, send null for fields the contract calls required,
and drop optional ones; none of that may stop a booking.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger("partners.contract")

TRIP_STATUSES = frozenset(
    {
        "scheduled",
        "processing",
        "accepted",
        "arriving",
        "in_progress",
        "driver_redispatched",
        "completed",
        "no_drivers_available",
        "driver_canceled",
        "rider_canceled",
        "failed",
    }
)
TERMINAL_TRIP_STATUSES = frozenset(
    {"completed", "no_drivers_available", "driver_canceled", "rider_canceled", "failed"}
)
# The partner's trip statuses by what they mean for a ride (the portal's state machine
# maps each one; these names are for the pipeline's own decisions).
ENDED_WITHOUT_TRIP = frozenset({"no_drivers_available", "driver_canceled", "failed"})
CANCELED_STATUSES = frozenset({"rider_canceled", "driver_canceled"})
FARE_TYPES = frozenset({"estimate", "final"})
CURRENCY = "IDR"
MAX_TRIP_ID_LENGTH = 255
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class UnusableData(ValueError):
    """A partner answer without something the portal needs; says which field."""


# --- the types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float
    address: str | None = field(default=None, repr=False)
    note: str | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"latitude": self.latitude, "longitude": self.longitude}
        if self.address is not None:
            data["address"] = self.address
        if self.note is not None:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class Driver:
    name: str = ""
    phone_masked: str = ""
    rating: float | None = None


@dataclass(frozen=True)
class Vehicle:
    make: str = ""
    model: str = ""
    color: str = ""
    license_plate: str = ""


@dataclass(frozen=True)
class Location:
    """Where the driver is, and so soon where the rider is: never in reprs or logs."""

    latitude: float = field(repr=False)
    longitude: float = field(repr=False)


@dataclass(frozen=True)
class Estimate:
    product_id: str
    display_name: str
    fare_id: str
    fare_amount: int
    currency: str
    pickup_eta_seconds: int | None
    expires_at: datetime | None


@dataclass(frozen=True)
class Trip:
    trip_id: str
    external_reference: str
    product_id: str
    status: str
    status_detail: str | None
    created_at: datetime
    updated_at: datetime
    scheduled_pickup_at: datetime | None
    driver: Driver | None
    vehicle: Vehicle | None
    driver_location: Location | None = field(repr=False, compare=False)
    pickup_eta_seconds: int | None = None
    fare_amount: int = 0
    fare_type: str = ""
    distance_meters: int | None = None
    duration_seconds: int | None = None
    cancellation_fee: int | None = None


@dataclass(frozen=True)
class UnusableTrip:
    """A trip in a list answer that could not be read; what little is known of it."""

    trip_id: str | None
    external_reference: str | None
    reason: str


@dataclass(frozen=True)
class TripPage:
    trips: list[Trip]
    next_cursor: str | None
    unusable: list[UnusableTrip] = field(default_factory=list)


@dataclass(frozen=True)
class CreateResult:
    trip: Trip
    replayed: bool  # the partner answered an earlier create with this idempotency key


@dataclass(frozen=True)
class Receipt:
    trip_id: str
    total_amount: int
    currency: str
    base_fare: int | None
    distance_fare: int | None
    time_fare: int | None
    fees: int | None
    cancellation_fee: int | None
    distance_meters: int | None
    duration_seconds: int | None
    issued_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """What the portal keeps of a receipt: the contract's fields, null when unusable."""
        return {
            "trip_id": self.trip_id,
            "total_amount": self.total_amount,
            "currency": self.currency,
            "base_fare": self.base_fare,
            "distance_fare": self.distance_fare,
            "time_fare": self.time_fare,
            "fees": self.fees,
            "cancellation_fee": self.cancellation_fee,
            "distance_meters": self.distance_meters,
            "duration_seconds": self.duration_seconds,
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
        }


# --- reading one answer -------------------------------------------------------------------


class Reading:
    """One answer being read: strict checks raise, lenient ones note what they left out."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.left_out: list[str] = []

    # strict: the portal cannot do without these

    def obj(self, value: Any, name: str) -> dict:
        if not isinstance(value, dict):
            raise UnusableData(f"{name}: not an object")
        return value

    def text(self, data: dict, key: str, *, name: str | None = None, max_length=None) -> str:
        value = data.get(key)
        if not isinstance(value, str) or (max_length and len(value) > max_length):
            raise UnusableData(f"{name or key}: not a string")
        return value

    def count(self, data: dict, key: str, *, name: str | None = None) -> int:
        value = _whole(data.get(key))
        if value is None:
            raise UnusableData(f"{name or key}: not a whole number of 0 or more")
        return value

    def moment(self, data: dict, key: str, *, name: str | None = None) -> datetime:
        value = _moment(data.get(key))
        if value is None:
            raise UnusableData(f"{name or key}: not an RFC 3339 time with an offset")
        return value

    def point(self, value: Any, name: str) -> Point:
        data = self.obj(value, name)
        latitude, longitude = (
            _degrees(data.get("latitude"), 90),
            _degrees(data.get("longitude"), 180),
        )
        if latitude is None or longitude is None:
            raise UnusableData(f"{name}: no usable latitude and longitude")
        return Point(
            latitude,
            longitude,
            self.opt_text(data, "address", name=f"{name}.address"),
            self.opt_text(data, "note", name=f"{name}.note"),
        )

    def currency(self, data: dict, name: str) -> str:
        value = data.get("currency")
        if value is None:
            self.left_out.append(f"{name}.currency")
            return CURRENCY
        if value != CURRENCY:
            raise UnusableData(f"{name}.currency: not {CURRENCY}")
        return value

    # lenient: informational, left out when unusable

    def _leave_out(self, data: dict, key: str, name: str | None, *, required: bool) -> None:
        if key in data and data[key] is not None or required:
            self.left_out.append(name or key)

    def opt_text(self, data: dict, key: str, *, name=None, required: bool = False) -> str | None:
        value = data.get(key)
        if isinstance(value, str):
            return value
        self._leave_out(data, key, name, required=required)
        return None

    def opt_count(self, data: dict, key: str, *, name=None, required: bool = False) -> int | None:
        value = _whole(data.get(key))
        if value is None:
            self._leave_out(data, key, name, required=required)
        return value

    def opt_moment(self, data: dict, key: str, *, name=None) -> datetime | None:
        value = _moment(data.get(key))
        if value is None:
            self._leave_out(data, key, name, required=False)
        return value

    def opt_obj(self, data: dict, key: str) -> dict | None:
        value = data.get(key)
        if isinstance(value, dict):
            return value
        self._leave_out(data, key, None, required=False)
        return None

    def report(self, subject: str = "") -> None:
        if self.left_out:
            log.warning(
                "partner answer (%s%s): left out unusable informational fields: %s",
                self.what,
                f" {subject}" if subject else "",
                ", ".join(sorted(set(self.left_out))),
            )


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        return None
    return value


def _degrees(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if math.isnan(number) or not -limit <= number <= limit:
        return None
    return number


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- the answers ----------------------------------------------------------------------------


def _driver(reading: Reading, trip: dict) -> Driver | None:
    data = reading.opt_obj(trip, "driver")
    if data is None:
        return None
    rating = data.get("rating")
    usable_rating = None
    if not isinstance(rating, bool) and isinstance(rating, int | float):
        if math.isfinite(rating) and 0 <= rating <= 5:
            usable_rating = float(rating)
    if usable_rating is None:
        reading.left_out.append("driver.rating")
    return Driver(
        name=reading.opt_text(data, "name", name="driver.name", required=True) or "",
        phone_masked=reading.opt_text(data, "phone_masked", name="driver.phone_masked") or "",
        rating=usable_rating,
    )


def _vehicle(reading: Reading, trip: dict) -> Vehicle | None:
    data = reading.opt_obj(trip, "vehicle")
    if data is None:
        return None
    values = {
        key: reading.opt_text(data, key, name=f"vehicle.{key}", required=True) or ""
        for key in ("make", "model", "color", "license_plate")
    }
    return Vehicle(**values)


def _location(reading: Reading, trip: dict) -> Location | None:
    data = reading.opt_obj(trip, "driver_location")
    if data is None:
        return None
    latitude = _degrees(data.get("latitude"), 90)
    longitude = _degrees(data.get("longitude"), 180)
    if latitude is None or longitude is None:
        reading.left_out.append("driver_location")
        return None
    return Location(latitude, longitude)


def read_trip(data: Any, reading: Reading | None = None) -> Trip:
    """A contract Trip; raises UnusableData when something the portal needs is missing."""
    own = reading is None
    reading = reading or Reading("trip")
    trip = reading.obj(data, "trip")
    trip_id = reading.text(trip, "trip_id", max_length=MAX_TRIP_ID_LENGTH)
    if not trip_id:
        raise UnusableData("trip_id: empty")
    status = trip.get("status")
    if status not in TRIP_STATUSES:
        raise UnusableData("status: not a status of the contract")
    reading.point(trip.get("pickup"), "pickup")
    reading.point(trip.get("dropoff"), "dropoff")
    fare = reading.obj(trip.get("fare"), "fare")
    fare_amount = reading.count(fare, "amount", name="fare.amount")
    reading.currency(fare, "fare")
    fare_type = reading.opt_text(fare, "type", name="fare.type") or ""
    if fare_type and fare_type not in FARE_TYPES:
        reading.left_out.append("fare.type")
        fare_type = ""
    result = Trip(
        trip_id=trip_id,
        external_reference=reading.text(trip, "external_reference"),
        product_id=reading.opt_text(trip, "product_id", required=True) or "",
        status=status,
        status_detail=reading.opt_text(trip, "status_detail"),
        created_at=reading.moment(trip, "created_at"),
        updated_at=reading.moment(trip, "updated_at"),
        scheduled_pickup_at=reading.opt_moment(trip, "scheduled_pickup_at"),
        driver=_driver(reading, trip),
        vehicle=_vehicle(reading, trip),
        driver_location=_location(reading, trip),
        pickup_eta_seconds=reading.opt_count(trip, "pickup_eta_seconds"),
        fare_amount=fare_amount,
        fare_type=fare_type,
        distance_meters=reading.opt_count(trip, "distance_meters"),
        duration_seconds=reading.opt_count(trip, "duration_seconds"),
        cancellation_fee=reading.opt_count(trip, "cancellation_fee"),
    )
    if own:
        reading.report(trip_id)
    return result


def read_page(body: Any) -> TripPage:
    """A list answer. One unusable trip is set aside (`unusable`), never the whole page."""
    reading = Reading("trip list")
    page = reading.obj(body, "body")
    items = page.get("trips")
    if not isinstance(items, list):
        raise UnusableData("trips: not a list")
    cursor = page.get("next_cursor")
    if cursor is not None and not (isinstance(cursor, str) and cursor):
        if cursor != "":
            reading.left_out.append("next_cursor")
        cursor = None
    trips, unusable = [], []
    for item in items:
        try:
            trips.append(read_trip(item, reading))
        except UnusableData as exc:
            known = item if isinstance(item, dict) else {}
            trip_id, reference = known.get("trip_id"), known.get("external_reference")
            unusable.append(
                UnusableTrip(
                    trip_id if isinstance(trip_id, str) and trip_id else None,
                    reference if isinstance(reference, str) and reference else None,
                    str(exc),
                )
            )
    reading.report()
    if unusable:
        log.warning(
            "partner trip list: %s unusable trip(s) set aside: %s",
            len(unusable),
            "; ".join(f"{u.trip_id or '?'} ({u.reason})" for u in unusable[:5]),
        )
    return TripPage(trips=trips, next_cursor=cursor, unusable=unusable)


def read_estimates(body: Any) -> list[Estimate]:
    """The usable estimates of an answer; an unusable one is set aside with a warning."""
    reading = Reading("estimates")
    items = reading.obj(body, "body").get("estimates")
    if not isinstance(items, list):
        raise UnusableData("estimates: not a list")
    result, unusable = [], []
    for item in items:
        try:
            data = reading.obj(item, "estimate")
            fare = reading.obj(data.get("fare"), "fare")
            fare_id = reading.text(data, "fare_id")
            product_id = reading.text(data, "product_id")
            if not fare_id or not product_id:
                raise UnusableData("fare_id or product_id: empty")
            result.append(
                Estimate(
                    product_id=product_id,
                    display_name=reading.opt_text(data, "display_name", required=True) or "",
                    fare_id=fare_id,
                    fare_amount=reading.count(fare, "amount", name="fare.amount"),
                    currency=reading.currency(fare, "fare"),
                    pickup_eta_seconds=reading.opt_count(data, "pickup_eta_seconds", required=True),
                    expires_at=reading.opt_moment(data, "expires_at"),
                )
            )
        except UnusableData as exc:
            unusable.append(str(exc))
    reading.report()
    if unusable:
        log.warning("partner estimates: %s unusable estimate(s) set aside", len(unusable))
        if not result:
            raise UnusableData(f"no usable estimate ({unusable[0]})")
    return result


def read_receipt(body: Any) -> Receipt:
    reading = Reading("receipt")
    data = reading.obj(body, "receipt")
    trip_id = reading.text(data, "trip_id")
    if not trip_id:
        raise UnusableData("trip_id: empty")
    receipt = Receipt(
        trip_id=trip_id,
        total_amount=reading.count(data, "total_amount"),
        currency=reading.currency(data, "receipt"),
        base_fare=reading.opt_count(data, "base_fare", required=True),
        distance_fare=reading.opt_count(data, "distance_fare", required=True),
        time_fare=reading.opt_count(data, "time_fare", required=True),
        fees=reading.opt_count(data, "fees", required=True),
        # "No fee" is written null by some partners and 0 by others: both mean none.
        cancellation_fee=reading.opt_count(data, "cancellation_fee"),
        distance_meters=reading.opt_count(data, "distance_meters", required=True),
        duration_seconds=reading.opt_count(data, "duration_seconds", required=True),
        issued_at=reading.opt_moment(data, "issued_at"),
    )
    reading.report(trip_id)
    return receipt
