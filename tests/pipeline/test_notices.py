"""Notices written where a ride's status changes: the partner's answers applied by the
pipeline, a supervisor's decision, a dispatch handed to a person."""

import pytest
from django.forms.models import model_to_dict

from accounts.models import Role
from cases.services import case_assign
from rides.booking.services import ride_approve, ride_reject
from rides.models import Notice, RideStatus
from rides.models.notices import APPROVED, NOTICE_STATES, notice_kind
from rides.notices import notice_text
from rides.pipeline.cancel import ride_cancel
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.polling import partner_account_poll
from tests.factories import ConsentFactory

pytestmark = pytest.mark.django_db

S = RideStatus
# Today a rejection ends the ride as cancelled; once `rejected` is a state of its own the
# notice says so.
REJECTED_KIND = "rejected" if "rejected" in S.values else S.CANCELLED


def kinds(user, ride):
    return list(
        Notice.objects.filter(user=user, ride=ride)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )


def poll_after(sandbox, account, ride, *statuses):
    for status in statuses:
        sandbox.control.set_trip_status(ride.partner_trip_id, status)
    partner_account_poll(account_id=account.pk)
    ride.refresh_from_db()


def test_a_driver_and_the_end_of_the_trip_are_notices_and_nothing_before(
    sandbox, partner_account, dispatched_ride, pipeline_caseworker
):
    ride = dispatched_ride(partner_account)
    assert ride.status in {S.SEARCHING, S.SCHEDULED}
    assert kinds(pipeline_caseworker, ride) == []  # requested → sending → searching: no news
    poll_after(sandbox, partner_account, ride, "accepted")
    assert ride.status == S.DRIVER_ASSIGNED
    assert kinds(pipeline_caseworker, ride) == [S.DRIVER_ASSIGNED]
    poll_after(sandbox, partner_account, ride, "in_progress", "completed")
    assert ride.status == S.COMPLETED
    assert kinds(pipeline_caseworker, ride) == [S.DRIVER_ASSIGNED, S.COMPLETED]
    notice = Notice.objects.get(ride=ride, kind=S.COMPLETED)
    event = ride.events.get(new_status=S.COMPLETED)
    assert (notice.event_id, notice.at) == (event.pk, event.at)  # one change, one notice


@pytest.mark.parametrize(
    ("partner_status", "kind"),
    [("no_drivers_available", S.NO_DRIVER), ("failed", S.FAILED), ("rider_canceled", S.CANCELLED)],
)
def test_a_ride_that_ends_without_a_trip_is_a_notice(
    sandbox, partner_account, dispatched_ride, pipeline_caseworker, partner_status, kind
):
    ride = dispatched_ride(partner_account)
    poll_after(sandbox, partner_account, ride, partner_status)
    assert ride.status == kind
    assert kinds(pipeline_caseworker, ride) == [kind]


def test_a_ride_handed_to_a_person_is_a_notice(
    sandbox, partner_account, make_ride, pipeline_caseworker
):
    ride = make_ride(partner_account, product_id="bike")
    assert ride_dispatch(ride_id=ride.pk) == "held"
    assert kinds(pipeline_caseworker, ride) == [S.NEEDS_ATTENTION]


def test_approval_and_rejection_are_notices_for_the_booker_not_the_supervisor(
    partner_account, make_ride, pipeline_case, pipeline_caseworker, pipeline_supervisor
):
    ConsentFactory(case=pipeline_case, recorded_by=pipeline_caseworker)
    approved = make_ride(partner_account, status=S.AWAITING_APPROVAL)
    rejected = make_ride(partner_account, status=S.AWAITING_APPROVAL)
    ride_approve(ride_id=approved.pk, user=pipeline_supervisor)
    ride_reject(ride_id=rejected.pk, user=pipeline_supervisor, reason="Fare too high")
    assert kinds(pipeline_caseworker, approved) == [APPROVED]
    assert kinds(pipeline_caseworker, rejected) == [REJECTED_KIND]
    assert not Notice.objects.filter(user=pipeline_supervisor).exists()  # their own decision


def test_the_cases_caseworkers_hear_of_it_but_not_the_one_who_acted(
    partner_account, make_ride, make_user, pipeline_case, pipeline_caseworker, pipeline_supervisor
):
    colleague = make_user(Role.CASEWORKER, pipeline_case.unit)
    outsider = make_user(Role.CASEWORKER, pipeline_case.unit)  # same unit, not on the case
    case_assign(user=pipeline_supervisor, case=pipeline_case, caseworker=colleague)
    ride = make_ride(partner_account)
    ride_cancel(ride_id=ride.pk, user=pipeline_caseworker)
    ride.refresh_from_db()
    assert ride.status == S.CANCELLED
    assert kinds(pipeline_caseworker, ride) == []  # the booker cancelled it themselves
    assert kinds(colleague, ride) == [S.CANCELLED]
    assert kinds(outsider, ride) == []


def test_a_notice_row_holds_no_survivors_data(
    sandbox, partner_account, dispatched_ride, pipeline_case
):
    ride = dispatched_ride(partner_account, note_for_driver="Tunggu di pagar biru")
    poll_after(sandbox, partner_account, ride, "accepted")
    notice = Notice.objects.get(ride=ride)
    fields = {field.name for field in Notice._meta.get_fields()}
    assert fields == {"id", "user", "ride", "event", "kind", "at", "read_at"}
    row = str(model_to_dict(notice))
    survivor = pipeline_case.survivor
    for secret in (
        survivor.name,
        ride.rider_phone,
        ride.rider_alias,
        ride.pickup["address"],
        ride.dropoff["address"],
        ride.note_for_driver,
        str(ride.pickup["latitude"]),
    ):
        assert secret not in row


def test_every_notice_kind_has_its_sentence_and_rejected_counts_once_it_is_a_state():
    assert ("rejected" in S.values) == any(s.value == "rejected" for s in NOTICE_STATES)
    assert notice_kind(S.AWAITING_APPROVAL, S.REQUESTED) == APPROVED
    assert notice_kind(S.DISPATCH_UNKNOWN, S.REQUESTED) is None  # a resend is no news
    assert notice_kind(S.SEARCHING, S.DRIVER_ASSIGNED) == S.DRIVER_ASSIGNED

    class Shown:
        class ride:
            reference = "RTEST"

    for kind in [APPROVED, "rejected", *NOTICE_STATES]:
        Shown.kind = str(kind)
        text = notice_text(Shown)
        assert "RTEST" in text and ":" not in text, (kind, text)  # its own sentence
