"""The rides app's models, and the choices their fields take.

- ride: the Ride (the booking, its state, what the partner said; the dispatch outbox);
- trip_log: TripEvent, one append-only row per status change;
- partner_events: WebhookEvent, WebhookRejection, PollState;
- partner_calls: PartnerCall, one append-only row per call to the partner about a ride;
- alerts: Alert;
- notices: Notice, what a booker hears about their rides;
- states: the ride's states, the legal moves and the partner status map (import the
  rule sets, such as TERMINAL, from rides.models.states).

`new_reference` is here for the migrations, which name it as the reference's default.
"""

from rides.models.alerts import Alert, AlertKind
from rides.models.notices import Notice
from rides.models.partner_calls import CallOutcome, PartnerCall, PartnerOperation
from rides.models.partner_events import (
    PollState,
    WebhookEvent,
    WebhookRejection,
    WebhookRejectionReason,
)
from rides.models.ride import Purpose, Ride, new_reference
from rides.models.states import Cause, RideStatus
from rides.models.trip_log import TripEvent

__all__ = [
    "Alert",
    "AlertKind",
    "CallOutcome",
    "Cause",
    "Notice",
    "PartnerCall",
    "PartnerOperation",
    "PollState",
    "Purpose",
    "Ride",
    "RideStatus",
    "TripEvent",
    "WebhookEvent",
    "WebhookRejection",
    "WebhookRejectionReason",
    "new_reference",
]
