"""The SOP rules of rides/booking.py, one by one, at the service level."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone, translation

from cases.models import Consent
from portal.geo import service_area_point as check_coordinates
from portal.hours import within_service_hours
from portal.phones import normalize_indonesian_phone
from rides.booking.services import ride_book
from rides.models import Cause, Ride, RideStatus, TripEvent
from rides.rules import (
    FARE_ABOVE_CEILING,
    FARE_UNKNOWN,
    OUTSIDE_SERVICE_HOURS,
    FareQuote,
    product_for,
    quote_from_estimates,
)
from tests.booking.conftest import CHEAP, HOME_POINT, booking_args

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


def assert_nothing_stored():
    assert Ride.objects.count() == 0
    assert TripEvent.objects.count() == 0


# --- a good booking -----------------------------------------------------------------------


def test_a_ride_that_meets_every_rule_is_requested_and_dispatched_on_commit(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ride = ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    assert len(callbacks) == 1, "the dispatch is enqueued once, after commit"
    ride.refresh_from_db()
    assert ride.status == RideStatus.REQUESTED
    assert ride.dispatch_due_at is not None
    assert ride.case == adult_case and ride.unit == adult_case.unit
    assert ride.booked_by == caseworker
    assert ride.product_id == "car"
    assert ride.rider_phone == "+6281234567890"
    assert ride.rider_alias == adult_case.survivor.alias
    assert ride.pickup == HOME_POINT
    assert ride.dropoff_place == places["hospital"]
    assert ride.dropoff["latitude"] == pytest.approx(-6.2697)
    assert ride.estimate_fare == 48_000 and ride.estimate_pickup_eta_seconds == 300
    assert ride.approval_reasons == []
    event = ride.events.get()
    assert (event.previous_status, event.new_status) == ("", RideStatus.REQUESTED)
    assert event.cause == Cause.USER and event.actor == caseworker


def test_a_supervisor_of_the_unit_may_book_for_any_case_of_it(
    adult_case, supervisor, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(user=supervisor, quote=CHEAP, **booking_args(adult_case, places))
    assert ride.status == RideStatus.REQUESTED


# --- who may book ---------------------------------------------------------------------------


def test_a_caseworker_of_another_unit_gets_404_and_nothing_is_stored(
    adult_case, caseworker_other_unit, places
):
    with pytest.raises(Http404):
        ride_book(user=caseworker_other_unit, quote=CHEAP, **booking_args(adult_case, places))
    assert_nothing_stored()


def test_an_unassigned_caseworker_of_the_same_unit_gets_404(adult_case, make_user, unit, places):
    colleague = make_user("caseworker", unit, username="colleague")
    with pytest.raises(Http404):
        ride_book(user=colleague, quote=CHEAP, **booking_args(adult_case, places))
    assert_nothing_stored()


def test_an_unknown_case_code_gets_the_same_404(caseworker, adult_case, places):
    with pytest.raises(Http404):
        ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(adult_case, places, case_code="JKT-2099-999999"),
        )
    assert_nothing_stored()


def test_an_admin_cannot_book(adult_case, admin_user, places):
    with pytest.raises(Http404):
        ride_book(user=admin_user, quote=CHEAP, **booking_args(adult_case, places))


def test_a_closed_case_says_reopen_it(adult_case, caseworker, places):
    adult_case.stage = "closed"
    adult_case.save()
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    assert "Reopen" in errors_of(excinfo)["case"][0]
    assert_nothing_stored()


# --- consent and phones -----------------------------------------------------------------------


def test_without_transport_consent_the_message_says_record_it(
    make_case, caseworker, partner_account_db, places
):
    case = make_case(caseworker, scopes=())
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(case, places))
    assert "consent" in errors_of(excinfo)["case"][0]
    assert_nothing_stored()


def test_withdrawn_consent_does_not_count(adult_case, caseworker, places):
    Consent.objects.filter(case=adult_case).update(withdrawn_at=timezone.now())
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places))
    assert "case" in errors_of(excinfo)


def test_without_consent_to_share_the_phone_and_no_escort_the_booking_is_refused(
    make_case, caseworker, partner_account_db, places
):
    case = make_case(caseworker, scopes=("transport",))
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(case, places))
    message = errors_of(excinfo)["escort_phone"][0]
    assert "consent" in message and "escort" in message
    assert_nothing_stored()


def test_with_an_escort_the_escorts_phone_is_the_riders_even_without_phone_consent(
    make_case, caseworker, partner_account_db, places, django_capture_on_commit_callbacks
):
    case = make_case(caseworker, scopes=("transport",))
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(
                case,
                places,
                escort_name="Ibu Ratna",
                escort_phone="0813 1111 2222",
                passenger_count=2,
            ),
        )
    assert ride.rider_phone == "+6281311112222"
    assert ride.escort_phone == "+6281311112222"


def test_a_child_travels_with_an_escort(child_case, caseworker, places):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(child_case, places))
    assert "A child travels with an escort" in errors_of(excinfo)["escort_name"][0]
    assert_nothing_stored()


def test_a_childs_ride_goes_to_the_escorts_phone(
    child_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(
                child_case,
                places,
                escort_name="Bu Wati",
                escort_phone="+62 857 1234 5678",
                passenger_count=2,
            ),
        )
    assert ride.rider_phone == "+6285712345678"
    assert ride.escort_name == "Bu Wati"


@pytest.mark.parametrize(
    "escort,field",
    [
        ({"escort_name": "Bu Wati", "escort_phone": ""}, "escort_phone"),
        ({"escort_name": "", "escort_phone": "081311112222"}, "escort_name"),
        ({"escort_name": "Bu Wati", "escort_phone": "12345"}, "escort_phone"),
        ({"escort_name": "Bu Wati", "escort_phone": "+1 415 555 0100"}, "escort_phone"),
        ({"escort_name": "Bu Wati", "escort_phone": "021 555 1234"}, "escort_phone"),
    ],
)
def test_an_incomplete_or_invalid_escort_is_refused(child_case, caseworker, places, escort, field):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(child_case, places, passenger_count=2, **escort),
        )
    assert field in errors_of(excinfo)
    assert_nothing_stored()


def test_the_escort_counts_as_a_passenger(child_case, caseworker, places):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(
                child_case,
                places,
                escort_name="Bu Wati",
                escort_phone="085712345678",
                passenger_count=1,
            ),
        )
    assert "at least 2" in errors_of(excinfo)["passenger_count"][0]


def test_a_survivor_phone_that_is_not_a_mobile_is_not_given_to_the_driver(
    make_case, caseworker, partner_account_db, places
):
    case = make_case(caseworker)
    # A landline saved before cases refused one: booking refuses to give it to the driver.
    survivor = case.survivor
    survivor.phone = "+62215551234"
    survivor.save(update_fields=["phone"])
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(case, places))
    assert "not a valid Indonesian mobile number" in errors_of(excinfo)["escort_phone"][0]


@pytest.mark.parametrize(
    "raw,e164",
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
    ],
)
def test_indonesian_mobile_numbers_become_e164(raw, e164):
    assert normalize_indonesian_phone(raw) == e164


@pytest.mark.parametrize(
    "raw", ["", "0812", "abc", "+14155550100", "+6221555123", "0812345678901234"]
)
def test_other_numbers_are_refused_with_an_example(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalize_indonesian_phone(raw)
    assert "for example" in excinfo.value.messages[0]


# --- cars only --------------------------------------------------------------------------------


def test_cars_only_car_xl_above_four_passengers():
    assert [product_for(n) for n in range(1, 7)] == ["car"] * 4 + ["car_xl"] * 2


def test_a_bike_estimate_is_never_taken():
    class Estimate:
        def __init__(self, product_id, amount):
            self.product_id, self.fare_amount, self.pickup_eta_seconds = product_id, amount, 60

    assert quote_from_estimates([Estimate("bike", 15_000)], product_id="car") is None
    assert quote_from_estimates([Estimate("bike", 15_000)], product_id="bike") is None
    quote = quote_from_estimates(
        [Estimate("bike", 15_000), Estimate("car", 40_000), Estimate("car_xl", 60_000)],
        product_id="car_xl",
    )
    assert quote == FareQuote("car_xl", 60_000, 60)


def test_five_passengers_book_a_car_xl(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker,
            quote=FareQuote("car_xl", 90_000, 200),
            **booking_args(adult_case, places, passenger_count=5),
        )
    assert ride.product_id == "car_xl"
    assert ride.status == RideStatus.REQUESTED


@pytest.mark.parametrize("count", [0, 7, -1, "many", None])
def test_passenger_count_from_1_to_6(adult_case, caseworker, places, count):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker, quote=CHEAP, **booking_args(adult_case, places, passenger_count=count)
        )
    assert "from 1 to 6" in errors_of(excinfo)["passenger_count"][0]
    assert_nothing_stored()


# --- points --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "point,words",
    [
        ({"latitude": 200, "longitude": 106.8, "address": "x"}, "do not exist"),
        ({"latitude": -6.2, "longitude": 500, "address": "x"}, "do not exist"),
        ({"latitude": "nan", "longitude": 106.8, "address": "x"}, "latitude is not a number"),
        ({"latitude": "", "longitude": "", "address": "Jl. Kenanga"}, "Set the pin"),
        (
            {"latitude": -7.2575, "longitude": 112.7521, "address": "Surabaya"},
            "outside Jabodetabek",
        ),
        ({"latitude": -6.2, "longitude": 106.8, "address": ""}, "Describe the place"),
        ({"latitude": -6.2, "longitude": 106.8, "address": "x" * 256}, "255"),
        ({}, "Choose one"),
        ({"place": 1, "latitude": -6.2, "longitude": 106.8, "address": "x"}, "Choose one"),
        ("not a point", "Choose one"),
        ({"place": 999999}, "not in the list"),
        ({"saved_address": 999999}, "not on the case"),
    ],
)
def test_bad_points_get_a_clear_message_and_store_nothing(
    adult_case, caseworker, places, point, words
):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places, pickup=point))
    assert words in " ".join(errors_of(excinfo)["pickup"])
    assert_nothing_stored()


def test_coordinate_check_accepts_jakarta():
    assert check_coordinates("-6.2", "106.8") == (-6.2, 106.8)


@pytest.mark.parametrize(
    "latitude,longitude,named",
    [("abc", "106.8", "latitude"), ("-6.2", "1o6.8", "longitude"), ("abc", "x", "latitude")],
)
def test_coordinates_that_are_not_numbers_are_named_as_such(latitude, longitude, named):
    with pytest.raises(ValidationError) as excinfo:
        check_coordinates(latitude, longitude)
    message = excinfo.value.messages[0]
    assert "missing" not in message
    assert "not a number" in message and named in message


@pytest.mark.parametrize("metres_apart", [0, 50])
def test_pickup_and_dropoff_at_least_100_m_apart(adult_case, caseworker, places, metres_apart):
    hospital = places["hospital"]
    same_place = {
        "latitude": float(hospital.latitude) + metres_apart / 111_000,
        "longitude": float(hospital.longitude),
        "address": "Depan rumah sakit",
    }
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker, quote=CHEAP, **booking_args(adult_case, places, pickup=same_place)
        )
    assert "less than 100 m apart" in errors_of(excinfo)["dropoff"][0]
    assert_nothing_stored()


def test_a_place_of_another_unit_cannot_be_chosen(adult_case, caseworker, places):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(adult_case, places, dropoff={"place": places["other_units"].pk}),
        )
    assert "not in the list" in errors_of(excinfo)["dropoff"][0]


def test_a_protected_place_is_stored_as_its_neutral_point(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    safe_house = places["safe_house"]
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(
                adult_case,
                places,
                purpose="safe_house_transfer",
                dropoff={"place": safe_house.pk},
            ),
        )
    ride.refresh_from_db()
    assert ride.dropoff_place == safe_house
    assert ride.dropoff == {
        "latitude": -6.243,
        "longitude": 106.858,
        "address": "Halte TransJakarta Cawang",
    }


def test_a_saved_address_of_the_case_can_be_the_pickup(
    adult_case, caseworker, places, saved_address, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(adult_case, places, pickup={"saved_address": saved_address.pk}),
        )
    assert ride.pickup == {
        "latitude": -6.23,
        "longitude": 106.88,
        "address": "Jl. Kenanga No. 3, Jakarta Timur",
    }


def test_a_saved_address_of_another_case_cannot_be_used(
    adult_case, make_case, caseworker, places, saved_address
):
    other = make_case(caseworker, name="Another person")
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(other, places, pickup={"saved_address": saved_address.pk}),
        )
    assert "not on the case" in errors_of(excinfo)["pickup"][0]


# --- time ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset,words",
    [
        (dt.timedelta(minutes=-5), "has passed"),
        (dt.timedelta(minutes=10), "at least 15 minutes ahead"),
        (dt.timedelta(days=31), "at most 30 days ahead"),
    ],
)
def test_scheduled_time_from_15_minutes_to_30_days_ahead(
    adult_case, caseworker, places, offset, words
):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(adult_case, places, scheduled_pickup_at=timezone.now() + offset),
        )
    assert words in errors_of(excinfo)["scheduled_pickup_at"][0]
    assert_nothing_stored()


def test_a_ride_scheduled_an_hour_ahead_is_requested(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    at = timezone.now() + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker, quote=CHEAP, **booking_args(adult_case, places, scheduled_pickup_at=at)
        )
    assert ride.scheduled_pickup_at == at
    assert ride.status == RideStatus.REQUESTED


# --- purpose ------------------------------------------------------------------------------------


def test_purpose_from_the_sop_list(adult_case, caseworker, places):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker, quote=CHEAP, **booking_args(adult_case, places, purpose="shopping")
        )
    assert "purpose" in errors_of(excinfo)


def test_other_needs_a_note(adult_case, caseworker, places):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(adult_case, places, purpose="other"))
    assert "purpose_note" in errors_of(excinfo)


def test_every_problem_is_reported_at_once(adult_case, caseworker, places):
    with pytest.raises(ValidationError) as excinfo:
        ride_book(
            user=caseworker,
            quote=CHEAP,
            **booking_args(
                adult_case,
                places,
                purpose="",
                pickup={},
                passenger_count=9,
                scheduled_pickup_at=timezone.now() - dt.timedelta(hours=1),
            ),
        )
    assert {"purpose", "pickup", "passenger_count", "scheduled_pickup_at"} <= set(
        errors_of(excinfo)
    )
    assert_nothing_stored()


def test_without_a_partner_account_for_the_unit_the_admin_is_named(make_case, caseworker, places):
    case = make_case(caseworker)
    with pytest.raises(ValidationError) as excinfo:
        ride_book(user=caseworker, quote=CHEAP, **booking_args(case, places))
    assert "administrator" in errors_of(excinfo)["partner_account"][0]


# --- approval ------------------------------------------------------------------------------------


def test_a_fare_above_the_ceiling_waits_for_approval_and_is_not_dispatched(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ride = ride_book(
            user=caseworker,
            quote=FareQuote("car", 300_000, 400),
            **booking_args(adult_case, places),
        )
    assert callbacks == []
    ride.refresh_from_db()
    assert ride.status == RideStatus.AWAITING_APPROVAL
    assert ride.dispatch_due_at is None
    assert ride.approval_reasons == [
        {"code": FARE_ABOVE_CEILING, "fare": 300_000, "ceiling": 250_000}
    ]


def test_a_fare_at_the_ceiling_goes_at_once(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = ride_book(
            user=caseworker,
            quote=FareQuote("car", 250_000, 400),
            **booking_args(adult_case, places),
        )
    assert ride.status == RideStatus.REQUESTED


def test_an_unknown_fare_waits_for_approval(adult_case, caseworker, places):
    ride = ride_book(user=caseworker, quote=None, **booking_args(adult_case, places))
    assert ride.status == RideStatus.AWAITING_APPROVAL
    assert [r["code"] for r in ride.approval_reasons] == [FARE_UNKNOWN]


def test_a_pickup_outside_service_hours_waits_for_approval(
    adult_case, caseworker, places, settings
):
    settings.BOOKING_SERVICE_HOURS = "06:00-21:00"
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    night = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time(22, 30)))
    ride = ride_book(
        user=caseworker, quote=CHEAP, **booking_args(adult_case, places, scheduled_pickup_at=night)
    )
    assert ride.status == RideStatus.AWAITING_APPROVAL
    assert [r["code"] for r in ride.approval_reasons] == [OUTSIDE_SERVICE_HOURS]


def test_service_hours_in_jakarta_time():
    jakarta = timezone.get_current_timezone()
    day = dt.date(2026, 3, 2)
    hours = "06:00-21:00"
    assert within_service_hours(dt.datetime.combine(day, dt.time(6, 0), jakarta), hours)
    assert within_service_hours(dt.datetime.combine(day, dt.time(20, 59), jakarta), hours)
    assert not within_service_hours(dt.datetime.combine(day, dt.time(21, 0), jakarta), hours)
    # 23:30 UTC is 06:30 the next morning in Jakarta
    assert within_service_hours(dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC), hours)
    overnight = "21:00-06:00"
    assert within_service_hours(dt.datetime.combine(day, dt.time(23, 0), jakarta), overnight)
    assert not within_service_hours(dt.datetime.combine(day, dt.time(12, 0), jakarta), overnight)
