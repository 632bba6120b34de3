"""The approval queue in Chromium on a desktop, in Bahasa Indonesia, against the live
server: a supervisor sees two rides waiting (the header's badge says 2), each card with
its pickup, drop-off (a safe house as its meeting point), fare, reasons, waiting time and
booker; rejects one, first without a reason (the error, nothing decided) then with one,
and approves the other. The booker's two ride pages, open the whole time and never
reloaded, show the rejection with its reason and the approval at their next refresh.
Screenshot: docs/screenshots/approvals.png."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Role
from rides.models import Ride, RideStatus
from rides.rules import FARE_ABOVE_CEILING
from tests.browser.support import (
    PASSWORD,
    SCREENSHOTS,
    log_in,
    open_page,
    outside_the_browser_loop,
    say,
)
from tests.factories import CaseFactory, ConsentFactory, PartnerAccountFactory
from tests.supervision.board_rides import HOME, hospital, ride_row, safe_house

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = RideStatus
# The ride page refreshes its live part every 3 seconds.
LIVE_TIMEOUT = 10_000
REASON = "Tarif terlalu mahal; pakai mobil kantor besok pagi."


@pytest.fixture
def waiting_rides(browser_settings, make_user, unit):
    make_user(Role.SUPERVISOR, unit, username="supervisor1", password=PASSWORD)
    caseworker = make_user(Role.CASEWORKER, unit, username="caseworker1", password=PASSWORD)
    caseworker.first_name, caseworker.last_name = "Sari", "Wulandari"
    caseworker.save()
    case = CaseFactory(user=caseworker, name="Siti Aminah Rahasia")
    ConsentFactory(case=case, recorded_by=caseworker)
    account = PartnerAccountFactory()
    now = timezone.now()
    rides = {}
    for name, place, fare, minutes in (
        ("to_safety", safe_house(), 310_000, 25),
        ("to_hospital", hospital(), 287_500, 8),
    ):
        ride = ride_row(
            case,
            caseworker,
            account,
            status=S.AWAITING_APPROVAL,
            place=place,
            estimate_fare=fare,
            approval_reasons=[{"code": FARE_ABOVE_CEILING, "fare": fare, "ceiling": 250_000}],
            status_changed_at=now - dt.timedelta(minutes=minutes),
        )
        ride.save()
        Ride.objects.filter(pk=ride.pk).update(created_at=now - dt.timedelta(minutes=minutes))
        rides[name] = ride
    return rides


def test_a_supervisor_decides_from_the_queue_and_the_booker_sees_it_without_reloading(
    chromium, live_server, waiting_rides
):
    from playwright.sync_api import expect, sync_playwright

    base, language = live_server.url, "id"
    to_safety, to_hospital = waiting_rides["to_safety"], waiting_rides["to_hospital"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser, booker, booker_page = open_page(
            playwright, chromium, base, language=language, phone=False
        )
        try:
            log_in(booker_page, base, language=language, username="caseworker1")
            pages = {}
            for ride in (to_safety, to_hospital):
                page = booker_page if not pages else booker.new_page()
                page.goto(f"{base}/rides/{ride.reference}/")
                expect(page.locator("#ride-live .status-badge")).to_have_text(
                    say("Waiting for approval", language)
                )
                page.evaluate("window.rideNotReloaded = true")
                pages[ride.reference] = page

            supervisor = browser.new_context(
                viewport={"width": 1280, "height": 800}, locale="id-ID"
            )
            supervisor.add_cookies([{"name": "django_language", "value": language, "url": base}])
            queue = supervisor.new_page()
            log_in(queue, base, language=language, username="supervisor1")
            approvals_link = queue.locator(".mainnav a[href='/rides/approvals/']")
            expect(approvals_link.locator(".notice-count")).to_have_text("2")
            approvals_link.click()
            expect(queue.get_by_role("heading", level=1)).to_have_text(
                say("Approval queue", language)
            )
            card = queue.locator(f"#approval-{to_safety.reference}")
            expect(card.locator(".approval-pickup")).to_contain_text(HOME["address"])
            expect(card.locator(".approval-dropoff")).to_have_text(
                say("Meeting point: %(point)s", language) % {"point": "Halte TransJakarta Cawang"}
            )
            expect(card.locator(".approval-fare")).to_contain_text("Rp 310.000")
            expect(card.locator(".approval-reasons")).to_contain_text(
                say("The estimated fare %(fare)s is above the ceiling of %(ceiling)s.", language)
                % {"fare": "Rp 310.000", "ceiling": "Rp 250.000"}
            )
            expect(card).to_contain_text("Sari Wulandari")
            expect(card.locator(".waited time")).to_contain_text("25")
            for secret in ("Rumah Aman Melati", "Jl. Melati Rahasia", "Siti Aminah"):
                expect(queue.locator("main")).not_to_contain_text(secret)
            queue.screenshot(path=str(SCREENSHOTS / "approvals.png"), full_page=True)

            reject = card.get_by_role("button", name=say("Reject", language))
            reject.click()
            card = queue.locator(f"#approval-{to_safety.reference}")
            expect(card).to_contain_text(
                say("Say why the ride is rejected; the caseworker will read it.", language)
            )
            card.locator("input[name$='-reason']").fill(REASON)
            card.get_by_role("button", name=say("Reject", language)).click()
            expect(queue.locator(".messages")).to_contain_text(to_safety.reference)
            queue.locator(f"#approval-{to_hospital.reference}").get_by_role(
                "button", name=say("Approve", language)
            ).click()
            expect(queue.locator(".messages")).to_contain_text(to_hospital.reference)
            expect(queue.locator(".approval")).to_have_count(0)
            expect(approvals_link.locator(".notice-count")).to_have_count(0)

            rejected = pages[to_safety.reference]
            expect(rejected.locator("#ride-live .status-badge")).to_have_text(
                say("Rejected", language), timeout=LIVE_TIMEOUT
            )
            expect(rejected.locator(".rejection-reason")).to_have_text(
                say("Reason given by the supervisor: %(reason)s", language) % {"reason": REASON}
            )
            approved = pages[to_hospital.reference]
            expect(approved.locator("#ride-live .status-badge")).to_have_text(
                say("Requested", language), timeout=LIVE_TIMEOUT
            )
            for page in pages.values():
                assert page.evaluate("window.rideNotReloaded === true"), "the page was reloaded"
            statuses = outside_the_browser_loop(
                lambda: dict(Ride.objects.values_list("reference", "status"))
            )
            assert statuses == {to_safety.reference: S.REJECTED, to_hospital.reference: S.REQUESTED}
        finally:
            browser.close()
