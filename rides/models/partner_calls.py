"""The partner calls made for a ride: one append-only row per call the pipeline makes to
the partner about one ride — what it was (estimate, create, read, look-up, cancel,
receipt), when, how long it took and how it ended (answered, the HTTP status of an error
answer, no answer in time, no connection, an answer that could not be read, not sent at
all). A supervisor reads them in the ride's timeline beside the trip log.

Never a request or response body (they carry the rider's alias, phone and points): only
the operation, times, the outcome, the HTTP status and, for an error answer, the
contract's error code. The batched poll of many trips is not recorded here: one list call
speaks for every active trip of an account (rides.PollState keeps the last poll's
outcome per account), and a row per poll would bury the rides' own calls.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PartnerOperation(models.TextChoices):
    ESTIMATE = "estimate", _("Fare asked for")
    CREATE_TRIP = "create_trip", _("Trip sent")
    GET_TRIP = "get_trip", _("Trip read")
    FIND_TRIP = "find_trip", _("Trip looked up by reference")
    CANCEL_TRIP = "cancel_trip", _("Cancellation sent")
    RECEIPT = "receipt", _("Receipt asked for")


class CallOutcome(models.TextChoices):
    OK = "ok", _("answered")
    HTTP_ERROR = "http_error", _("error answer")
    TIMEOUT = "timeout", _("no answer in time")
    CONNECTION_ERROR = "connection_error", _("no connection")
    UNUSABLE = "unusable", _("answer could not be read")
    NOT_SENT = "not_sent", _("not sent (partner down or busy)")
    ERROR = "error", _("failed in the portal")


class PartnerCallQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("partner calls are append-only")

    def delete(self):
        raise TypeError("partner calls are append-only")


class PartnerCall(models.Model):
    """One call to the partner about one ride; never updated or deleted (a trigger
    enforces it)."""

    # Nullable: a call made before a ride existed, or kept when one is ever removed.
    ride = models.ForeignKey(
        "rides.Ride",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partner_calls",
        db_index=False,  # the (ride, at) index below serves every lookup by ride
    )
    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.PROTECT, related_name="+"
    )
    operation = models.CharField(max_length=20, choices=PartnerOperation.choices)
    at = models.DateTimeField(default=timezone.now)  # when the call started
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=CallOutcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The contract's error code of an error answer ("fare_expired"); empty otherwise.
    error_code = models.CharField(max_length=40, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)

    objects = PartnerCallQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ride", "at"], name="partnercall_ride_at")]

    def __str__(self):
        return f"{self.ride_id}: {self.operation} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("partner calls are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("partner calls are append-only")

    @property
    def outcome_text(self) -> str:
        """The outcome in the reader's language, with the status and code of an error
        answer: "error answer (HTTP 409, fare_expired)"."""
        text = str(self.get_outcome_display())
        details = [f"HTTP {self.http_status}"] if self.http_status else []
        if self.error_code:
            details.append(self.error_code)
        return f"{text} ({', '.join(details)})" if details else text

    @property
    def ok(self) -> bool:
        return self.outcome == CallOutcome.OK
