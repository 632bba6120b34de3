"""The funding page in a real browser, in Bahasa Indonesia, on demo-like data: the chart
is drawn from the vendored library under the page's own script (no inline script), the
numbers sit in the table beside it. Screenshots: docs/screenshots/funding.png (desktop)
and funding-phone.png (390×844)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from funding.demo import demo_fund_ensure
from funding.models import EntryKind
from funding.services import ride_hold, ride_settle
from tests.browser.support import CHROMIUM_ARGS, PHONE, SCREENSHOTS, watch_csp
from tests.factories import PartnerAccountFactory
from tests.pipeline.conftest import (  # noqa: F401  (fixtures)
    make_ride,
    pipeline_case,
    pipeline_caseworker,
    pipeline_unit,
)

PASSWORD = "pw-for-tests-1"
PURPOSES = ("medical_exam", "police_report", "court_hearing", "counselling", "safe_house_transfer")


def _spent_in(month: dt.date, ride, amount: int) -> None:
    """A fare charged in an earlier month (rows are only ever inserted)."""
    at = timezone.make_aware(dt.datetime(month.year, month.month, 12, 10))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO funding_ledgerentry (created_at, kind, amount, ride_id, unit_id,"
            " budget_month) VALUES (%s, %s, %s, %s, %s, %s)",
            [at, EntryKind.CHARGE, amount, ride.pk, ride.unit_id, month],
        )


@pytest.mark.django_db(transaction=True)
def test_the_funding_page_in_a_browser(
    chromium,
    browser_settings,
    live_server,
    make_user,
    make_ride,  # noqa: F811
):
    from playwright.sync_api import expect, sync_playwright

    admin = make_user(Role.ADMIN, None, username="admin1", password=PASSWORD)
    demo_fund_ensure(admin=admin)
    account = PartnerAccountFactory()
    this_month = timezone.localdate().replace(day=1)
    for i in range(24):
        ride = make_ride(account, purpose=PURPOSES[i % 5], status="completed")
        month = this_month
        for _ in range(i % 6):
            month = (month - dt.timedelta(days=1)).replace(day=1)
        if month == this_month:
            ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=150_000)
            ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=60_000 + 7_500 * (i % 7))
        else:
            _spent_in(month, ride, 60_000 + 7_500 * (i % 7))
    running = make_ride(account, status="searching")
    ride_hold(ride_id=running.pk, unit_id=running.unit_id, amount=88_000)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for name, options in (
                ("funding.png", {"viewport": {"width": 1280, "height": 900}}),
                ("funding-phone.png", {"viewport": PHONE, "is_mobile": True, "has_touch": True}),
            ):
                context = browser.new_context(locale="id-ID", device_scale_factor=1, **options)
                context.add_cookies([{"name": "django_language", "value": "id", "url": base}])
                violations = watch_csp(context)
                page = context.new_page()
                errors = []
                page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                page.goto(f"{base}/login/")
                page.fill("#id_username", "admin1")
                page.fill("#id_password", PASSWORD)
                page.locator("form button[type=submit]").last.click()
                page.get_by_role("link", name="Pendanaan").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Pendanaan")
                expect(page.locator(".fund-figures")).to_contain_text("Rp 88.000")
                # Chart.js drew on the canvas: it has a size and is no longer blank.
                page.wait_for_function(
                    "() => { const c = document.getElementById('burn-chart');"
                    " return c && c.width > 0 && typeof Chart !== 'undefined'"
                    " && Chart.getChart(c) !== undefined; }"
                )
                expect(page.locator(".burn-table tbody tr").first).to_contain_text("Rp 30.000.000")
                assert errors == []
                assert violations == [], violations  # Chart.js under the strict CSP
                page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
                context.close()
        finally:
            browser.close()
