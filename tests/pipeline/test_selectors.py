import pytest

from accounts.models import Role
from rides.models import AlertKind, PollState, RideStatus, WebhookRejection
from rides.pipeline.alerts import alert_raise
from rides.selectors import alerts_open_for, pipeline_overview
from tests.factories import PartnerAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    return PartnerAccountFactory(
        name="Selector partner",
        client_id="sel",
    )


def test_a_supervisor_sees_the_open_alerts_of_their_unit_only(
    make_ride, account, pipeline_supervisor, make_user, other_unit, django_assert_num_queries
):
    rides = [make_ride(account) for _ in range(3)]
    for ride in rides:
        alert_raise(ride=ride, kind=AlertKind.NEEDS_ATTENTION, message=f"{ride.reference} m")
    other_supervisor = make_user(Role.SUPERVISOR, other_unit)
    with django_assert_num_queries(1):
        alerts = list(alerts_open_for(pipeline_supervisor))
        references = [alert.ride.reference for alert in alerts]
    assert sorted(references) == sorted(r.reference for r in rides)
    assert list(alerts_open_for(other_supervisor)) == []
    caseworker = make_user(Role.CASEWORKER, rides[0].unit)
    assert list(alerts_open_for(caseworker)) == []


def test_the_pipeline_overview_counts_what_waits(make_ride, account, django_assert_num_queries):
    make_ride(account)
    make_ride(account, status=RideStatus.DISPATCH_UNKNOWN)
    make_ride(account, status=RideStatus.SEARCHING, partner_trip_id="t1")
    make_ride(account, status=RideStatus.NEEDS_ATTENTION)
    PollState.objects.create(account=account)
    import datetime as dt

    from django.utils import timezone

    WebhookRejection.objects.create(
        account=account,
        day=timezone.localdate(),
        reason="bad_signature",
        count=4,
        last_at=timezone.now(),
    )
    with django_assert_num_queries(3):
        overview = pipeline_overview(now=timezone.now() + dt.timedelta(minutes=5))
        polls = [state.account.name for state in overview["polls"]]
    assert overview["rides"]["waiting_to_send"] == 1
    assert overview["rides"]["outcome_unknown"] == 1
    assert overview["rides"]["with_partner"] == 1
    assert overview["rides"]["needs_attention"] == 1
    assert overview["rides"]["overdue"] == 2  # both due when written, 5 minutes ago
    assert polls == ["Selector partner"]
    assert overview["webhooks_rejected_since_yesterday"] == 4
