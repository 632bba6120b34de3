"""A caseworker's whole journey in Chromium on a phone-sized screen, against the real stack:
the live server, a real Celery worker and beat, the sandbox partner (time-scaled so the
ride takes about half a minute) sending signed webhooks to the live server.

The demo caseworker logs in, finds a child's case by its code, books a ride with an
escort to a hospital (the pickup pinned on the map), asks for the partner's fare, books,
and watches the ride page update itself until the ride is completed. Screenshots of the
booking form and the live ride page go to docs/screenshots/ (committed, shown in the
README).

Chromium is the system's (Debian package `chromium`), never a downloaded browser. Without
it the test is skipped, unless REQUIRE_BROWSER=1 makes that a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone, translation

from accounts.models import Role
from cases.models import Consent, Place, PlaceKind, Survivor
from cases.services import case_create
from partners.client.registry import forget_partner_state
from partners.models import UnitDefaultPartner
from rides.models import Ride, RideStatus

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "pw-for-tests-1"
# Simulated seconds per real second: a ride of ~35 simulated minutes takes ~30 s.
TIME_SCALE = 80


def chromium_or_skip() -> str:
    path = shutil.which("chromium")
    reason = None
    if path is None:
        reason = "Chromium is not installed (Debian package `chromium`, see `command -v chromium`)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed"
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"{reason}; set REQUIRE_BROWSER=1 to make this a failure")
    return path


@pytest.fixture
def chromium():
    """The system Chromium's path; asked first, so a missing browser starts nothing."""
    return chromium_or_skip()


@pytest.fixture
def browser_settings(settings):
    # The live server speaks plain http: cookies must not be "secure only" here.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.BOOKING_SERVICE_HOURS = "00:00-00:00"
    return settings


@pytest.fixture
def journey(
    chromium,
    browser_settings,
    live_server,
    sandbox,
    make_partner_account,
    make_user,
    unit,
    monkeypatch,
):
    # Playwright's sync API runs an event loop in this thread; the test's own database
    # reads (set-up and waiting) are ordinary synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sandbox.control.set_config(time_scale=TIME_SCALE, seed=11)
    account = make_partner_account(webhooks=True)
    UnitDefaultPartner.objects.create(unit=unit, partner_account=account)
    caseworker = make_user(Role.CASEWORKER, unit, username="caseworker1", password=PASSWORD)
    caseworker.first_name = "Sari"
    caseworker.save()
    hospital = Place.objects.create(
        name="RS Bhayangkara Tk. I R. Said Sukanto (RS Polri)",
        kind=PlaceKind.HOSPITAL,
        address="Jl. Raya Bogor, Kramat Jati, Jakarta Timur",
        latitude=Decimal("-6.269700"),
        longitude=Decimal("106.866000"),
        is_demo=True,
    )
    today = timezone.localdate()
    case = case_create(
        user=caseworker,
        survivor={
            "name": "Putri Demo",
            "phone": "0812 1111 2222",
            "birth_date": today.replace(year=today.year - 11) - dt.timedelta(days=40),
        },
        violence_types=["physical"],
        stage="accompaniment",
    )
    Survivor.objects.filter(case=case).update(alias="Penumpang 2719")
    Consent.objects.create(
        case=case, given_by="guardian", scopes=["transport"], recorded_by=caseworker
    )
    yield {
        "chromium": chromium,
        "case": case,
        "hospital": hospital,
        "account": account,
        "url": live_server.url,
    }
    # No more webhooks to the live server once the test is over; the sandbox's kept-alive
    # webhook connections keep live-server threads (and their database sessions) open,
    # which would stop the test database from being dropped: end those sessions.
    sandbox.control.set_config(webhooks_enabled=False)
    forget_partner_state(account)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _id(message: str) -> str:
    """The Indonesian text the page shows for an English message id."""
    with translation.override("id"):
        text = translation.gettext(message)
    assert text != message or message.isupper(), f"no Indonesian for {message!r}"
    return text


def test_a_caseworker_books_a_childs_ride_to_hospital_and_watches_it_complete(
    journey, celery_worker_process, wait_for_ride
):
    from playwright.sync_api import expect, sync_playwright

    celery_worker_process(beat=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    case, hospital, base = journey["case"], journey["hospital"], journey["url"]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=journey["chromium"], headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="id-ID"
        )
        # The caseworker sees the portal as it ships: in Bahasa Indonesia.
        context.add_cookies([{"name": "django_language", "value": "id", "url": base}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            # Log in.
            page.goto(f"{base}/login/")
            page.fill("#id_username", "caseworker1")
            page.fill("#id_password", PASSWORD)
            page.locator("form button[type=submit]").last.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(
                _id("Welcome, %(name)s").split(",")[0]
            )

            # Find the case by its code.
            page.locator("main a", has_text=_id("Book a ride")).first.click()
            page.fill("input[name=case]", case.code)
            page.get_by_role("button", name=_id("Find the case")).click()
            expect(page.locator("hgroup")).to_contain_text(case.code)
            expect(page.locator("hgroup")).to_contain_text(_id("child: an escort travels along"))

            # Purpose, pickup pinned on the map, hospital as drop-off, now, escort.
            page.check("input[name=purpose][value=medical_exam]")
            page.check("input[name=pickup_source][value=typed]")
            pickup_map = page.locator('[data-booking-map="pickup"]')
            expect(pickup_map).to_be_visible()
            pickup_map.click()  # the pin goes where the map was tapped
            expect(page.locator("#id_pickup_latitude")).not_to_have_value("")
            expect(page.locator('[data-booking-map="pickup"] .leaflet-marker-icon')).to_be_visible()
            page.fill("#id_pickup_address", "Jl. Pemuda No. 10, depan minimarket")
            page.check("input[name=dropoff_source][value=place]")
            page.select_option("select[name=dropoff_place]", str(hospital.pk))
            page.check("input[name=when][value=now]")
            expect(page.locator("#id_passenger_count")).to_have_value("2")
            page.fill("#id_escort_name", "Ibu Ratna (pendamping)")
            page.fill("#id_escort_phone", "0813 2222 3333")

            # The partner's fare and ETA arrive without a page load.
            page.get_by_role("button", name=_id("Get fare estimate")).click()
            expect(page.locator("#estimate .fare")).to_contain_text("Rp ")
            expect(page.locator("#estimate")).to_contain_text(
                _id("a driver in %(eta)s").split("%(eta)s")[0].strip()
            )
            page.locator("#estimate").scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "booking-form.png"), full_page=True)

            # Confirm.
            page.get_by_role("button", name=_id("Book the ride")).click()
            page.wait_for_url("**/rides/R*/")
            reference = page.url.rstrip("/").rsplit("/", 1)[-1]
            ride = Ride.objects.get(reference=reference)
            assert ride.case == case and ride.dropoff_place == hospital
            assert ride.rider_phone == "+6281322223333"

            # The page updates itself: driver, car and plate appear, then "completed".
            plate = page.locator(".driver-card .plate")
            expect(plate).to_be_visible(timeout=90_000)
            expect(page.locator(".driver-card .vehicle")).not_to_be_empty()
            page.screenshot(path=str(SCREENSHOTS / "ride-live.png"), full_page=False)
            expect(page.locator('[data-status="completed"]')).to_be_visible(timeout=120_000)
            expect(page.locator("#ride-live")).to_contain_text(_id("The survivor has arrived."))
            assert page.locator("#ride-live[hx-trigger]").count() == 0, "polling stopped"
        finally:
            context.close()
            browser.close()

    ride = wait_for_ride(ride, RideStatus.COMPLETED, timeout=5)
    statuses = list(ride.events.order_by("at", "id").values_list("new_status", flat=True))
    assert statuses[0] == RideStatus.REQUESTED and statuses[-1] == RideStatus.COMPLETED
    assert RideStatus.DRIVER_ASSIGNED in statuses
    times = list(ride.events.order_by("at", "id").values_list("at", flat=True))
    elapsed = (times[-1] - times[0]).total_seconds()
    print(f"ride {ride.reference}: booked to completed in {elapsed:.1f}s")
