"""The ride page's map: the pickup and drop-off the partner got, and the driver's position
while a driver is on the way, carried by the live partial for static/js/ride_map.js."""

import json
import re

import pytest
from django.urls import reverse

from rides.models import Ride, RideStatus
from tests.booking.test_pages import english, make_ride

pytestmark = [pytest.mark.django_db]

DRIVER = {"driver_latitude": -6.2401, "driver_longitude": 106.8702}


def pins(body: str) -> list[dict]:
    found = re.search(r'<script id="ride-map-pins" type="application/json">(.*?)</script>', body)
    return json.loads(found.group(1)) if found else []


def driver_position(body: str) -> tuple[str, str] | None:
    found = re.search(r'<div id="ride-driver-position" hidden([^>]*)>', body)
    assert found, "the live partial always carries the driver's position element"
    lat = re.search(r'data-lat="([^"]+)"', found.group(1))
    lon = re.search(r'data-lon="([^"]+)"', found.group(1))
    return (lat.group(1), lon.group(1)) if lat and lon else None


@pytest.fixture
def active_ride(adult_case, caseworker, places, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places)
    Ride.objects.filter(pk=ride.pk).update(status=RideStatus.ON_TRIP, **DRIVER)
    return ride


def test_an_active_ride_shows_pickup_dropoff_and_the_driver(active_ride, caseworker, places):
    client = english(caseworker)
    body = client.get(reverse("rides:detail", kwargs={"reference": active_ride.reference}))
    html = body.content.decode()
    assert "data-ride-map" in html and "js/ride_map.js" in html
    assert pins(html) == [
        {"lat": -6.2251, "lon": 106.9003, "label": "Pickup", "name": "Jl. Pemuda No. 10"},
        {
            "lat": -6.2697,
            "lon": 106.866,
            "label": "Drop-off",
            "name": places["hospital"].name,
        },
    ]
    assert driver_position(html) == ("-6.240100", "106.870200")
    assert "No base map is configured" in html
    # The refreshed partial moves the driver without the map being rebuilt.
    Ride.objects.filter(pk=active_ride.pk).update(
        driver_latitude=-6.2500, driver_longitude=106.8680
    )
    live = client.get(
        reverse("rides:live", kwargs={"reference": active_ride.reference}),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert driver_position(live) == ("-6.250000", "106.868000")
    assert "data-ride-map" not in live


def test_an_ended_ride_shows_the_points_but_no_driver(active_ride, caseworker):
    Ride.objects.filter(pk=active_ride.pk).update(status=RideStatus.COMPLETED)
    html = (
        english(caseworker)
        .get(reverse("rides:detail", kwargs={"reference": active_ride.reference}))
        .content.decode()
    )
    assert len(pins(html)) == 2
    assert driver_position(html) is None


def test_a_ride_waiting_for_a_driver_has_no_driver_position(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places)
    Ride.objects.filter(pk=ride.pk).update(status=RideStatus.SEARCHING, **DRIVER)
    html = english(caseworker).get(reverse("rides:detail", kwargs={"reference": ride.reference}))
    assert driver_position(html.content.decode()) is None


def test_a_protected_drop_off_is_mapped_at_its_neutral_point(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    house = places["safe_house"]
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places, dropoff={"place": house.pk})
    html = english(caseworker).get(reverse("rides:detail", kwargs={"reference": ride.reference}))
    dropoff = pins(html.content.decode())[1]
    assert (dropoff["lat"], dropoff["lon"]) == (-6.243, 106.858)
    assert str(house.latitude) not in html.content.decode()


def test_people_who_may_not_see_the_ride_get_no_map(active_ride, caseworker_other_unit, admin_user):
    for user, status in ((caseworker_other_unit, 404), (admin_user, 403)):
        client = english(user)
        for name in ("detail", "live"):
            url = reverse(f"rides:{name}", kwargs={"reference": active_ride.reference})
            response = client.get(url)
            assert response.status_code == status
            body = response.content.decode()
            assert "ride-map-pins" not in body and "ride-driver-position" not in body
            assert "106.8702" not in body and "106.9003" not in body


def test_on_a_phone_the_map_follows_the_driver_card_and_the_trip_log_follows_the_map(
    active_ride, caseworker
):
    """The live status and the driver come first, the map right after them (not below a
    trip log that grows with every step), then the trip log; the refreshed partial brings
    the trip log out of band, so the map between them is never rebuilt."""
    client = english(caseworker)
    url = reverse("rides:detail", kwargs={"reference": active_ride.reference})
    html = client.get(url).content.decode()
    live_at, map_at = html.index('id="ride-live"'), html.index('id="ride-map"')
    log_at = html.index('id="ride-log"')
    assert live_at < map_at < log_at
    assert html.index('class="timeline"') > map_at
    assert html.index('class="ride-status"') < map_at
    live = client.get(
        reverse("rides:live", kwargs={"reference": active_ride.reference}),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    log = re.search(r'<section id="ride-log"([^>]*)>(.*?)</section>', live, re.S)
    assert log and 'hx-swap-oob="true"' in log.group(1)
    assert '<ol class="timeline">' in log.group(2) and "Trip log" in log.group(2)
    assert live.index('id="ride-log"') > live.index("</section>"), "outside #ride-live"


def test_a_typed_point_is_labelled_on_the_map_by_its_first_part_only(
    adult_case, caseworker, places, django_capture_on_commit_callbacks
):
    """An address picked from the search reads "name, street, district, city": the whole of
    it on a pin's label ran off a phone's map; the label keeps the name, the page the rest."""
    polda = {
        "address": "Polda Metro Jaya (Ditreskrimum), Jl. Jend. Sudirman Kav. 55,"
        " Senayan, Kebayoran Baru, Jakarta Selatan 12190",
        "latitude": "-6.222500",
        "longitude": "106.809300",
    }
    with django_capture_on_commit_callbacks():
        ride = make_ride(adult_case, caseworker, places, dropoff=polda)
    html = english(caseworker).get(reverse("rides:detail", kwargs={"reference": ride.reference}))
    body = html.content.decode()
    assert pins(body)[1]["name"] == "Polda Metro Jaya (Ditreskrimum)"
    assert "Jl. Jend. Sudirman Kav. 55" in body, "the page still shows the whole address"
