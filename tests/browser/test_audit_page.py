"""The audit page in a real browser on a phone (390×844): a caseworker's login and her
try at an admin page are there for the admin, who filters them, reads them without the
page growing wider than the screen, and downloads the filtered rows as CSV.
Screenshot: docs/screenshots/audit-phone.png."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.browser.support import (
    PASSWORD,
    PHONE,
    SCREENSHOTS,
    ending_database_sessions,
    log_in,
    open_page,
)


@pytest.mark.django_db(transaction=True)
def test_the_audit_page_on_a_phone(chromium, browser_settings, live_server, make_user, unit):
    from playwright.sync_api import expect, sync_playwright

    make_user(Role.CASEWORKER, unit, username="caseworker1", password=PASSWORD)
    make_user(Role.ADMIN, None, username="admin1", password=PASSWORD)
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser, _context, page = open_page(
                playwright, chromium, base, language="en", phone=True
            )
            try:
                log_in(page, base, language="en")
                page.goto(f"{base}/admin/users/?q=someone")
                page.context.clear_cookies()
                page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
                log_in(page, base, language="en", username="admin1")
                page.goto(f"{base}/admin/users/")
                page.get_by_role("link", name="Audit trail").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
                page.select_option("#id_kind", "denied")
                page.get_by_role("button", name="Search").click()
                rows = page.locator(".audit-table tbody tr")
                expect(rows).to_have_count(1)
                expect(rows.first).to_contain_text("Access denied")
                expect(rows.first).to_contain_text("caseworker1")
                expect(rows.first).to_contain_text("/admin/users/")
                expect(rows.first).not_to_contain_text("someone")  # no query string
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
                page.screenshot(path=str(SCREENSHOTS / "audit-phone.png"), full_page=True)

                with page.expect_download() as download:
                    page.get_by_role("button", name="Download as CSV").click()
                text = open(download.value.path(), encoding="utf-8").read()
                lines = text.strip().splitlines()
                assert len(lines) == 2, lines
                assert "caseworker1" in lines[1] and "/admin/users/" in lines[1]
            finally:
                browser.close()
    finally:
        ending_database_sessions()
