"""The ride's state rules name every partner trip status of the contract."""

from partners.client.contract import ENDED_WITHOUT_TRIP, TERMINAL_TRIP_STATUSES, TRIP_STATUSES
from rides.models import RideStatus
from rides.models.states import ALLOWED, PARTNER_STATUS_MAP, RANK, TERMINAL


def test_every_partner_status_of_the_contract_maps_to_a_ride_state():
    assert set(PARTNER_STATUS_MAP) == TRIP_STATUSES


def test_a_trip_that_ended_at_the_partner_ends_the_ride():
    ended = {status for status, state in PARTNER_STATUS_MAP.items() if state in TERMINAL}
    assert ended == TERMINAL_TRIP_STATUSES
    assert ENDED_WITHOUT_TRIP <= ended


def test_every_state_has_a_rank_and_its_moves():
    assert set(RANK) == set(RideStatus) == set(ALLOWED)


def test_only_a_supervisors_decision_rejects_a_ride():
    reaching = {state for state, moves in ALLOWED.items() if RideStatus.REJECTED in moves}
    assert reaching == {RideStatus.AWAITING_APPROVAL}
    assert RideStatus.REJECTED in TERMINAL and ALLOWED[RideStatus.REJECTED] == frozenset()
    assert RideStatus.REJECTED not in PARTNER_STATUS_MAP.values()
