"""What the browser journeys share: the system Chromium, the live stack they book against
and the steps a caseworker takes on the pages.

The stack is the real one: the live server, a real Celery worker and beat, and the sandbox
partner (time-scaled, its driver's position refreshed every second) sending signed
webhooks to the live server and serving the address search from its Jakarta gazetteer.

Chromium is the system's (Debian package `chromium`), never a downloaded browser. Without
it the tests are skipped, unless REQUIRE_BROWSER=1 makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import translation

from accounts.models import Role
from partners.client.registry import forget_partner_state
from partners.models import UnitDefaultPartner

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "pw-for-tests-1"
# Simulated seconds per real second: the driver's approach and a ride of ~10 km across
# Jakarta (about an hour together) take about half a minute.
TIME_SCALE = 120
# The worker polls each active trip this often (seconds) and the sandbox moves its
# driver this often, so the ride page sees the driver move between its own refreshes.
POLL_SECONDS = "1"
LOCATION_SECONDS = 1
# Bounded waits (milliseconds): a page action, the driver appearing, the ride ending.
STEP_TIMEOUT = 20_000
DRIVER_TIMEOUT = 60_000
RIDE_TIMEOUT = 90_000
POSITION = re.compile(r"^-?\d+\.\d{6},-?\d+\.\d{6}$")


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


def outside_the_browser_loop(read):
    """Runs a database read in a thread of its own with a fresh connection, closed after.

    Inside `sync_playwright()` the test thread runs an event loop, and Django gives code
    there a connection of its own: one that the previous test's clean-up
    (`ending_database_sessions`) may have ended, so an ORM call there can meet a closed
    server session. A new thread always opens a new one."""

    def run():
        try:
            return read()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def ending_database_sessions() -> None:
    """Ends the live server's leftover database sessions (kept-alive webhook and page
    connections hold threads open), which would stop the test database from being dropped."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def live_stack(
    chromium,
    browser_settings,
    live_server,
    sandbox,
    make_partner_account,
    make_user,
    unit,
    monkeypatch,
    celery_worker_process,
):
    """The live server with the sandbox as partner (webhooks on) and as geocoder, a
    caseworker of the unit, and a worker with beat polling each active trip every second."""
    # Playwright's sync API runs an event loop in this thread; the test's own database
    # reads (set-up and waiting) are ordinary synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    browser_settings.GEOCODER_URL = sandbox.base_url
    sandbox.control.set_config(
        time_scale=TIME_SCALE, seed=11, location_update_seconds=LOCATION_SECONDS
    )
    account = make_partner_account(webhooks=True)
    UnitDefaultPartner.objects.create(unit=unit, partner_account=account)
    caseworker = make_user(Role.CASEWORKER, unit, username="caseworker1", password=PASSWORD)
    caseworker.first_name = "Sari"
    caseworker.save()
    celery_worker_process(
        beat=True,
        env={
            "PIPELINE_POLL_INTERVAL": POLL_SECONDS,
            "PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS": POLL_SECONDS,
            "BOOKING_SERVICE_HOURS": browser_settings.BOOKING_SERVICE_HOURS,
        },
    )
    yield {"chromium": chromium, "url": live_server.url, "caseworker": caseworker}
    # No more webhooks to the live server once the test is over.
    sandbox.control.set_config(webhooks_enabled=False)
    forget_partner_state(account)
    ending_database_sessions()


def say(message: str, language: str) -> str:
    """The text the page shows for an English message id in `language`."""
    with translation.override(language):
        text = str(translation.gettext(message))
    if language != "en":
        assert text != message or message.isupper(), f"no {language} text for {message!r}"
    return text


# Reports every Content-Security-Policy violation of every page of a context to Python
# (an init script runs before the page's own scripts, on every navigation).
_CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}` +
      ` (${event.sourceFile || "page"}:${event.lineNumber}:${event.columnNumber})`
  );
});
"""


def watch_csp(context) -> list[str]:
    """The list every CSP violation in `context`'s pages is appended to, as it happens."""
    violations: list[str] = []

    def report(violation: str) -> None:
        violations.append(violation)

    context.expose_function("__reportCspViolation", report)
    context.add_init_script(_CSP_WATCH)
    return violations


def open_page(
    playwright, chromium: str, base: str, *, language: str, phone: bool, locale: str = "en-GB"
):
    """A new browser and page in `language`, on a phone (touch, id-ID) or a desktop screen
    (the browser's own locale `locale`)."""
    browser = playwright.chromium.launch(
        executable_path=chromium, headless=True, args=CHROMIUM_ARGS
    )
    if phone:
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="id-ID"
        )
    else:
        context = browser.new_context(viewport=DESKTOP, locale=locale)
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    violations = watch_csp(context)
    page = context.new_page()
    page.csp_violations = violations  # asserted empty by the journeys
    page.set_default_timeout(STEP_TIMEOUT)
    return browser, context, page


def log_in(
    page, base: str, *, language: str, username: str = "caseworker1", password: str = PASSWORD
) -> None:
    """Signs in on the login page (opened unless the page is on it already)."""
    from playwright.sync_api import expect

    if not page.url.startswith(f"{base}/login/"):
        page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form button[type=submit]").last.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        say("Welcome, %(name)s", language).split(",")[0]
    )


def find_case(page, case, *, language: str) -> None:
    """From the home page to the booking form of the case, found by its code."""
    from playwright.sync_api import expect

    page.locator("main a", has_text=say("Book a ride", language)).first.click()
    page.fill("input[name=case]", case.code)
    page.get_by_role("button", name=say("Find the case", language)).click()
    expect(page.locator("hgroup")).to_contain_text(case.code)


def search_place(page, point: str, query: str, *, expect_name: str):
    """Types `query` into the point's address search as a person does (a key at a time)
    and returns the suggestion named `expect_name` once the list is open under the field."""
    from playwright.sync_api import expect

    page.check(f"input[name={point}_source][value=typed]")
    search = page.locator(f"#{point}-search")
    expect(search).to_be_visible()
    search.click()
    search.press_sequentially(query, delay=80)
    option = page.locator(f"#{point}-suggestions [role=option]", has_text=expect_name).first
    expect(option).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    return option


def pick_suggestion(page, point: str, option, *, tap: bool) -> dict:
    """Taps (or clicks) the suggestion; the address, the coordinates and the pin follow.
    Returns the point's filled fields."""
    from playwright.sync_api import expect

    latitude = option.get_attribute("data-latitude")
    longitude = option.get_attribute("data-longitude")
    name = option.locator("strong").inner_text()
    if tap:
        option.tap()
    else:
        option.click()
    expect(page.locator(f"#{point}-suggestions")).to_be_hidden()
    expect(page.locator(f"#id_{point}_latitude")).to_have_value(latitude)
    expect(page.locator(f"#id_{point}_longitude")).to_have_value(longitude)
    expect(page.locator(f"#id_{point}_address")).to_have_value(re.compile("^" + re.escape(name)))
    expect(page.locator(f'[data-booking-map="{point}"] .leaflet-marker-icon')).to_be_visible()
    return {"name": name, "latitude": latitude, "longitude": longitude}


def show_at_top(page, selector: str, *, margin: int = 12) -> None:
    """Scrolls the page so the element starts just below the top of the screen."""
    page.locator(selector).first.evaluate(
        "(element, margin) => window.scrollTo(0,"
        " element.getBoundingClientRect().top + window.scrollY - margin)",
        margin,
    )


def driver_marker(page):
    """The driver's marker on the ride map (a Leaflet circle marker: an SVG path)."""
    return page.locator("[data-ride-map] .leaflet-overlay-pane path.leaflet-interactive")


def watch_the_driver_move(page, *, language: str) -> tuple[str, str]:
    """Waits for the driver's marker on the ride map, then for it to move. The map says
    where it drew the driver in `data-driver-shown` ("lat,lon"); the marker's path is
    drawn elsewhere too. Returns the two positions seen."""
    from playwright.sync_api import expect

    ride_map = page.locator("[data-ride-map]")
    expect(ride_map).to_have_attribute("data-driver-shown", POSITION, timeout=DRIVER_TIMEOUT)
    expect(driver_marker(page)).to_have_count(1)
    expect(page.locator("[data-ride-map] .map-label-driver")).to_have_text(say("Driver", language))
    first = ride_map.get_attribute("data-driver-shown")
    first_path = driver_marker(page).get_attribute("d")
    moved = page.wait_for_function(
        """first => {
            const shown = document.querySelector("[data-ride-map]").dataset.driverShown;
            const path = document.querySelector(
                "[data-ride-map] .leaflet-overlay-pane path.leaflet-interactive");
            return shown && shown !== first && path ? [shown, path.getAttribute("d")] : null;
        }""",
        arg=first,
        timeout=DRIVER_TIMEOUT,
    ).json_value()
    second, second_path = moved
    assert POSITION.match(second), second
    assert second_path != first_path, "the marker was not redrawn where the driver is"
    return first, second
