"""The outbox sweeper: what is overdue is resent, once; nothing else is touched."""

import datetime as dt

import pytest
from django.utils import timezone

from rides import tasks
from rides.models import Cause, Ride, RideStatus, WebhookEvent
from rides.pipeline.sweeper import outbox_sweep
from rides.pipeline.webhooks import webhook_events_prune
from tests.factories import PartnerAccountFactory

pytestmark = pytest.mark.django_db

S = RideStatus


@pytest.fixture
def account(db):
    return PartnerAccountFactory(
        name="Sweeper partner",
        client_id="sweep",
    )


@pytest.fixture
def sent(monkeypatch):
    """Records the tasks the sweeper enqueues instead of publishing them."""
    messages = []
    for name in (
        "dispatch_ride",
        "reconcile_ride",
        "cancel_at_partner",
        "fetch_receipt",
        "process_webhook_event",
    ):
        task = getattr(tasks, name)

        def record(args=(), kwargs=None, _name=task.name, **options):
            messages.append((_name, tuple(args)))

        monkeypatch.setattr(task, "apply_async", record)
    return messages


def ago(seconds):
    return timezone.now() - dt.timedelta(seconds=seconds)


def sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return outbox_sweep()


def test_an_overdue_dispatch_is_resent_once(
    make_ride, account, sent, django_capture_on_commit_callbacks
):
    ride = make_ride(account, dispatch_due_at=ago(1))
    Ride.objects.filter(pk=ride.pk).update(dispatch_due_at=ago(1))
    counts = sweep(django_capture_on_commit_callbacks)
    assert counts["dispatch"] == 1
    assert sent == [("rides.dispatch_ride", (ride.pk,))]
    ride.refresh_from_db()
    assert ride.dispatch_due_at > timezone.now()  # not again at the next sweep
    assert sweep(django_capture_on_commit_callbacks)["dispatch"] == 0
    assert len(sent) == 1


def test_nothing_is_resent_before_it_is_due(
    make_ride, account, sent, django_capture_on_commit_callbacks
):
    ride = make_ride(account)
    Ride.objects.filter(pk=ride.pk).update(dispatch_due_at=timezone.now() + dt.timedelta(minutes=1))
    waiting = make_ride(account, status=S.AWAITING_APPROVAL)
    Ride.objects.filter(pk=waiting.pk).update(dispatch_due_at=ago(60))
    sweep(django_capture_on_commit_callbacks)
    assert sent == []


def test_a_dispatch_whose_worker_died_is_declared_unknown_and_reconciled(
    make_ride, account, sent, django_capture_on_commit_callbacks
):
    ride = make_ride(account)
    Ride.objects.filter(pk=ride.pk).update(status=S.DISPATCHING, dispatch_due_at=ago(1))
    counts = sweep(django_capture_on_commit_callbacks)
    assert counts["reconcile"] == 1
    assert sent == [("rides.reconcile_ride", (ride.pk,))]
    ride.refresh_from_db()
    assert ride.status == S.DISPATCH_UNKNOWN
    event = ride.events.get()
    assert (event.cause, event.previous_status) == (Cause.SWEEPER, S.DISPATCHING)


def test_a_dispatch_within_its_lease_is_left_alone(
    make_ride, account, sent, django_capture_on_commit_callbacks
):
    ride = make_ride(account)
    later = timezone.now() + dt.timedelta(seconds=30)
    Ride.objects.filter(pk=ride.pk).update(status=S.DISPATCHING, dispatch_due_at=later)
    sweep(django_capture_on_commit_callbacks)
    assert sent == []
    assert Ride.objects.get(pk=ride.pk).status == S.DISPATCHING


def test_overdue_reconciliations_cancellations_receipts_and_events_are_resent(
    make_ride, account, sent, django_capture_on_commit_callbacks
):
    unknown = make_ride(account)
    Ride.objects.filter(pk=unknown.pk).update(status=S.DISPATCH_UNKNOWN, dispatch_due_at=ago(1))
    cancelling = make_ride(account)
    Ride.objects.filter(pk=cancelling.pk).update(
        status=S.SEARCHING, dispatch_due_at=None, partner_trip_id="t1", cancel_due_at=ago(1)
    )
    ended = make_ride(account)
    Ride.objects.filter(pk=ended.pk).update(
        status=S.COMPLETED, dispatch_due_at=None, partner_trip_id="t2", receipt_due_at=ago(1)
    )
    event = WebhookEvent.objects.create(
        account=account, event_id="lost", event_type="trip.status_changed", trip_id="t1"
    )
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=ago(60))
    counts = sweep(django_capture_on_commit_callbacks)
    assert counts == {"dispatch": 0, "reconcile": 1, "cancel": 1, "receipt": 1, "webhook": 1}
    assert sorted(sent) == sorted(
        [
            ("rides.reconcile_ride", (unknown.pk,)),
            ("rides.cancel_at_partner", (cancelling.pk,)),
            ("rides.fetch_receipt", (ended.pk,)),
            ("rides.process_webhook_event", (event.pk,)),
        ]
    )


def test_a_lost_enqueue_at_booking_is_found_after_the_grace_period(
    make_ride, account, sent, django_capture_on_commit_callbacks, settings
):
    settings.PIPELINE_DISPATCH_GRACE_SECONDS = 15
    with django_capture_on_commit_callbacks(execute=False):
        ride = make_ride(account, dispatch=True)  # its on-commit enqueue is "lost"
    assert sweep(django_capture_on_commit_callbacks)["dispatch"] == 0  # within grace
    Ride.objects.filter(pk=ride.pk).update(dispatch_due_at=ago(1))
    assert sweep(django_capture_on_commit_callbacks)["dispatch"] == 1


def test_old_processed_webhook_ids_are_pruned(account):
    old = WebhookEvent.objects.create(
        account=account, event_id="old", event_type="x", processed_at=timezone.now()
    )
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=ago(8 * 86400))
    WebhookEvent.objects.create(account=account, event_id="new", event_type="x")
    assert webhook_events_prune() == 1
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == ["new"]
