"""The booking pages in the browser's shoes (Django's test client): the flow, inline errors
that keep what was typed, the ride page, lists and approvals, isolation between units."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import AccessLog
from rides.booking.services import ride_book
from rides.models import Ride, RideStatus
from rides.pipeline.apply import ride_apply_partner_status
from rides.rules import FareQuote
from rides.views.common import booking_outcome
from tests.booking.conftest import CHEAP, booking_args
from tests.conftest import logged_in_client

pytestmark = [pytest.mark.django_db]

BOOK = reverse("rides:book")
ESTIMATE = reverse("rides:estimate")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def english(user):
    client = logged_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def form_data(case, places, **overrides):
    data = {
        "case": case.code,
        "booking_token": "token-1",
        "purpose": "medical_exam",
        "pickup_source": "typed",
        "pickup_address": "Jl. Pemuda No. 10",
        "pickup_latitude": "-6.225100",
        "pickup_longitude": "106.900300",
        "dropoff_source": "place",
        "dropoff_place": str(places["hospital"].pk),
        "when": "now",
        "passenger_count": "1",
        "action": "book",
    }
    data.update(overrides)
    return data


def make_ride(case, user, places, status=None, **overrides):
    ride = ride_book(user=user, quote=CHEAP, **booking_args(case, places, **overrides))
    if status:
        Ride.objects.filter(pk=ride.pk).update(status=status)
        ride.refresh_from_db()
    return ride


# --- finding the case ----------------------------------------------------------------------


def test_the_booking_page_starts_with_the_case_code(caseworker):
    response = english(caseworker).get(BOOK)
    assert response.status_code == 200
    assert b'name="case"' in response.content


def test_a_case_code_the_user_may_not_see_answers_404_with_the_finder(
    adult_case, caseworker_other_unit
):
    response = english(caseworker_other_unit).get(BOOK, {"case": adult_case.code})
    assert response.status_code == 404
    assert b"No case with this code that you can book for" in response.content
    assert adult_case.survivor.alias.encode() not in response.content


def test_the_form_shows_the_case_places_and_saved_addresses_and_logs_the_view(
    adult_case, caseworker, places, saved_address
):
    response = english(caseworker).get(BOOK, {"case": adult_case.code.lower()})
    assert response.status_code == 200
    body = response.content.decode()
    assert adult_case.code in body and adult_case.survivor.alias in body
    assert places["hospital"].name in body
    assert "Jl. Kenanga No. 3" in body
    # protected places are choosable by name but never drawn on the map
    assert places["safe_house"].name in body
    map_places = re.search(r'id="booking-map-places"[^>]*>(.*?)</script>', body).group(1)
    assert "Rumah Aman" not in map_places and "-6.301" not in map_places
    assert places["other_units"].name not in body
    log = AccessLog.objects.get()
    assert (log.user, log.case, log.fields, log.view) == (
        caseworker,
        adult_case,
        ["saved_addresses"],
        "rides:book",
    )


def test_a_child_case_asks_for_an_escort_and_starts_with_two_passengers(
    child_case, caseworker, places
):
    response = english(caseworker).get(BOOK, {"case": child_case.code})
    body = response.content.decode()
    assert "A child travels with an escort" in body
    assert re.search(r'name="passenger_count" value="2"', body)


# --- booking -----------------------------------------------------------------------------


def test_booking_with_the_partner_unreachable_sends_the_ride_with_its_fare_checked_first(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = english(caseworker).post(BOOK, form_data(adult_case, places))
    ride = Ride.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("rides:detail", kwargs={"reference": ride.reference})
    assert ride.status == RideStatus.REQUESTED and ride.fare_check_at_dispatch
    assert ride.approval_reasons == []
    assert len(callbacks) == 1  # the dispatch, which asks for the fare first


def test_errors_show_inline_and_everything_typed_is_kept(adult_case, caseworker, places):
    data = form_data(
        adult_case,
        places,
        pickup_latitude="-6.269700",
        pickup_longitude="106.866000",
        pickup_address="Jl. Tepat Di Depan RS",
        escort_name="Bu Wati",
        escort_phone="0812",
        passenger_count="2",
        when="later",
        scheduled_at=(timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    )
    response = english(caseworker).post(BOOK, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "less than 100 m apart" in body
    assert "This time has passed" in body
    assert "Enter a valid Indonesian mobile number" in body
    for typed in ("Jl. Tepat Di Depan RS", "-6.269700", "106.866000", "Bu Wati", 'value="0812"'):
        assert typed in body, typed
    assert Ride.objects.count() == 0


def test_an_invalid_form_is_answered_with_the_form_not_a_500(adult_case, caseworker, places):
    response = english(caseworker).post(
        BOOK, form_data(adult_case, places, pickup_source="", purpose="", passenger_count="x")
    )
    assert response.status_code == 200
    assert b"Choose the purpose of the ride" in response.content
    assert Ride.objects.count() == 0


def test_a_second_click_on_book_does_not_book_twice(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    client = english(caseworker)
    first = client.post(BOOK, form_data(adult_case, places))
    second = client.post(BOOK, form_data(adult_case, places))
    assert Ride.objects.count() == 1
    assert second.status_code == 302 and second["Location"] == first["Location"]


def test_caseworker2_cannot_book_for_caseworker1s_case(adult_case, caseworker_other_unit, places):
    client = english(caseworker_other_unit)
    assert client.post(BOOK, form_data(adult_case, places)).status_code == 404
    assert client.post(ESTIMATE, form_data(adult_case, places)).status_code == 404
    assert Ride.objects.count() == 0


def test_an_admin_may_not_book(admin_user, adult_case, places):
    assert english(admin_user).get(BOOK).status_code == 403
    assert english(admin_user).post(BOOK, form_data(adult_case, places)).status_code == 403


def test_the_estimate_partial_with_the_partner_unreachable_says_what_to_do(
    adult_case, caseworker, places
):
    response = english(caseworker).post(
        ESTIMATE, form_data(adult_case, places), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="estimate"' in body
    assert "You can still book" in body
    # error slots come back out of band, so old errors clear
    assert 'id="group-purpose" class="field-slot" hx-swap-oob="true"' in body


def test_the_estimate_partial_marks_fields_with_errors(adult_case, caseworker, places):
    response = english(caseworker).post(
        ESTIMATE, form_data(adult_case, places, pickup_latitude="95"), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "Correct the fields marked above" in body
    assert "These coordinates do not exist" in body
    assert Ride.objects.count() == 0


# --- the ride page ---------------------------------------------------------------------------


def test_the_ride_page_shows_driver_car_and_plate_big_and_logs_the_view(
    adult_case, caseworker, places, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places)
    Ride.objects.filter(pk=ride.pk).update(
        status=RideStatus.ARRIVING,
        driver_name="Agus Setiawan",
        vehicle_make="Toyota",
        vehicle_model="Avanza",
        vehicle_color="Silver",
        vehicle_plate="B 1234 XYZ",
        pickup_eta_seconds=240,
    )
    client = english(caseworker)
    url = reverse("rides:detail", kwargs={"reference": ride.reference})
    client.get(url)  # the session is warm now
    # session, user, the caseworker's cases, the ride with its relations, its events, its
    # rebookings, the access-log lookup, and the user's unit for the page header
    with django_assert_num_queries(8):
        response = client.get(url)
    body = response.content.decode()
    assert 'class="plate"' in body and "B 1234 XYZ" in body
    assert "Toyota Avanza · Silver" in body
    assert "Agus Setiawan" in body
    assert "The driver arrives in about 4 minutes." in body
    assert 'hx-trigger="every 3s"' in body
    # the reload within the access log's window is not written again
    assert AccessLog.objects.filter(case=adult_case, view="rides:detail").count() == 1


def test_the_live_partial_stops_polling_when_the_ride_is_final(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places, status=RideStatus.COMPLETED)
    response = english(caseworker).get(
        reverse("rides:live", kwargs={"reference": ride.reference}), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "hx-trigger" not in body
    assert "The survivor has arrived." in body
    # the cancel block is removed from the page out of band
    assert '<div id="cancel-block" hx-swap-oob="true"></div>' in body
    assert AccessLog.objects.filter(view="rides:live").count() == 0


def test_caseworker2_cannot_see_caseworker1s_ride(
    adult_case, caseworker, caseworker_other_unit, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places)
    client = english(caseworker_other_unit)
    for name in ("detail", "live"):
        url = reverse(f"rides:{name}", kwargs={"reference": ride.reference})
        assert client.get(url).status_code == 404
    for name in ("cancel", "rebook", "retry"):
        url = reverse(f"rides:{name}", kwargs={"reference": ride.reference})
        assert client.post(url).status_code == 404
    ride.refresh_from_db()
    assert ride.status == RideStatus.REQUESTED


def test_cancel_from_the_ride_page(adult_case, caseworker, places):
    # waiting for approval (fare unknown): nothing at the partner, cancelled at once
    ride = ride_book(user=caseworker, quote=None, **booking_args(adult_case, places))
    response = english(caseworker).post(
        reverse("rides:cancel", kwargs={"reference": ride.reference}), {"reason": "Plans changed"}
    )
    assert response.status_code == 302
    ride.refresh_from_db()
    assert ride.status == RideStatus.CANCELLED


def test_the_cancel_reason_typed_is_shown_with_who_cancelled(adult_case, caseworker, places):
    ride = ride_book(user=caseworker, quote=None, **booking_args(adult_case, places))
    client = english(caseworker)
    client.post(
        reverse("rides:cancel", kwargs={"reference": ride.reference}),
        {"reason": "Survivor goes with her sister instead"},
    )
    page = client.get(reverse("rides:detail", kwargs={"reference": ride.reference}))
    assert b"Survivor goes with her sister instead" in page.content
    assert caseworker.get_full_name().encode() in page.content


def test_a_cancel_the_partner_confirms_shows_the_reason_not_the_portals_request(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places)
    Ride.objects.filter(pk=ride.pk).update(
        status=RideStatus.DRIVER_ASSIGNED, partner_trip_id="trp_cancel_reason"
    )
    client = english(caseworker)
    with django_capture_on_commit_callbacks():
        client.post(
            reverse("rides:cancel", kwargs={"reference": ride.reference}),
            {"reason": "Hearing moved to Friday"},
        )
    ride_apply_partner_status(
        ride_id=ride.pk,
        trip_id="trp_cancel_reason",
        status="rider_canceled",
        updated_at=timezone.now(),
        cause="webhook",
    )
    ride.refresh_from_db()
    assert ride.status == RideStatus.CANCELLED
    page = client.get(reverse("rides:detail", kwargs={"reference": ride.reference}))
    assert b"Hearing moved to Friday" in page.content
    assert caseworker.get_full_name().encode() in page.content
    assert b"at the portal&#x27;s request" not in page.content


def test_the_message_after_booking_says_what_happens_next_in_the_right_colour(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    client = english(caseworker)
    response = client.post(BOOK, form_data(adult_case, places), follow=True)
    body = response.content.decode()
    assert re.search(r'class="message success">[^<]*looking for a driver', body)
    # waiting for a supervisor (no fare known) is news, not an error
    waiting = ride_book(user=caseworker, quote=None, **booking_args(adult_case, places))
    assert waiting.status == RideStatus.AWAITING_APPROVAL
    with translation.override("en"):
        level, text = booking_outcome(waiting)
    assert level == "info" and "waiting for a supervisor" in text
    # a ride for tomorrow: nobody is looking for a driver yet
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(adult_case, places, scheduled_pickup_at=tomorrow),
        )
    with translation.override("en"):
        level, text = booking_outcome(ride)
    assert level == "success"
    assert "looking for a driver" not in text
    assert timezone.localtime(tomorrow).strftime("%H:%M") in text


def test_rebook_after_no_driver_is_one_click(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places, status=RideStatus.NO_DRIVER)
    client = english(caseworker)
    page = client.get(reverse("rides:detail", kwargs={"reference": ride.reference}))
    assert b"Rebook this ride" in page.content
    with django_capture_on_commit_callbacks():
        response = client.post(reverse("rides:rebook", kwargs={"reference": ride.reference}))
    new = Ride.objects.get(rebooked_from=ride)
    assert response["Location"] == reverse("rides:detail", kwargs={"reference": new.reference})
    page = client.get(reverse("rides:detail", kwargs={"reference": ride.reference}))
    assert b"Rebook this ride" not in page.content
    assert new.reference.encode() in page.content


# --- lists -----------------------------------------------------------------------------------


def test_my_rides_today_costs_the_same_queries_for_one_ride_or_many(
    adult_case, caseworker, places, django_capture_on_commit_callbacks, django_assert_num_queries
):
    client = english(caseworker)
    url = reverse("rides:list")
    with django_capture_on_commit_callbacks():
        make_ride(adult_case, caseworker, places)
    client.get(url)
    # session, user, the caseworker's cases, the rides with their relations, the user's
    # unit for the header
    with django_assert_num_queries(5):
        first = client.get(url)
    assert first.content.count(b'class="ride-row"') == 1
    with django_capture_on_commit_callbacks():
        for _ in range(4):
            make_ride(adult_case, caseworker, places)
    with django_assert_num_queries(5):
        response = client.get(url)
    assert response.content.count(b'class="ride-row"') == 5


def test_yesterdays_finished_rides_are_not_in_today(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        old = make_ride(adult_case, caseworker, places, status=RideStatus.COMPLETED)
        ongoing = make_ride(adult_case, caseworker, places, status=RideStatus.ON_TRIP)
    yesterday = timezone.now() - dt.timedelta(days=1, hours=1)
    Ride.objects.filter(pk__in=[old.pk, ongoing.pk]).update(created_at=yesterday)
    body = english(caseworker).get(reverse("rides:list")).content.decode()
    assert ongoing.reference in body and old.reference not in body


def test_the_supervisor_sees_the_units_rides_and_caseworker2_none(
    adult_case,
    caseworker,
    supervisor,
    caseworker_other_unit,
    places,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places)
    assert ride.reference.encode() in english(supervisor).get(reverse("rides:list")).content
    other = english(caseworker_other_unit).get(reverse("rides:list"))
    assert ride.reference.encode() not in other.content


# --- approvals -------------------------------------------------------------------------------


@pytest.fixture
def waiting(adult_case, caseworker, places):
    return [
        ride_book(
            user=caseworker,
            quote=FareQuote("car", 300_000 + n, 60),
            **booking_args(adult_case, places),
        )
        for n in range(3)
    ]


def test_the_approval_queue_lists_the_units_waiting_rides_in_fixed_queries(
    waiting, supervisor, django_assert_num_queries
):
    client = english(supervisor)
    url = reverse("rides:approvals")
    client.get(url)
    # session, user, the queue with its relations, the access log's last half hour (the
    # typed pickups shown), the user's unit for the header
    with django_assert_num_queries(5):
        response = client.get(url)
    body = response.content.decode()
    for ride in waiting:
        assert ride.reference in body
    assert "The estimated fare Rp 300.000 is above the ceiling of Rp 250.000." in body


def test_caseworkers_and_other_units_do_not_get_the_queue(
    waiting, caseworker, make_user, other_unit
):
    assert english(caseworker).get(reverse("rides:approvals")).status_code == 403
    other = make_user("supervisor", other_unit, username="supervisor2")
    body = english(other).get(reverse("rides:approvals")).content.decode()
    assert waiting[0].reference not in body
    response = english(other).post(
        reverse("rides:approve", kwargs={"reference": waiting[0].reference})
    )
    assert response.status_code == 404


def test_approve_and_reject_from_the_queue(waiting, supervisor, django_capture_on_commit_callbacks):
    client = english(supervisor)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("rides:approve", kwargs={"reference": waiting[0].reference}))
    assert len(callbacks) == 1
    rejected = waiting[1]
    url = reverse("rides:reject", kwargs={"reference": rejected.reference})
    missing = client.post(url, {f"r{rejected.pk}-reason": ""})
    assert missing.status_code == 400
    assert b"Say why the ride is rejected" in missing.content
    done = client.post(url, {f"r{rejected.pk}-reason": "Use the office car today."})
    assert done.status_code == 302
    statuses = dict(Ride.objects.values_list("reference", "status"))
    assert statuses[waiting[0].reference] == RideStatus.REQUESTED
    assert statuses[rejected.reference] == RideStatus.REJECTED
    assert statuses[waiting[2].reference] == RideStatus.AWAITING_APPROVAL


def test_the_caseworker_sees_waiting_for_approval_on_the_ride_page(waiting, caseworker):
    body = (
        english(caseworker)
        .get(reverse("rides:detail", kwargs={"reference": waiting[0].reference}))
        .content.decode()
    )
    assert "Waiting for a supervisor" in body
    assert "Approve and send" not in body


def test_without_javascript_the_estimate_button_reloads_the_page_keeping_everything(
    adult_case, caseworker, places
):
    data = form_data(adult_case, places, action="estimate", escort_name="Bu Wati")
    data.update(escort_phone="0857 1234 5678", passenger_count="2")
    response = english(caseworker).post(BOOK, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="estimate"' in body and "You can still book" in body
    for typed in ("Jl. Pemuda No. 10", "-6.225100", "Bu Wati", "0857 1234 5678"):
        assert typed in body, typed
    assert Ride.objects.count() == 0
