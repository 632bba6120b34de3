"""The places page in a real browser: the unit's supervisor reads her unit's safe house's
address on a phone in Indonesian, and the province-wide house's only once she is named
for it; a caseworker on a desktop in English sees neither address, only where drivers go.
Neither page is wider than its screen; no CSP violation. Screenshots:
docs/screenshots/places-supervisor-phone.png, places-caseworker-desktop.png."""

from __future__ import annotations

import pytest

from accounts.models import Role
from cases.demo import demo_places_ensure
from cases.models import Place
from cases.places import place_readers_set
from tests.browser.support import (
    DESKTOP,
    PASSWORD,
    PHONE,
    SCREENSHOTS,
    ending_database_sessions,
    log_in,
    open_page,
    outside_the_browser_loop,
    say,
)

OWN, SHARED = "Rumah Aman Melati (demo)", "Rumah Aman Kenanga (demo)"


def _place_card(page, name: str):
    return page.locator(".card-list li", has=page.get_by_text(name, exact=False))


@pytest.mark.django_db(transaction=True)
def test_safe_house_addresses_on_the_places_page(
    chromium, browser_settings, live_server, make_user, unit
):
    from playwright.sync_api import expect, sync_playwright

    make_user(Role.CASEWORKER, unit, username="caseworker1", password=PASSWORD)
    supervisor = make_user(Role.SUPERVISOR, unit, username="supervisor1", password=PASSWORD)
    demo_places_ensure({"JAKTIM": unit})
    own, shared = Place.objects.get(name=OWN), Place.objects.get(name=SHARED)
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            for username, language, phone in (
                ("supervisor1", "id", True),
                ("caseworker1", "en", False),
            ):
                browser, _context, page = open_page(
                    playwright, chromium, base, language=language, phone=phone
                )
                try:
                    log_in(page, base, language=language, username=username)
                    page.goto(f"{base}/cases/places/")
                    hidden = say("Protected address — not shown.", language)
                    expect(_place_card(page, SHARED)).to_contain_text(hidden)
                    if username == "supervisor1":
                        expect(_place_card(page, OWN)).to_contain_text(own.address)
                        outside_the_browser_loop(
                            lambda: place_readers_set(place=shared, readers=[supervisor])
                        )
                        page.reload()
                        expect(_place_card(page, SHARED)).to_contain_text(shared.address)
                        name = "places-supervisor-phone.png"
                    else:
                        expect(_place_card(page, OWN)).to_contain_text(hidden)
                        expect(_place_card(page, OWN)).to_contain_text(own.neutral_address)
                        name = "places-caseworker-desktop.png"
                    width = (PHONE if phone else DESKTOP)["width"]
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    assert page.csp_violations == []
                    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
                finally:
                    browser.close()
    finally:
        ending_database_sessions()
