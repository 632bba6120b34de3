"""The booking tests' cases, places and partner account, for the API's own tests."""

from tests.booking.conftest import (  # noqa: F401 - fixtures
    _all_day_service,
    adult_case,
    make_case,
    partner_account_db,
    places,
)
