"""Where things are: coordinates as people type them, distances, Indonesia's extent, the
partner's service area, and the longest address the portal keeps.

The sandbox partner has its own copy of the service area on purpose: it stands for the
partner's independent implementation, not for the portal's rule.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The partner takes addresses of at most 255 characters (partner API, `Point.address`),
# and a protected place's neutral point is stored in a column of that length.
ADDRESS_MAX_LENGTH = 255
EARTH_RADIUS_METRES = 6_371_000.0
# Six decimal places: about 10 cm, finer than any pin set on a map.
COORDINATE_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class Box:
    """A latitude/longitude rectangle (WGS84 degrees)."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def contains(self, latitude, longitude) -> bool:
        return (
            self.lat_min <= latitude <= self.lat_max and self.lon_min <= longitude <= self.lon_max
        )

    def as_dict(self) -> dict:
        return asdict(self)


# Jabodetabek, where the partner drives, as a rough box.
SERVICE_AREA = Box(lat_min=-6.8, lat_max=-5.9, lon_min=106.3, lon_max=107.3)
# Indonesia, with a margin: a point outside it is a typing or map mistake.
INDONESIA = Box(lat_min=-11.5, lat_max=6.5, lon_min=94.5, lon_max=141.5)


def parse_coordinate(value) -> Decimal | None:
    """A coordinate as typed or sent ("-6.2", -6.2, Decimal); None when it is no number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def distance_metres(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine) on a spherical Earth, good to a few metres at
    city scale."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp = p2 - p1
    dl = math.radians(float(lon2) - float(lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(h))


def distance_from_segment_metres(lat, lon, start, end) -> float:
    """How far the point (lat, lon) is from the straight segment start–end (each a
    (latitude, longitude) pair), in metres. A local flat projection around the point
    (equirectangular), exact enough over the tens of kilometres of a city trip."""
    scale_y = math.radians(1) * EARTH_RADIUS_METRES
    scale_x = scale_y * math.cos(math.radians(float(lat)))

    def flat(point):
        return (
            (float(point[1]) - float(lon)) * scale_x,
            (float(point[0]) - float(lat)) * scale_y,
        )

    (ax, ay), (bx, by) = flat(start), flat(end)
    dx, dy = bx - ax, by - ay
    length_squared = dx * dx + dy * dy
    # The point is the origin: project it onto the segment, clamped to its ends.
    t = 0.0 if length_squared == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length_squared))
    return math.hypot(ax + t * dx, ay + t * dy)


def _as_float(value) -> float | None:
    number = parse_coordinate(value)
    if number is None:
        return None
    number = float(number)
    return number if math.isfinite(number) else None


def _typed(raw) -> bool:
    return raw is not None and str(raw).strip() != ""


def service_area_point(latitude, longitude) -> tuple[float, float]:
    """A real point inside the partner's service area, as floats; ValidationError saying
    what to do otherwise (the pickup and drop-off of every ride)."""
    lat, lon = _as_float(latitude), _as_float(longitude)
    if lat is None and _typed(latitude):
        raise ValidationError(
            _(
                "The latitude is not a number (for example -6.2251). Type it again or set "
                "the pin on the map."
            )
        )
    if lon is None and _typed(longitude):
        raise ValidationError(
            _(
                "The longitude is not a number (for example 106.8456). Type it again or set "
                "the pin on the map."
            )
        )
    if lat is None or lon is None:
        raise ValidationError(_("Set the pin on the map (latitude and longitude are missing)."))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(
            _(
                "These coordinates do not exist: latitude must be between -90 and 90 and "
                "longitude between -180 and 180. Set the pin on the map again."
            )
        )
    if not SERVICE_AREA.contains(lat, lon):
        raise ValidationError(
            _(
                "This point is outside Jabodetabek, where the partner drives. Check the pin: "
                "Jakarta is around latitude -6.2, longitude 106.8."
            )
        )
    return lat, lon


def indonesia_point(latitude, longitude, *, prefix: str = "") -> tuple[Decimal, Decimal]:
    """A point inside Indonesia as Decimals of six places (saved addresses, places);
    ValidationError keyed `<prefix>latitude` / `<prefix>longitude` otherwise."""
    errors = {}
    values = []
    for name, raw, low, high in (
        ("latitude", latitude, INDONESIA.lat_min, INDONESIA.lat_max),
        ("longitude", longitude, INDONESIA.lon_min, INDONESIA.lon_max),
    ):
        value = parse_coordinate(raw)
        if value is None:
            errors[prefix + name] = _("Enter a number, or pick the point on the map.")
        elif not low <= value <= high:
            errors[prefix + name] = _(
                "This point is outside Indonesia. Check the number or pick the point on the map."
            )
        else:
            values.append(value.quantize(COORDINATE_QUANTUM))
    if errors:
        raise ValidationError(errors)
    return values[0], values[1]
