"""The shape every answer is applied in: the ride re-locked, left alone if it moved on."""

import pytest

from partners.models import PartnerAccount
from rides.models import Ride, RideStatus
from rides.pipeline.common import MOVED_ON, relocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    return PartnerAccount.objects.create(
        name="Relock partner",
        base_url="http://127.0.0.1:9",
        client_id="relock",
        client_secret="s",
        webhook_secret="whsec_" + "E" * 32,
    )


def still_requested(ride):
    return ride.status == RideStatus.REQUESTED


def test_the_step_runs_on_the_relocked_ride_while_it_still_holds(make_ride, account):
    ride = make_ride(account)
    seen = []

    def step(locked, note):
        seen.append((locked.pk, locked.status, note))
        return "done"

    assert relocked(ride.pk, still_requested, step, "a note") == "done"
    assert seen == [(ride.pk, RideStatus.REQUESTED, "a note")]


def test_a_ride_that_moved_on_or_is_gone_is_left_alone(make_ride, account):
    ride = make_ride(account)
    Ride.objects.filter(pk=ride.pk).update(status=RideStatus.DISPATCHING)

    def step(locked):
        raise AssertionError("the step ran on a ride that moved on")

    assert relocked(ride.pk, still_requested, step) == MOVED_ON
    assert relocked(ride.pk + 1000, None, step) == MOVED_ON
