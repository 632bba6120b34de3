"""The booking form's address search in Chromium on a phone: a caseworker types "RS Polri"
into the drop-off search, picks the suggestion with the keyboard, and the pin and the
address fields are filled; Leaflet's zoom buttons keep their size under Pico CSS, on a
phone and on a desktop. Screenshots go to BROWSER_SCREENSHOTS (a temporary folder unless
set), never into the repository.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import Role
from cases.models import Consent
from tests.browser.support import CHROMIUM_ARGS, PASSWORD, PHONE, say
from tests.factories import CaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DESKTOP = {"width": 1280, "height": 900}
# Leaflet's own zoom buttons are 30 x 30 CSS pixels.
ZOOM_BUTTON_MAX = 36


@pytest.fixture
def booking_page(chromium, browser_settings, live_server, sandbox, make_user, unit, settings):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.GEOCODER_URL = sandbox.base_url
    caseworker = make_user(Role.CASEWORKER, unit, username="caseworker1", password=PASSWORD)
    case = CaseFactory(user=caseworker)
    Consent.objects.create(
        case=case, given_by="survivor", scopes=["transport"], recorded_by=caseworker
    )
    yield {"chromium": chromium, "url": live_server.url, "case": case}
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _zoom_buttons_and_marker_look_like_leaflets(page) -> None:
    """Pico's [role=button] styles must not reach Leaflet's controls and markers: the
    zoom buttons' glyph sits centred (no padding, line height = height) and a draggable
    marker has no button background."""
    for selector in (".leaflet-control-zoom-in", ".leaflet-control-zoom-out"):
        button = page.locator(f'[data-booking-map="dropoff"] {selector}')
        box = button.bounding_box()
        assert box is not None, f"{selector} is not shown"
        assert box["width"] <= ZOOM_BUTTON_MAX and box["height"] <= ZOOM_BUTTON_MAX, box
        style = button.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.paddingTop, s.paddingBottom, s.lineHeight, s.height]; }"
        )
        assert style[0] == style[1] == "0px" and style[2] == style[3], style
    marker = page.locator('[data-booking-map="dropoff"] .leaflet-marker-icon')
    background = marker.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgba(0, 0, 0, 0)", background


def test_a_caseworker_finds_rs_polri_and_picks_it_with_the_keyboard(booking_page):
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("BROWSER_SCREENSHOTS") or tempfile.mkdtemp(prefix="shots-"))
    shots.mkdir(parents=True, exist_ok=True)
    base, case = booking_page["url"], booking_page["case"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=booking_page["chromium"], headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="id-ID"
        )
        context.add_cookies([{"name": "django_language", "value": "id", "url": base}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        requests = []
        page.on("request", lambda request: requests.append(request))
        try:
            page.goto(f"{base}/login/")
            page.fill("#id_username", "caseworker1")
            page.fill("#id_password", PASSWORD)
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/rides/book/?case={case.code}")
            page.check("input[name=dropoff_source][value=typed]")

            search = page.locator("#dropoff-search")
            expect(search).to_have_attribute("role", "combobox")
            search.press_sequentially("RS Polri", delay=40)
            option = page.locator("#dropoff-suggestions [role=option]").first
            expect(option).to_contain_text("RS Bhayangkara")
            expect(option).to_contain_text(say("Hospital", "id"))
            expect(search).to_have_attribute("aria-expanded", "true")
            page.screenshot(path=str(shots / "booking-suggestions.png"), full_page=False)

            search.press("ArrowDown")
            expect(option).to_have_attribute("aria-selected", "true")
            expect(search).to_have_attribute("aria-activedescendant", "dropoff-suggestion-1")
            search.press("Enter")  # picks; does not submit the booking

            expect(page.locator("#id_dropoff_latitude")).to_have_value("-6.269300")
            expect(page.locator("#id_dropoff_longitude")).to_have_value("106.866500")
            expect(page.locator("#id_dropoff_address")).to_have_value(
                "RS Bhayangkara Tk. I R. Said Sukanto (RS Polri), "
                "Jl. Raya Bogor, Kramat Jati, Jakarta Timur 13510"
            )
            expect(page.locator("#dropoff-suggestions")).to_be_hidden()
            marker = page.locator('[data-booking-map="dropoff"] .leaflet-marker-icon')
            expect(marker).to_be_visible()
            expect(page.locator('[data-booking-map="dropoff"] .map-label-pin')).to_have_text(
                say("Drop-off", "id")
            )
            expect(
                page.locator('[data-booking-map="dropoff"] .leaflet-control-scale')
            ).to_be_visible()
            assert "/rides/book/" in page.url and "?case=" in page.url, "nothing was submitted"
            page.locator('[data-booking-map="dropoff"]').scroll_into_view_if_needed()
            _zoom_buttons_and_marker_look_like_leaflets(page)
            page.screenshot(path=str(shots / "booking-picked-phone.png"), full_page=False)

            page.set_viewport_size(DESKTOP)
            page.locator('[data-booking-map="dropoff"]').scroll_into_view_if_needed()
            _zoom_buttons_and_marker_look_like_leaflets(page)
            page.screenshot(path=str(shots / "booking-picked-desktop.png"), full_page=False)
        finally:
            context.close()
            browser.close()

    searches = [r for r in requests if "address-search" in r.url]
    assert searches and all(r.method == "POST" for r in searches)
    assert all("Polri" not in r.url for r in requests), "the query never goes into a URL"
