"""What the reports' tests share: units with a partner to book with, their people, and a
ride booked through `ride_book` and carried to its state by the pipeline's own functions
(so the trip log, the statuses and the ledger are what the portal writes)."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.models import Role, Unit
from cases.services import consent_record
from partners.models import UnitDefaultPartner
from rides.booking.services import ride_book
from rides.models import Cause, RideStatus
from rides.pipeline.cancel import ride_cancel
from tests.factories import CaseFactory, PartnerAccountFactory
from tests.page_world import CHEAP, HOME, _Clock, _move, _partner

S = RideStatus
# The partner's statuses that carry a ride from dispatch to each end.
TO_COMPLETED = ("processing", "accepted", "arriving", "in_progress", "completed")
TO_NO_DRIVER = ("processing", "no_drivers_available")
CHILD_ESCORT = {"escort_name": "Ibu Sri Wahyuni", "escort_phone": "0813-1111-2222"}


@pytest.fixture(autouse=True)
def english():
    """Reasons and labels are read in English here (the Indonesian walk reads the pages)."""
    with translation.override("en"):
        yield


@pytest.fixture
def booking_rules(settings):
    settings.BOOKING_SERVICE_HOURS = "00:00-00:00"
    settings.BOOKING_FARE_CEILING = 250_000
    return settings


@pytest.fixture
def make_office(make_unit, make_user, booking_rules):
    """make_office(code, kind=city office) -> {"unit", "caseworker", "supervisor"}, the
    unit booking with a partner account of its own."""

    def make(code: str, kind=Unit.Kind.CITY_OFFICE):
        unit = make_unit(code=code, name=f"Pos {code}", kind=kind)
        UnitDefaultPartner.objects.create(unit=unit, partner_account=PartnerAccountFactory())
        return {
            "unit": unit,
            "caseworker": make_user(Role.CASEWORKER, unit),
            "supervisor": make_user(Role.SUPERVISOR, unit),
        }

    return make


@pytest.fixture
def office(make_office):
    return make_office("JAKUT")


def open_case(office: dict, **fields):
    """A case of the office's caseworker with consent to transport and to give the phone
    (the survivor's, or a child's guardian's)."""
    case = CaseFactory(user=office["caseworker"], **fields)
    consent_record(
        case=case,
        user=office["caseworker"],
        given_by="guardian" if case.survivor.is_child else "survivor",
        scopes=["transport", "share_phone"],
    )
    return case


def book(office: dict, case, *, purpose: str = "medical_exam", end: str | None = None):
    """A ride of `case` booked by the office's caseworker, then taken by the partner's
    statuses to `end` (completed, no_driver, cancelled; None leaves it requested)."""
    ride = ride_book(
        user=office["caseworker"],
        quote=CHEAP,
        case_code=case.code,
        purpose=purpose,
        pickup=dict(HOME),
        dropoff={"latitude": -6.2697, "longitude": 106.866, "address": "RS Polri"},
        passenger_count=2 if case.survivor.is_child else 1,
        **(CHILD_ESCORT if case.survivor.is_child else {}),
    )
    clock = _Clock()
    if end in (S.COMPLETED, S.NO_DRIVER):
        _move(ride, S.DISPATCHING, cause=Cause.DISPATCH)
        statuses = TO_COMPLETED if end == S.COMPLETED else TO_NO_DRIVER
        _partner(ride, clock, *((status, Cause.WEBHOOK) for status in statuses))
    elif end == S.CANCELLED:
        ride_cancel(ride_id=ride.pk, user=office["caseworker"], reason="Sidang ditunda.")
    ride.refresh_from_db()
    assert end is None or ride.status == end, (ride.status, end)
    return ride
