"""Cases, places and a partner account to book with; the rules run with the real database."""

from decimal import Decimal

import pytest

from cases.models import Place, PlaceKind, SavedAddress
from rides.rules import FareQuote
from tests.factories import (
    CaseFactory,
    ConsentFactory,
    PartnerAccountFactory,
    UnitDefaultPartnerFactory,
    child_birth_date,
)

# Real Jakarta points (demo): a hospital, a police station, a home in Jakarta Timur.
HOSPITAL = {"name": "RS Bhayangkara Tk. I R. Said Sukanto", "lat": "-6.269700", "lon": "106.866000"}
POLICE = {"name": "Polda Metro Jaya", "lat": "-6.222500", "lon": "106.810500"}
HOME_POINT = {"latitude": -6.225100, "longitude": 106.900300, "address": "Jl. Pemuda No. 10"}
CHEAP = FareQuote(product_id="car", fare_amount=48_000, pickup_eta_seconds=300)


@pytest.fixture(autouse=True)
def _all_day_service(settings):
    # Service hours are tested on their own; elsewhere the clock must not decide.
    settings.BOOKING_SERVICE_HOURS = "00:00-00:00"
    settings.BOOKING_FARE_CEILING = 250_000


@pytest.fixture
def partner_account_db(db, unit):
    account = PartnerAccountFactory(
        name="Sandbox partner",
        client_id="portal-test",
        client_secret="secret-test",
        webhook_secret="whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0",
    )
    UnitDefaultPartnerFactory(unit=unit, partner_account=account)
    return account


@pytest.fixture
def places(db, other_unit):
    def place(name, kind, lat, lon, **extra):
        return Place.objects.create(
            name=name,
            kind=kind,
            address=f"Alamat {name}",
            latitude=Decimal(lat),
            longitude=Decimal(lon),
            is_demo=True,
            **extra,
        )

    return {
        "hospital": place(HOSPITAL["name"], PlaceKind.HOSPITAL, HOSPITAL["lat"], HOSPITAL["lon"]),
        "police": place(POLICE["name"], PlaceKind.POLICE, POLICE["lat"], POLICE["lon"]),
        "safe_house": place(
            "Rumah Aman Melati",
            PlaceKind.SAFE_HOUSE,
            "-6.301000",
            "106.890000",
            is_protected=True,
            neutral_address="Halte TransJakarta Cawang",
            neutral_latitude=Decimal("-6.243000"),
            neutral_longitude=Decimal("106.858000"),
        ),
        "other_units": place(
            "Kantor Pos Jakarta Selatan",
            PlaceKind.AGENCY_OFFICE,
            "-6.261000",
            "106.810000",
            unit=other_unit,
        ),
    }


@pytest.fixture
def make_case(db):
    """A case opened through the service with its transport consent recorded (`scopes=()`
    for none)."""

    def make(user, *, scopes=("transport", "share_phone"), given_by=None, **survivor_and_case):
        case = CaseFactory(user=user, **survivor_and_case)
        if scopes:
            consent = {"given_by": given_by} if given_by else {}
            ConsentFactory(case=case, scopes=list(scopes), recorded_by=user, **consent)
        return case

    return make


@pytest.fixture
def adult_case(make_case, caseworker, partner_account_db):
    return make_case(caseworker)


@pytest.fixture
def child_case(make_case, caseworker, partner_account_db):
    return make_case(caseworker, name="Putri Lestari", birth_date=child_birth_date())


@pytest.fixture
def saved_address(adult_case):
    return SavedAddress.objects.create(
        survivor=adult_case.survivor,
        label="Rumah",
        address="Jl. Kenanga No. 3, Jakarta Timur",
        latitude="-6.230000",
        longitude="106.880000",
    )


def booking_args(case, places, **overrides):
    args = {
        "case_code": case.code,
        "purpose": "medical_exam",
        "pickup": dict(HOME_POINT),
        "dropoff": {"place": places["hospital"].pk},
        "passenger_count": 1,
    }
    args.update(overrides)
    return args
