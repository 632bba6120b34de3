"""Every new alert is emailed once, after commit, to its audience: the unit's active
supervisors and the provincial centre's for a ride; admins for the fund. Ids and links
only: no name, address, phone or note."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Role
from rides.models import Alert, AlertKind
from rides.models.alerts import Audience
from rides.pipeline.alert_mail import (
    alert_email_send,
    alert_recipients,
    alerts_email_overdue,
)
from rides.pipeline.alerts import alert_raise
from tests.factories import PartnerAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ride(make_ride):
    return make_ride(PartnerAccountFactory())


def test_a_raised_alert_is_emailed_after_commit_once(ride, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        alert = alert_raise(ride=ride, kind=AlertKind.CAR_STOPPED, message="m")
        again = alert_raise(ride=ride, kind=AlertKind.CAR_STOPPED, message="m")
    assert again == alert
    assert len(callbacks) == 1  # the open one again: no second email
    assert mail.outbox == []  # the worker sends it (rides.email_alert, the alert's id)


def test_the_email_goes_once_to_the_units_and_the_centres_supervisors(
    ride,
    pipeline_supervisor,
    pipeline_caseworker,
    make_user,
    make_unit,
    provincial_centre,
    with_email,
    admin_user,
):
    supervisor = with_email(pipeline_supervisor)
    centre = with_email(make_user(Role.SUPERVISOR, provincial_centre))
    with_email(make_user(Role.SUPERVISOR, make_unit(code="LAIN", name="Unit Lain")))
    gone = with_email(make_user(Role.SUPERVISOR, ride.unit))
    gone.is_active = False
    gone.save()
    with_email(pipeline_caseworker)
    with_email(admin_user)
    make_user(Role.SUPERVISOR, ride.unit)  # no address: not told
    alert = Alert.objects.create(
        unit_id=ride.unit_id, ride=ride, kind=AlertKind.OFF_CORRIDOR, message="m"
    )
    assert alert_recipients(alert) == sorted([supervisor.email, centre.email])
    assert alert_email_send(alert_id=alert.pk) == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == sorted([supervisor.email, centre.email])
    message = mail.outbox[0]
    assert "Car far off the route" in message.subject and ride.reference in message.subject
    assert "http://127.0.0.1:8000/supervision/alerts/" in message.body
    assert f"/rides/{ride.reference}/" in message.body
    survivor = ride.case.survivor
    for secret in (survivor.name, ride.pickup["address"], ride.dropoff["address"], "+62812"):
        assert secret not in message.body and secret not in message.subject
    alert.refresh_from_db()
    assert alert.emailed_at is not None
    assert alert_email_send(alert_id=alert.pk) == "already"
    assert len(mail.outbox) == 2


def test_fund_alerts_go_to_the_admins(admin_user, with_email, pipeline_supervisor):
    with_email(admin_user)
    with_email(pipeline_supervisor)
    alert = Alert.objects.create(audience=Audience.ADMINS, kind=AlertKind.LOW_BALANCE, message="m")
    assert alert_email_send(alert_id=alert.pk) == "sent"
    assert [m.to for m in mail.outbox] == [[admin_user.email]]
    assert "/rides/" not in mail.outbox[0].body


def test_a_partner_outage_goes_to_every_supervisor(
    pipeline_supervisor, make_user, make_unit, with_email
):
    first = with_email(pipeline_supervisor)
    second = with_email(make_user(Role.SUPERVISOR, make_unit(code="LAIN", name="Unit Lain")))
    alert = Alert.objects.create(
        partner_account=PartnerAccountFactory(), kind=AlertKind.PARTNER_DOWN, message="m"
    )
    assert alert_recipients(alert) == sorted([first.email, second.email])


def test_beat_resends_what_was_never_emailed(ride, django_capture_on_commit_callbacks):
    old = Alert.objects.create(
        unit_id=ride.unit_id,
        ride=ride,
        kind=AlertKind.NO_PROGRESS,
        message="m",
        created_at=timezone.now() - dt.timedelta(minutes=5),
    )
    Alert.objects.create(unit_id=ride.unit_id, ride=ride, kind=AlertKind.CAR_STOPPED, message="m")
    with django_capture_on_commit_callbacks() as callbacks:
        assert alerts_email_overdue() == 1
    assert len(callbacks) == 1
    old.emailed_at = timezone.now()
    old.save()
    assert alerts_email_overdue() == 0
