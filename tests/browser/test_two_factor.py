"""Two-factor login in a real browser: a supervisor on a phone (390 × 844) in Bahasa
Indonesia and an admin on a desktop in English each sign in with the password, are sent
to enrolment, add the app with the secret shown as text (the code computed from it as an
authenticator app does), keep the recovery codes, log out, and sign in again with the
password and a fresh code. Screenshot: docs/screenshots/two-factor.png (the enrolment
page on the phone)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.accounts.conftest import code_from_secret
from tests.browser.support import (
    PASSWORD,
    SCREENSHOTS,
    ending_database_sessions,
    log_in,
    open_page,
    say,
)

pytestmark = [pytest.mark.browser]


@pytest.fixture
def two_factor_stack(chromium, browser_settings, live_server, make_user, unit, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    browser_settings.TWO_FACTOR_REQUIRED_ROLES = ("supervisor", "admin")
    supervisor = make_user(Role.SUPERVISOR, unit, username="supervisor1", password=PASSWORD)
    supervisor.first_name = "Dewi"
    supervisor.save()
    admin = make_user(Role.ADMIN, None, username="admin1", password=PASSWORD)
    admin.first_name = "Budi"
    admin.save()
    yield {"chromium": chromium, "url": live_server.url}
    ending_database_sessions()


def _password_step(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").last.click()


def _journey(playwright, stack, *, username: str, language: str, phone: bool, shot=None):
    from playwright.sync_api import expect

    base = stack["url"]
    browser, _context, page = open_page(
        playwright, stack["chromium"], base, language=language, phone=phone
    )
    try:
        _password_step(page, base, username)
        # Straight to enrolment: the role needs a second factor and there is none yet.
        expect(page).to_have_url(f"{base}/account/two-factor/?next=%2F")
        page.wait_for_load_state("networkidle")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator(".qr-code svg")).to_be_visible()
        secret = page.locator("#totp-secret").inner_text()
        if phone:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the enrolment page scrolls sideways on a phone ({width}px)"
        if shot:
            page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
        # Other pages are out of reach until the code is given.
        page.goto(f"{base}/cases/places/")
        expect(page).to_have_url(f"{base}/account/two-factor/?next=%2Fcases%2Fplaces%2F")

        page.fill("#id_code", code_from_secret(secret))
        page.locator("main form button[type=submit]").click()
        codes = page.locator("#recovery-codes li")
        expect(codes).to_have_count(10)
        page.locator("main a[role=button]").click()
        # On to the page asked for before the code.
        expect(page).to_have_url(f"{base}/cases/places/")
        page.goto(f"{base}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            say("Welcome, %(name)s", language).split(",")[0]
        )
        page.locator("header form[action='/logout/'] button").click()
        expect(page).to_have_url(f"{base}/login/")

        # Again: the password, then a code (the next one the app shows: the one used at
        # enrolment works only once).
        _password_step(page, base, username)
        expect(page).to_have_url(f"{base}/login/code/?next=%2F")
        page.fill("#id_code", code_from_secret(secret, steps_ahead=1))
        page.locator("main form button[type=submit]").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            say("Welcome, %(name)s", language).split(",")[0]
        )
    finally:
        browser.close()


def test_enrol_log_out_and_log_in_with_a_code_on_a_phone_and_a_desktop(two_factor_stack):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        _journey(
            playwright,
            two_factor_stack,
            username="supervisor1",
            language="id",
            phone=True,
            shot="two-factor.png",
        )
        _journey(playwright, two_factor_stack, username="admin1", language="en", phone=False)


def test_the_shared_login_step_still_works_for_roles_without_a_second_factor(
    chromium, browser_settings, live_server, make_user, unit, monkeypatch
):
    """tests/browser/support.log_in, used by the other journeys, with the production rule
    on: a caseworker (no second factor needed) goes straight to the home page."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    browser_settings.TWO_FACTOR_REQUIRED_ROLES = ("supervisor", "admin")
    user = make_user(Role.CASEWORKER, unit, username="caseworker1", password=PASSWORD)
    user.first_name = "Sari"
    user.save()
    try:
        with sync_playwright() as playwright:
            browser, _context, page = open_page(
                playwright, chromium, live_server.url, language="en", phone=False
            )
            try:
                log_in(page, live_server.url, language="en")
            finally:
                browser.close()
    finally:
        ending_database_sessions()
