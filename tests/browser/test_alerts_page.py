"""The alerts page in a real browser on a phone: the header counts the open alerts, a note
is required, acknowledging one (htmx) replaces its card with the answer and the count
goes down without a reload. Screenshot: docs/screenshots/alerts-phone.png."""

from __future__ import annotations

import pytest

from accounts.models import Role
from rides.models import Alert, AlertKind
from tests.browser.support import SCREENSHOTS, log_in, open_page, outside_the_browser_loop
from tests.factories import PartnerAccountFactory
from tests.pipeline.conftest import (  # noqa: F401  (fixtures)
    make_ride,
    pipeline_case,
    pipeline_caseworker,
    pipeline_unit,
)
from tests.stack import wait_until

PASSWORD = "pw-for-tests-1"


@pytest.mark.django_db(transaction=True)
def test_acknowledging_alerts_on_a_phone(
    chromium,
    browser_settings,
    live_server,
    make_user,
    pipeline_unit,  # noqa: F811
    make_ride,  # noqa: F811
):
    from playwright.sync_api import expect, sync_playwright

    supervisor = make_user(Role.SUPERVISOR, pipeline_unit, username="spv1", password=PASSWORD)
    ride = make_ride(PartnerAccountFactory(), status="on_trip")
    stopped = Alert.objects.create(
        unit=pipeline_unit,
        ride=ride,
        kind=AlertKind.CAR_STOPPED,
        message=f"The car of ride {ride.reference} has not moved for 6 minutes mid-trip.",
    )
    Alert.objects.create(
        unit=pipeline_unit,
        ride=ride,
        kind=AlertKind.OFF_CORRIDOR,
        message=f"The car of ride {ride.reference} is 3.4 km away from the route between "
        "pickup and drop-off.",
    )
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser, context, page = open_page(playwright, chromium, base, language="en", phone=True)
        try:
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            log_in(page, base, language="en", username="spv1")
            badge = page.locator("#alert-badge .notice-count")
            expect(badge).to_have_text("2")
            page.get_by_role("link", name="Alerts").first.click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
            card = page.locator(f"#alert-{stopped.pk}")
            expect(card).to_contain_text("Car stopped mid-trip")
            expect(card).to_contain_text(ride.reference)
            page.screenshot(path=str(SCREENSHOTS / "alerts-phone.png"), full_page=True)
            card.get_by_role("button", name="Acknowledge").click()
            expect(card.locator(".error")).to_contain_text("Write a short note of what you did.")
            card.locator("textarea").fill("Called the driver: stuck behind an accident.")
            card.get_by_role("button", name="Acknowledge").click()
            done = page.locator(f"#alert-{stopped.pk}.alert-done")
            expect(done).to_contain_text("Acknowledged: Car stopped mid-trip")
            expect(badge).to_have_text("1")  # asked again at once, no reload
            assert errors == []
            assert page.csp_violations == [], page.csp_violations  # the strict CSP
        finally:
            context.close()
            browser.close()

    def acknowledged():
        alert = Alert.objects.get(pk=stopped.pk)
        return alert.resolved_by_id == supervisor.pk and alert.acknowledgement_note

    note = wait_until(lambda: outside_the_browser_loop(acknowledged), timeout=5)
    assert note == "Called the driver: stuck behind an accident."
