"""Alerts for supervisors: a ride that cannot proceed, or a partner that is down."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
        "rides.Ride", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
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
