"""Demo places: common destinations in Jakarta, marked `is_demo`.

Public places are real institutions with approximate coordinates (good enough to book a
demo ride, not a map reference). The safe houses are invented, as every safe house in
demo data must be, each with a neutral drop-off point a few hundred metres away.
"""

from __future__ import annotations

from cases.models import Place, PlaceKind
from cases.places import place_ensure, place_readers_set

K = PlaceKind

# name, kind, address, latitude, longitude
PUBLIC_PLACES = [
    (
        "RS Bhayangkara Tk. I R. Said Sukanto (RS Polri)",
        K.HOSPITAL,
        "Jl. Raya Bogor, Kramat Jati, Jakarta Timur 13510",
        "-6.269300",
        "106.866500",
    ),
    (
        "RSUPN Dr. Cipto Mangunkusumo (Pusat Krisis Terpadu)",
        K.HOSPITAL,
        "Jl. Diponegoro No. 71, Kenari, Senen, Jakarta Pusat 10430",
        "-6.196800",
        "106.847400",
    ),
    (
        "RSUD Budhi Asih",
        K.HOSPITAL,
        "Jl. Dewi Sartika, Cawang, Kramat Jati, Jakarta Timur 13630",
        "-6.254600",
        "106.862000",
    ),
    (
        "Polda Metro Jaya (Unit PPA Ditreskrimum)",
        K.POLICE,
        "Jl. Jend. Sudirman Kav. 55, Senayan, Kebayoran Baru, Jakarta Selatan 12190",
        "-6.222500",
        "106.809300",
    ),
    (
        "Polres Metro Jakarta Timur (Unit PPA)",
        K.POLICE,
        "Jl. Matraman Raya No. 224, Jatinegara, Jakarta Timur 13310",
        "-6.215600",
        "106.865700",
    ),
    (
        "Polres Metro Jakarta Selatan (Unit PPA)",
        K.POLICE,
        "Jl. Wijaya II No. 42, Kebayoran Baru, Jakarta Selatan 12160",
        "-6.243600",
        "106.801600",
    ),
    (
        "Polres Metro Jakarta Pusat (Unit PPA)",
        K.POLICE,
        "Jl. Kramat Raya No. 61, Senen, Jakarta Pusat 10450",
        "-6.187700",
        "106.845300",
    ),
    (
        "Pengadilan Negeri Jakarta Timur",
        K.COURT,
        "Jl. Dr. Sumarno No. 1, Pulo Gebang, Cakung, Jakarta Timur 13950",
        "-6.207800",
        "106.943900",
    ),
    (
        "Pengadilan Negeri Jakarta Selatan",
        K.COURT,
        "Jl. Ampera Raya No. 133, Ragunan, Pasar Minggu, Jakarta Selatan 12550",
        "-6.289500",
        "106.821200",
    ),
    (
        "Dinas PPAPP Provinsi DKI Jakarta",
        K.AGENCY_OFFICE,
        "Balai Kota, Jl. Medan Merdeka Selatan No. 8-9, Gambir, Jakarta Pusat 10110",
        "-6.181700",
        "106.828600",
    ),
    (
        "Pos Pelayanan PPA Jakarta Timur (Kantor Wali Kota)",
        K.AGENCY_OFFICE,
        "Jl. Dr. Sumarno No. 1, Pulo Gebang, Cakung, Jakarta Timur 13950",
        "-6.211500",
        "106.948500",
    ),
    (
        "Layanan Konseling Psikologis Yayasan Pulih",
        K.COUNSELLING,
        "Pasar Minggu, Jakarta Selatan",
        "-6.271100",
        "106.837800",
    ),
    (
        "LBH APIK Jakarta (pendampingan hukum)",
        K.COUNSELLING,
        "Jl. Raya Tengah No. 31, Gedong, Pasar Rebo, Jakarta Timur 13760",
        "-6.301400",
        "106.858000",
    ),
]

# name, address, (lat, lon), neutral address, (neutral lat, neutral lon), unit code or None
SAFE_HOUSES = [
    (
        "Rumah Aman Melati (demo)",
        "Gg. Melati VII No. 4, Cililitan, Kramat Jati, Jakarta Timur",
        ("-6.257400", "106.869200"),
        "Minimarket, Jl. Raya Condet, Jakarta Timur",
        ("-6.259900", "106.866900"),
        "JAKTIM",
    ),
    (
        "Rumah Aman Kenanga (demo)",
        "Jl. Kenanga Dalam No. 11, Jagakarsa, Jakarta Selatan",
        ("-6.332100", "106.823400"),
        "Masjid, Jl. Moh. Kahfi I, Jagakarsa, Jakarta Selatan",
        ("-6.334800", "106.820700"),
        None,
    ),
]


# A province-wide house (no unit) is seen by its named readers only: the demo names the
# JAKTIM supervisor for it.
SAFE_HOUSE_READERS = {"Rumah Aman Kenanga (demo)": ("supervisor1",)}


def demo_place_readers_ensure(users: dict) -> int:
    """Names the demo houses' readers where none are named yet; returns how many houses."""
    named = 0
    for name, usernames in SAFE_HOUSE_READERS.items():
        place = Place.objects.filter(name=name, is_active=True, is_demo=True).first()
        readers = [users[u] for u in usernames if u in users]
        if place is None or not readers or place.address_readers.exists():
            continue
        place_readers_set(place=place, readers=readers)
        named += 1
    return named


def demo_places_ensure(units: dict | None = None) -> int:
    """Loads the demo places that are missing; returns how many were created."""
    units = units or {}
    created = 0
    for name, kind, address, latitude, longitude in PUBLIC_PLACES:
        _, was_created = place_ensure(
            name=name,
            kind=kind,
            address=address,
            latitude=latitude,
            longitude=longitude,
            is_demo=True,
        )
        created += was_created
    for name, address, (lat, lon), neutral, (n_lat, n_lon), unit_code in SAFE_HOUSES:
        _, was_created = place_ensure(
            name=name,
            kind=K.SAFE_HOUSE,
            address=address,
            latitude=lat,
            longitude=lon,
            is_protected=True,
            neutral_address=neutral,
            neutral_latitude=n_lat,
            neutral_longitude=n_lon,
            unit=units.get(unit_code) if unit_code else None,
            is_demo=True,
        )
        created += was_created
    return created
