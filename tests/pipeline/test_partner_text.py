"""A partner's words never reach the portal's logs: error codes outside the contract are
read as `unlisted_code` and its messages are not logged, and a status outside the
contract is logged by its length. The sandbox's `echo` fault refuses a create with a code
made of the rider's name and a message quoting the whole request, over real HTTP."""

import datetime as dt
import logging

import pytest

from partners.client import errors
from rides.models import PartnerCall, RideStatus
from rides.pipeline.apply import ride_apply_partner_status
from rides.pipeline.dispatch import ride_dispatch
from tests.pipeline.conftest import DROPOFF, PICKUP

pytestmark = pytest.mark.django_db


def logged_text(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_a_refusal_that_echoes_the_request_leaves_none_of_it_in_logs_or_rows(
    sandbox, partner_account, make_ride, caplog
):
    caplog.set_level(logging.DEBUG)
    ride = make_ride(partner_account, rider_alias="Kenanga")
    sandbox.control.force_fault("create_trip", "echo")
    assert ride_dispatch(ride_id=ride.pk) == "refused"
    ride.refresh_from_db()
    assert ride.status == RideStatus.NEEDS_ATTENTION
    (answered,) = sandbox.control.calls("create_trip", partner_account.client_id)
    assert answered["status"] == 422 and "kenanga" in answered["error_code"]  # it did echo
    logged = logged_text(caplog)
    assert f"code={errors.UNLISTED_CODE}" in logged, logged
    kept = " ".join(
        [
            ride.last_dispatch_error,
            ride.status_reason,
            *ride.events.values_list("partner_status", flat=True),
        ]
    )
    for value in ("Kenanga", "kenanga", "6281234567890", PICKUP["address"], DROPOFF["address"]):
        assert value not in logged, (value, logged)
        assert value not in kept, (value, kept)
    assert PartnerCall.objects.get(ride=ride).error_code == ""


def test_a_status_outside_the_contract_is_logged_by_its_length_only(
    sandbox, partner_account, dispatched_ride, caplog
):
    caplog.set_level(logging.DEBUG)
    ride = dispatched_ride(partner_account)
    before = ride.status
    outcome = ride_apply_partner_status(  # a webhook's hint: its status is not checked
        ride_id=ride.pk,
        trip_id=ride.partner_trip_id,
        status="dropped_Kenanga_at_Jl_Melati_7",
        updated_at=ride.partner_updated_at + dt.timedelta(seconds=1),
        cause="webhook",
    )
    ride.refresh_from_db()
    assert outcome == "unknown_status" and ride.status == before
    logged = logged_text(caplog)
    assert "status outside the contract ignored (30 characters)" in logged, logged
    assert "Kenanga" not in logged and "Melati" not in logged
