"""Reading the details a caseworker needs (driver, plate, a cancellation fee) when a
webhook's hint was applied without them: the read after it failed, or the budget was
spent. Tried again with backoff while they are missing and the ride lasts; polling fills
them in as well.
"""

from __future__ import annotations

import logging

from partners.client import errors
from partners.client.contract import CANCELED_STATUSES
from partners.client.registry import client_for
from portal.queue import MAX_COUNTDOWN_SECONDS, enqueue
from rides.models import Cause, PartnerOperation, Ride, RideStatus
from rides.pipeline.apply import ride_apply_partner_trip, ride_note_unusable
from rides.pipeline.calls import partner_call
from rides.pipeline.common import REFRESH_TRIP_DETAILS, backoff_seconds

S = RideStatus
log = logging.getLogger("rides.pipeline")

_DRIVER_STATES = frozenset({S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP})
DETAILS_MAX_ATTEMPTS = 20


def _lacks_details(ride: Ride) -> bool:
    if not ride.partner_trip_id:
        return False
    if ride.status in _DRIVER_STATES:
        return not ride.driver_name
    return (
        ride.status == S.CANCELLED
        and ride.cancellation_fee is None
        and ride.partner_status in CANCELED_STATUSES
    )


def schedule_details(ride_id: int, retry_after: float, *, attempt: int) -> None:
    """Enqueues the `attempt`-th read of the ride's details, at once (no transaction)."""
    if attempt > DETAILS_MAX_ATTEMPTS:
        log.warning(
            "ride %s: details not read after %s attempts; polling fills in", ride_id, attempt
        )
        return
    wait = min(max(retry_after, backoff_seconds(min(attempt, 4))), MAX_COUNTDOWN_SECONDS - 5)
    try:
        enqueue(REFRESH_TRIP_DETAILS, ride_id, attempt, countdown=wait)
    except Exception:  # noqa: BLE001 - polling fills the details in as well
        log.warning("could not schedule the details read of ride %s", ride_id)


def ride_refresh_details(*, ride_id: int, attempt: int = 1) -> str:
    """Reads the trip when a webhook's hint was applied without the details the
    caseworker needs (the driver and plate, a cancellation fee) because the read failed
    or the budget was spent; tries again while they are missing and the ride lasts."""
    ride = (
        Ride.objects.select_related("partner_account")
        .only(
            "id",
            "status",
            "partner_trip_id",
            "partner_status",
            "driver_name",
            "cancellation_fee",
            "partner_account",
        )
        .filter(pk=ride_id)
        .first()
    )
    if ride is None or not _lacks_details(ride):
        return "nothing_to_do"
    try:
        with partner_call(
            account_id=ride.partner_account_id,
            operation=PartnerOperation.GET_TRIP,
            ride_id=ride_id,
            attempt=attempt,
        ):
            trip = client_for(ride.partner_account).get_trip(ride.partner_trip_id, kind="detail")
    except errors.PartnerError as exc:
        if isinstance(exc, errors.UnusableAnswer):
            ride_note_unusable(ride_id=ride_id, reason=str(exc))
        if exc.temporary:
            schedule_details(ride_id, float(exc.retry_after or 0), attempt=attempt + 1)
            return "later"
        return "refused"
    return ride_apply_partner_trip(ride_id=ride_id, trip=trip, cause=Cause.POLL)
