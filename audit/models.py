"""AuditEvent: one row per thing worth answering for later (a login, a failed login, a
view of protected data, a change, a denied attempt, an export). Append-only: the database
refuses UPDATE, DELETE and TRUNCATE (audit/migrations/0002), and the runtime role has
only SELECT and INSERT on it (audit/roles.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# A protected field's entry in `changes`: only that it changed, never its value.
CHANGED = "changed"


class Kind(models.TextChoices):
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGOUT = "logout", _("Logged out")
    LOCKOUT = "lockout", _("Account locked")
    TWO_FACTOR = "two_factor", _("Two-factor check")
    VIEW_PROTECTED = "view_protected", _("Viewed protected data")
    CHANGE = "change", _("Data changed")
    DENIED = "denied", _("Access denied")
    EXPORT = "export", _("Export")


# What an event is about, by the name its rows carry; the page shows the label.
OBJECT_TYPES = {
    "case": _("Case"),
    "consent": _("Consent"),
    "ride": _("Ride"),
    "place": _("Place"),
    "user": _("User"),
    "unit": _("Unit"),
    "partner_account": _("Partner account"),
    "api_token": _("API token"),
    "funder": _("Funder"),
    "agreement": _("Agreement"),
    "tranche": _("Tranche"),
    "adjustment": _("Adjustment"),
    "sop": _("SOP setting"),
    "report": _("Report"),
    "audit": _("Audit trail"),
}


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("the audit trail is append-only")

    def delete(self):
        raise TypeError("the audit trail is append-only")


class AuditEvent(models.Model):
    """Who (the user, or None for the system; the username as it was, for a failed login
    the one tried), from where (the client address, the path without its query string),
    what kind, about which object (type and id or code, never contents), in which unit,
    and for a change {field: [old, new]} of plain fields, {field: "changed"} of protected
    ones."""

    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    action = models.CharField(max_length=40, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    unit_id = models.IntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_event_at"),
            models.Index(fields=["actor_name", "-at"], name="audit_event_actor_at"),
            models.Index(fields=["kind", "-at"], name="audit_event_kind_at"),
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_event_object_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("the audit trail is append-only")

    @property
    def object_label(self) -> str:
        return str(OBJECT_TYPES.get(self.object_type, self.object_type))

    def change_lines(self) -> list[str]:
        """The changes as "field: old → new" lines (a protected field: "field: changed")."""
        lines = []
        for field, value in self.changes.items():
            if isinstance(value, list) and len(value) == 2:
                old, new = ("–" if part in (None, "", []) else part for part in value)
                lines.append(f"{field}: {old} → {new}")
            else:
                lines.append(f"{field}: {gettext('changed') if value == CHANGED else value}")
        return lines
