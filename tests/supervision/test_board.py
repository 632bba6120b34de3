"""The supervisors' live board (Django's test client, the real database): what it shows
and to whom, the markers a map script reads, acknowledging an alert with a note, and a
query count that does not grow with the number of active rides."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Role, Unit
from cases.models import AccessLog
from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.pipeline.alerts import alert_raise
from supervision.monitoring import selectors as board_selectors
from supervision.monitoring.forms import NOTE_MAX_LENGTH
from supervision.monitoring.selectors import BOARD_STATUSES
from tests.conftest import logged_in_client
from tests.factories import CaseFactory, PartnerAccountFactory
from tests.supervision.board_rides import DRIVER_AT, HOME, hospital, make_rides, safe_house

pytestmark = [pytest.mark.django_db]

S = RideStatus
BOARD = reverse("supervision:board")
LIVE = reverse("supervision:board_live")
MARKERS = re.compile(r'<script id="board-markers" type="application/json">(.*?)</script>', re.S)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def english(user):
    client = logged_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def markers(body: str) -> list[dict]:
    return json.loads(MARKERS.search(body).group(1))


def acknowledge(client, alert, note: str):
    """The alert's form sent as htmx sends it from the board."""
    return client.post(
        reverse("supervision:board_acknowledge", kwargs={"pk": alert.pk}),
        {f"a{alert.pk}-note": note},
        HTTP_HX_REQUEST="true",
    )


@pytest.fixture
def account(db):
    return PartnerAccountFactory()


@pytest.fixture
def case(caseworker):
    return CaseFactory(user=caseworker, name="Siti Aminah Rahasia")


@pytest.fixture
def places(db):
    return {"safe_house": safe_house(), "hospital": hospital()}


def test_the_board_shows_every_active_ride_of_the_unit_and_none_other(
    case, caseworker, supervisor, account, places, caseworker_other_unit
):
    active = make_rides(
        case, caseworker, account, statuses=BOARD_STATUSES, place=places["hospital"]
    )
    ended = make_rides(
        case,
        caseworker,
        account,
        statuses=[S.COMPLETED, S.CANCELLED, S.REJECTED, S.NO_DRIVER, S.FAILED],
        place=places["hospital"],
    )
    elsewhere_case = CaseFactory(user=caseworker_other_unit)
    elsewhere = make_rides(
        elsewhere_case,
        caseworker_other_unit,
        account,
        statuses=[S.ON_TRIP],
        place=places["hospital"],
    )
    body = english(supervisor).get(BOARD).content.decode()
    for ride in active:
        assert f'id="board-ride-{ride.reference}"' in body, ride.status
    for ride in ended + elsewhere:
        assert ride.reference not in body, ride.status
    assert f"{len(active)} active rides" in body


def test_past_its_window_the_board_counts_every_active_ride_and_shows_the_longest_waiting(
    case, caseworker, supervisor, account, places, monkeypatch
):
    monkeypatch.setattr(board_selectors, "BOARD_ROWS_SHOWN", 3)
    rides = make_rides(
        case, caseworker, account, statuses=[S.NEEDS_ATTENTION] * 5, place=places["hospital"]
    )
    for minutes, ride in enumerate(rides):  # the first waits longest
        Ride.objects.filter(pk=ride.pk).update(
            status_changed_at=timezone.now() - dt.timedelta(minutes=60 - minutes)
        )
    body = english(supervisor).get(BOARD).content.decode()
    assert "5 active rides" in body
    assert "The 3 longest in their state are shown here." in body
    shown = [ride for ride in rides if f'id="board-ride-{ride.reference}"' in body]
    assert shown == rides[:3]
    assert "?status=needs_attention" in body


def test_the_provincial_centre_sees_every_units_rides(
    case, caseworker, account, places, caseworker_other_unit, make_unit, make_user
):
    centre = make_unit(
        code="PUSAT", name="Pusat Layanan Provinsi", kind=Unit.Kind.PROVINCIAL_CENTRE
    )
    overseer = make_user(Role.SUPERVISOR, centre, username="supervisor-pusat")
    ours = make_rides(case, caseworker, account, statuses=[S.SEARCHING], place=places["hospital"])
    theirs = make_rides(
        CaseFactory(user=caseworker_other_unit),
        caseworker_other_unit,
        account,
        statuses=[S.ARRIVING],
        place=places["hospital"],
    )
    body = english(overseer).get(BOARD).content.decode()
    for ride in ours + theirs:
        assert f'id="board-ride-{ride.reference}"' in body
        # Another unit's ride page is not the centre's to open: its timeline is.
        timeline = reverse("supervision:trip_timeline", kwargs={"reference": ride.reference})
        assert f'href="{timeline}"' in body
        assert english(overseer).get(timeline).status_code == 200
    assert "Every active ride of every unit" in body


def test_the_map_gets_each_point_labelled_by_reference_and_a_safe_house_as_its_meeting_point(
    case, caseworker, supervisor, account, places
):
    (to_safety,) = make_rides(
        case,
        caseworker,
        account,
        statuses=[S.ON_TRIP],
        place=places["safe_house"],
        driver=DRIVER_AT,
    )
    (searching,) = make_rides(
        case,
        caseworker,
        account,
        statuses=[S.SEARCHING],
        place=places["hospital"],
        driver=DRIVER_AT,
    )
    body = english(supervisor).get(BOARD).content.decode()
    shown = {marker["key"]: marker for marker in markers(body)}
    ref = to_safety.reference
    assert set(shown) == {
        f"{ref}:pickup",
        f"{ref}:dropoff",
        f"{ref}:driver",
        # no driver while one is still looked for, whatever the partner said before
        f"{searching.reference}:pickup",
        f"{searching.reference}:dropoff",
    }
    assert shown[f"{ref}:driver"]["label"] == f"{ref} · Driver"
    assert (shown[f"{ref}:driver"]["lat"], shown[f"{ref}:driver"]["lon"]) == DRIVER_AT
    dropoff = shown[f"{ref}:dropoff"]
    assert (dropoff["lat"], dropoff["lon"]) == (-6.243, 106.858)  # the neutral point
    assert dropoff["title"] == "Meeting point: Halte TransJakarta Cawang"
    assert shown[f"{ref}:pickup"]["title"] == ""  # a typed point: no address on the board
    assert shown[f"{searching.reference}:dropoff"]["title"] == "RS Polri Kramat Jati"
    for secret in ("Rumah Aman Melati", "Jl. Melati Rahasia", HOME["address"], "Siti Aminah"):
        assert secret not in body, secret
    # the survivor's typed pickup on the map is a view of the ride's protected point
    log = AccessLog.objects.get(user=supervisor, case=case)
    assert (log.fields, log.view) == (["ride.pickup"], "supervision:board")


def test_the_table_says_the_status_the_drivers_eta_the_time_in_state_and_open_alert_kinds(
    case, caseworker, supervisor, account, places
):
    (coming,) = make_rides(
        case, caseworker, account, statuses=[S.ARRIVING], place=places["hospital"], driver=DRIVER_AT
    )
    coming.pickup_eta_seconds = 250
    coming.save(update_fields=["pickup_eta_seconds"])
    alert_raise(ride=coming, kind=AlertKind.CAR_STOPPED, message="stopped")
    alert_raise(ride=coming, kind=AlertKind.OFF_CORRIDOR, message="off")
    body = english(supervisor).get(LIVE).content.decode()
    row = re.search(rf'<tr id="board-ride-{coming.reference}".*?</tr>', body, re.S).group(0)
    assert "Driver arriving" in row
    assert "about 5 minutes" in row
    assert "just now" in row
    assert "Car stopped mid-trip" in row and "Car far off the route" in row
    assert f'href="{reverse("rides:detail", kwargs={"reference": coming.reference})}"' in row


def _world_of(count, case, caseworker, account, place):
    """`count` active rides, a third with a driver, each with an open alert."""
    statuses = [S.ON_TRIP, S.SEARCHING, S.AWAITING_APPROVAL] * (count // 3 + 1)
    rides = make_rides(
        case, caseworker, account, statuses=statuses[:count], place=place, driver=DRIVER_AT
    )
    Alert.objects.bulk_create(
        [
            Alert(unit=ride.unit, ride=ride, kind=AlertKind.NO_PROGRESS, message="-")
            for ride in rides
        ]
    )
    return rides


def _queries(client, url) -> int:
    client.get(url)  # the first view of the half hour writes the access log
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_board_and_its_partial_cost_one_query_more_for_1000_rides_than_for_10(
    case, caseworker, supervisor, account, places
):
    client = english(supervisor)
    _world_of(10, case, caseworker, account, places["hospital"])
    few = {url: _queries(client, url) for url in (BOARD, LIVE)}
    _world_of(990, case, caseworker, account, places["safe_house"])
    body = client.get(LIVE).content.decode()
    assert "1000 active rides" in body
    # The map shows the rides the board shows: the longest in their state.
    shown = board_selectors.BOARD_ROWS_SHOWN
    assert len({marker["ref"] for marker in markers(body)}) == shown
    assert body.count('id="board-ride-') == shown
    many = {url: _queries(client, url) for url in (BOARD, LIVE)}
    # One more: the count of the rides past the board's window.
    assert many == {url: count + 1 for url, count in few.items()}, (few, many)
    # session, user, unit, rides, their open alerts, the alerts panel, the access log
    assert few[LIVE] <= 7, few


def test_an_alert_is_acknowledged_from_the_board_with_a_note_and_leaves_it(
    case, caseworker, supervisor, account, places
):
    (ride,) = make_rides(case, caseworker, account, statuses=[S.ON_TRIP], place=places["hospital"])
    alert = alert_raise(ride=ride, kind=AlertKind.CAR_STOPPED, message="stopped")
    client = english(supervisor)
    before = client.get(LIVE).content.decode()
    assert f'id="alert-{alert.pk}"' in before
    url = reverse("supervision:board_acknowledge", kwargs={"pk": alert.pk})
    note = "Called the driver: a flat tyre, the escort is with her."
    response = client.post(url, {f"a{alert.pk}-note": note}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Alert about {ride.reference} acknowledged" in body
    assert f'id="alert-{alert.pk}"' not in body
    assert "Car stopped mid-trip" not in body  # gone from the ride's row too
    alert.refresh_from_db()
    assert alert.resolved_by == supervisor and alert.resolved_at is not None
    assert alert.acknowledgement_note == note
    assert Alert.objects.filter(pk=alert.pk).exists()  # kept in the history


def test_a_note_is_required_and_what_was_typed_is_kept(
    case, caseworker, supervisor, account, places
):
    (ride,) = make_rides(case, caseworker, account, statuses=[S.ON_TRIP], place=places["hospital"])
    first = alert_raise(ride=ride, kind=AlertKind.CAR_STOPPED, message="stopped")
    second = alert_raise(ride=ride, kind=AlertKind.OFF_CORRIDOR, message="off")
    client = english(supervisor)
    empty = acknowledge(client, first, "  ")
    assert empty.status_code == 200  # htmx swaps the partial with the form's error
    assert "Write what you did about the alert" in empty.content.decode()
    long_note = "x" * (NOTE_MAX_LENGTH + 1)
    too_long = client.post(
        reverse("supervision:board_acknowledge", kwargs={"pk": second.pk}),
        {f"a{second.pk}-note": long_note},
    )
    assert too_long.status_code == 400  # without htmx: the whole board with the error
    body = too_long.content.decode()
    assert f"Shorten the note to {NOTE_MAX_LENGTH} characters" in body
    assert f'value="{long_note}"' in body
    assert Alert.objects.open().count() == 2


def test_without_htmx_the_acknowledgement_goes_back_to_the_board_with_the_message(
    case, caseworker, supervisor, account, places
):
    (ride,) = make_rides(
        case, caseworker, account, statuses=[S.SEARCHING], place=places["hospital"]
    )
    alert = alert_raise(ride=ride, kind=AlertKind.NO_DRIVER_YET, message="none")
    client = english(supervisor)
    url = reverse("supervision:board_acknowledge", kwargs={"pk": alert.pk})
    response = client.post(url, {f"a{alert.pk}-note": "Asked the caseworker to wait."}, follow=True)
    assert response.redirect_chain[-1][0] == BOARD
    assert f"Alert about {ride.reference} acknowledged" in response.content.decode()
    again = client.post(url, {f"a{alert.pk}-note": "Twice."}, follow=True)
    assert "was already acknowledged" in again.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledgement_note == "Asked the caseworker to wait."


def test_another_units_alert_cannot_be_acknowledged(
    caseworker_other_unit, supervisor, account, places
):
    (ride,) = make_rides(
        CaseFactory(user=caseworker_other_unit),
        caseworker_other_unit,
        account,
        statuses=[S.SEARCHING],
        place=places["hospital"],
    )
    alert = alert_raise(ride=ride, kind=AlertKind.NO_DRIVER_YET, message="none")
    response = english(supervisor).post(
        reverse("supervision:board_acknowledge", kwargs={"pk": alert.pk}),
        {f"a{alert.pk}-note": "Not mine."},
    )
    assert response.status_code == 404
    assert Alert.objects.get(pk=alert.pk).resolved_at is None
    assert f'id="alert-{alert.pk}"' not in english(supervisor).get(BOARD).content.decode()


def test_the_partial_polls_itself_and_the_page_loads_its_static_map_script(supervisor):
    body = english(supervisor).get(BOARD).content.decode()
    assert 'hx-get="/supervision/board/live/"' in body and 'hx-trigger="every 5s"' in body
    assert "/static/js/board.js" in body
    assert "<script>" not in body  # no inline script (a strict CSP follows)
    assert "data-board-map" in body


VERSION = re.compile(r"hx-headers='\{\"X-Board-Version\": \"([0-9a-f]*)\"\}'")


def _poll(client, version: str | None = None, language: str = "en"):
    client.cookies["django_language"] = language
    headers = {"HX-Request": "true"}
    if version is not None:
        headers["X-Board-Version"] = version
    return client.get(LIVE, headers=headers)


def _version(response) -> str:
    assert response.status_code == 200, response.status_code
    return VERSION.search(response.content.decode()).group(1)


def test_a_poll_of_an_unchanged_board_is_answered_204_and_any_change_is_sent_whole(
    case, caseworker, supervisor, account, places, monkeypatch
):
    (ride,) = make_rides(
        case, caseworker, account, statuses=[S.ON_TRIP], place=places["hospital"], driver=DRIVER_AT
    )
    client = english(supervisor)
    shown = _version(client.get(BOARD))  # the page's partial carries it too
    assert shown == _version(_poll(client))
    unchanged = _poll(client, shown)
    assert unchanged.status_code == 204 and unchanged.content == b""
    assert "no-store" in unchanged["Cache-Control"]
    assert "X-Board-Version" in unchanged["Vary"]

    def changed(previous: str, **poll) -> str:
        response = _poll(client, previous, **poll)
        version = _version(response)
        assert version != previous
        assert _poll(client, version, **poll).status_code == 204
        return version

    Ride.objects.filter(pk=ride.pk).update(driver_latitude=-6.25)  # the driver moved
    shown = changed(shown)
    alert = alert_raise(ride=ride, kind=AlertKind.CAR_STOPPED, message="stopped")
    shown = changed(shown)
    Alert.objects.filter(pk=alert.pk).update(resolved_at=timezone.now())  # resolved elsewhere
    shown = changed(shown)
    Ride.objects.filter(pk=ride.pk).update(pickup_eta_seconds=120)  # not shown on a trip
    assert _poll(client, shown).status_code == 204
    Ride.objects.filter(pk=ride.pk).update(status=S.ARRIVING)  # now the ETA is shown
    shown = changed(shown)
    shown = changed(shown, language="id")  # the same board in the other language
    # Time passes: "just now" becomes "2 minutes ago".
    later = timezone.now() + dt.timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    body = _poll(client, shown, language="en").content.decode()
    assert "2\xa0minutes ago" in body  # timesince joins with a no-break space
    Ride.objects.filter(pk=ride.pk).update(status=S.COMPLETED)  # off the board
    body = _poll(client, VERSION.search(body).group(1)).content.decode()
    assert "No active rides." in body


def test_after_an_acknowledgement_the_next_poll_brings_the_board_without_its_message(
    case, caseworker, supervisor, account, places
):
    (ride,) = make_rides(case, caseworker, account, statuses=[S.ON_TRIP], place=places["hospital"])
    alert = alert_raise(ride=ride, kind=AlertKind.CAR_STOPPED, message="stopped")
    client = english(supervisor)
    answer = acknowledge(client, alert, "Called the driver.")
    assert "acknowledged" in answer.content.decode()
    version = _version(answer)
    assert version == ""  # an outcome shown: no version, so the next poll is sent whole
    body = _poll(client, version).content.decode()
    assert "acknowledged" not in body and _version(_poll(client)) != ""


CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">')


def test_watchers_shown_the_same_board_get_rows_and_cards_rendered_once_each_with_its_own_token(
    case, caseworker, supervisor, make_user, unit, account, places
):
    rides = make_rides(
        case, caseworker, account, statuses=[S.ON_TRIP, S.ARRIVING], place=places["hospital"]
    )
    alert = alert_raise(ride=rides[0], kind=AlertKind.CAR_STOPPED, message="stopped")
    kept = caches["fragments"]
    kept.clear()
    first, second = english(supervisor), english(make_user(Role.SUPERVISOR, unit))
    one = first.get(LIVE).content.decode()
    assert len(kept._cache) == 3  # two rows and one alert card
    two = second.get(LIVE).content.decode()
    assert len(kept._cache) == 3  # the second watcher's rows and card came from the first's
    # The same markup but for each one's own CSRF token, outside what is kept.
    (token_one,), (token_two,) = CSRF_INPUT.findall(one), CSRF_INPUT.findall(two)
    assert token_one != token_two
    assert CSRF_INPUT.sub("", one) == CSRF_INPUT.sub("", two)
    assert f'id="id_a{alert.pk}-note"' in two and "Car stopped mid-trip" in two
    # Whatever a row shows changes its key: the change is on the next poll.
    Ride.objects.filter(pk=rides[1].pk).update(status=S.DRIVER_ASSIGNED)
    body = second.get(LIVE).content.decode()
    assert 'data-status="driver_assigned"' in body and 'data-status="arriving"' not in body
    assert len(kept._cache) == 4
    # The other language is its own markup.
    second.cookies["django_language"] = "id"
    assert "Mobil berhenti" in second.get(LIVE).content.decode()
    # A card with what was typed and its error is rendered for that answer alone.
    answer = acknowledge(first, alert, "  ").content.decode()
    assert "Write what you did about the alert" in answer
    assert "Write what you did about the alert" not in first.get(LIVE).content.decode()
