"""REST API v1 for rides: exact paths and field names, SOP errors as field-level 400s,
404 for what the caller may not see, 401 for anonymous callers, never a 500."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from cases.models import AccessLog
from rides.booking.services import ride_book
from rides.models import Ride, RideStatus
from rides.rules import FareQuote
from tests.booking.conftest import CHEAP, HOME_POINT, booking_args

pytestmark = [pytest.mark.django_db]

RIDES = "/api/v1/rides/"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def api(user=None, *, bearer: bool = False) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None and bearer:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")
    elif user is not None:
        client.force_login(user)
    return client


def body(for_case, places, **overrides):
    data = {
        "case": for_case.code,
        "purpose": "medical_exam",
        "pickup": dict(HOME_POINT),
        "dropoff": {"place": places["hospital"].pk},
        "passenger_count": 1,
    }
    data.update(overrides)
    return data


def test_anonymous_callers_get_401_not_a_redirect(adult_case, places):
    client = api()
    assert client.get(RIDES).status_code == 401
    response = client.post(RIDES, body(adult_case, places), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert Ride.objects.count() == 0


def test_booking_with_a_bearer_token_answers_201_with_reference_and_status(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        response = api(caseworker, bearer=True).post(RIDES, body(adult_case, places), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    ride = Ride.objects.get()
    assert data["reference"] == ride.reference
    # the partner at 127.0.0.1:9 does not answer: the fare is asked for again at dispatch
    assert data["status"] == RideStatus.REQUESTED == ride.status
    assert data["approval"]["reasons"] == [] and ride.fare_check_at_dispatch
    assert data["case"] == adult_case.code
    assert data["fare"] == {
        "estimate": None,
        "final": None,
        "cancellation_fee": None,
        "currency": "IDR",
    }
    assert data["driver"] is None and data["vehicle"] is None
    assert data["dropoff_place"] == places["hospital"].pk
    # no protected data in the answer to a booking
    assert "pickup" not in data and "rider_phone" not in data


def test_a_childs_escort_is_given_as_an_object(
    child_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        response = api(caseworker).post(
            RIDES,
            body(
                child_case,
                places,
                passenger_count=2,
                escort={"name": "Bu Wati", "phone": "0857 1234 5678"},
                scheduled_pickup_at=(timezone.now() + dt.timedelta(hours=2)).isoformat(),
            ),
            format="json",
        )
    assert response.status_code == 201, response.json()
    ride = Ride.objects.get()
    assert ride.rider_phone == "+6285712345678"
    assert response.json()["scheduled_pickup_at"] is not None


@pytest.mark.parametrize(
    "overrides,path",
    [
        ({"pickup": {"latitude": 120, "longitude": 106.8, "address": "x"}}, ["pickup"]),
        ({"pickup": {"latitude": -7.25, "longitude": 112.75, "address": "x"}}, ["pickup"]),
        ({"pickup": {"latitude": "north", "longitude": 106.8}}, ["pickup", "latitude"]),
        ({"pickup": {"place": "__hospital__"}}, ["dropoff"]),
        ({"scheduled_pickup_at": "__past__"}, ["scheduled_pickup_at"]),
        ({"scheduled_pickup_at": "__far__"}, ["scheduled_pickup_at"]),
        ({"scheduled_pickup_at": "__soon__"}, ["scheduled_pickup_at"]),
        ({"scheduled_pickup_at": "tomorrow"}, ["scheduled_pickup_at"]),
        (
            {"escort": {"name": "Bu Wati", "phone": "12345"}, "passenger_count": 2},
            ["escort", "phone"],
        ),
        (
            {"escort": {"name": "", "phone": "085712345678"}, "passenger_count": 2},
            ["escort", "name"],
        ),
        ({"purpose": "shopping"}, ["purpose"]),
        ({"purpose": "other"}, ["purpose_note"]),
        ({"passenger_count": 7}, ["passenger_count"]),
        ({"partner_account": 999999}, ["partner_account"]),
        ({"dropoff": {}}, ["dropoff"]),
    ],
)
def test_bad_input_is_a_field_level_400_and_stores_nothing(
    adult_case, caseworker, places, overrides, path
):
    now = timezone.now()
    special = {
        "__hospital__": places["hospital"].pk,
        "__past__": (now - dt.timedelta(minutes=10)).isoformat(),
        "__far__": (now + dt.timedelta(days=31)).isoformat(),
        "__soon__": (now + dt.timedelta(minutes=5)).isoformat(),
    }

    def resolve(value):
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        return special.get(value, value) if isinstance(value, str) else value

    response = api(caseworker).post(
        RIDES, body(adult_case, places, **resolve(overrides)), format="json"
    )
    assert response.status_code == 400, response.content
    node = response.json()
    for key in path:
        node = node[key]
    assert isinstance(node, list) and node and all(isinstance(m, str) for m in node)
    assert Ride.objects.count() == 0


def test_an_sop_refusal_says_what_to_do(make_case, caseworker, partner_account_db, places):
    case = make_case(caseworker, scopes=())
    response = api(caseworker).post(RIDES, body(case, places), format="json")
    assert response.status_code == 400
    assert "Record the survivor's" in response.json()["case"][0]


def test_a_child_without_an_escort_is_refused(child_case, caseworker, places):
    response = api(caseworker).post(RIDES, body(child_case, places), format="json")
    assert response.status_code == 400
    assert "A child travels with an escort" in response.json()["escort"]["name"][0]


def test_garbage_bodies_are_400_not_500(caseworker):
    client = api(caseworker)
    assert client.post(RIDES, "not json", content_type="application/json").status_code == 400
    assert client.post(RIDES, [1, 2], format="json").status_code == 400
    assert client.post(RIDES, {"pickup": "home"}, format="json").status_code == 400


def test_caseworker2_gets_404_for_caseworker1s_case_and_rides(
    adult_case, caseworker, caseworker_other_unit, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    client = api(caseworker_other_unit, bearer=True)
    response = client.post(RIDES, body(adult_case, places), format="json")
    assert response.status_code == 404
    assert client.get(f"{RIDES}{ride.reference}/").status_code == 404
    assert client.post(f"{RIDES}{ride.reference}/cancel/", format="json").status_code == 404
    assert client.post(f"{RIDES}{ride.reference}/rebook/", format="json").status_code == 404
    assert client.get(RIDES).json()["results"] == []
    assert Ride.objects.count() == 1
    ride.refresh_from_db()
    assert ride.status == RideStatus.REQUESTED


def test_an_unknown_case_code_is_the_same_404(caseworker, adult_case, places):
    response = api(caseworker).post(
        RIDES, body(adult_case, places, case="JKT-2099-999999"), format="json"
    )
    assert response.status_code == 404


def test_admins_get_403(admin_user):
    assert api(admin_user).get(RIDES).status_code == 403


def test_the_ride_detail_has_the_contract_shapes_and_is_access_logged(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    Ride.objects.filter(pk=ride.pk).update(
        status=RideStatus.COMPLETED,
        driver_name="Agus Setiawan",
        driver_phone_masked="+62 812-****-7890",
        driver_rating="4.85",
        vehicle_make="Toyota",
        vehicle_model="Avanza",
        vehicle_color="Silver",
        vehicle_plate="B 1234 XYZ",
        pickup_eta_seconds=0,
        final_fare=52_000,
    )
    response = api(caseworker).get(f"{RIDES}{ride.reference.lower()}/")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "completed"
    assert data["driver"] == {
        "name": "Agus Setiawan",
        "phone_masked": "+62 812-****-7890",
        "rating": 4.85,
    }
    assert data["vehicle"] == {
        "make": "Toyota",
        "model": "Avanza",
        "color": "Silver",
        "license_plate": "B 1234 XYZ",
    }
    assert data["fare"] == {
        "estimate": 48_000,
        "final": 52_000,
        "cancellation_fee": None,
        "currency": "IDR",
    }
    assert data["pickup"] == HOME_POINT
    assert data["rider_phone"] == "+6281234567890"
    assert data["escort"] is None
    assert [e["status"] for e in data["events"]] == ["requested"]
    log = AccessLog.objects.get()
    assert (log.channel, log.view, log.user) == ("api", "api:ride-detail", caseworker)


def test_the_list_costs_the_same_queries_for_one_ride_or_many(
    adult_case, caseworker, places, django_capture_on_commit_callbacks, django_assert_num_queries
):
    client = api(caseworker, bearer=True)
    with django_capture_on_commit_callbacks():
        ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    client.get(RIDES)  # the token's last_used_at is written on the first call only
    # The token with its user, the caseworker's cases, the page of rides.
    with django_assert_num_queries(3):
        assert len(client.get(RIDES).json()["results"]) == 1
    with django_capture_on_commit_callbacks():
        for _ in range(4):
            ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    with django_assert_num_queries(3) as queries:
        response = client.get(RIDES)
    results = response.json()["results"]
    assert len(results) == 5
    assert "pickup" not in results[0]
    # The list reads no protected field it does not show (rides.api.outputs.RIDE_OUT_READS).
    page_sql = queries.captured_queries[-1]["sql"]
    for column in ("pickup", "dropoff", "rider_phone", "escort_phone", "note_for_driver",
                   "purpose_note", "cancel_reason", "arrival_problem"):  # fmt: skip
        assert f'"rides_ride"."{column}"' not in page_sql, column
    assert '"rides_ride"."status_reason"' in page_sql


def test_the_list_filters_by_status_and_case(
    adult_case, make_case, caseworker, places, django_capture_on_commit_callbacks
):
    other = make_case(caseworker, name="Dewi")
    with django_capture_on_commit_callbacks():
        one = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
        ride_book(user=caseworker, quote=None, **booking_args(other, places))
    client = api(caseworker)
    by_case = client.get(RIDES, {"case": adult_case.code}).json()["results"]
    assert [r["reference"] for r in by_case] == [one.reference]
    waiting = client.get(RIDES, {"status": "awaiting_approval"}).json()["results"]
    assert [r["case"] for r in waiting] == [other.code]


def test_cancel(adult_case, caseworker, places):
    ride = ride_book(user=caseworker, quote=None, **booking_args(adult_case, places))
    response = api(caseworker).post(
        f"{RIDES}{ride.reference}/cancel/", {"reason": "Plans changed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = api(caseworker).post(f"{RIDES}{ride.reference}/cancel/", format="json")
    assert again.status_code == 400
    assert "ride" in again.json()


def test_approve_and_reject_are_for_supervisors_of_the_unit(
    adult_case,
    caseworker,
    supervisor,
    make_user,
    other_unit,
    places,
    django_capture_on_commit_callbacks,
):
    first, second = (
        ride_book(
            user=caseworker, quote=FareQuote("car", 400_000, 60), **booking_args(adult_case, places)
        )
        for _ in range(2)
    )
    assert api(caseworker).post(f"{RIDES}{first.reference}/approve/").status_code == 403
    other = make_user("supervisor", other_unit, username="supervisor2")
    assert api(other).post(f"{RIDES}{first.reference}/approve/").status_code == 404
    with django_capture_on_commit_callbacks() as callbacks:
        approved = api(supervisor).post(f"{RIDES}{first.reference}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "requested"
    assert approved.json()["approval"]["decided_by"] == supervisor.username
    assert len(callbacks) == 1
    twice = api(supervisor).post(f"{RIDES}{first.reference}/approve/")
    assert twice.status_code == 400 and "ride" in twice.json()

    url = f"{RIDES}{second.reference}/reject/"
    assert api(supervisor).post(url, {}, format="json").status_code == 400
    blank = api(supervisor).post(url, {"reason": " "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()
    rejected = api(supervisor).post(url, {"reason": "Use the office car."}, format="json")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["approval"]["rejection_reason"] == "Use the office car."


def test_rebook_through_the_api(adult_case, caseworker, places, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    Ride.objects.filter(pk=ride.pk).update(status=RideStatus.NO_DRIVER)
    with django_capture_on_commit_callbacks():
        response = api(caseworker).post(f"{RIDES}{ride.reference}/rebook/")
    assert response.status_code == 201
    assert response.json()["rebooked_from"] == ride.reference


@pytest.mark.parametrize(
    "language,case_words,ride_words",
    [
        ("id", "Tidak ada kasus dengan kode ini", "Tidak ada perjalanan dengan referensi ini"),
        ("en", "No case with this code", "No ride with this reference"),
    ],
)
def test_what_the_caller_may_not_see_is_a_404_in_their_language(
    adult_case, caseworker, caseworker_other_unit, places, language, case_words, ride_words
):
    ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(caseworker_other_unit)
    with translation.override(language):
        case_answer = client.get(f"/api/v1/cases/{adult_case.code}/")
        ride_answer = client.get(f"{RIDES}{ride.reference}/")
    assert case_answer.status_code == 404 and case_words in case_answer.json()["detail"]
    assert ride_answer.status_code == 404 and ride_words in ride_answer.json()["detail"]
