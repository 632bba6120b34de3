"""The ride: what was booked, where it stands, and what the partner said about it.

The ride row is the dispatch outbox: it is written with its intent (status `requested`,
`dispatch_due_at`) in the booking transaction, and the pipeline (rides/pipeline/,
driven by rides/tasks.py) carries it to the partner. Every status change goes through
`Ride.apply_transition`, on a row locked with select_for_update, by the rules of
rides/models/states.py, and is written as an append-only TripEvent.
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
from rides.models.notices import notices_write
from rides.models.states import (
    ALLOWED,
    BEFORE_PARTNER,
    CANCELLABLE,
    HELD,
    ON_BOARD_STATUSES,
    REBOOKABLE,
    TERMINAL,
    RideStatus,
    TransitionOutcome,
)
from rides.models.stored_texts import stored_text
from rides.models.trip_log import TripEvent

S = RideStatus

# How the last dispatch error of a ride waiting for the partner's rate limit begins.
PACED_ERROR_PREFIX = "rate_limited"


class Purpose(models.TextChoices):
    MEDICAL_EXAM = "medical_exam", _("Medical examination (visum)")
    POLICE_REPORT = "police_report", _("Police report")
    COURT_HEARING = "court_hearing", _("Court hearing")
    COUNSELLING = "counselling", _("Counselling")
    SAFE_HOUSE_TRANSFER = "safe_house_transfer", _("Safe-house transfer")
    RETURN_HOME = "return_home", _("Return home")
    OTHER = "other", _("Other")


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
    def dispatch_overdue(self, now: dt.datetime):
        return self.filter(
            status__in=BEFORE_PARTNER,
            dispatch_due_at__lte=now,
        )

    def visible_to(self, user):
        """Need to know: a caseworker's own cases in their unit, a supervisor's unit,
        nobody else (the same rule as cases.selectors.cases_visible_to)."""
        if user.role == "supervisor":
            return self.filter(unit_id=user.unit_id)
        if user.role == "caseworker" and user.unit_id is not None:
            # The person's cases read first, then their rides by case_id = ANY(ids): the
            # planner counts their rides right, and a list newest first walks ride_created
            # to its page, where a join (or IN a subquery) it thought a tenth as large
            # read and sorted every ride of the person's cases (docs/benchmarks.md, "The
            # caseworker's lists").
            cases = self.model._meta.get_field("case").related_model.objects.filter(
                assigned_caseworkers=user, unit_id=user.unit_id
            )
            return self.filter(case_id__in=list(cases.values_list("pk", flat=True)))
        return self.none()


class Ride(models.Model):
    case_key_owner = "case_id"  # every encrypted field is sealed with the case's data key

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
    # into what the partner receives (see rides/pipeline/payload.py).
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
    # The partner could not give a fare at booking, or the quoted one's lock ran out: the
    # dispatch asks for it first and applies the fare rules then (rides/rules.py).
    fare_check_at_dispatch = models.BooleanField(default=False)
    # The fare a person agreed to: booked under the ceiling, or approved by a supervisor.
    # A fresh quote at dispatch too far above it goes back to approval.
    agreed_fare = models.PositiveIntegerField(null=True, blank=True)

    # Approval (SOP: fare ceiling, service hours)
    approval_reasons = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = EncryptedTextField(blank=True)

    # State
    status = models.CharField(
        max_length=20, choices=RideStatus.choices, default=S.REQUESTED, db_index=True
    )
    status_reason = EncryptedTextField(blank=True)  # readable by the caseworker
    status_changed_at = models.DateTimeField(default=timezone.now)

    # Dispatch (outbox)
    idempotency_key = models.CharField(max_length=80, blank=True)
    dispatch_attempts = models.PositiveSmallIntegerField(default=0)
    dispatch_due_at = models.DateTimeField(null=True, blank=True)
    # By when the ride must have reached the partner: until then temporary failures are
    # retried (SOP: 5 minutes); only after it is a ride the partner never answered for
    # handed to a person.
    dispatch_deadline_at = models.DateTimeField(null=True, blank=True)
    # The partner's error texts may echo what was sent (addresses, notes): encrypted.
    last_dispatch_error = EncryptedTextField(blank=True)
    # Whether the last error says the ride waits for the partner's next minute (the one
    # fact of it the dispatch counts in SQL; kept by save()).
    dispatch_paced = models.BooleanField(default=False)

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

    # Monitoring (rides/pipeline/monitoring.py): where the car was when it last moved 50 m
    # or more, and when; a car that stays near this point mid-trip has stopped.
    driver_anchor_latitude = models.FloatField(null=True, blank=True)
    driver_anchor_longitude = models.FloatField(null=True, blank=True)
    driver_moved_at = models.DateTimeField(null=True, blank=True)

    # After the ride ended: the booker (or a supervisor) confirms the survivor arrived
    # safely, or reports a problem (which may describe the survivor's situation).
    arrival_confirmed_at = models.DateTimeField(null=True, blank=True)
    arrival_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    arrival_problem = EncryptedTextField(blank=True)

    # Cancellation outbox: the request is recorded first; the partner is told by a task.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = EncryptedTextField(blank=True)  # at most 200 characters (pipeline)
    cancel_due_at = models.DateTimeField(null=True, blank=True)
    cancel_attempts = models.PositiveSmallIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RideQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The trip log (supervision/triplog/), newest first and keyset-paged: a unit's
            # rides, and every unit's for the provincial centre. EXPLAIN in
            # docs/trip-log.md.
            models.Index(fields=["unit", "-created_at", "-id"], name="ride_unit_created"),
            models.Index(fields=["-created_at", "-id"], name="ride_created"),
            # The board's window and count (supervision/monitoring/selectors.py): the
            # rides on the board, for every unit and for one.
            models.Index(
                fields=["status_changed_at", "id"],
                name="ride_on_board",
                condition=models.Q(status__in=ON_BOARD_STATUSES),
            ),
            models.Index(
                fields=["unit", "status_changed_at", "id"],
                name="ride_unit_on_board",
                condition=models.Q(status__in=ON_BOARD_STATUSES),
            ),
            models.Index(fields=["booked_by", "-created_at", "-id"], name="ride_booker_created"),
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
                fields=["status_changed_at"],
                name="ride_arrival_unconfirmed",
                condition=models.Q(status="completed", arrival_confirmed_at__isnull=True),
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

    def save(self, *args, **kwargs):
        # The dispatch error is encrypted, so what SQL must see of it is kept beside it
        # (whenever the error is saved; a row read without it is left as it is).
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            saves_error = "last_dispatch_error" not in self.get_deferred_fields()
        else:
            saves_error = "last_dispatch_error" in update_fields
        if saves_error:
            self.dispatch_paced = (self.last_dispatch_error or "").startswith(PACED_ERROR_PREFIX)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "dispatch_paced"}
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status not in TERMINAL and self.status not in HELD

    @property
    def status_reason_text(self) -> str:
        """The status reason in the reader's language (rides/models/stored_texts.py)."""
        return stored_text(self.status_reason)

    @property
    def can_cancel(self) -> bool:
        return self.status in CANCELLABLE

    @property
    def can_rebook(self) -> bool:
        return self.status in REBOOKABLE

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
        save: bool = True,
    ) -> TransitionResult:
        """The one way a ride's status changes. Call on a row locked with select_for_update.

        - partner data older than (or as old as) what we hold is ignored (stale);
        - the same state again is ignored (repeat), though newer partner data is kept;
        - a move not in ALLOWED is refused and changes nothing;
        - an applied move writes one TripEvent, and the notices it is news for
          (rides/models/notices.py).
        Saving the other fields of the ride stays with the caller, in the same transaction;
        with save=False the caller saves the ride itself (once, with those fields).
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
        if new_status in TERMINAL:
            # The driver's last position says where the survivor went: kept only while
            # the trip runs (a cancellation or a rejection ends it here too).
            self.driver_latitude = self.driver_longitude = None
        if save:
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
        notices_write(event)
        return TransitionResult(TransitionOutcome.APPLIED, previous, new_status, event)
