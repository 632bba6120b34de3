"""The alerts pages: who sees which alerts, acknowledging with a required note (htmx and
a plain form), the history with every acknowledgement, the header's count, and query
counts that do not grow with the number of alerts."""

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from partners.models import PartnerAccount
from portal import data_keys
from portal.crypto import EncryptedJSONField, EncryptedTextField
from rides.models import Alert, AlertKind, Ride
from rides.models.alerts import Audience
from tests.conftest import logged_in_client
from tests.factories import CaseFactory, PartnerAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ride(make_ride):
    return make_ride(PartnerAccountFactory())


def ride_alerts(ride, count, kind=AlertKind.NO_DRIVER_YET):
    """`count` alerts about the ride's unit (acknowledged ones keep the partial unique
    constraint happy: one open alert per ride and kind)."""
    rows = [
        Alert(
            unit_id=ride.unit_id,
            ride=ride,
            kind=kind,
            message=f"The partner has been looking for a driver for ride {ride.reference} "
            f"for {n + 10} minutes.",
            resolved_at=None if n == 0 else ride.created_at,
        )
        for n in range(count)
    ]
    return Alert.objects.bulk_create(rows)


def test_the_supervisor_sees_the_units_alerts_and_acknowledges_with_a_note(
    ride, pipeline_supervisor, make_user, make_unit, provincial_centre
):
    (alert,) = ride_alerts(ride, 1)
    other = make_unit(code="LAIN", name="Unit Lain")
    Alert.objects.create(unit=other, kind=AlertKind.NO_PROGRESS, message="Elsewhere")
    Alert.objects.create(audience=Audience.ADMINS, kind=AlertKind.LOW_BALANCE, message="Fund")
    client = logged_in_client(pipeline_supervisor)
    page = client.get(reverse("supervision:alerts")).content.decode()
    assert "No driver yet" in page and ride.reference in page
    assert reverse("rides:detail", kwargs={"reference": ride.reference}) in page
    assert "Elsewhere" not in page and "Fund" not in page
    # The provincial centre sees every unit's.
    centre_page = logged_in_client(make_user(Role.SUPERVISOR, provincial_centre)).get(
        reverse("supervision:alerts")
    )
    assert "Elsewhere" in centre_page.content.decode()

    url = reverse("supervision:alert_acknowledge", kwargs={"alert_id": alert.pk})
    refused = client.post(url, {f"a{alert.pk}-note": "  "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200
    assert "Write a short note of what you did." in refused.content.decode()
    alert.refresh_from_db()
    assert alert.resolved_at is None
    done = client.post(url, {f"a{alert.pk}-note": "Called the partner."}, HTTP_HX_REQUEST="true")
    assert "alert-done" in done.content.decode() and done["HX-Trigger"] == "alerts-poll"
    alert.refresh_from_db()
    assert alert.resolved_by == pipeline_supervisor
    assert alert.acknowledgement_note == "Called the partner."
    with connection.cursor() as cursor:
        cursor.execute("SELECT acknowledgement_note FROM rides_alert WHERE id = %s", [alert.pk])
        assert "Called" not in cursor.fetchone()[0]  # ciphertext at rest
    assert (
        f'id="alert-{alert.pk}"' not in client.get(reverse("supervision:alerts")).content.decode()
    )
    history = client.get(reverse("supervision:alert_history")).content.decode()
    assert "Called the partner." in history and pipeline_supervisor.get_full_name() in history


def test_without_htmx_a_missing_note_shows_the_page_with_the_error(ride, pipeline_supervisor):
    (alert,) = ride_alerts(ride, 1)
    client = logged_in_client(pipeline_supervisor)
    url = reverse("supervision:alert_acknowledge", kwargs={"alert_id": alert.pk})
    response = client.post(url, {f"a{alert.pk}-note": "ok"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "a few words" in html and ">ok</textarea>" in html  # what was typed is kept
    response = client.post(url, {f"a{alert.pk}-note": "Reached the survivor."}, follow=True)
    assert "Alert acknowledged" in response.content.decode()


def test_another_units_alert_cannot_be_acknowledged(ride, make_user, make_unit):
    (alert,) = ride_alerts(ride, 1)
    outsider = make_user(Role.SUPERVISOR, make_unit(code="LAIN", name="Unit Lain"))
    url = reverse("supervision:alert_acknowledge", kwargs={"alert_id": alert.pk})
    assert (
        logged_in_client(outsider).post(url, {f"a{alert.pk}-note": "Not mine"}).status_code == 404
    )
    alert.refresh_from_db()
    assert alert.resolved_at is None


def test_admins_see_the_funds_alerts_only(ride, admin_user):
    ride_alerts(ride, 1)
    Alert.objects.create(audience=Audience.ADMINS, kind=AlertKind.LOW_BALANCE, message="Low")
    client = logged_in_client(admin_user)
    page = client.get(reverse("supervision:alerts")).content.decode()
    assert "Fund balance low" in page and "No driver yet" not in page
    assert ride.reference not in page
    badge = client.get(reverse("supervision:alert_badge")).content.decode()
    assert 'class="notice-count">1<' in badge


def test_the_badge_counts_open_alerts_in_one_query(ride, pipeline_supervisor):
    ride_alerts(ride, 3)  # one open, two acknowledged
    Alert.objects.create(unit_id=ride.unit_id, kind=AlertKind.NO_PROGRESS, message="x")
    client = logged_in_client(pipeline_supervisor)
    client.get(reverse("supervision:alert_badge"))  # the session's own queries, once
    with CaptureQueriesContext(connection) as queries:
        badge = client.get(reverse("supervision:alert_badge"))
    counts = [q["sql"] for q in queries if "rides_alert" in q["sql"]]
    assert len(counts) == 1
    assert 'class="notice-count">2<' in badge.content.decode()
    assert badge["Cache-Control"].startswith("max-age=0")
    page = client.get(reverse("home")).content.decode()
    assert reverse("supervision:alert_badge") in page  # in the header, polled


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["supervision:alerts", "supervision:alert_history"])
def test_query_count_is_the_same_for_10_and_1000_alerts(
    name, make_ride, pipeline_supervisor, pipeline_caseworker
):
    account = PartnerAccountFactory()
    client = logged_in_client(pipeline_supervisor)
    url = reverse(name)

    def alerts_for(count):
        rides = [make_ride(account) for _ in range(2)]
        Alert.objects.bulk_create(
            Alert(
                unit_id=rides[n % 2].unit_id,
                ride=rides[n % 2] if n < 2 else None,
                kind=AlertKind.NO_DRIVER_YET if n < 2 else AlertKind.NO_PROGRESS,
                message=f"Alert {n}",
                resolved_by=pipeline_caseworker if n % 3 == 0 and n >= 2 else None,
                resolved_at=rides[0].created_at if n % 3 == 0 and n >= 2 else None,
                acknowledgement_note="Checked." if n % 3 == 0 and n >= 2 else "",
            )
            for n in range(count)
        )

    alerts_for(10)
    client.get(url)
    ten = _queries(client, url)
    alerts_for(990)
    assert Alert.objects.count() == 1000
    assert _queries(client, url) == ten


@pytest.mark.parametrize("name", ["supervision:alerts", "supervision:alert_history"])
def test_alerts_of_many_cases_load_their_data_keys_in_one_query(
    name, make_ride, pipeline_supervisor, pipeline_caseworker
):
    """Each ride's alert is sealed with its case's data key. Once the process's keys have
    expired (every DATA_KEY_CACHE_SECONDS), a list of alerts of many cases must not read
    them one by one (measured at 1,000,000 rides: 75-85 statements for one alerts list,
    every five minutes)."""
    account = PartnerAccountFactory()
    client = logged_in_client(pipeline_supervisor)
    url = reverse(name)

    def alerts_of_new_cases(count):
        for _ in range(count):
            case = CaseFactory(user=pipeline_caseworker, birth_date=None)
            ride = make_ride(account, case=case, unit=case.unit)
            Alert.objects.create(
                unit_id=ride.unit_id, ride=ride, kind=AlertKind.NO_DRIVER_YET, message="Late."
            )

    def queries_with_cold_keys():
        data_keys.forget_case_key()
        caches["fragments"].clear()
        return _queries(client, url)

    alerts_of_new_cases(2)
    client.get(url)
    two = queries_with_cold_keys()
    alerts_of_new_cases(8)
    assert queries_with_cold_keys() == two
    assert client.get(url).content.decode().count("Late.") == 10


@pytest.mark.parametrize("name", ["supervision:alerts", "supervision:alert_history"])
def test_the_alerts_pages_read_a_rides_reference_alone_and_no_partner_secret(
    name, ride, pipeline_supervisor
):
    """A list of alerts shows a ride by its reference: its points and notes (a survivor's
    address, decrypted) and the partner account's credentials are never read for it."""
    ride_alerts(ride, 3)
    client = logged_in_client(pipeline_supervisor)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse(name)).content.decode()
    assert ride.reference in body
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert '"rides_alert"' in read
    protected = [
        f'"{model._meta.db_table}"."{field.column}"'
        for model in (Ride, PartnerAccount)
        for field in model._meta.concrete_fields
        if isinstance(field, (EncryptedTextField, EncryptedJSONField))
    ]
    assert '"rides_ride"."pickup"' in protected and len(protected) > 10
    assert [column for column in protected if column in read] == []


CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]+">')


def test_readers_shown_the_same_card_get_it_rendered_once_and_a_change_at_once(
    ride, pipeline_supervisor, make_user
):
    (alert,) = ride_alerts(ride, 1)
    kept = caches["fragments"]
    kept.clear()
    first = logged_in_client(pipeline_supervisor)
    second = logged_in_client(make_user(Role.SUPERVISOR, pipeline_supervisor.unit))
    one = first.get(reverse("supervision:alerts")).content.decode()
    two = second.get(reverse("supervision:alerts")).content.decode()
    assert len(kept._cache) == 1  # the card, rendered for the first reader alone
    assert len(CSRF_INPUT.findall(one)) == len(CSRF_INPUT.findall(two)) == 1 + 2  # + header
    assert CSRF_INPUT.findall(one) != CSRF_INPUT.findall(two)  # each one's own token
    assert f'id="id_a{alert.pk}-note"' in two and ride.reference in two
    # The condition ended by itself: the card says so on the next read.
    Alert.objects.filter(pk=alert.pk).update(cleared_at=timezone.now())
    assert "Ended by itself" in second.get(reverse("supervision:alerts")).content.decode()
    # What was typed and its error are shown to the one who posted it alone.
    url = reverse("supervision:alert_acknowledge", kwargs={"alert_id": alert.pk})
    answer = first.post(url, {f"a{alert.pk}-note": "  "}, HTTP_HX_REQUEST="true")
    assert 'aria-invalid="true"' in answer.content.decode()
    assert 'aria-invalid="true"' not in second.get(reverse("supervision:alerts")).content.decode()
