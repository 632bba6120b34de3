"""The receipt of an ended trip: asked for once the trip ends, stored with the final fare.

Receipts can wait: they leave the partner's minute to polling and bookings
(`partners.client.ratelimit.budget_wait`), and a receipt held back that way uses up no
attempt. Failures are retried with backoff, up to PIPELINE_RECEIPT_MAX_ATTEMPTS; a receipt the
partner refuses is not asked for again.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from partners.client import errors
from partners.client.ratelimit import budget_wait
from partners.client.registry import client_for
from portal.queue import enqueue_on_commit
from rides.models import PartnerOperation, Ride
from rides.pipeline.calls import partner_call
from rides.pipeline.common import FETCH_RECEIPT, backoff_seconds, locked_ride, relocked, seconds
from rides.pipeline.funds import ride_funds_follow

log = logging.getLogger("rides.pipeline")


def ride_fetch_receipt(*, ride_id: int) -> str:
    """Asks the partner for an ended trip's receipt and stores it with the final fare."""
    now = timezone.now()
    with transaction.atomic():
        ride = locked_ride(ride_id)
        if ride is None:
            return "missing"
        if ride.receipt is not None or ride.receipt_due_at is None or not ride.partner_trip_id:
            return "nothing_to_do"
        ride.receipt_attempts += 1
        ride.receipt_due_at = now + seconds("PIPELINE_DISPATCH_LEASE_SECONDS")
        ride.save(update_fields=["receipt_attempts", "receipt_due_at", "updated_at"])
        account = ride.partner_account
        trip_id = ride.partner_trip_id
        attempt = ride.receipt_attempts

    client = client_for(account)
    still_waiting = _still_waiting(attempt)
    wait = budget_wait(account, settings.PIPELINE_RECEIPT_RATE_SHARE)
    if wait:
        return relocked(
            ride_id, still_waiting, _receipt_later, "budget kept for polling", wait, True
        )
    try:
        with partner_call(
            account_id=account.pk,
            operation=PartnerOperation.RECEIPT,
            ride_id=ride_id,
            attempt=attempt,
        ):
            receipt = client.get_receipt(trip_id)
    except errors.RateLimited as exc:
        # Held back by the budget (ours or the partner's): no attempt is used up.
        wait = max(float(exc.retry_after or 0), 1.0) + random.uniform(0, 5)  # noqa: S311
        return relocked(ride_id, still_waiting, _receipt_later, str(exc), wait, True)
    except (errors.ReceiptNotReady, errors.TemporaryPartnerError) as exc:
        retry_after = getattr(exc, "retry_after", None)
        return relocked(ride_id, still_waiting, _receipt_later, str(exc), retry_after, False)
    except errors.PartnerError as exc:
        log.warning("ride %s: receipt refused (%s); not asked again", ride_id, exc)
        return relocked(ride_id, _lacks_receipt, _no_receipt)
    return relocked(ride_id, _lacks_receipt, _store, receipt)


def _lacks_receipt(ride: Ride) -> bool:
    return ride.receipt is None


def _still_waiting(attempt: int):
    """The ride still lacks the receipt this worker asked for (no later ask started)."""
    return lambda ride: ride.receipt is None and ride.receipt_attempts == attempt


def _store(ride: Ride, receipt) -> str:
    ride.receipt = receipt.as_json()
    ride.receipt_due_at = None
    ride.final_fare = receipt.total_amount
    if receipt.cancellation_fee:  # a null fee is no fee
        ride.cancellation_fee = receipt.cancellation_fee
    ride.distance_meters = receipt.distance_meters or ride.distance_meters
    ride.duration_seconds = receipt.duration_seconds or ride.duration_seconds
    ride.save()
    ride_funds_follow(ride)  # the final fare settles the hold; a fee is charged
    return "stored"


def _no_receipt(ride: Ride) -> str:
    ride.receipt_due_at = None
    ride.save(update_fields=["receipt_due_at", "updated_at"])
    ride_funds_follow(ride)  # settled with the fare the trip last showed
    return "refused"


def _receipt_later(ride: Ride, error: str, retry_after, paced: bool) -> str:
    attempt = ride.receipt_attempts
    if paced:
        ride.receipt_attempts = max(0, ride.receipt_attempts - 1)
    elif attempt >= settings.PIPELINE_RECEIPT_MAX_ATTEMPTS:
        ride.receipt_due_at = None
        ride.save(update_fields=["receipt_due_at", "updated_at"])
        log.warning("ride %s: no receipt after %s attempts (%s)", ride.pk, attempt, error)
        ride_funds_follow(ride)
        return "gave_up"
    delay = float(retry_after) if paced else backoff_seconds(attempt, retry_after)
    ride.receipt_due_at = timezone.now() + dt.timedelta(seconds=delay)
    ride.save(update_fields=["receipt_attempts", "receipt_due_at", "updated_at"])
    enqueue_on_commit(FETCH_RECEIPT, ride.pk, countdown=delay)
    return "held_back" if paced else "retry_later"
