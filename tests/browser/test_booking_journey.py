"""A caseworker's whole journey in Chromium on a phone (390 × 844), in Bahasa Indonesia,
against the real stack (tests/browser/support.py).

The demo caseworker logs in, finds a child's case by its code, pins the pickup on the map,
searches "RS Polri" for the drop-off and taps the suggestion (the address and the pin
follow), takes the child's guardian offered as the escort, asks for the partner's fare,
books, and on the ride page watches the map: the pickup and the drop-off, then the
driver's marker, which moves as the partner reports the driver's position, until the ride
is completed ("Selesai"). Screenshots go to docs/screenshots/ (committed, shown in the
README): the suggestions open under the search field, the filled form with the fare, and
the ride page with the map while the driver is on the way.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from cases.models import Consent, Survivor
from cases.services import case_create
from rides.models import Ride, RideStatus
from tests.browser.support import (
    RIDE_TIMEOUT,
    SCREENSHOTS,
    driver_marker,
    find_case,
    log_in,
    open_page,
    outside_the_browser_loop,
    pick_suggestion,
    say,
    search_place,
    show_at_top,
    watch_the_driver_move,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PIN_SET = "Pin set: the address and coordinates are filled in. Drag the pin to adjust it."
GUARDIAN = {"name": "Ibu Ratna Dewi", "phone": "0813 2222 3333", "relation": "mother"}


@pytest.fixture
def childs_case(live_stack):
    caseworker = live_stack["caseworker"]
    today = timezone.localdate()
    case = case_create(
        user=caseworker,
        survivor={
            "name": "Putri Demo",
            "phone": "0812 1111 2222",
            "birth_date": today.replace(year=today.year - 11) - dt.timedelta(days=40),
            "guardian": GUARDIAN,
        },
        violence_types=["physical"],
        stage="accompaniment",
    )
    Survivor.objects.filter(case=case).update(alias="Penumpang 2719")
    Consent.objects.create(
        case=case, given_by="guardian", scopes=["transport"], recorded_by=caseworker
    )
    return case


def test_a_caseworker_searches_rs_polri_books_a_childs_ride_and_watches_the_driver(
    live_stack, childs_case, wait_for_ride
):
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    case, base = childs_case, live_stack["url"]

    with sync_playwright() as playwright:
        browser, context, page = open_page(
            playwright, live_stack["chromium"], base, language="id", phone=True
        )
        try:
            log_in(page, base, language="id")
            find_case(page, case, language="id")
            expect(page.locator("hgroup")).to_contain_text(
                say("child: an escort travels along", "id")
            )

            # Purpose; the pickup pinned on the map where the child waits.
            page.check("input[name=purpose][value=medical_exam]")
            page.check("input[name=pickup_source][value=typed]")
            pickup_map = page.locator('[data-booking-map="pickup"]')
            expect(pickup_map).to_be_visible()
            pickup_map.tap()  # the pin goes where the map was tapped
            expect(page.locator("#id_pickup_latitude")).not_to_have_value("")
            expect(page.locator('[data-booking-map="pickup"] .leaflet-marker-icon')).to_be_visible()
            page.fill("#id_pickup_address", "Jl. Pemuda No. 10, depan minimarket")

            # The drop-off: "RS Polri" searched as a person types it, the suggestion tapped.
            option = search_place(page, "dropoff", "RS Polri", expect_name="RS Bhayangkara")
            expect(option).to_contain_text(say("Hospital", "id"))
            show_at_top(page, '[data-point="dropoff"]', margin=64)
            page.screenshot(path=str(SCREENSHOTS / "booking-search.png"), full_page=False)
            dropoff = pick_suggestion(page, "dropoff", option, tap=True)
            expect(page.locator("#dropoff-search-status")).to_have_text(say(PIN_SET, "id"))

            # Now, two passengers, the guardian offered (and taken) as the escort.
            page.check("input[name=when][value=now]")
            expect(page.locator("#id_passenger_count")).to_have_value("2")
            expect(page.locator("input[name=escort_from][value=guardian]")).to_be_checked()
            expect(page.locator("[data-guardian-escort]")).to_contain_text(GUARDIAN["name"])
            expect(page.locator("#id_escort_name")).to_have_value(GUARDIAN["name"])

            # The partner's fare and ETA arrive without a page load.
            page.get_by_role("button", name=say("Get fare estimate", "id")).tap()
            expect(page.locator("#estimate .fare")).to_contain_text("Rp ")
            expect(page.locator("#estimate")).to_contain_text(
                say("a driver in %(eta)s", "id").split("%(eta)s")[0].strip()
            )
            page.screenshot(path=str(SCREENSHOTS / "booking-form.png"), full_page=True)

            # Book; the ride page shows the map with the pickup and the drop-off.
            page.get_by_role("button", name=say("Book the ride", "id")).tap()
            page.wait_for_url("**/rides/R*/")
            reference = page.url.rstrip("/").rsplit("/", 1)[-1]
            ride = outside_the_browser_loop(
                lambda: Ride.objects.select_related("case").get(reference=reference)
            )
            assert ride.case == case and ride.dropoff_place is None
            assert f"{ride.dropoff['latitude']:.6f}" == dropoff["latitude"]
            assert ride.dropoff["address"].startswith(dropoff["name"])
            assert ride.escort_name == GUARDIAN["name"]
            assert ride.rider_phone == "+6281322223333"
            labels = page.locator("[data-ride-map] .leaflet-marker-pane .leaflet-marker-icon")
            expect(labels).to_have_count(2)
            expect(page.locator("[data-ride-map] .leaflet-tooltip-pane")).to_contain_text(
                say("Drop-off", "id")
            )

            # The driver's marker appears and moves while the driver comes and drives.
            first, second = watch_the_driver_move(page, language="id")
            expect(page.locator(".driver-card .plate")).to_be_visible()
            show_at_top(page, "#ride-live")
            page.screenshot(path=str(SCREENSHOTS / "ride-map.png"), full_page=False)

            # The ride ends: "Selesai", the driver's marker gone, the page stops polling.
            status = page.locator('#ride-live [data-status="completed"]')
            expect(status).to_be_visible(timeout=RIDE_TIMEOUT)
            expect(status).to_have_text(say("Completed", "id"))
            expect(page.locator("#ride-live")).to_contain_text(
                say("The survivor has arrived.", "id")
            )
            expect(driver_marker(page)).to_have_count(0)
            assert page.locator("#ride-live[hx-trigger]").count() == 0, "polling stopped"
            # The booking flow and the ride page under the strict Content-Security-Policy.
            assert page.csp_violations == [], page.csp_violations
        finally:
            context.close()
            browser.close()

    ride = wait_for_ride(ride, RideStatus.COMPLETED, timeout=5)
    statuses = list(ride.events.order_by("at", "id").values_list("new_status", flat=True))
    assert statuses[0] == RideStatus.REQUESTED and statuses[-1] == RideStatus.COMPLETED
    assert RideStatus.DRIVER_ASSIGNED in statuses
    print(
        f"phone journey: ride {ride.reference}, driver seen at {first} then {second};"
        f" {time.monotonic() - started:.1f}s from the login to completed"
    )
