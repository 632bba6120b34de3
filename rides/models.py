"""Rides and their trip log.

The ride row is the dispatch outbox: it is written with its intent (status `requested`,
`dispatch_due_at`) in the booking transaction, and the pipeline (rides/services.py,
rides/tasks.py) carries it to the partner. Every status change goes through
`Ride.apply_transition`, on a row locked with select_for_update, and is written as an
append-only TripEvent.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.crypto import EncryptedJSONField, EncryptedTextField


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
    S.NO_DRIVER: 9,
    S.FAILED: 9,
    S.NEEDS_ATTENTION: 8,
}

TERMINAL = frozenset({S.COMPLETED, S.CANCELLED, S.NO_DRIVER, S.FAILED})
# Final until a person acts on it (retry, rebook or cancel).
HELD = frozenset({S.NEEDS_ATTENTION})
ACTIVE_WITH_PARTNER = frozenset(
    {S.SCHEDULED, S.SEARCHING, S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP}
)
BEFORE_PARTNER = frozenset({S.REQUESTED, S.DISPATCHING, S.DISPATCH_UNKNOWN})
CANCELLABLE = frozenset({S.AWAITING_APPROVAL}) | BEFORE_PARTNER | ACTIVE_WITH_PARTNER | HELD

# Legal moves. Anything else is refused.
ALLOWED: dict[str, frozenset[str]] = {
    S.AWAITING_APPROVAL: frozenset({S.REQUESTED, S.CANCELLED}),
    # Back to approval when the fare, checked only at dispatch, is above the ceiling.
    S.REQUESTED: frozenset({S.DISPATCHING, S.CANCELLED, S.NEEDS_ATTENTION, S.AWAITING_APPROVAL}),
    S.DISPATCHING: frozenset(
        {S.DISPATCH_UNKNOWN, S.REQUESTED, S.NEEDS_ATTENTION, S.CANCELLED}
        | ACTIVE_WITH_PARTNER
        | TERMINAL
    ),
    S.DISPATCH_UNKNOWN: frozenset(
        {S.REQUESTED, S.NEEDS_ATTENTION, S.CANCELLED} | ACTIVE_WITH_PARTNER | TERMINAL
    ),
    S.SCHEDULED: frozenset(ACTIVE_WITH_PARTNER - {S.SCHEDULED} | TERMINAL | {S.NEEDS_ATTENTION}),
    S.SEARCHING: frozenset(
        {S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP, S.NEEDS_ATTENTION} | TERMINAL
    ),
    S.DRIVER_ASSIGNED: frozenset(
        {S.SEARCHING, S.ARRIVING, S.ON_TRIP, S.NEEDS_ATTENTION} | TERMINAL
    ),
    S.ARRIVING: frozenset(
        {S.SEARCHING, S.DRIVER_ASSIGNED, S.ON_TRIP, S.NEEDS_ATTENTION} | TERMINAL
    ),
    S.ON_TRIP: frozenset({S.NEEDS_ATTENTION} | TERMINAL),
    # A person's decision: retry (back to requested) or cancel; the partner may still
    # report what became of a trip it holds.
    S.NEEDS_ATTENTION: frozenset({S.REQUESTED, S.CANCELLED} | ACTIVE_WITH_PARTNER | TERMINAL),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
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


class Purpose(models.TextChoices):
    MEDICAL_EXAM = "medical_exam", _("Medical examination (visum)")
    POLICE_REPORT = "police_report", _("Police report")
    COURT_HEARING = "court_hearing", _("Court hearing")
    COUNSELLING = "counselling", _("Counselling")
    SAFE_HOUSE_TRANSFER = "safe_house_transfer", _("Safe-house transfer")
    RETURN_HOME = "return_home", _("Return home")
    OTHER = "other", _("Other")


class TransitionOutcome(models.TextChoices):
    APPLIED = "applied"
    REPEAT = "repeat"  # same state again: nothing to do
    STALE = "stale"  # older partner data than what we hold
    REFUSED = "refused"  # illegal move


@dataclass(frozen=True)
class TransitionResult:
    outcome: str
    previous: str
    current: str
    event: TripEvent | None = None

    @property
    def applied(self) -> bool:
        return self.outcome == TransitionOutcome.APPLIED


def new_reference() -> str:
    """Opaque, unguessable, says nothing about the case: sent to the partner as-is."""
    # No vowels: a random reference can never spell a word ("PPA", "KORBAN") that tells
    # the partner what the ride is about. 28 symbols ** 15 leaves ~72 bits of randomness.
    alphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"
    return "R" + "".join(secrets.choice(alphabet) for _ in range(15))


class RideQuerySet(models.QuerySet):
    def active_with_partner(self):
        return self.filter(status__in=ACTIVE_WITH_PARTNER)

    def dispatch_overdue(self, now: dt.datetime):
        return self.filter(
            status__in=[S.REQUESTED, S.DISPATCHING, S.DISPATCH_UNKNOWN],
            dispatch_due_at__lte=now,
        )

    def visible_to(self, user):
        """Need to know: a caseworker's own cases, a supervisor's unit, nobody else."""
        if user.role == "supervisor":
            return self.filter(unit_id=user.unit_id)
        if user.role == "caseworker":
            return self.filter(case__assigned_caseworkers=user)
        return self.none()


class Ride(models.Model):
    reference = models.CharField(max_length=32, unique=True, default=new_reference, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="rides")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="rides")
    partner_account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.PROTECT, related_name="rides"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="booked_rides"
    )
    rebooked_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rebookings"
    )

    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    purpose_note = EncryptedTextField(blank=True)

    # Where the survivor really is / goes. A protected place is referenced, never copied
    # into what the partner receives (see rides/partner_payload.py).
    pickup_place = models.ForeignKey(
        "cases.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pickup = EncryptedJSONField()  # {"latitude", "longitude", "address"}
    dropoff_place = models.ForeignKey(
        "cases.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dropoff = EncryptedJSONField()
    scheduled_pickup_at = models.DateTimeField(null=True, blank=True)
    passenger_count = models.PositiveSmallIntegerField(default=1)
    escort_name = EncryptedTextField(blank=True)
    escort_phone = EncryptedTextField(blank=True)
    rider_phone = EncryptedTextField()  # E.164; the survivor's or the escort's
    rider_alias = models.CharField(max_length=26)
    product_id = models.CharField(max_length=20, default="car")
    note_for_driver = EncryptedTextField(blank=True)

    estimate_fare = models.PositiveIntegerField(null=True, blank=True)
    estimate_pickup_eta_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The partner could not give a fare at booking: the dispatch asks for it first and
    # applies the fare ceiling then.
    fare_check_at_dispatch = models.BooleanField(default=False)

    # Approval (SOP: fare ceiling, service hours)
    approval_reasons = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    # State
    status = models.CharField(
        max_length=20, choices=RideStatus.choices, default=S.REQUESTED, db_index=True
    )
    status_reason = models.TextField(blank=True)  # readable by the caseworker
    status_changed_at = models.DateTimeField(default=timezone.now)

    # Dispatch (outbox)
    idempotency_key = models.CharField(max_length=80, blank=True)
    dispatch_attempts = models.PositiveSmallIntegerField(default=0)
    dispatch_due_at = models.DateTimeField(null=True, blank=True)
    # By when the ride must have reached the partner: until then temporary failures are
    # retried (SOP: 5 minutes); only after it is a ride the partner never answered for
    # handed to a person.
    dispatch_deadline_at = models.DateTimeField(null=True, blank=True)
    last_dispatch_error = models.TextField(blank=True)

    # What the partner told us
    partner_trip_id = models.CharField(max_length=100, blank=True, db_index=True)
    partner_status = models.CharField(max_length=40, blank=True)
    partner_status_detail = models.CharField(max_length=80, blank=True)
    partner_updated_at = models.DateTimeField(null=True, blank=True)
    driver_name = models.CharField(max_length=80, blank=True)
    driver_phone_masked = models.CharField(max_length=40, blank=True)
    driver_rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    vehicle_make = models.CharField(max_length=40, blank=True)
    vehicle_model = models.CharField(max_length=40, blank=True)
    vehicle_color = models.CharField(max_length=40, blank=True)
    vehicle_plate = models.CharField(max_length=20, blank=True)
    driver_latitude = models.FloatField(null=True, blank=True)
    driver_longitude = models.FloatField(null=True, blank=True)
    pickup_eta_seconds = models.PositiveIntegerField(null=True, blank=True)
    fare_amount = models.PositiveIntegerField(null=True, blank=True)
    fare_type = models.CharField(max_length=10, blank=True)  # estimate | final
    final_fare = models.PositiveIntegerField(null=True, blank=True)
    cancellation_fee = models.PositiveIntegerField(null=True, blank=True)
    distance_meters = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    receipt = models.JSONField(null=True, blank=True)
    receipt_due_at = models.DateTimeField(null=True, blank=True)
    receipt_attempts = models.PositiveSmallIntegerField(default=0)

    # The fare the partner locked for this ride's estimate (sent only while fresh).
    fare_id = models.CharField(max_length=100, blank=True)
    fare_expires_at = models.DateTimeField(null=True, blank=True)
    # A new generation (a person's retry) gets a new idempotency key; automatic retries
    # and reconciliation keep the key, so the partner can recognise a repeat.
    dispatch_generation = models.PositiveSmallIntegerField(default=0)
    reconcile_attempts = models.PositiveSmallIntegerField(default=0)
    # When the portal last had the partner's word on this trip (create, poll, webhook, GET).
    partner_seen_at = models.DateTimeField(null=True, blank=True)
    # Answers about this trip in a row that lacked what the portal needs (reset by a
    # usable one); past PIPELINE_UNUSABLE_ANSWERS_MAX the supervisors are alerted.
    unusable_answers = models.PositiveSmallIntegerField(default=0)

    # Cancellation outbox: the request is recorded first; the partner is told by a task.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancel_due_at = models.DateTimeField(null=True, blank=True)
    cancel_attempts = models.PositiveSmallIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RideQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["unit", "-created_at"]),
            models.Index(fields=["partner_account", "status"]),
            models.Index(
                fields=["dispatch_due_at"],
                name="ride_dispatch_outbox",
                condition=models.Q(status__in=["requested", "dispatching", "dispatch_unknown"]),
            ),
            models.Index(
                fields=["receipt_due_at"],
                name="ride_receipt_due",
                condition=models.Q(receipt__isnull=True, receipt_due_at__isnull=False),
            ),
            models.Index(
                fields=["cancel_due_at"],
                name="ride_cancel_due",
                condition=models.Q(cancel_due_at__isnull=False),
            ),
            models.Index(
                fields=["partner_account", "partner_seen_at"],
                name="ride_active_partner_seen",
                condition=models.Q(
                    status__in=["scheduled", "searching", "driver_assigned", "arriving", "on_trip"]
                ),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["partner_account", "partner_trip_id"],
                condition=~models.Q(partner_trip_id=""),
                name="one_ride_per_partner_trip",
            ),
            models.CheckConstraint(
                condition=models.Q(passenger_count__gte=1, passenger_count__lte=6),
                name="passenger_count_1_to_6",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_active(self) -> bool:
        return self.status not in TERMINAL and self.status not in HELD

    @property
    def can_cancel(self) -> bool:
        return self.status in CANCELLABLE

    @property
    def can_rebook(self) -> bool:
        return self.status in {S.NO_DRIVER, S.CANCELLED, S.FAILED, S.NEEDS_ATTENTION}

    def apply_transition(
        self,
        new_status: str,
        *,
        cause: str,
        actor=None,
        partner_status: str = "",
        partner_updated_at: dt.datetime | None = None,
        reason: str = "",
        note: str = "",
    ) -> TransitionResult:
        """The one way a ride's status changes. Call on a row locked with select_for_update.

        - partner data older than (or as old as) what we hold is ignored (stale);
        - the same state again is ignored (repeat), though newer partner data is kept;
        - a move not in ALLOWED is refused and changes nothing;
        - an applied move writes one TripEvent.
        Saving the other fields of the ride stays with the caller, in the same transaction.
        """
        previous = self.status
        if (
            partner_updated_at is not None
            and self.partner_updated_at is not None
            and partner_updated_at <= self.partner_updated_at
        ):
            return TransitionResult(TransitionOutcome.STALE, previous, previous)
        if new_status == previous:
            if partner_updated_at is not None:
                self.partner_updated_at = partner_updated_at
                self.partner_status = partner_status or self.partner_status
            return TransitionResult(TransitionOutcome.REPEAT, previous, previous)
        if new_status not in ALLOWED[previous]:
            return TransitionResult(TransitionOutcome.REFUSED, previous, previous)
        now = timezone.now()
        self.status = new_status
        self.status_changed_at = now
        if reason or new_status not in HELD:
            self.status_reason = reason
        if partner_updated_at is not None:
            self.partner_updated_at = partner_updated_at
        if partner_status:
            self.partner_status = partner_status
        self.save()
        event = TripEvent.objects.create(
            ride=self,
            at=now,
            cause=cause,
            actor=actor,
            previous_status=previous,
            new_status=new_status,
            partner_status=partner_status,
            partner_updated_at=partner_updated_at,
            note=(reason or note)[:500],
        )
        return TransitionResult(TransitionOutcome.APPLIED, previous, new_status, event)


class TripEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("the trip log is append-only")

    def delete(self):
        raise TypeError("the trip log is append-only")


class TripEvent(models.Model):
    """One row per status change of a ride; never updated or deleted (a trigger enforces it)."""

    ride = models.ForeignKey(Ride, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    cause = models.CharField(max_length=20, choices=Cause.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    previous_status = models.CharField(max_length=20, choices=RideStatus.choices, blank=True)
    new_status = models.CharField(max_length=20, choices=RideStatus.choices)
    partner_status = models.CharField(max_length=40, blank=True)
    partner_updated_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    objects = TripEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ride", "at"])]

    def __str__(self):
        return f"{self.ride_id}: {self.previous_status} → {self.new_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("the trip log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("the trip log is append-only")


class WebhookEvent(models.Model):
    """A partner webhook that passed verification, deduplicated by its id.

    Only ids, the status and its time are kept (the webhook body is a hint; the trip
    itself is re-read from the partner when details are needed).
    """

    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="webhook_events"
    )
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=40)
    trip_id = models.CharField(max_length=100, blank=True)
    external_reference = models.CharField(max_length=64, blank=True)
    partner_status = models.CharField(max_length=40, blank=True)
    partner_updated_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="webhook_event_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "event_id"], name="one_webhook_per_event_id")
        ]

    def __str__(self):
        return f"{self.account_id}:{self.event_id}"


class WebhookRejectionReason(models.TextChoices):
    BAD_SIGNATURE = "bad_signature", _("signature does not verify")
    MISSING_HEADERS = "missing_headers", _("webhook headers missing")
    TIMESTAMP_OUT_OF_WINDOW = "timestamp_window", _("timestamp more than 5 minutes away")
    MALFORMED = "malformed", _("body is not a webhook event")


class WebhookRejection(models.Model):
    """How many webhooks of an account were refused, per day and reason.

    A counter rather than a row per request: whoever sends forged requests cannot grow
    the table without bound, and supervisors still see that something is wrong.
    """

    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="webhook_rejections"
    )
    day = models.DateField()
    reason = models.CharField(max_length=20, choices=WebhookRejectionReason.choices)
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()
    last_webhook_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-day", "account", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "reason"], name="one_rejection_counter_per_day"
            )
        ]

    def __str__(self):
        return f"{self.account_id} {self.day} {self.reason}: {self.count}"


class PollState(models.Model):
    """Where batched polling of one partner account stands."""

    account = models.OneToOneField(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="poll_state"
    )
    # The newest partner `updated_at` seen in a list answer; the next poll asks from a
    # little before it (the overlap catches changes committed out of order).
    watermark = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_calls = models.PositiveIntegerField(default=0)
    last_trips = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    # Where the last poll stopped when it ran out of its call budget (resumed next time).
    cursor = models.CharField(max_length=500, blank=True)
    # A verified webhook arrived recently: polling can slow down (webhooks are faster,
    # polling stays as the safety net).
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"poll state of {self.account_id}"


class AlertKind(models.TextChoices):
    NEEDS_ATTENTION = "needs_attention", _("Ride needs attention")
    RIDE_FAILED = "ride_failed", _("Ride failed at the partner")
    CANCEL_FAILED = "cancel_failed", _("Cancellation not confirmed by the partner")
    PARTNER_DOWN = "partner_down", _("Partner not answering")
    PARTNER_DATA_UNUSABLE = "partner_data_unusable", _("Partner's answers about a ride unreadable")


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def for_supervisor(self, user):
        """The unit's alerts, and those about a partner account (every unit books with it)."""
        if user.role != "supervisor":
            return self.none()
        return self.filter(models.Q(unit_id=user.unit_id) | models.Q(unit__isnull=True))


class Alert(models.Model):
    """Something a unit's supervisors must look at; nothing in the pipeline fails silently.

    The message is written for people and holds no survivor data (the ride's reference
    leads to the rest, for those allowed to see it).
    """

    # None for an alert about a partner account, which every unit's supervisors see.
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    ride = models.ForeignKey(
        Ride, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    partner_account = models.ForeignKey(
        "partners.PartnerAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
    )
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # When the condition ended on its own (the partner answers again); a person still
    # acknowledges the alert (resolved_at).
    cleared_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["unit", "-created_at"],
                name="alert_open_by_unit",
                condition=models.Q(resolved_at__isnull=True),
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ride", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_alert_per_ride_and_kind",
            ),
            models.UniqueConstraint(
                fields=["partner_account", "kind"],
                condition=models.Q(
                    ride__isnull=True, resolved_at__isnull=True, cleared_at__isnull=True
                ),
                name="one_ongoing_alert_per_account_and_kind",
            ),
        ]

    def __str__(self):
        return f"{self.kind} for {self.ride_id or self.unit_id}"
