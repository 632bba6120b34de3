"""Straight-line geometry on the WGS84 sphere, and the service area."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8

# Jabodetabek (Jakarta, Bogor, Depok, Tangerang, Bekasi), as a bounding box.
SERVICE_AREA = {"lat_min": -6.8, "lat_max": -5.9, "lon_min": 106.3, "lon_max": 107.3}


def in_service_area(latitude: float, longitude: float) -> bool:
    area = SERVICE_AREA
    return (
        area["lat_min"] <= latitude <= area["lat_max"]
        and area["lon_min"] <= longitude <= area["lon_max"]
    )


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial compass bearing from the first point to the second, 0..360."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def destination(lat: float, lon: float, bearing: float, distance: float) -> tuple[float, float]:
    """The point ``distance`` metres from (lat, lon) along ``bearing`` degrees."""
    delta = distance / EARTH_RADIUS_M
    theta = math.radians(bearing)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(
        math.sin(p1) * math.cos(delta) + math.cos(p1) * math.sin(delta) * math.cos(theta)
    )
    l2 = l1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(p1),
        math.cos(delta) - math.sin(p1) * math.sin(p2),
    )
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


def interpolate(
    start: tuple[float, float], end: tuple[float, float], fraction: float
) -> tuple[float, float]:
    """A point ``fraction`` (0..1) of the way along the straight line; fine at city scale."""
    fraction = min(max(fraction, 0.0), 1.0)
    return (
        start[0] + (end[0] - start[0]) * fraction,
        start[1] + (end[1] - start[1]) * fraction,
    )
