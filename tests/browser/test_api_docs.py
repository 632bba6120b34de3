"""The API docs (/api/v1/docs/) in Chromium under a strict Content-Security-Policy: the
browser is handed every answer of the portal with a policy that allows no inline script
or style and nothing from elsewhere; Swagger UI (the portal's own static files) still
lists the operations, and the console shows no policy violation and no error."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.browser.support import CHROMIUM_ARGS, DESKTOP, PASSWORD, SCREENSHOTS, log_in

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


@pytest.mark.django_db(transaction=True)
def test_the_docs_list_the_operations_under_a_strict_csp(
    chromium, browser_settings, live_server, make_user, unit
):
    from playwright.sync_api import expect, sync_playwright

    make_user(Role.SUPERVISOR, unit, username="supervisor1", password=PASSWORD)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, locale="en-GB")

        def with_strict_csp(route):
            answer = route.fetch()
            headers = {**answer.headers, "content-security-policy": STRICT_CSP}
            route.fulfill(response=answer, headers=headers)

        login = context.new_page()
        login.goto(f"{live_server.url}/login/")
        log_in(login, live_server.url, language="en", username="supervisor1")
        login.close()
        # The docs in a tab of their own, every answer under the policy (the portal's pages
        # meet it next issue: htmx still adds its indicator style inline).
        page = context.new_page()
        page.route(f"{live_server.url}/**", with_strict_csp)
        page.add_init_script(
            "window.cspViolations = [];"
            "document.addEventListener('securitypolicyviolation', e => window.cspViolations.push("
            "[e.violatedDirective, e.blockedURI, e.sample].join(' | ')));"
        )
        page.on(
            "console",
            lambda message: (
                problems.append(f"{message.text} at {message.location['url']}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{live_server.url}/api/v1/docs/")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Safe-ride portal API")
        expect(page.locator(".opblock-summary-path", has_text="/api/v1/estimates/")).to_have_count(
            1
        )
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/v1/rides/{reference}/events/" in [path.replace("\u200b", "") for path in paths]
        assert len(paths) >= 30
        page.wait_for_timeout(500)
        violations = page.evaluate("() => window.cspViolations")
        page.screenshot(path=str(SCREENSHOTS / "api-docs.png"))
        browser.close()
    assert violations == [], violations
    assert problems == [], problems
