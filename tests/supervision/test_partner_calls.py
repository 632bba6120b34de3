"""Partner calls as the pipeline records them, against the sandbox over real HTTP: each
way a call can end, the attempt, append-only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings

from partners.client import errors
from rides.models import CallOutcome, PartnerCall, PartnerOperation, RideStatus
from rides.pipeline.calls import call_outcome
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.receipts import ride_fetch_receipt
from tests.factories import PartnerAccountFactory

pytestmark = pytest.mark.django_db

S = RideStatus


def calls_of(ride) -> list[tuple]:
    return list(
        PartnerCall.objects.filter(ride=ride)
        .order_by("at", "id")
        .values_list("operation", "outcome", "http_status", "error_code")
    )


def test_an_answer_slower_than_the_timeout(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account=partner_account, status=S.REQUESTED)
    sandbox.control.force_fault("create_trip", "slow", seconds=1.5, after_commit=False)
    with override_settings(PARTNER_READ_TIMEOUT=0.5):
        assert ride_dispatch(ride_id=ride.pk) == "unknown"
    assert calls_of(ride) == [(PartnerOperation.CREATE_TRIP, CallOutcome.TIMEOUT, None, "")]
    call = PartnerCall.objects.get(ride=ride)
    assert 400 <= call.duration_ms < 5000 and call.attempt == 1


def test_a_garbled_answer(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account=partner_account, status=S.REQUESTED)
    sandbox.control.force_fault("create_trip", "malformed", after_commit=True)
    assert ride_dispatch(ride_id=ride.pk) == "unknown"
    assert calls_of(ride) == [(PartnerOperation.CREATE_TRIP, CallOutcome.UNUSABLE, 201, "")]


def test_a_refusal_keeps_the_contracts_code(sandbox, partner_account, make_ride):
    bandung = {"latitude": -6.9175, "longitude": 107.6191, "address": "Bandung"}
    ride = make_ride(partner_account=partner_account, status=S.REQUESTED, pickup=bandung)
    assert ride_dispatch(ride_id=ride.pk) == "refused"
    assert calls_of(ride) == [
        (PartnerOperation.CREATE_TRIP, CallOutcome.HTTP_ERROR, 422, "outside_service_area")
    ]
    assert PartnerCall.objects.get(ride=ride).outcome_text == (
        "error answer (HTTP 422, outside_service_area)"
    )


@override_settings(PARTNER_BREAKER_MIN_CALLS=100)
def test_a_partner_that_cannot_be_reached(make_ride, db):
    from sandbox.testing import free_port

    dead = PartnerAccountFactory(base_url=f"http://127.0.0.1:{free_port()}")
    ride = make_ride(partner_account=dead, status=S.REQUESTED)
    assert ride_dispatch(ride_id=ride.pk) == "retry_later"
    assert ride_dispatch(ride_id=ride.pk) == "retry_later"
    assert (
        calls_of(ride)
        == [(PartnerOperation.CREATE_TRIP, CallOutcome.CONNECTION_ERROR, None, "")] * 2
    )
    assert list(PartnerCall.objects.filter(ride=ride).values_list("attempt", flat=True)) == [1, 2]


def test_a_receipt_not_ready_then_stored(sandbox, partner_account, make_ride):
    from django.utils import timezone

    ride = make_ride(partner_account=partner_account, status=S.REQUESTED)
    assert ride_dispatch(ride_id=ride.pk) == "created"
    ride.refresh_from_db()
    type(ride).objects.filter(pk=ride.pk).update(receipt_due_at=timezone.now())
    assert ride_fetch_receipt(ride_id=ride.pk) == "retry_later"  # the trip has not ended
    assert calls_of(ride)[-1] == (
        PartnerOperation.RECEIPT,
        CallOutcome.HTTP_ERROR,
        404,
        "receipt_not_ready",
    )


def test_calls_that_never_left(db):
    assert call_outcome(errors.PartnerUnavailable()) == (CallOutcome.NOT_SENT, None, "")
    held = errors.RateLimited("held back", sent=False)
    assert call_outcome(held) == (CallOutcome.NOT_SENT, None, "rate_limited")
    assert call_outcome(ValueError("bug")) == (CallOutcome.ERROR, None, "")
    # an unknown code of a partner's answer is not kept (it could be anything)
    odd = errors.PermanentPartnerError("x", code="see Siti at Jl. Melati", http_status=400)
    assert call_outcome(odd) == (CallOutcome.HTTP_ERROR, 400, "")


def test_partner_calls_are_append_only(sandbox, partner_account, make_ride):
    ride = make_ride(partner_account=partner_account, status=S.REQUESTED)
    assert ride_dispatch(ride_id=ride.pk) == "created"
    call = PartnerCall.objects.get(ride=ride)
    with pytest.raises(TypeError):
        PartnerCall.objects.filter(pk=call.pk).update(outcome="timeout")
    with pytest.raises(TypeError):
        call.save()
    with pytest.raises(TypeError):
        call.delete()
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE rides_partnercall SET outcome = 'ok' WHERE id = %s", [call.pk])
