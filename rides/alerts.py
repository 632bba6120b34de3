"""Alerts for a unit's supervisors: a ride that cannot proceed never fails silently.

Raised by the pipeline (in the same transaction as the state change that needs them),
resolved by a person or when the ride is retried. At most one open alert per ride and
kind (a partial unique constraint), so a repeated failure does not pile up alerts.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from rides.models import Alert, Ride

log = logging.getLogger("rides.alerts")


def alert_raise(*, ride: Ride, kind: str, message: str) -> Alert:
    """Opens an alert for the ride's unit, or returns the open one of the same kind."""
    existing = Alert.objects.open().filter(ride=ride, kind=kind).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                unit_id=ride.unit_id, ride=ride, kind=kind, message=message[:2000]
            )
    except IntegrityError:
        # Raised concurrently by another worker: theirs is the open one.
        return Alert.objects.open().get(ride=ride, kind=kind)
    log.warning(
        "alert raised: alert=%s kind=%s ride=%s unit=%s", alert.pk, kind, ride.pk, ride.unit_id
    )
    return alert


def alert_resolve(*, alert_id: int, user) -> Alert:
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.resolved_at is None:
            alert.resolved_at = timezone.now()
            alert.resolved_by = user
            alert.save(update_fields=["resolved_at", "resolved_by"])
    return alert


def alerts_resolve_for_ride(*, ride: Ride, user=None, kinds: tuple[str, ...] | None = None) -> int:
    """Closes the ride's open alerts (of `kinds`, or all) once someone acted on it."""
    alerts = Alert.objects.open().filter(ride=ride)
    if kinds:
        alerts = alerts.filter(kind__in=kinds)
    return alerts.update(resolved_at=timezone.now(), resolved_by=user)
