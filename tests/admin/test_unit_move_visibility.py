"""A caseworker moved to another unit kept seeing the old unit's cases and rides: a
caseworker sees a case (and its rides) only while assigned to it AND in the case's unit."""

import pytest

from cases.selectors import case_can_book, cases_visible_to
from rides.models import Ride
from rides.selectors import rides_visible_to
from tests.factories import CaseFactory, PartnerAccountFactory

pytestmark = pytest.mark.django_db


def _ride(case, user):
    return Ride.objects.create(
        case=case,
        unit=case.unit,
        partner_account=PartnerAccountFactory(),
        booked_by=user,
        purpose="medical_exam",
        pickup={"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Pemuda 10"},
        dropoff={"latitude": -6.2697, "longitude": 106.866, "address": "RS Polri"},
        rider_phone="+6281234567890",
        rider_alias="Penumpang 1234",
        status="awaiting_approval",
    )


def test_a_caseworker_moved_to_another_unit_no_longer_sees_the_old_units_cases_and_rides(
    caseworker, other_unit
):
    case = CaseFactory(user=caseworker)
    ride = _ride(case, caseworker)
    assert list(cases_visible_to(caseworker)) == [case]
    assert list(rides_visible_to(caseworker)) == [ride]

    # Moved without the assignment being removed (as it was before the admin pages).
    caseworker.unit = other_unit
    caseworker.save(update_fields=["unit"])

    assert not cases_visible_to(caseworker).exists()
    assert not rides_visible_to(caseworker).exists()
    assert not case_can_book(user=caseworker, case=case)
