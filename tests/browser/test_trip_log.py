"""The trip log in a real browser: a supervisor filters it on a phone in Bahasa Indonesia
and on a desktop in English, and opens a ride's timeline, whose partner calls were made
against the sandbox partner over real HTTP. Screenshots: docs/screenshots/trip-log.png
(desktop), trip-log-phone.png (390×844), trip-log-centre-phone.png (the provincial
centre choosing a unit, then a person of it) and timeline.png."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Role
from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.reconcile import ride_reconcile
from tests.browser.support import (
    PASSWORD,
    SCREENSHOTS,
    ending_database_sessions,
    log_in,
    open_page,
    say,
)
from tests.factories import CaseFactory, PartnerAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

S = RideStatus
PURPOSES = ("medical_exam", "police_report", "court_hearing", "counselling", "return_home")
STATUSES = (S.COMPLETED, S.COMPLETED, S.CANCELLED, S.NO_DRIVER, S.ON_TRIP, S.COMPLETED)
TYPED = {"latitude": -6.2250, "longitude": 106.8450, "address": "Jl. Tebet Raya No. 12"}


def _ride(case, booker, account, **fields) -> Ride:
    values = {
        "case": case,
        "unit": case.unit,
        "partner_account": account,
        "booked_by": booker,
        "purpose": "medical_exam",
        "pickup": dict(TYPED),
        "dropoff": {"latitude": -6.1862, "longitude": 106.8310, "address": "RSCM"},
        "rider_phone": "+6281234567890",
        "rider_alias": "Bunga",
        "status": S.COMPLETED,
        "estimate_fare": 52_000,
    }
    values.update(fields)
    return Ride.objects.create(**values)


@pytest.fixture
def trip_world(unit, make_user, partner_account, sandbox):
    """A unit's rides of the last days (one flagged), and one sent to the sandbox whose
    first create was answered 503."""
    caseworker = make_user(Role.CASEWORKER, unit, username="sari")
    caseworker.first_name, caseworker.last_name = "Sari", "Wulandari"
    caseworker.save()
    supervisor = make_user(Role.SUPERVISOR, unit, username="supervisor1", password=PASSWORD)
    supervisor.first_name = "Budi"
    supervisor.save()
    case = CaseFactory(user=caseworker, name="Siti Rahmawati")
    other = PartnerAccountFactory(name="Mitra Cadangan")
    now = timezone.now()
    for i in range(12):
        ride = _ride(
            case,
            caseworker,
            other if i % 4 == 3 else partner_account,
            purpose=PURPOSES[i % 5],
            status=STATUSES[i % 6],
            final_fare=48_000 + 1_500 * i if STATUSES[i % 6] == S.COMPLETED else None,
        )
        Ride.objects.filter(pk=ride.pk).update(created_at=now - dt.timedelta(hours=7 * i + 1))
    flagged = Ride.objects.filter(status=S.NO_DRIVER).first()
    Alert.objects.create(
        unit=unit, ride=flagged, kind=AlertKind.NO_DRIVER_YET, message="no driver yet"
    )
    sent = _ride(case, caseworker, partner_account, status=S.REQUESTED, purpose="court_hearing")
    sandbox.control.force_fault("create_trip", "503", after_commit=False)
    assert ride_dispatch(ride_id=sent.pk) == "unknown"
    assert ride_reconcile(ride_id=sent.pk) == "resend"
    assert ride_dispatch(ride_id=sent.pk) == "created"
    yield {"supervisor": supervisor, "sent": sent}
    ending_database_sessions()


def _no_overflow(page) -> None:
    wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"the page is {wide}px wider than the screen"


def test_a_supervisor_filters_the_trip_log_and_opens_a_timeline(
    chromium, browser_settings, live_server, trip_world
):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    sent = trip_world["sent"]
    with sync_playwright() as playwright:
        # On a phone, in Bahasa Indonesia: the completed rides, then the sent ride's timeline.
        browser, context, page = open_page(playwright, chromium, base, language="id", phone=True)
        try:
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            log_in(page, base, language="id", username="supervisor1")
            page.goto(f"{base}/supervision/trips/")
            expect(page.get_by_role("heading", level=1)).to_have_text(say("Trip log", "id"))
            page.select_option("#id_status", "completed")
            page.get_by_role("button", name=say("Show rides", "id")).click()
            rows = page.locator(".trip-log-table tbody tr")
            expect(rows).to_have_count(6)
            expect(rows.first).to_contain_text(say("Completed", "id"))
            expect(page.locator("#id_status")).to_have_value("completed")  # kept
            assert "Siti" not in page.content()
            _no_overflow(page)
            page.screenshot(path=str(SCREENSHOTS / "trip-log-phone.png"), full_page=True)
            # A wrong date is an error in Indonesian, the other filters kept.
            page.goto(f"{base}/supervision/trips/?status=completed&date_from=2026-02-31")
            expect(page.locator(".form-errors")).to_contain_text(
                say("Enter a date as year-month-day.", "id")
            )
            page.goto(f"{base}/supervision/trips/")
            page.get_by_role("link", name=sent.reference).click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(sent.reference)
            timeline = page.locator(".ride-timeline")
            expect(timeline).to_contain_text(say("Trip sent", "id"))
            expect(timeline).to_contain_text("HTTP 503")
            expect(page.locator(".timeline-facts")).to_contain_text(say("address on file", "id"))
            _no_overflow(page)
            assert errors == []
            assert page.csp_violations == [], page.csp_violations  # the strict CSP
        finally:
            context.close()
            browser.close()

        # On a desktop, in English: the flagged rides, the older page, the timeline printed.
        browser, context, page = open_page(playwright, chromium, base, language="en", phone=False)
        try:
            log_in(page, base, language="en", username="supervisor1")
            page.goto(f"{base}/supervision/trips/")
            rows = page.locator(".trip-log-table tbody tr")
            expect(rows).to_have_count(13)
            page.select_option("#id_flagged", "yes")
            page.get_by_role("button", name="Show rides").click()
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("No driver found")
            expect(rows.first.locator(".flag-mark")).to_be_visible()
            page.select_option("#id_flagged", "")
            page.select_option("#id_partner_account", label="Mitra Cadangan")
            page.get_by_role("button", name="Show rides").click()
            expect(rows).to_have_count(3)
            expect(page.locator(".trip-log-exports a", has_text="CSV")).to_have_attribute(
                "href", f"/supervision/trips/export.csv?partner_account={_pk('Mitra Cadangan')}"
            )
            page.select_option("#id_partner_account", "")
            page.get_by_role("button", name="Show rides").click()
            expect(rows).to_have_count(13)
            page.screenshot(path=str(SCREENSHOTS / "trip-log.png"), full_page=True)
            page.get_by_role("link", name=sent.reference).click()
            timeline = page.locator(".ride-timeline li")
            expect(timeline).to_have_count(8)
            expect(timeline.nth(1)).to_contain_text("Trip sent: error answer (HTTP 503")
            expect(timeline.nth(3)).to_contain_text("Trip looked up by reference: answered")
            expect(timeline.last).to_contain_text("Looking for a driver")
            expect(page.get_by_role("button", name="Print")).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "timeline.png"), full_page=True)
            page.emulate_media(media="print")
            expect(page.locator(".site-header")).to_be_hidden()
            expect(page.get_by_role("button", name="Print")).to_be_hidden()
            expect(page.locator(".ride-timeline")).to_be_visible()
            assert page.csp_violations == [], page.csp_violations  # the strict CSP
        finally:
            context.close()
            browser.close()


def _pk(name: str) -> int:
    from partners.models import PartnerAccount
    from tests.browser.support import outside_the_browser_loop

    return outside_the_browser_loop(lambda: PartnerAccount.objects.get(name=name).pk)


def test_the_centre_chooses_a_unit_then_a_person_of_it_on_a_phone(
    chromium, browser_settings, live_server, trip_world, unit, make_unit, make_user
):
    """Over every unit the people are listed once a unit is chosen (the country's bookers
    would be thousands): the centre's supervisor picks the unit, then its caseworker."""
    from playwright.sync_api import expect, sync_playwright

    from accounts.models import Unit

    centre = make_unit(code="PUSAT", name="Pusat", kind=Unit.Kind.PROVINCIAL_CENTRE)
    make_user(Role.SUPERVISOR, centre, username="rina", password=PASSWORD)
    base = live_server.url
    with sync_playwright() as playwright:
        browser, context, page = open_page(playwright, chromium, base, language="id", phone=True)
        try:
            log_in(page, base, language="id", username="rina")
            page.goto(f"{base}/supervision/trips/")
            people = page.locator("#id_booked_by option")
            expect(people).to_have_count(1)  # "anyone" only, until a unit is chosen
            expect(page.locator(".trip-log-filters")).to_contain_text(
                say("Choose a unit and show its rides to list its people here.", "id")
            )
            page.select_option("#id_unit", str(unit.pk))
            page.get_by_role("button", name=say("Show rides", "id")).click()
            expect(people).to_have_count(3)  # anyone, the caseworker, the supervisor
            page.select_option("#id_booked_by", label=f"Sari Wulandari ({unit.code})")
            page.get_by_role("button", name=say("Show rides", "id")).click()
            expect(page.locator(".trip-log-table tbody tr")).to_have_count(13)
            expect(page.locator("#id_unit")).to_have_value(str(unit.pk))  # kept
            _no_overflow(page)
            assert page.csp_violations == [], page.csp_violations
            page.screenshot(path=str(SCREENSHOTS / "trip-log-centre-phone.png"))  # the filters
        finally:
            context.close()
            browser.close()
