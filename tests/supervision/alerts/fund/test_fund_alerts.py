"""The fund's alerts for admins: the balance below the SOP's threshold, the forecast
running out before the next tranche; checked after the pipeline's ledger writes (on
commit) and on beat; cleared when the money recovers, ongoing again if it falls."""

import datetime as dt

import pytest
from django.db import transaction

from funding.services import ride_settle, tranche_plan, tranche_receive
from rides.models import Alert, AlertKind
from rides.models.alerts import Audience
from rides.pipeline.common import locked_ride
from rides.pipeline.fund_watch import fund_alerts_watch
from rides.pipeline.funds import ride_funds_hold
from tests.factories import PartnerAccountFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 3)


def fund_alerts():
    return {
        alert.kind: alert
        for alert in Alert.objects.open().filter(audience=Audience.ADMINS, cleared_at__isnull=True)
    }


def test_low_balance_by_the_sop_threshold_then_cleared(fund, set_sop, admins, agreement):
    fund(5_000_000)
    set_sop(low_balance_threshold=4_000_000)
    assert fund_alerts_watch(today=TODAY)["raised"] == 0
    set_sop(low_balance_threshold=6_000_000)
    assert fund_alerts_watch(today=TODAY) == {"raised": 1, "cleared": 0}
    assert fund_alerts_watch(today=TODAY) == {"raised": 0, "cleared": 0}  # one, however often
    alert = fund_alerts()[AlertKind.LOW_BALANCE]
    assert "Rp 5.000.000" in alert.message and alert.unit_id is None and alert.ride_id is None
    tranche = tranche_plan(
        agreement=agreement, planned_on=dt.date(2026, 6, 1), planned_amount=10_000_000
    )
    tranche_receive(tranche=tranche, amount=10_000_000, received_on=TODAY, user=admins[0])
    assert fund_alerts_watch(today=TODAY)["cleared"] == 1
    alert.refresh_from_db()
    assert alert.cleared_at is not None and alert.resolved_at is None  # an admin closes it
    set_sop(low_balance_threshold=20_000_000)
    fund_alerts_watch(today=TODAY)
    alert.refresh_from_db()
    assert alert.cleared_at is None  # ongoing again, not a second alert
    assert Alert.objects.filter(kind=AlertKind.LOW_BALANCE).count() == 1


def test_the_forecast_running_out_before_the_next_tranche(fund, set_sop, agreement, make_ride):
    fund(3_000_000)
    set_sop(low_balance_threshold=0)
    tranche_plan(agreement=agreement, planned_on=dt.date(2027, 6, 1), planned_amount=50_000_000)
    account = PartnerAccountFactory()
    # Rp 2.400.000 spent this month: the forecast's rate is Rp 800.000 a month (the last
    # three months), so the Rp 600.000 left do not last the six months to the next tranche.
    ride = make_ride(account)
    with transaction.atomic():
        assert ride_funds_hold(locked_ride(ride.pk))
    ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=2_400_000)
    assert fund_alerts_watch() == {"raised": 1, "cleared": 0}
    alert = fund_alerts()[AlertKind.FUNDS_RUN_OUT]
    assert "runs out before the next tranche" in alert.message


def test_a_hold_checks_the_fund_after_commit(fund, make_ride, django_capture_on_commit_callbacks):
    fund(5_000_000)
    ride = make_ride(PartnerAccountFactory())
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        assert ride_funds_hold(locked_ride(ride.pk))
    assert len(callbacks) == 1  # rides.watch_fund, no arguments


def test_nothing_is_said_when_the_fund_is_not_enforced(settings):
    settings.FUNDING_ENFORCED = False
    assert fund_alerts_watch() == {"raised": 0, "cleared": 0}
    assert not Alert.objects.exists()
