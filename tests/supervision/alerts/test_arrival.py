"""After a completed ride: "Arrived safely" or a problem with a note (encrypted, alerting
the supervisors) on the ride page; no answer within the SOP's minutes raises an alert."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from rides.models import Alert, AlertKind, RideStatus
from rides.pipeline.arrival import arrivals_unconfirmed_watch
from tests.conftest import logged_in_client
from tests.factories import PartnerAccountFactory

S = RideStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(make_ride):
    def make(minutes_ago=1):
        ride = make_ride(PartnerAccountFactory())
        ride.status = S.COMPLETED
        ride.status_changed_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
        ride.save()
        return ride

    return make


def test_the_booker_confirms_the_safe_arrival(completed, pipeline_caseworker):
    ride = completed()
    client = logged_in_client(pipeline_caseworker)
    url = reverse("rides:detail", kwargs={"reference": ride.reference})
    page = client.get(url).content.decode()
    assert "Did the survivor arrive safely?" in page and "Report a problem" in page
    response = client.post(
        reverse("rides:arrival", kwargs={"reference": ride.reference}),
        {"answer": "arrived"},
        follow=True,
    )
    html = response.content.decode()
    assert "The safe arrival is recorded." in html
    assert "Arrived safely, confirmed by" in html and "Did the survivor" not in html
    ride.refresh_from_db()
    assert ride.arrival_confirmed_by == pipeline_caseworker and ride.arrival_problem == ""
    again = client.post(
        reverse("rides:arrival", kwargs={"reference": ride.reference}),
        {"answer": "arrived"},
        follow=True,
    )
    assert "already confirmed" in again.content.decode()


def test_a_problem_needs_a_note_is_encrypted_and_alerts_the_supervisors(
    completed, pipeline_caseworker, pipeline_supervisor
):
    ride = completed()
    client = logged_in_client(pipeline_caseworker)
    url = reverse("rides:arrival", kwargs={"reference": ride.reference})
    missing = client.post(url, {"answer": "problem", "note": "Ada"})
    assert missing.status_code == 400
    html = missing.content.decode()
    assert "at least 5 characters" in html and "\nAda</textarea>" in html
    assert not Alert.objects.filter(ride=ride).exists()
    note = "Pengemudi menurunkan penumpang jauh dari tujuan."
    client.post(url, {"answer": "problem", "note": note})
    ride.refresh_from_db()
    assert ride.arrival_problem == note
    with connection.cursor() as cursor:
        cursor.execute("SELECT arrival_problem FROM rides_ride WHERE id = %s", [ride.pk])
        assert "Pengemudi" not in cursor.fetchone()[0]
    alert = Alert.objects.get(ride=ride, kind=AlertKind.ARRIVAL_PROBLEM)
    assert note not in alert.message and ride.reference in alert.message
    # The supervisor reads the report on the ride page (the alert sends them there).
    page = logged_in_client(pipeline_supervisor).get(
        reverse("rides:detail", kwargs={"reference": ride.reference})
    )
    assert note in page.content.decode()


def test_nobody_else_answers(completed, make_user, make_unit, admin_user):
    ride = completed()
    url = reverse("rides:arrival", kwargs={"reference": ride.reference})
    outsider = make_user(Role.CASEWORKER, make_unit(code="LAIN", name="Unit Lain"))
    assert logged_in_client(outsider).post(url, {"answer": "arrived"}).status_code == 404
    assert logged_in_client(admin_user).post(url, {"answer": "arrived"}).status_code == 403
    ride.refresh_from_db()
    assert ride.arrival_confirmed_at is None


def test_no_answer_in_time_raises_once_and_an_answer_clears_it(
    completed, set_sop, pipeline_caseworker
):
    set_sop(arrival_confirm_minutes=30)
    late = completed(minutes_ago=31)
    on_time = completed(minutes_ago=29)
    long_ago = completed(minutes_ago=30 + 60 * 25)  # beyond the look-back: not now
    assert arrivals_unconfirmed_watch() == 1
    assert arrivals_unconfirmed_watch() == 0
    alert = Alert.objects.get(kind=AlertKind.ARRIVAL_UNCONFIRMED)
    assert alert.ride == late and "30 minutes" in alert.message
    assert not Alert.objects.filter(ride__in=[on_time, long_ago]).exists()
    logged_in_client(pipeline_caseworker).post(
        reverse("rides:arrival", kwargs={"reference": late.reference}), {"answer": "arrived"}
    )
    alert.refresh_from_db()
    assert alert.cleared_at is not None and alert.resolved_at is None
    # Acknowledged, it is not raised again.
    alert.resolved_at = timezone.now()
    alert.save()
    assert arrivals_unconfirmed_watch() == 0
