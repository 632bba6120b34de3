"""The SOP values set in the portal (one row per key, and per unit for per-unit keys) and
the append-only history of every change: who, when, what it was and what it became.

A key without a row has its default from the server's settings (sop/registry.py); the
history's `old_value`/`new_value` are null for "the default".
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SopValue(models.Model):
    key = models.CharField(max_length=60)
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    value = models.JSONField()
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(unit__isnull=True), name="sop_value_once_per_key"
            ),
            models.UniqueConstraint(
                fields=["key", "unit"],
                condition=Q(unit__isnull=False),
                name="sop_value_once_per_key_and_unit",
            ),
        ]

    def __str__(self):
        return f"{self.key}={self.value!r}"


class SopChange(models.Model):
    """One changed value; rows are never updated or deleted (sop/migrations/0002)."""

    key = models.CharField(_("setting"), max_length=60)
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    changed_at = models.DateTimeField(db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"{self.key}: {self.old_value!r} → {self.new_value!r}"
