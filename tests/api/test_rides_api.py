"""REST API v1 for rides and supervisors' work: the ride list's filters and cursor pages,
a ride's trip log, the estimate and the address search against the sandbox over real
HTTP, the approval queue, alerts listed and acknowledged."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Role
from partners.client.registry import forget_partner_state
from partners.models import UnitDefaultPartner
from rides.models import Alert, AlertKind, Ride, RideStatus, TripEvent
from rides.models.states import Cause
from tests.api.support import api, ride_for

pytestmark = [pytest.mark.django_db]

RIDES = "/api/v1/rides/"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _ride(adult_case, caseworker, places, **fields):
    return ride_for(adult_case, caseworker, places["hospital"], **fields)


def test_the_list_filters_by_status_purpose_case_days_and_unit(
    adult_case, caseworker, supervisor, places
):
    waiting = _ride(adult_case, caseworker, places)
    court = _ride(adult_case, caseworker, places, purpose="court_hearing", status="completed")
    old = _ride(adult_case, caseworker, places, status="cancelled")
    Ride.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    client = api(supervisor)

    def refs(**query):
        response = client.get(RIDES, query)
        assert response.status_code == 200, response.json()
        return [row["reference"] for row in response.json()["results"]]

    assert refs() == [court.reference, waiting.reference, old.reference]  # newest first
    assert refs(status="awaiting_approval,completed") == [court.reference, waiting.reference]
    assert refs(purpose="court_hearing") == [court.reference]
    assert refs(case=adult_case.code.lower()) == [court.reference, waiting.reference, old.reference]
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert refs(created_from=since) == [court.reference, waiting.reference]
    assert refs(created_to=since) == [old.reference]
    assert refs(unit=adult_case.unit.code) == [court.reference, waiting.reference, old.reference]
    assert refs(unit="elsewhere") == []


def test_a_filter_that_cannot_be_read_is_a_400_naming_it(supervisor, adult_case):
    response = api(supervisor).get(
        RIDES, {"status": "flying", "created_from": "yesterday", "purpose": "x"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"status", "created_from", "purpose"}


def test_the_list_pages_by_cursor_and_costs_the_same_for_10_and_60_rides(
    adult_case, caseworker, places
):
    client = api(caseworker)
    client.get(RIDES)  # the token's first use is written once

    def queries_for_first_page():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(RIDES).status_code == 200
        return len(captured)

    for _ in range(10):
        _ride(adult_case, caseworker, places)
    few = queries_for_first_page()
    for _ in range(50):
        _ride(adult_case, caseworker, places)
    assert queries_for_first_page() == few
    first = client.get(RIDES).json()
    assert len(first["results"]) == 50 and first["next"]
    seen = [row["reference"] for row in first["results"]]
    page = first
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["reference"] for row in page["results"]]
    assert len(seen) == len(set(seen)) == 60


def test_the_trip_log_reads_in_words_oldest_first(adult_case, caseworker, places):
    ride = _ride(adult_case, caseworker, places)
    TripEvent.objects.create(
        ride=ride, cause=Cause.USER, actor=caseworker, previous_status="",
        new_status=RideStatus.AWAITING_APPROVAL, note="booked",
    )  # fmt: skip
    TripEvent.objects.create(
        ride=ride, cause=Cause.WEBHOOK, previous_status=RideStatus.AWAITING_APPROVAL,
        new_status=RideStatus.CANCELLED, partner_status="rider_canceled",
    )  # fmt: skip
    response = api(caseworker).get(f"{RIDES}{ride.reference.lower()}/events/")
    assert response.status_code == 200
    data = response.json()
    assert data["reference"] == ride.reference
    first, second = data["events"]
    assert first["who"].startswith("booked by ") and first["previous_status"] == ""
    assert first["status_label"] == "Waiting for approval"
    assert second["who"] == "update from the partner"
    assert second["previous_status"] == "awaiting_approval" and second["status"] == "cancelled"
    assert set(first) == {
        "at", "previous_status", "previous_status_label", "status", "status_label",
        "cause", "who", "note", "partner_status",
    }  # fmt: skip
    assert data["partner_calls"] == []  # none was made for this ride


def test_the_trip_log_answer_holds_every_partner_call_of_the_ride(adult_case, caseworker, places):
    from rides.models.partner_calls import PartnerCall

    ride = _ride(adult_case, caseworker, places)
    PartnerCall.objects.create(
        ride=ride, account=ride.partner_account, operation="create_trip", outcome="http_error",
        http_status=503, error_code="service_unavailable", duration_ms=41, attempt=1,
    )  # fmt: skip
    PartnerCall.objects.create(
        ride=ride, account=ride.partner_account, operation="find_trip", outcome="ok",
        http_status=200, duration_ms=12, attempt=1,
    )  # fmt: skip
    with translation.override("en"):
        calls = api(caseworker).get(f"{RIDES}{ride.reference}/events/").json()["partner_calls"]
    assert [(c["operation"], c["outcome"], c["http_status"]) for c in calls] == [
        ("create_trip", "http_error", 503),
        ("find_trip", "ok", 200),
    ]
    assert calls[0]["operation_label"] == "Trip sent" and calls[0]["error_code"]
    assert "body" not in calls[0] and "request" not in calls[0]


def test_another_units_ride_has_no_trip_log_to_show(
    adult_case, caseworker, places, make_user, other_unit
):
    ride = _ride(adult_case, caseworker, places)
    stranger = make_user(Role.SUPERVISOR, other_unit)
    assert api(stranger).get(f"{RIDES}{ride.reference}/events/").status_code == 404


# --- the estimate and the address search, against the sandbox ------------------------------


@pytest.fixture
def case_at_sandbox(make_case, caseworker, unit, partner_account):
    UnitDefaultPartner.objects.create(unit=unit, partner_account=partner_account)
    yield make_case(caseworker)
    forget_partner_state(partner_account)


@pytest.mark.integration
def test_the_estimate_is_the_partners_fare_and_books_nothing(
    case_at_sandbox, caseworker, places, sandbox
):
    body = {
        "case": case_at_sandbox.code,
        "purpose": "medical_exam",
        "pickup": {"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Pemuda No. 10"},
        "dropoff": {"place": places["hospital"].pk},
    }
    response = api(caseworker).post("/api/v1/estimates/", body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["product_id"] == "car"
    assert data["quote"]["currency"] == "IDR" and data["quote"]["amount"] > 0
    assert data["quote"]["pickup_eta_seconds"] > 0
    assert data["needs_approval"] is False and data["approval_reasons"] == []
    assert len(sandbox.control.calls(endpoint="estimates")) == 1
    assert Ride.objects.count() == 0


def test_an_estimate_names_every_problem_at_once(adult_case, caseworker, places):
    body = {
        "case": adult_case.code,
        "purpose": "other",
        "pickup": {"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Pemuda"},
        "dropoff": {"latitude": "north", "longitude": 106.9, "address": "x"},
        "passenger_count": 9,
    }
    response = api(caseworker).post("/api/v1/estimates/", body, format="json")
    assert response.status_code == 400
    assert {"dropoff", "passenger_count", "purpose_note"} <= set(response.json())


@pytest.mark.integration
def test_the_address_search_asks_the_geocoder_by_post(caseworker, sandbox, settings, unit):
    settings.GEOCODER_URL = sandbox.base_url
    client = api(caseworker)
    response = client.post("/api/v1/places/search/", {"q": "  RS   Polri "}, format="json")
    assert response.status_code == 200, response.json()
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["available"] is True
    assert any("Polri" in place["name"] for place in data["results"])
    assert all(-6.8 <= place["latitude"] <= -5.9 for place in data["results"])
    # a query never goes in a URL
    assert client.get("/api/v1/places/search/", {"q": "RS Polri"}).status_code == 405


def test_without_a_geocoder_the_search_says_so(caseworker, settings, unit):
    settings.GEOCODER_URL = ""
    response = api(caseworker).post("/api/v1/places/search/", {"q": "Polda"}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "available": False,
        "message": "The address search is not available right now. Type the address and "
        "set the pin on the map.",
        "results": [],
    }


# --- supervisors: approvals and alerts -------------------------------------------------------


def test_the_approval_queue_is_the_units_waiting_rides_oldest_first(
    adult_case, caseworker, supervisor, places
):
    first = _ride(adult_case, caseworker, places)
    second = _ride(adult_case, caseworker, places)
    _ride(adult_case, caseworker, places, status="completed")
    response = api(supervisor).get("/api/v1/approvals/")
    assert response.status_code == 200
    assert [row["reference"] for row in response.json()["results"]] == [
        first.reference,
        second.reference,
    ]
    assert api(caseworker).get("/api/v1/approvals/").status_code == 403


def test_the_approval_queue_reads_only_what_it_shows_in_one_query_a_page(
    adult_case, caseworker, supervisor, places
):
    client = api(supervisor)
    _ride(adult_case, caseworker, places)
    client.get("/api/v1/approvals/")  # the token's last_used_at is written on the first call only
    for _ in range(3):
        _ride(adult_case, caseworker, places)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/approvals/")
    assert len(response.json()["results"]) == 4
    assert len(queries) == 2  # the token with its user, the page of rides
    # No survivor's point, phone or note is read for a list that shows none of them
    # (rides.api.outputs.ride_out_reads, as the ride list).
    page_sql = queries.captured_queries[-1]["sql"]
    for column in ("pickup", "dropoff", "rider_phone", "escort_phone", "note_for_driver",
                   "purpose_note", "cancel_reason", "arrival_problem"):  # fmt: skip
        assert f'"rides_ride"."{column}"' not in page_sql, column
    assert '"rides_ride"."approval_reasons"' in page_sql


def test_an_alert_acknowledged_with_a_note_leaves_the_open_list_and_stays_in_the_history(
    adult_case, caseworker, supervisor, admin_user, places
):
    ride = _ride(adult_case, caseworker, places)
    alert = Alert.objects.create(
        unit=ride.unit, ride=ride, kind=AlertKind.NO_DRIVER_YET, message="No driver yet."
    )
    client = api(supervisor)
    listed = client.get("/api/v1/alerts/").json()["results"]
    assert [(row["id"], row["ride"], row["kind"]) for row in listed] == [
        (alert.pk, ride.reference, "no_driver_yet")
    ]
    assert listed[0]["acknowledged_at"] is None
    # an admin is shown the fund's alerts only
    assert api(admin_user).get("/api/v1/alerts/").json()["results"] == []
    acknowledge = f"/api/v1/alerts/{alert.pk}/acknowledge/"
    assert api(admin_user).post(acknowledge, {"note": "x"}, format="json").status_code == 404

    response = client.post(acknowledge, {"note": "Called the caseworker."}, format="json")
    assert response.status_code == 200
    assert response.json()["acknowledged_by"] == supervisor.username
    assert response.json()["note"] == "Called the caseworker."
    assert client.get("/api/v1/alerts/").json()["results"] == []
    history = client.get("/api/v1/alerts/", {"state": "all"}).json()["results"]
    assert [row["id"] for row in history] == [alert.pk]
    assert client.get("/api/v1/alerts/", {"state": "some"}).status_code == 400
