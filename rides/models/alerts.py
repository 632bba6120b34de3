"""Alerts: a ride that cannot proceed or goes wrong on the road, a partner that is down
(for supervisors), the fund running low (for admins). Every alert and its acknowledgement
is kept; acknowledging (resolved_at, resolved_by, acknowledgement_note) ends it on the
board, never deletes it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.crypto import EncryptedTextField
from rides.models.stored_texts import stored_text


class AlertKind(models.TextChoices):
    NEEDS_ATTENTION = "needs_attention", _("Ride needs attention")
    RIDE_FAILED = "ride_failed", _("Ride failed at the partner")
    CANCEL_FAILED = "cancel_failed", _("Cancellation not confirmed by the partner")
    PARTNER_DOWN = "partner_down", _("Partner not answering")
    PARTNER_DATA_UNUSABLE = "partner_data_unusable", _("Partner's answers about a ride unreadable")
    # Raised by the monitoring rules (on every status or location change, and by beat).
    NO_DRIVER_YET = "no_driver_yet", _("No driver yet")
    APPROVAL_WAITING = "approval_waiting", _("Waiting too long for approval")
    NO_PROGRESS = "no_progress", _("No progress")
    TRIP_OVERRUN = "trip_overrun", _("Trip much longer than estimated")
    CAR_STOPPED = "car_stopped", _("Car stopped mid-trip")
    OFF_CORRIDOR = "off_corridor", _("Car far off the route")
    DRIVER_CANCELLED = "driver_cancelled", _("Driver cancelled")
    DISPATCH_UNKNOWN = "dispatch_unknown", _("Not known whether the partner has the ride")
    ARRIVAL_UNCONFIRMED = "arrival_unconfirmed", _("Safe arrival not confirmed")
    ARRIVAL_PROBLEM = "arrival_problem", _("Problem reported after the ride")
    # For admins: the fund.
    LOW_BALANCE = "low_balance", _("Fund balance low")
    FUNDS_RUN_OUT = "funds_run_out", _("Fund forecast to run out before the next tranche")


class Audience(models.TextChoices):
    SUPERVISORS = "supervisors", _("Supervisors")
    ADMINS = "admins", _("Administrators")


# The kinds about the fund, shown to admins only.
ADMIN_KINDS = frozenset({AlertKind.LOW_BALANCE, AlertKind.FUNDS_RUN_OUT})


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def for_supervisor(self, user):
        """The unit's alerts (every unit's for the provincial centre), and those about a
        partner account (every unit books with it)."""
        if user.role != "supervisor":
            return self.none()
        alerts = self.filter(audience=Audience.SUPERVISORS)
        if user.unit is not None and user.unit.oversees_all_units:
            return alerts
        return alerts.filter(models.Q(unit_id=user.unit_id) | models.Q(unit__isnull=True))

    def for_admin(self, user):
        if user.role != "admin":
            return self.none()
        return self.filter(audience=Audience.ADMINS)

    def for_user(self, user):
        """What `user` is shown: supervisors their units', admins the fund's, others none."""
        if user.role == "admin":
            return self.for_admin(user)
        return self.for_supervisor(user)


class Alert(models.Model):
    """Something a unit's supervisors must look at; nothing in the pipeline fails silently.

    The message is written for people and holds no survivor data (the ride's reference
    leads to the rest, for those allowed to see it).
    """

    case_key_owner = "ride.case_id"  # a ride's alert is sealed with its case's data key

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
    audience = models.CharField(
        max_length=20, choices=Audience.choices, default=Audience.SUPERVISORS
    )
    message = EncryptedTextField()  # may quote a ride's reason or a partner's error
    created_at = models.DateTimeField(default=timezone.now)
    # When the condition ended on its own (the partner answers again); a person still
    # acknowledges the alert (resolved_at).
    cleared_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the person who acknowledged it wrote (may describe the survivor's situation).
    acknowledgement_note = EncryptedTextField(blank=True)
    # When the email to the audience went out (sent once, ids and links only).
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["unit", "-created_at"],
                name="alert_open_by_unit",
                condition=models.Q(resolved_at__isnull=True),
            ),
            models.Index(fields=["ride"], name="alert_by_ride"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ride", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_alert_per_ride_and_kind",
            ),
            # One ongoing fund alert of each kind.
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(
                    audience="admins", resolved_at__isnull=True, cleared_at__isnull=True
                ),
                name="one_ongoing_admin_alert_per_kind",
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

    @property
    def message_text(self) -> str:
        """The message in the reader's language (rides/models/stored_texts.py)."""
        return stored_text(self.message)
