"""The supervisors' board in Chromium, on a phone (390 × 844) and a desktop, in Bahasa
Indonesia and in English, against the live server and the real database.

A supervisor opens the board from the menu with four active rides of the unit (one on
its way to a safe house with the driver's position, one with the driver arriving, one
looking for a driver, one waiting for approval): the map shows each pickup, drop-off
and driver as a marker labelled with the ride's reference, the table lists the rides.
While the page stays open (no reload, the same map), the driver moves and an alert is
raised by the pipeline's own alert_raise: the marker follows and the alert appears.
The supervisor acknowledges it with a note (refused without one; the board waits while
the note is written); it leaves the board and is kept, with the note, in the database.
A ride that ends then leaves the map and the table. Screenshots, with the alert on the
board: docs/screenshots/board.png (desktop, Indonesian) and board-phone.png (phone).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import Role
from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.pipeline.alerts import alert_raise
from tests.browser.support import (
    PASSWORD,
    SCREENSHOTS,
    log_in,
    open_page,
    outside_the_browser_loop,
    say,
)
from tests.factories import CaseFactory, PartnerAccountFactory
from tests.supervision.board_rides import DRIVER_AT, hospital, ride_row, safe_house
from tests.test_indonesian_pages import COMMON_WORDS, _catalogue_phrases, _offenders, _whole

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = RideStatus
# How long a change may take to reach the page: the partial is polled every 5 seconds.
LIVE_TIMEOUT = 15_000
MOVED_TO = (-6.2455, 106.8702)
RUNS = [
    pytest.param("id", True, "board-phone.png", id="phone-id"),
    pytest.param("id", False, "board.png", id="desktop-id"),
    pytest.param("en", True, None, id="phone-en"),
    pytest.param("en", False, None, id="desktop-en"),
]


@pytest.fixture
def board_world(browser_settings, make_user, unit):
    supervisor = make_user(Role.SUPERVISOR, unit, username="supervisor1", password=PASSWORD)
    supervisor.first_name = "Budi"
    supervisor.save()
    caseworker = make_user(Role.CASEWORKER, unit, username="caseworker1", password=PASSWORD)
    case = CaseFactory(user=caseworker, name="Siti Aminah Rahasia")
    account = PartnerAccountFactory()
    shelter, clinic = safe_house(), hospital()
    now = timezone.now()

    def ride(status, place, pickup, minutes, **extra):
        point = {"latitude": pickup[0], "longitude": pickup[1], "address": "Jl. Kenanga No. 3"}
        return ride_row(
            case,
            caseworker,
            account,
            status=status,
            place=place,
            pickup=point,
            status_changed_at=now - dt.timedelta(minutes=minutes),
            **extra,
        )

    rides = {
        "on_trip": ride(
            S.ON_TRIP,
            shelter,
            (-6.2251, 106.9003),
            12,
            driver_latitude=DRIVER_AT[0],
            driver_longitude=DRIVER_AT[1],
        ),
        "arriving": ride(
            S.ARRIVING,
            clinic,
            (-6.1950, 106.8230),
            4,
            driver_latitude=-6.2010,
            driver_longitude=106.8290,
            pickup_eta_seconds=240,
        ),
        "searching": ride(S.SEARCHING, clinic, (-6.1750, 106.8650), 2),
        "waiting": ride(S.AWAITING_APPROVAL, clinic, (-6.2150, 106.8450), 25),
    }
    for ride in rides.values():
        ride.save()
    return {"supervisor": supervisor, "rides": rides}


def _map_state(page) -> dict:
    return page.locator("[data-board-map]").evaluate(
        "element => ({id: element._leaflet_id, markers: element.dataset.markersShown,"
        " drivers: element.dataset.driversShown})"
    )


@pytest.mark.parametrize(("language", "phone", "screenshot"), RUNS)
def test_a_supervisor_watches_the_board_and_acknowledges_a_new_alert(
    chromium, live_server, board_world, language, phone, screenshot
):
    from playwright.sync_api import expect, sync_playwright

    base, rides = live_server.url, board_world["rides"]
    on_trip = rides["on_trip"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser, context, page = open_page(
            playwright, chromium, base, language=language, phone=phone
        )
        errors, polls = [], []

        def polled(response):
            if response.url.endswith("/supervision/board/live/"):
                polls.append(response.status)

        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", polled)
        try:
            log_in(page, base, language=language, username="supervisor1")
            page.locator(".mainnav a[href='/supervision/board/']").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(say("Board", language))
            board_map = page.locator("[data-board-map]")
            expect(board_map).to_have_attribute("data-board-ready", "true")
            # 4 pickups, 4 drop-offs, the 2 drivers on their way
            expect(board_map).to_have_attribute("data-markers-shown", "10")
            expect(
                board_map.locator(".leaflet-overlay-pane path.leaflet-interactive")
            ).to_have_count(10)
            at = f"{on_trip.reference}@{DRIVER_AT[0]:.6f},{DRIVER_AT[1]:.6f}"
            assert at in board_map.get_attribute("data-drivers-shown")
            expect(
                board_map.locator(".board-label-driver", has_text=on_trip.reference)
            ).to_have_text(f"{on_trip.reference} · {say('Driver', language)}")
            # the safe house's drop-off: its meeting point, when pointed at
            board_map.locator(f"path.board-marker-dropoff.ride-{on_trip.reference}").hover()
            safe_label = board_map.locator(".board-label-dropoff", has_text=on_trip.reference)
            expect(safe_label).to_contain_text(
                say("Meeting point: %(point)s", language).replace("%(point)s", "")
            )
            expect(safe_label).to_contain_text("Halte TransJakarta Cawang")
            page.mouse.move(0, 0)
            expect(page.locator(".board-table tbody tr")).to_have_count(4)
            arriving = page.locator(f"#board-ride-{rides['arriving'].reference}")
            expect(arriving).to_contain_text(say("Driver arriving", language))
            for secret in ("Rumah Aman Melati", "Jl. Melati Rahasia", "Siti Aminah", "Kenanga"):
                expect(page.locator("body")).not_to_contain_text(secret)
            before = _map_state(page)
            page.evaluate("window.boardNotReloaded = true")
            # nothing changes for a while: the polls are answered 204 and nothing is swapped
            page.locator("#board-live").evaluate("element => { element.dataset.kept = 'yes'; }")
            start = len(polls)
            page.wait_for_timeout(11_000)
            quiet = polls[start:]
            assert 204 in quiet, quiet
            if 200 not in quiet:  # (a "just now" that became "1 minute ago" is a change)
                expect(page.locator("#board-live")).to_have_attribute("data-kept", "yes")

            # the partner reports the driver further on; the pipeline raises an alert
            def change():
                Ride.objects.filter(pk=on_trip.pk).update(
                    driver_latitude=MOVED_TO[0], driver_longitude=MOVED_TO[1]
                )
                return alert_raise(
                    ride=Ride.objects.get(pk=on_trip.pk),
                    kind=AlertKind.CAR_STOPPED,
                    message="The car has not moved for 6 minutes.",
                ).pk

            alert_pk = outside_the_browser_loop(change)
            alert = page.locator(f"#alert-{alert_pk}")
            expect(alert).to_be_visible(timeout=LIVE_TIMEOUT)
            expect(alert).to_contain_text(say("Car stopped mid-trip", language))
            expect(alert).to_contain_text(on_trip.reference)
            moved = f"{on_trip.reference}@{MOVED_TO[0]:.6f},{MOVED_TO[1]:.6f}"
            expect(board_map).to_have_attribute(
                "data-drivers-shown", re.compile(re.escape(moved)), timeout=LIVE_TIMEOUT
            )
            expect(page.locator(f"#board-ride-{on_trip.reference}")).to_contain_text(
                say("Car stopped mid-trip", language)
            )
            after = _map_state(page)
            assert after["id"] == before["id"], "the map was rebuilt"
            assert after["markers"] == "10"
            assert page.evaluate("window.boardNotReloaded === true"), "the page was reloaded"

            if language == "id":
                # Leaflet's own credit ("A JavaScript library for interactive maps") is
                # the library's, in its words: everything else is read.
                html = page.evaluate(
                    """() => { const copy = document.documentElement.cloneNode(true);
                    copy.querySelectorAll(".leaflet-control-attribution").forEach(e => e.remove());
                    return copy.outerHTML; }"""
                )
                phrases = _whole(_catalogue_phrases())
                words = _whole(COMMON_WORDS, re.IGNORECASE)
                assert _offenders(html, phrases, words) == []
            if screenshot:
                page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)

            # an empty note is refused, then the alert is acknowledged with one
            alert.get_by_role("button", name=say("Acknowledge", language)).click()
            expect(page.locator(f"#alert-{alert_pk} .errorlist")).to_contain_text(
                say("Write what you did about the alert; it is kept with it.", language)
            )
            note_field = page.locator(f"#alert-{alert_pk} input[data-ack-note]")
            expect(note_field).to_be_focused()
            expect(note_field).to_have_attribute("aria-invalid", "true")
            note = "Menelepon pengemudi: ban bocor, pendamping ada di mobil."
            note_field.fill(note)
            # while a note is being written the board waits: longer than a refresh, and
            # the text and its error are still there
            page.wait_for_timeout(6_000)
            expect(note_field).to_have_value(note)
            expect(page.locator(f"#alert-{alert_pk} .errorlist")).to_be_visible()
            page.locator(f"#alert-{alert_pk}").get_by_role(
                "button", name=say("Acknowledge", language)
            ).click()
            feedback = page.locator(".board-feedback")
            expect(feedback).to_contain_text(on_trip.reference)
            expect(page.locator(f"#alert-{alert_pk}")).to_have_count(0)
            expect(page.locator(f"#board-ride-{on_trip.reference}")).not_to_contain_text(
                say("Car stopped mid-trip", language)
            )
            kept = outside_the_browser_loop(lambda: Alert.objects.get(pk=alert_pk))
            assert kept.resolved_at is not None and kept.acknowledgement_note == note
            # the refreshes go on after the note: a ride that ends leaves the map and table
            searching = rides["searching"]
            outside_the_browser_loop(
                lambda: Ride.objects.filter(pk=searching.pk).update(status=S.COMPLETED)
            )
            expect(page.locator(f"#board-ride-{searching.reference}")).to_have_count(
                0, timeout=LIVE_TIMEOUT
            )
            expect(board_map).to_have_attribute("data-markers-shown", "8")
            expect(board_map.locator(f"path.ride-{searching.reference}")).to_have_count(0)
            assert page.evaluate("window.boardNotReloaded === true")
            assert _map_state(page)["id"] == before["id"]
            assert errors == []
            assert page.csp_violations == [], page.csp_violations  # the strict CSP
        finally:
            context.close()
            browser.close()
