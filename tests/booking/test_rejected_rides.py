"""A ride a supervisor rejected is its own state: "rejected" ("Ditolak"), everywhere the
booker looks, with the supervisor's reason; it may be rebooked, and the rebook waits for a
supervisor again."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from rides.booking.services import ride_book, ride_rebook, ride_reject
from rides.models import Cause, Ride, RideStatus, TripEvent
from rides.models.states import REBOOKABLE, TERMINAL
from rides.rules import REBOOK_OF_REJECTED, FareQuote
from tests.booking.conftest import booking_args
from tests.booking.test_api import RIDES, api
from tests.conftest import logged_in_client

pytestmark = [pytest.mark.django_db]

REASON = "Pakai mobil kantor hari ini."


@pytest.fixture
def rejected(adult_case, caseworker, supervisor, places):
    ride = ride_book(
        user=caseworker, quote=FareQuote("car", 400_000, 60), **booking_args(adult_case, places)
    )
    return ride_reject(ride_id=ride.pk, user=supervisor, reason=REASON)


def page(user, url, language):
    client = logged_in_client(user)
    client.cookies["django_language"] = language
    return client.get(url).content.decode()


def test_a_rejected_ride_is_rejected_not_cancelled(rejected, supervisor):
    rejected.refresh_from_db()
    assert rejected.status == RideStatus.REJECTED
    assert RideStatus.REJECTED in TERMINAL
    event = rejected.events.order_by("at", "id").last()
    assert (event.previous_status, event.new_status, event.actor) == (
        RideStatus.AWAITING_APPROVAL,
        RideStatus.REJECTED,
        supervisor,
    )


@pytest.mark.parametrize(
    "language,label,reason_label",
    [
        ("id", "Ditolak", "Alasan penolakan:"),
        ("en", "Rejected", "Reason given by the supervisor:"),
    ],
)
def test_the_booker_sees_rejected_and_the_reason_on_the_ride_page(
    rejected, caseworker, language, label, reason_label
):
    url = reverse("rides:detail", kwargs={"reference": rejected.reference})
    body = page(caseworker, url, language)
    assert f'data-status="rejected">{label}</span>' in body
    assert f"{reason_label} {REASON}" in body
    assert "Dibatalkan" not in body and "Cancelled" not in body


@pytest.mark.parametrize("language,label", [("id", "Ditolak"), ("en", "Rejected")])
def test_lists_and_the_case_page_say_rejected(rejected, caseworker, language, label):
    for url in (
        reverse("rides:list"),
        reverse("cases:detail", kwargs={"code": rejected.case.code}),
    ):
        body = page(caseworker, url, language)
        assert rejected.reference in body, url
        assert label in body, url
        assert "Dibatalkan" not in body and "Cancelled" not in body, url


def test_the_api_says_rejected_and_filters_by_it(rejected, caseworker):
    detail = api(caseworker).get(f"{RIDES}{rejected.reference}/").json()
    assert detail["status"] == "rejected" and detail["status_label"] == "Rejected"
    assert detail["approval"]["rejection_reason"] == REASON
    listed = api(caseworker).get(RIDES, {"status": "rejected"}).json()["results"]
    assert [ride["reference"] for ride in listed] == [rejected.reference]
    assert api(caseworker).get(RIDES, {"status": "cancelled"}).json()["results"] == []


def test_the_schema_names_every_status(caseworker):
    schema = api(caseworker).get(reverse("api:schema"), {"format": "json"}).json()
    statuses = schema["components"]["schemas"]["RideStatusEnum"]["enum"]
    assert set(statuses) == set(RideStatus.values)


def test_a_rejected_ride_may_be_rebooked_and_waits_for_a_supervisor_again(
    rejected, caseworker, django_capture_on_commit_callbacks
):
    assert RideStatus.REJECTED in REBOOKABLE
    with django_capture_on_commit_callbacks() as callbacks:
        new = ride_rebook(ride_id=rejected.pk, user=caseworker, quote=FareQuote("car", 40_000))
    assert callbacks == [], "nothing goes to the partner before a supervisor decides"
    assert new.status == RideStatus.AWAITING_APPROVAL
    assert new.approval_reasons[0] == {"code": REBOOK_OF_REJECTED, "ride": rejected.reference}
    assert new.decided_by is None and new.rejection_reason == ""
    body = page(caseworker, reverse("rides:detail", kwargs={"reference": new.reference}), "en")
    assert f"It rebooks {rejected.reference}, which a supervisor rejected." in body


def test_the_migration_turns_rejections_recorded_as_cancelled_into_rejected(
    adult_case, caseworker, supervisor, places
):
    def waiting():
        return ride_book(
            user=caseworker, quote=FareQuote("car", 400_000), **booking_args(adult_case, places)
        )

    old_rejection, cancelled = waiting(), waiting()
    # A rejection as it was recorded before the state existed: cancelled, with the decision.
    Ride.objects.filter(pk=old_rejection.pk).update(
        status=RideStatus.CANCELLED,
        rejection_reason="Terlalu jauh.",
        status_reason="Terlalu jauh.",
        decided_by=supervisor,
        decided_at=timezone.now(),
    )
    TripEvent.objects.create(
        ride=old_rejection,
        cause=Cause.USER,
        actor=supervisor,
        previous_status=RideStatus.AWAITING_APPROVAL,
        new_status=RideStatus.CANCELLED,
        note="Terlalu jauh.",
    )
    Ride.objects.filter(pk=cancelled.pk).update(status=RideStatus.CANCELLED)

    migration = importlib.import_module("rides.migrations.0006_rejected_state")
    migration.rejections_become_rejected(django_apps, None)

    old_rejection.refresh_from_db()
    cancelled.refresh_from_db()
    assert old_rejection.status == RideStatus.REJECTED
    assert cancelled.status == RideStatus.CANCELLED
    # The trip log is append-only: one more row says what changed, and it still replays.
    states = list(old_rejection.events.order_by("at", "id").values_list("new_status", flat=True))
    assert states[-2:] == [RideStatus.CANCELLED, RideStatus.REJECTED]
