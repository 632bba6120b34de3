"""A person's actions on rides (booked, approved, rejected, cancelled, rebooked) are in the
audit trail; the reasons typed, which may tell a survivor's situation, only by name."""

import pytest

from audit.models import AuditEvent, Kind
from rides.booking.services import ride_approve, ride_book, ride_reject
from rides.models import RideStatus
from rides.pipeline.cancel import ride_cancel
from rides.rules import FareQuote
from tests.audit.conftest import audit_table_text
from tests.booking.conftest import CHEAP, booking_args

pytestmark = pytest.mark.django_db

DEAR = FareQuote(product_id="car", fare_amount=400_000, pickup_eta_seconds=300)


def _ride_events(reference):
    return list(
        AuditEvent.objects.filter(object_type="ride", object_id=reference).order_by("at", "id")
    )


def test_booking_approving_rejecting_and_cancelling_are_recorded(
    adult_case, places, caseworker, supervisor
):
    approved = ride_book(user=caseworker, quote=DEAR, **booking_args(adult_case, places))
    ride_approve(ride_id=approved.pk, user=supervisor)
    ride_cancel(ride_id=approved.pk, user=caseworker, reason="Suaminya menunggu di depan rumah")
    rejected = ride_book(user=caseworker, quote=DEAR, **booking_args(adult_case, places))
    ride_reject(ride_id=rejected.pk, user=supervisor, reason="Pamannya menunggu di Jl. Melati")

    booked, approve, cancel = _ride_events(approved.reference)
    assert (booked.kind, booked.action, booked.actor) == (Kind.CHANGE, "booked", caseworker)
    assert booked.changes["status"] == [None, RideStatus.AWAITING_APPROVAL]
    assert booked.changes["case"] == [None, adult_case.code]
    assert booked.unit_id == adult_case.unit_id
    assert (approve.action, approve.actor, approve.changes) == (
        "approved",
        supervisor,
        {"status": [RideStatus.AWAITING_APPROVAL, RideStatus.REQUESTED]},
    )
    assert (cancel.action, cancel.actor) == ("cancelled", caseworker)
    assert cancel.changes["cancel_reason"] == "changed"
    _booked, reject = _ride_events(rejected.reference)
    assert (reject.action, reject.actor) == ("rejected", supervisor)
    assert reject.changes == {
        "status": [RideStatus.AWAITING_APPROVAL, RideStatus.REJECTED],
        "rejection_reason": "changed",
    }
    stored = audit_table_text()
    for typed in ("Suaminya", "Pamannya", "Melati", "Pemuda"):
        assert typed not in stored


def test_a_rebooking_names_the_ride_it_copies(adult_case, places, caseworker, supervisor):
    first = ride_book(user=caseworker, quote=DEAR, **booking_args(adult_case, places))
    ride_reject(ride_id=first.pk, user=supervisor, reason="Terlalu mahal.")
    from rides.booking.services import ride_rebook

    again = ride_rebook(ride_id=first.pk, user=caseworker, quote=CHEAP)
    (rebooked,) = _ride_events(again.reference)
    assert (rebooked.action, rebooked.actor) == ("rebooked", caseworker)
    assert rebooked.changes["rebooked_from"] == [None, first.reference]
