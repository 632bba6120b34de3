"""A Nominatim-compatible `/search` over the built-in Jakarta gazetteer (sandbox/gazetteer/).

The gazetteer is data, not code: `places.csv` holds hospitals with forensic / PPT services,
police stations with a women's and children's unit, the courts, the agency's offices,
stations and landmarks; `kelurahan.csv` every kelurahan of DKI Jakarta (from
idn-area-data, ODbL, see gazetteer/README.md), of which those with coordinates are found.

Matching is what a caseworker expects of a real geocoder: case- and accent-insensitive,
every word of the query a prefix of a word of the name, an alias or the address
("rs polri", "polri", "kramat jati"), names before addresses, ranked and limited. The
query is never logged nor journaled: it may be a survivor's address.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

GAZETTEER = Path(__file__).resolve().parent / "gazetteer"
LICENCE = "Sandbox gazetteer; kelurahan names from idn-area-data (ODbL 1.0)"
DEFAULT_LIMIT = 10
MAX_LIMIT = 40
# How much a kind of place weighs when two match equally well (Nominatim's importance).
IMPORTANCE = {
    "hospital": 0.6,
    "police": 0.6,
    "courthouse": 0.55,
    "government": 0.55,
    "station": 0.5,
    "bus_station": 0.45,
    "attraction": 0.5,
    "administrative": 0.4,
}


def normalise(text: str) -> str:
    """Lower case, accents and punctuation gone, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.split(r"[^0-9a-z]+", plain)).strip()


@dataclass(frozen=True)
class Entry:
    place_id: int
    name: str
    category: str
    type: str
    addresstype: str
    address: str
    latitude: float
    longitude: float
    names: tuple[str, ...]  # the name and its aliases, normalised
    address_words: str  # the address, normalised

    @property
    def importance(self) -> float:
        return IMPORTANCE.get(self.type, 0.3)

    def as_nominatim(self, *, jsonv2: bool) -> dict:
        answer = {
            "place_id": self.place_id,
            "licence": LICENCE,
            "osm_type": "node",
            "osm_id": self.place_id,
            "lat": f"{self.latitude:.7f}",
            "lon": f"{self.longitude:.7f}",
            "category" if jsonv2 else "class": self.category,
            "type": self.type,
            "place_rank": 20 if self.type == "administrative" else 30,
            "importance": self.importance,
            "addresstype": self.addresstype,
            "name": self.name,
            "display_name": f"{self.name}, {self.address}",
            "boundingbox": [
                f"{self.latitude - 0.001:.7f}",
                f"{self.latitude + 0.001:.7f}",
                f"{self.longitude - 0.001:.7f}",
                f"{self.longitude + 0.001:.7f}",
            ],
        }
        return answer


def _read_csv(name: str) -> list[dict[str, str]]:
    with (GAZETTEER / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def gazetteer() -> tuple[Entry, ...]:
    entries: list[Entry] = []
    for row in _read_csv("places.csv"):
        aliases = [a for a in row["aliases"].split(";") if a.strip()]
        entries.append(
            Entry(
                place_id=len(entries) + 1,
                name=row["name"],
                category=row["category"],
                type=row["type"],
                addresstype=row["category"],
                address=row["address"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                names=tuple(normalise(n) for n in [row["name"], *aliases]),
                address_words=normalise(row["address"]),
            )
        )
    for row in _read_csv("kelurahan.csv"):
        if not row["latitude"] or not row["longitude"]:
            continue
        name = f"Kelurahan {row['name']}"
        address = f"Kecamatan {row['kecamatan']}, {row['city']}, DKI Jakarta"
        entries.append(
            Entry(
                place_id=len(entries) + 1,
                name=name,
                category="boundary",
                type="administrative",
                addresstype="village",
                address=address,
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                names=tuple(normalise(n) for n in (name, row["name"], f"Kel. {row['name']}")),
                address_words=normalise(address),
            )
        )
    return tuple(entries)


def _matches(words: list[str], text: str) -> bool:
    """Every query word is a prefix of a word of the text (or of two written together,
    as in "kramat jati" for Kramatjati)."""
    tokens = text.split()
    joined = [a + b for a, b in zip(tokens, tokens[1:], strict=False)]
    candidates = tokens + joined
    if all(any(t.startswith(w) for t in candidates) for w in words):
        return True
    squeezed = "".join(words)
    return any(t.startswith(squeezed) for t in candidates)


def score(entry: Entry, query: str) -> float:
    """How well `entry` answers the normalised `query`; 0 when it does not."""
    words = query.split()
    best = 0.0
    for position, name in enumerate(entry.names):
        if not _matches(words, name):
            continue
        value = 3.0
        if name == query:
            value = 5.0
        elif name.startswith(query):
            value = 4.0
        if position == 0:
            value += 0.2
        best = max(best, value)
    if not best and _matches(words, f"{entry.names[0]} {entry.address_words}"):
        best = 1.0
    return best + entry.importance if best else 0.0


def _viewbox(text: str) -> tuple[float, float, float, float] | None:
    """Nominatim's `viewbox=<x1>,<y1>,<x2>,<y2>` (longitude, latitude of two corners)."""
    try:
        x1, y1, x2, y2 = (float(part) for part in text.split(","))
    except ValueError:
        return None
    return min(y1, y2), max(y1, y2), min(x1, x2), max(x1, x2)


def search(
    query: str,
    *,
    limit: int = DEFAULT_LIMIT,
    viewbox: tuple[float, float, float, float] | None = None,
    bounded: bool = False,
) -> list[Entry]:
    """The entries matching `query`, best first; `viewbox` (lat_min, lat_max, lon_min,
    lon_max) keeps only the places inside it when `bounded`, else ranks them first."""
    normalised = normalise(query)
    if not normalised:
        return []
    ranked = []
    for entry in gazetteer():
        value = score(entry, normalised)
        if not value:
            continue
        if viewbox is not None:
            lat_min, lat_max, lon_min, lon_max = viewbox
            inside = lat_min <= entry.latitude <= lat_max and lon_min <= entry.longitude <= lon_max
            if bounded and not inside:
                continue
            if inside:
                value += 0.5
        ranked.append((-value, entry.name, entry))
    ranked.sort(key=lambda item: item[:2])
    return [entry for _, _, entry in ranked[:limit]]


def _error(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": 400, "message": message}}, status_code=400)


async def search_endpoint(request: Request) -> JSONResponse:
    params = request.query_params
    query = params.get("q", "").strip()
    if not query:
        return _error("Nothing to search for.")
    output = params.get("format", "jsonv2")
    if output not in ("json", "jsonv2"):
        return _error(f"Parameter 'format' must be json or jsonv2, not {output!r}.")
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        return _error("Parameter 'limit' must be a number.")
    limit = max(1, min(limit, MAX_LIMIT))
    countries = {c.strip().lower() for c in params.get("countrycodes", "").split(",") if c.strip()}
    if countries and "id" not in countries:
        return JSONResponse([])
    viewbox = _viewbox(params["viewbox"]) if params.get("viewbox") else None
    if params.get("viewbox") and viewbox is None:
        return _error("Bad format for 'viewbox' parameter.")
    bounded = params.get("bounded") == "1"
    found = search(query, limit=limit, viewbox=viewbox, bounded=bounded)
    return JSONResponse([entry.as_nominatim(jsonv2=output == "jsonv2") for entry in found])


def routes() -> list[Route]:
    return [Route("/search", search_endpoint, methods=["GET"])]
