"""A ride's states, the moves between them, and what each partner trip status means.

`Ride.apply_transition` (rides/models/ride.py) is the one way a status changes; it
reads the rules here: a ride moves to a higher RANK only (the exceptions are in
BACKWARD_ALLOWED), only along ALLOWED, and a partner trip status becomes a ride state
through PARTNER_STATUS_MAP, which names every status of the contract
(partners/client/contract.py).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RideStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", _("Waiting for approval")
    REQUESTED = "requested", _("Requested")
    DISPATCHING = "dispatching", _("Sending to partner")
    DISPATCH_UNKNOWN = "dispatch_unknown", _("Checking with partner")
    SCHEDULED = "scheduled", _("Scheduled")
    SEARCHING = "searching", _("Looking for a driver")
    DRIVER_ASSIGNED = "driver_assigned", _("Driver assigned")
    ARRIVING = "arriving", _("Driver arriving")
    ON_TRIP = "on_trip", _("On the way")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")
    NO_DRIVER = "no_driver", _("No driver found")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")


S = RideStatus

# Progress rank: a ride only moves to a higher rank, with one exception that the partner's
# lifecycle has: a driver who cancels sends the trip back to "searching" (redispatch).
RANK = {
    S.AWAITING_APPROVAL: 0,
    S.REQUESTED: 1,
    S.DISPATCHING: 2,
    S.DISPATCH_UNKNOWN: 2,
    S.SCHEDULED: 3,
    S.SEARCHING: 4,
    S.DRIVER_ASSIGNED: 5,
    S.ARRIVING: 6,
    S.ON_TRIP: 7,
    S.COMPLETED: 9,
    S.CANCELLED: 9,
    S.REJECTED: 9,
    S.NO_DRIVER: 9,
    S.FAILED: 9,
    S.NEEDS_ATTENTION: 8,
}

# How a trip may end, by the partner's word or a cancellation.
ENDINGS = frozenset({S.COMPLETED, S.CANCELLED, S.NO_DRIVER, S.FAILED})
# Final: those, and a supervisor's rejection (only ever of a ride still awaiting approval).
TERMINAL = ENDINGS | {S.REJECTED}
# Final until a person acts on it (retry, rebook or cancel).
HELD = frozenset({S.NEEDS_ATTENTION})
ACTIVE_WITH_PARTNER = frozenset(
    {S.SCHEDULED, S.SEARCHING, S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP}
)
BEFORE_PARTNER = frozenset({S.REQUESTED, S.DISPATCHING, S.DISPATCH_UNKNOWN})
CANCELLABLE = frozenset({S.AWAITING_APPROVAL}) | BEFORE_PARTNER | ACTIVE_WITH_PARTNER | HELD
# On the supervisors' board: the same rides, as a sorted tuple of values so that the
# partial indexes over them (rides/models/ride.py) read the same in every migration.
ON_BOARD_STATUSES = tuple(sorted(str(status) for status in CANCELLABLE))
# Ended or held: a person may book the same ride again (a rejected one waits for a
# supervisor again: rides/rules.py).
REBOOKABLE = frozenset({S.NO_DRIVER, S.CANCELLED, S.REJECTED, S.FAILED, S.NEEDS_ATTENTION})

# Legal moves. Anything else is refused.
ALLOWED: dict[str, frozenset[str]] = {
    # A supervisor approves or rejects; the booker may cancel.
    S.AWAITING_APPROVAL: frozenset({S.REQUESTED, S.REJECTED, S.CANCELLED}),
    # Back to approval when the fare, checked only at dispatch, is above the ceiling.
    S.REQUESTED: frozenset({S.DISPATCHING, S.CANCELLED, S.NEEDS_ATTENTION, S.AWAITING_APPROVAL}),
    S.DISPATCHING: frozenset(
        {S.DISPATCH_UNKNOWN, S.REQUESTED, S.NEEDS_ATTENTION, S.CANCELLED}
        | ACTIVE_WITH_PARTNER
        | ENDINGS
    ),
    S.DISPATCH_UNKNOWN: frozenset(
        {S.REQUESTED, S.NEEDS_ATTENTION, S.CANCELLED} | ACTIVE_WITH_PARTNER | ENDINGS
    ),
    S.SCHEDULED: frozenset(ACTIVE_WITH_PARTNER - {S.SCHEDULED} | ENDINGS | {S.NEEDS_ATTENTION}),
    S.SEARCHING: frozenset({S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP, S.NEEDS_ATTENTION} | ENDINGS),
    S.DRIVER_ASSIGNED: frozenset({S.SEARCHING, S.ARRIVING, S.ON_TRIP, S.NEEDS_ATTENTION} | ENDINGS),
    S.ARRIVING: frozenset({S.SEARCHING, S.DRIVER_ASSIGNED, S.ON_TRIP, S.NEEDS_ATTENTION} | ENDINGS),
    S.ON_TRIP: frozenset({S.NEEDS_ATTENTION} | ENDINGS),
    # A person's decision: retry (back to requested) or cancel; the partner may still
    # report what became of a trip it holds.
    S.NEEDS_ATTENTION: frozenset({S.REQUESTED, S.CANCELLED} | ACTIVE_WITH_PARTNER | ENDINGS),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.NO_DRIVER: frozenset(),
    S.FAILED: frozenset(),
}

# Moves to a lower rank that are legal, and why.
BACKWARD_ALLOWED = {
    (S.DRIVER_ASSIGNED, S.SEARCHING),  # driver cancelled; partner redispatches
    (S.ARRIVING, S.SEARCHING),  # same
    (S.ARRIVING, S.DRIVER_ASSIGNED),  # same, the search already over when we looked
    (S.REQUESTED, S.AWAITING_APPROVAL),  # the fare checked at dispatch is above the ceiling
    (S.DISPATCHING, S.REQUESTED),  # partner said "not created": safe to send again
    (S.DISPATCH_UNKNOWN, S.REQUESTED),  # lookup found nothing: safe to send again
    (S.NEEDS_ATTENTION, S.REQUESTED),  # a person chose to retry
    (S.NEEDS_ATTENTION, S.SCHEDULED),
    (S.NEEDS_ATTENTION, S.SEARCHING),
    (S.NEEDS_ATTENTION, S.DRIVER_ASSIGNED),
    (S.NEEDS_ATTENTION, S.ARRIVING),
    (S.NEEDS_ATTENTION, S.ON_TRIP),
}

# The partner's trip status → the portal's state.
PARTNER_STATUS_MAP = {
    "scheduled": S.SCHEDULED,
    "processing": S.SEARCHING,
    "driver_redispatched": S.SEARCHING,
    "accepted": S.DRIVER_ASSIGNED,
    "arriving": S.ARRIVING,
    "in_progress": S.ON_TRIP,
    "completed": S.COMPLETED,
    "no_drivers_available": S.NO_DRIVER,
    "driver_canceled": S.CANCELLED,
    "rider_canceled": S.CANCELLED,
    "failed": S.FAILED,
}


class Cause(models.TextChoices):
    USER = "user", _("a person")
    DISPATCH = "dispatch", _("dispatch")
    POLL = "poll", _("polling")
    WEBHOOK = "webhook", _("webhook")
    SWEEPER = "sweeper", _("sweeper")
    SYSTEM = "system", _("system")


class TransitionOutcome(models.TextChoices):
    APPLIED = "applied"
    REPEAT = "repeat"  # same state again: nothing to do
    STALE = "stale"  # older partner data than what we hold
    REFUSED = "refused"  # illegal move
