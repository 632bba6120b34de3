"""The reports page in a real browser: the provincial centre's supervisor on a desktop in
English (every unit, the unit filter) and a unit's supervisor on a phone in Bahasa
Indonesia. Each section's chart is drawn by the page's own script from the vendored
Chart.js (a canvas with a chart on it, not blank), the numbers sit in the tables, the
exports download, nothing overflows the phone's screen. Screenshots:
docs/screenshots/reports.png (desktop) and reports-phone.png (390×844)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.utils import timezone

from accounts.models import Role, Unit
from funding.services import ride_settle
from rides.models import Alert, AlertKind, Cause, Ride, RideStatus, TripEvent
from tests.browser.support import PASSWORD, SCREENSHOTS, log_in, open_page, say
from tests.factories import CaseFactory, PartnerAccountFactory

S = RideStatus
CHARTS = (
    "chart-purpose",
    "chart-unit",
    "chart-status",
    "chart-waits",
    "chart-rates",
    "chart-spend",
    "chart-alerts",
)
# One unit counted: no chart by unit.
ONE_UNIT_CHARTS = tuple(chart for chart in CHARTS if chart != "chart-unit")
PURPOSES = ("medical_exam", "police_report", "medical_exam", "court_hearing", "counselling",
            "safe_house_transfer", "medical_exam", "return_home")  # fmt: skip
ENDS = (S.COMPLETED, S.COMPLETED, S.COMPLETED, S.CANCELLED, S.COMPLETED, S.NO_DRIVER,
        S.COMPLETED, S.ON_TRIP, S.COMPLETED, S.FAILED)  # fmt: skip
ALERT_KINDS = (AlertKind.NO_DRIVER_YET, AlertKind.CAR_STOPPED, AlertKind.NO_PROGRESS)
POINT = {"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Pemuda 10"}


def _month_of_rides(units: list[Unit], make_user) -> None:
    """A month of rides across the units, each with a trip log of its own times (a
    driver after 1 to 24 minutes, the pickup 3 to 17 minutes later), a fare charged for
    each completed one and some alerts, acknowledged after a few minutes or not yet."""
    account = PartnerAccountFactory()
    start = timezone.now() - dt.timedelta(hours=2)
    for u, unit in enumerate(units):
        caseworker = make_user(Role.CASEWORKER, unit)
        case = CaseFactory(user=caseworker)
        for i in range(14 - 3 * u):
            end = ENDS[(i + u) % len(ENDS)]
            ride = Ride.objects.create(
                case=case, unit=unit, partner_account=account, booked_by=caseworker,
                purpose=PURPOSES[(i + u) % len(PURPOSES)], status=end, pickup=dict(POINT),
                dropoff=dict(POINT), rider_phone="+6281234567890", rider_alias="Penumpang 1",
            )  # fmt: skip
            steps = [(S.REQUESTED, 0), (S.SEARCHING, 0.2)]
            if end not in (S.NO_DRIVER, S.CANCELLED):
                driver = 1 + (i * 7 + u * 5) % 24
                steps += [(S.DRIVER_ASSIGNED, driver), (S.ON_TRIP, driver + 3 + (i * 5) % 15)]
            steps.append((end, 90))
            for status, minutes in steps:
                TripEvent.objects.create(
                    ride=ride, at=start + dt.timedelta(minutes=minutes), cause=Cause.WEBHOOK,
                    new_status=status,
                )  # fmt: skip
            if end == S.COMPLETED:
                ride_settle(ride_id=ride.pk, unit_id=unit.pk, fare=45_000 + 6_500 * (i % 5))
            if i % 4 == 1:
                kind = (AlertKind.NO_DRIVER_YET, AlertKind.CAR_STOPPED, AlertKind.NO_PROGRESS)[
                    i % 3
                ]
                raised = start + dt.timedelta(minutes=10 + i)
                Alert.objects.create(
                    unit=unit, ride=ride, kind=kind, message="—", created_at=raised,
                    resolved_at=raised + dt.timedelta(minutes=4 + i) if i % 3 else None,
                )  # fmt: skip


def _charts_drawn(page, charts=CHARTS) -> None:
    # A canvas has a size (300 × 150) before Chart.js has loaded (a deferred script), so
    # whether Chart is defined yet is asked first.
    page.wait_for_function(
        """ids => ids.every(id => {
            const canvas = document.getElementById(id);
            return canvas && canvas.width > 0 && canvas.height > 0
                && typeof Chart !== "undefined" && Chart.getChart(canvas) !== undefined;
        })""",
        arg=list(charts),
    )
    for canvas_id in charts:
        # Not blank: some pixel of the drawing is not transparent.
        painted = page.evaluate(
            """id => {
                const c = document.getElementById(id);
                const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
                return false;
            }""",
            canvas_id,
        )
        assert painted, f"{canvas_id} is blank"


def _download(page, link_text: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=link_text).click()
    with open(info.value.path(), "rb") as handle:
        return handle.read()


@pytest.mark.django_db(transaction=True)
def test_supervisors_read_the_report_on_a_desktop_and_a_phone(
    chromium, browser_settings, live_server, make_user, make_unit, unit, other_unit
):
    from playwright.sync_api import expect, sync_playwright

    browser_settings.FUNDING_UNIT_MONTHLY_BUDGET = 1_500_000
    third = make_unit(code="JAKUT", name="Pos Pelayanan PPA Jakarta Utara")
    centre = make_unit(
        code="PUSAT", name="Pusat Pelayanan Provinsi", kind=Unit.Kind.PROVINCIAL_CENTRE
    )
    _month_of_rides([unit, other_unit, third], make_user)
    make_user(Role.SUPERVISOR, centre, username="kepala1", password=PASSWORD)
    make_user(Role.SUPERVISOR, unit, username="supervisor1", password=PASSWORD)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    with sync_playwright() as playwright:
        # The provincial centre, on a desktop, in English: every unit, then one.
        browser, context, page = open_page(playwright, chromium, base, language="en", phone=False)
        try:
            page.set_viewport_size({"width": 1280, "height": 900})
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            log_in(page, base, language="en", username="kepala1")
            page.get_by_role("link", name="Reports").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
            expect(page.locator(".report-head h2")).to_contain_text("All units")
            _charts_drawn(page)
            figures = page.locator(".report-figures")
            expect(figures).to_contain_text("Rides booked")
            expect(figures.locator("article").first.locator("strong")).to_have_text("33")
            expect(page.locator("#chart-unit-title + .report-grid tbody")).to_contain_text(
                "Pos Pelayanan PPA Jakarta Utara"
            )
            report = _download(page, "Report (CSV)")
            rows = list(csv.reader(io.StringIO(report.decode())))
            assert ["Rides booked", "33"] in rows and ["Unit", "All units"] in rows
            workbook = _download(page, "Report (XLSX)")
            with zipfile.ZipFile(io.BytesIO(workbook)) as book:
                assert "xl/worksheets/sheet1.xml" in book.namelist()
            assert errors == []
            page.screenshot(path=str(SCREENSHOTS / "reports.png"), full_page=True)

            page.select_option("#id_unit", label="Pos Pelayanan PPA Jakarta Utara")
            page.get_by_role("button", name="Show the report").click()
            expect(page.locator(".report-head h2")).to_contain_text("Jakarta Utara")
            expect(figures.locator("article").first.locator("strong")).to_have_text("8")
            _charts_drawn(page, ONE_UNIT_CHARTS)
            assert page.csp_violations == [], page.csp_violations  # the strict CSP
        finally:
            context.close()
            browser.close()

        # A unit's supervisor, on a phone, in Bahasa Indonesia.
        browser, context, page = open_page(playwright, chromium, base, language="id", phone=True)
        try:
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            log_in(page, base, language="id", username="supervisor1")
            page.get_by_role("link", name=say("Reports", "id")).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(say("Reports", "id"))
            # one unit: no chart by unit, and no unit to choose
            _charts_drawn(page, ONE_UNIT_CHARTS)
            assert page.locator("#chart-unit").count() == 0
            expect(page.locator(".report-figures article").first.locator("strong")).to_have_text(
                "14"
            )
            assert page.locator("#id_unit").count() == 0
            # every table fits its column: nothing to scroll sideways
            hidden = page.evaluate(
                """() => [...document.querySelectorAll(".report-grid .overflow-auto")]
                    .filter(box => box.scrollWidth > box.clientWidth + 1)
                    .map(box => box.closest("section").querySelector("h2").textContent)"""
            )
            assert hidden == [], f"tables wider than the phone: {hidden}"
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"the page is {overflow}px wider than the phone"
            simfoni = _download(page, say("SIMFONI-PPA figures (CSV)", "id")).decode()
            assert say("Survivors by service", "id") in simfoni
            assert errors == []
            page.screenshot(path=str(SCREENSHOTS / "reports-phone.png"), full_page=True)
            assert page.csp_violations == [], page.csp_violations  # the strict CSP
        finally:
            context.close()
            browser.close()
