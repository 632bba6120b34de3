"""A ride's timeline: its trip log and its partner calls, made for real against the
sandbox partner, merged in one order; who may open it; no survivor's data and so no
access-log row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import AccessLog
from rides.models import CallOutcome, PartnerCall, PartnerOperation, RideStatus
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.reconcile import ride_reconcile
from rides.selectors import ride_timeline
from tests.conftest import logged_in_client
from tests.supervision.conftest import DROPOFF, PICKUP, SURVIVOR

pytestmark = pytest.mark.django_db

S = RideStatus


@pytest.fixture
def troubled_ride(sandbox, partner_account, make_ride):
    """A ride whose first create was answered 503 before the partner acted: looked up by
    its reference, not found, sent again and taken."""
    ride = make_ride("east", partner_account=partner_account, status=S.REQUESTED)
    sandbox.control.force_fault("create_trip", "503", after_commit=False)
    assert ride_dispatch(ride_id=ride.pk) == "unknown"
    assert ride_reconcile(ride_id=ride.pk) == "resend"
    assert ride_dispatch(ride_id=ride.pk) == "created"
    ride.refresh_from_db()
    return ride


def test_the_trip_log_and_the_partner_calls_in_one_order(troubled_ride):
    lines = []
    for entry in ride_timeline(troubled_ride):
        if entry.event:
            lines.append(("status", entry.event.previous_status, entry.event.new_status))
        else:
            call = entry.call
            lines.append(("call", call.operation, call.outcome, call.http_status, call.attempt))
    assert lines == [
        ("status", S.REQUESTED, S.DISPATCHING),
        ("call", PartnerOperation.CREATE_TRIP, CallOutcome.HTTP_ERROR, 503, 1),
        ("status", S.DISPATCHING, S.DISPATCH_UNKNOWN),
        ("call", PartnerOperation.FIND_TRIP, CallOutcome.OK, None, 1),
        ("status", S.DISPATCH_UNKNOWN, S.REQUESTED),
        ("status", S.REQUESTED, S.DISPATCHING),
        ("call", PartnerOperation.CREATE_TRIP, CallOutcome.OK, None, 2),
        ("status", S.DISPATCHING, S.SEARCHING),
    ]
    times = [entry.at for entry in ride_timeline(troubled_ride)]
    assert times == sorted(times)


def test_the_calls_keep_no_body(troubled_ride):
    for call in PartnerCall.objects.filter(ride=troubled_ride).values():
        text = " ".join(str(value) for value in call.values())
        assert troubled_ride.rider_alias not in text and "6281234567890" not in text
        assert str(PICKUP["latitude"]) not in text


def test_the_page_in_words_without_the_survivors_data(troubled_ride, people):
    url = reverse("supervision:trip_timeline", kwargs={"reference": troubled_ride.reference})
    logged = AccessLog.objects.count()
    response = logged_in_client(people["east_supervisor"]).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for words in (
        "Trip sent",
        "error answer (HTTP 503, unavailable)",
        "Trip looked up by reference",
        "answered",
        "Looking for a driver",
        "sent by the portal",
        "address on file",
        "data-print",
        "js/print.js",
    ):
        assert words in html, words
    for private in (SURVIVOR, PICKUP["address"], DROPOFF["address"], troubled_ride.rider_alias):
        assert private not in html
    assert AccessLog.objects.count() == logged  # nothing protected was shown


def test_a_place_is_named(make_ride, people, db):
    from cases.models import Place, PlaceKind

    hospital = Place.objects.create(
        name="RSUD Pasar Rebo",
        kind=PlaceKind.HOSPITAL,
        address="Jl. TB Simatupang No. 30",
        latitude="-6.3",
        longitude="106.86",
    )
    ride = make_ride("east", dropoff_place=hospital)
    url = reverse("supervision:trip_timeline", kwargs={"reference": ride.reference})
    html = logged_in_client(people["east_supervisor"]).get(url).content.decode()
    assert "RSUD Pasar Rebo" in html and "address on file" in html  # pickup typed


def test_who_may_open_it(make_ride, people, admin_user):
    ride = make_ride("east")
    url = reverse("supervision:trip_timeline", kwargs={"reference": ride.reference})
    assert logged_in_client(people["east_supervisor"]).get(url).status_code == 200
    assert logged_in_client(people["centre_supervisor"]).get(url).status_code == 200
    assert logged_in_client(people["south_supervisor"]).get(url).status_code == 404
    assert logged_in_client(people["east_caseworker"]).get(url).status_code == 403
    assert logged_in_client(admin_user).get(url).status_code == 403
    # The ride page is offered to the unit's own supervisor only.
    page = reverse("rides:detail", kwargs={"reference": ride.reference})
    assert page in logged_in_client(people["east_supervisor"]).get(url).content.decode()
    assert page not in logged_in_client(people["centre_supervisor"]).get(url).content.decode()
