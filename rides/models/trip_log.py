"""The trip log: one append-only row per status change of a ride."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from rides.models.states import Cause, RideStatus


class TripEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("the trip log is append-only")

    def delete(self):
        raise TypeError("the trip log is append-only")


class TripEvent(models.Model):
    """One row per status change of a ride; never updated or deleted (a trigger enforces it)."""

    ride = models.ForeignKey("rides.Ride", on_delete=models.PROTECT, related_name="events")
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
