"""Every write to rides goes through here (views, API, tasks and commands call these)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from rides.models import Ride


def ride_request_dispatch(*, ride: Ride) -> None:
    """Marks the ride's dispatch as due and enqueues it once the transaction commits.

    Call inside the transaction that wrote the ride (the ride row is the outbox): if the
    enqueue is lost (broker down, worker killed) the outbox sweeper finds the ride by
    `dispatch_due_at` and enqueues it again.
    """
    from rides.tasks import dispatch_ride

    ride.dispatch_due_at = timezone.now()
    ride.save(update_fields=["dispatch_due_at", "updated_at"])
    ride_id = ride.pk
    transaction.on_commit(lambda: dispatch_ride.delay(ride_id), robust=True)
