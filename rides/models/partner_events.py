"""What arrives from the partners besides answers to calls: webhook events (and the
count of refused ones), and where batched polling of each partner account stands."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    # Where the head lane stopped: the newest `updated_at` of its last page (None: it
    # starts over a moment ago). Polling's two lanes: rides/pipeline/polling.py.
    head_since = models.DateTimeField(null=True, blank=True)
    # A verified webhook arrived recently: polling can slow down (webhooks are faster,
    # polling stays as the safety net).
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"poll state of {self.account_id}"
