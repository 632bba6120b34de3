"""Rides for the board's tests, written as the pipeline leaves them: any state, a
driver's position, a typed pickup (a survivor's home) and a place or a safe house as
the drop-off (the neutral point, as the booking stores it). Bulk-written for the
query-count tests, which need a thousand."""

from __future__ import annotations

from decimal import Decimal

from cases.models import Place, PlaceKind
from rides.models import Ride

HOME = {"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Kenanga No. 3, Jakarta Timur"}
DRIVER_AT = (-6.2400, 106.8800)


def safe_house() -> Place:
    return Place.objects.create(
        name="Rumah Aman Melati",
        kind=PlaceKind.SAFE_HOUSE,
        address="Jl. Melati Rahasia No. 9",
        latitude=Decimal("-6.301000"),
        longitude=Decimal("106.890000"),
        is_protected=True,
        neutral_address="Halte TransJakarta Cawang",
        neutral_latitude=Decimal("-6.243000"),
        neutral_longitude=Decimal("106.858000"),
    )


def hospital() -> Place:
    return Place.objects.create(
        name="RS Polri Kramat Jati",
        kind=PlaceKind.HOSPITAL,
        address="Jl. Raya Bogor, Kramat Jati",
        latitude=Decimal("-6.269700"),
        longitude=Decimal("106.866000"),
    )


def _dropoff(place: Place) -> dict:
    if place.is_protected:
        return {
            "latitude": float(place.neutral_latitude),
            "longitude": float(place.neutral_longitude),
            "address": place.neutral_address,
        }
    return {
        "latitude": float(place.latitude),
        "longitude": float(place.longitude),
        "address": place.address,
    }


def ride_row(case, booker, account, *, status, place: Place, driver=None, **extra) -> Ride:
    """An unsaved ride of `case` in `status`, to `place`, with the driver at `driver`."""
    fields = {
        "case": case,
        "unit": case.unit,
        "partner_account": account,
        "booked_by": booker,
        "purpose": "medical_exam",
        "pickup": dict(HOME),
        "dropoff_place": place,
        "dropoff": _dropoff(place),
        "rider_phone": "+6281234567890",
        "rider_alias": "Penumpang 4821",
        "status": status,
    }
    if driver:
        fields.update(driver_latitude=driver[0], driver_longitude=driver[1])
    fields.update(extra)
    return Ride(**fields)


def make_rides(case, booker, account, *, statuses, place: Place, driver=None) -> list[Ride]:
    return Ride.objects.bulk_create(
        [
            ride_row(case, booker, account, status=status, place=place, driver=driver)
            for status in statuses
        ]
    )
