"""What the supervisors' page tests share: two city units and the provincial centre, a
caseworker and a supervisor in each city unit, a case each, and a maker of rides."""

from __future__ import annotations

import itertools

import pytest
from django.utils import translation

from accounts.models import Role, Unit
from rides.models import Ride, RideStatus
from tests.factories import CaseFactory, PartnerAccountFactory

PICKUP = {"latitude": -6.2250, "longitude": 106.8450, "address": "Jl. Tebet Raya No. 12"}
DROPOFF = {"latitude": -6.1862, "longitude": 106.8310, "address": "Jl. Kenanga No. 3"}
SURVIVOR = "Siti Rahmawati"
_aliases = itertools.count(1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def centre(make_unit):
    return make_unit(code="PUSAT", name="Pusat Pelayanan", kind=Unit.Kind.PROVINCIAL_CENTRE)


@pytest.fixture
def people(make_user, unit, other_unit, centre):
    """Caseworkers and supervisors of two units, and a supervisor of the centre."""
    east_cw = make_user(Role.CASEWORKER, unit, username="sari")
    east_cw.first_name, east_cw.last_name = "Sari", "Wulandari"
    east_cw.save()
    south_cw = make_user(Role.CASEWORKER, other_unit, username="dewi")
    return {
        "east_caseworker": east_cw,
        "east_supervisor": make_user(Role.SUPERVISOR, unit, username="budi"),
        "south_caseworker": south_cw,
        "south_supervisor": make_user(Role.SUPERVISOR, other_unit, username="agus"),
        "centre_supervisor": make_user(Role.SUPERVISOR, centre, username="rina"),
    }


@pytest.fixture
def accounts(db):
    return [PartnerAccountFactory(name="Mitra Satu"), PartnerAccountFactory(name="Mitra Dua")]


@pytest.fixture
def cases(people):
    return {
        "east": CaseFactory(user=people["east_caseworker"], name=SURVIVOR),
        "south": CaseFactory(user=people["south_caseworker"], name="Dewi Anggraini"),
    }


def ride_values(case, booker, account, **fields) -> dict:
    values = {
        "case": case,
        "unit": case.unit,
        "partner_account": account,
        "booked_by": booker,
        "purpose": "medical_exam",
        "pickup": dict(PICKUP),
        "dropoff": dict(DROPOFF),
        "rider_phone": "+6281234567890",
        "rider_alias": f"Bunga {next(_aliases)}",
        "status": RideStatus.COMPLETED,
        "estimate_fare": 48_000,
    }
    values.update(fields)
    return values


@pytest.fixture
def make_ride(cases, people, accounts):
    """make_ride(where="east"|"south", **fields) -> a ride of that unit's case."""

    def make(where: str = "east", **fields) -> Ride:
        booker = fields.pop("booked_by", people[f"{where}_caseworker"])
        account = fields.pop("partner_account", accounts[0])
        return Ride.objects.create(**ride_values(cases[where], booker, account, **fields))

    return make


@pytest.fixture
def many_rides(cases, people, accounts):
    """many_rides(n, where="east") -> n rides made in one statement."""

    def make(n: int, where: str = "east", **fields) -> None:
        booker = people[f"{where}_caseworker"]
        Ride.objects.bulk_create(
            [Ride(**ride_values(cases[where], booker, accounts[i % 2], **fields)) for i in range(n)]
        )

    return make
