"""The caseworker's journey on a desktop screen (1280 × 800), in English, against the real
stack (tests/browser/support.py).

The caseworker books a ride for an adult survivor from her saved address to the police:
"Polda" searched in the drop-off search and the suggestion clicked, no escort (the driver
calls the survivor, who agreed to that), the fare asked for, booked; the ride page's map
shows the pickup, the drop-off and the driver's marker moving, until the ride is
completed. Screenshots go to docs/screenshots/ (committed, shown in the README).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from cases.models import Consent, SavedAddress
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

HOME = {
    "label": "Rumah kakak",
    "address": "Jl. Pemuda No. 10, Rawamangun, Jakarta Timur",
    "latitude": "-6.193500",
    "longitude": "106.888000",
}


@pytest.fixture
def adults_case(live_stack):
    caseworker = live_stack["caseworker"]
    today = timezone.localdate()
    case = case_create(
        user=caseworker,
        survivor={
            "name": "Dewi Demo",
            "phone": "0812 4444 5555",
            "birth_date": today.replace(year=today.year - 29) - dt.timedelta(days=10),
            "address": HOME,
        },
        violence_types=["psychological"],
        stage="accompaniment",
    )
    Consent.objects.create(
        case=case,
        given_by="survivor",
        scopes=["transport", "share_phone"],
        recorded_by=caseworker,
    )
    return case


def test_a_caseworker_on_a_desktop_books_an_adults_ride_to_polda_and_watches_the_driver(
    live_stack, adults_case, wait_for_ride
):
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    case, base = adults_case, live_stack["url"]
    home = SavedAddress.objects.get(survivor__case=case)

    with sync_playwright() as playwright:
        browser, context, page = open_page(
            playwright, live_stack["chromium"], base, language="en", phone=False
        )
        try:
            log_in(page, base, language="en")
            find_case(page, case, language="en")

            # A police report; the pickup is the survivor's saved address.
            page.check("input[name=purpose][value=police_report]")
            page.check("input[name=pickup_source][value=saved]")
            page.select_option("select[name=pickup_saved]", str(home.pk))

            # The drop-off: "Polda" searched, the suggestion clicked.
            option = search_place(page, "dropoff", "Polda", expect_name="Polda Metro Jaya")
            expect(option).to_contain_text("Police station")
            show_at_top(page, '[data-point="dropoff"]', margin=64)
            page.screenshot(path=str(SCREENSHOTS / "desktop-booking.png"), full_page=False)
            dropoff = pick_suggestion(page, "dropoff", option, tap=False)

            # Now, one passenger, no escort: the driver calls the survivor.
            page.check("input[name=when][value=now]")
            expect(page.locator("#id_passenger_count")).to_have_value("1")
            expect(page.locator("input[name=escort_from]")).to_have_count(0)
            expect(page.locator("#booking-form")).to_contain_text(
                "Without an escort the driver calls the survivor's phone."
            )
            page.get_by_role("button", name="Get fare estimate").click()
            expect(page.locator("#estimate .fare")).to_contain_text("Rp ")
            page.get_by_role("button", name="Book the ride").click()
            page.wait_for_url("**/rides/R*/")
            reference = page.url.rstrip("/").rsplit("/", 1)[-1]
            ride = outside_the_browser_loop(
                lambda: Ride.objects.select_related("case").get(reference=reference)
            )
            assert ride.case == case and ride.pickup["address"] == HOME["address"]
            assert f"{ride.dropoff['longitude']:.6f}" == dropoff["longitude"]
            assert ride.escort_name == "" and ride.rider_phone == "+6281244445555"
            expect(
                page.locator("[data-ride-map] .leaflet-marker-pane .leaflet-marker-icon")
            ).to_have_count(2)

            # The driver's marker appears and moves.
            watch_the_driver_move(page, language="en")
            expect(page.locator(".driver-card .plate")).to_be_visible()
            show_at_top(page, "hgroup")
            page.screenshot(path=str(SCREENSHOTS / "desktop-ride.png"), full_page=False)

            status = page.locator('#ride-live [data-status="completed"]')
            expect(status).to_be_visible(timeout=RIDE_TIMEOUT)
            expect(status).to_have_text(say("Completed", "en"))
            expect(driver_marker(page)).to_have_count(0)
            expect(page.locator("#ride-log .timeline")).to_contain_text("Completed")
            assert page.csp_violations == [], page.csp_violations
        finally:
            context.close()
            browser.close()

    ride = wait_for_ride(ride, RideStatus.COMPLETED, timeout=5)
    print(f"desktop journey: ride {ride.reference}; {time.monotonic() - started:.1f}s")
