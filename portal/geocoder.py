"""Address search: one adapter for a Nominatim-compatible geocoder at `GEOCODER_URL`.

In production that is a self-hosted Nominatim (OpenStreetMap's geocoder); in the demo and
tests it is the sandbox's built-in Jakarta gazetteer, which answers the same
`/search?q=…&format=jsonv2` API. Searches stay inside the partner's service area.

A query may be a survivor's address: it is never logged here (httpx logs URLs at INFO,
which the settings keep at WARNING), and the callers send only what a person typed.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from django.conf import settings

from portal.geo import SERVICE_AREA, Box

DEFAULT_LIMIT = 8
# The box searched around `near`: about 10 km each way.
NEAR_SPAN_DEGREES = 0.1


class GeocoderUnavailable(Exception):
    """The geocoder is not configured, did not answer in time, or answered nonsense."""


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # the geocoder's type: hospital, police, courthouse, station, administrative…
    address: str
    latitude: float
    longitude: float


def _viewbox(box: Box) -> str:
    return f"{box.lon_min},{box.lat_max},{box.lon_max},{box.lat_min}"


def _place(item: dict) -> Place | None:
    """One answer row, or None when it lacks what a pin needs (read tolerantly)."""
    try:
        latitude, longitude = float(item["lat"]), float(item["lon"])
    except (KeyError, TypeError, ValueError):
        return None
    display = str(item.get("display_name") or "")
    name = str(item.get("name") or "").strip() or display.split(",", 1)[0].strip()
    if not name:
        return None
    address = display[len(name) :].lstrip(", ") if display.startswith(name) else display
    return Place(
        name=name,
        kind=str(item.get("type") or item.get("addresstype") or ""),
        address=address,
        latitude=latitude,
        longitude=longitude,
    )


def search(query: str, *, near: tuple[float, float] | None = None, limit=DEFAULT_LIMIT):
    """Places matching `query` inside the service area, best first (at most `limit`).
    With `near` (latitude, longitude) the places around it come first.
    Raises GeocoderUnavailable when the geocoder cannot answer."""
    base_url = settings.GEOCODER_URL.rstrip("/")
    if not base_url:
        raise GeocoderUnavailable("GEOCODER_URL is not set")
    params = {
        "q": query,
        "format": "jsonv2",
        "countrycodes": "id",
        "limit": str(limit),
        "viewbox": _viewbox(SERVICE_AREA),
        "bounded": "1",
    }
    if near is not None:
        lat, lon = near
        params["viewbox"] = _viewbox(
            Box(
                lat_min=lat - NEAR_SPAN_DEGREES,
                lat_max=lat + NEAR_SPAN_DEGREES,
                lon_min=lon - NEAR_SPAN_DEGREES,
                lon_max=lon + NEAR_SPAN_DEGREES,
            )
        )
        params["bounded"] = "0"
    try:
        response = httpx.get(
            f"{base_url}/search",
            params=params,
            timeout=settings.GEOCODER_TIMEOUT,
            headers={"Accept": "application/json", "User-Agent": "safe-ride-portal"},
        )
        response.raise_for_status()
        items = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise GeocoderUnavailable(type(exc).__name__) from exc
    if not isinstance(items, list):
        raise GeocoderUnavailable("the answer is not a list")
    places = [p for p in (_place(i) for i in items if isinstance(i, dict)) if p]
    return [p for p in places if SERVICE_AREA.contains(p.latitude, p.longitude)][:limit]
