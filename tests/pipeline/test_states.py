"""The ride's state rules name every partner trip status of the contract."""

from partners.client.contract import ENDED_WITHOUT_TRIP, TERMINAL_TRIP_STATUSES, TRIP_STATUSES
from rides.models.states import PARTNER_STATUS_MAP, TERMINAL


def test_every_partner_status_of_the_contract_maps_to_a_ride_state():
    assert set(PARTNER_STATUS_MAP) == TRIP_STATUSES


def test_a_trip_that_ended_at_the_partner_ends_the_ride():
    ended = {status for status, state in PARTNER_STATUS_MAP.items() if state in TERMINAL}
    assert ended == TERMINAL_TRIP_STATUSES
    assert ENDED_WITHOUT_TRIP <= ended
