"""Alerts for a unit's supervisors: a ride that cannot proceed never fails silently.

Raised by the pipeline (in the same transaction as the state change that needs them),
resolved by a person or when the ride is retried. Each new alert is emailed to its
audience once the transaction commits (rides/pipeline/alert_mail.py). At most one open
alert per ride and kind (a partial unique constraint), so a repeated failure does not
pile up alerts.

A partner that is down is one alert for its account, not one per ride: raised while the
account's circuit breaker is open, cleared (with the time it came back) once it closes;
every unit's supervisors see it.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.client.registry import breaker_episode
from partners.models import PartnerAccount
from portal.templatetags.portal_format import clock
from rides.models import Alert, AlertKind, Ride
from rides.pipeline.alert_mail import alert_enqueue_email

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
    alert_enqueue_email(alert)
    log.warning(
        "alert raised: alert=%s kind=%s ride=%s unit=%s", alert.pk, kind, ride.pk, ride.unit_id
    )
    return alert


def alert_acknowledge(*, alert_id: int, user, note: str = "") -> Alert:
    """A person has seen the alert and acted (what they did in `note`); it leaves the
    board and stays in the history. A second acknowledgement changes nothing."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.resolved_at is None:
            alert.resolved_at = timezone.now()
            alert.resolved_by = user
            alert.acknowledgement_note = note.strip()[:2000]
            alert.save(update_fields=["resolved_at", "resolved_by", "acknowledgement_note"])
    return alert


def alerts_resolve_for_ride(*, ride: Ride, user=None, kinds: tuple[str, ...] | None = None) -> int:
    """Closes the ride's open alerts (of `kinds`, or all) once someone acted on it."""
    alerts = Alert.objects.open().filter(ride=ride)
    if kinds:
        alerts = alerts.filter(kind__in=kinds)
    return alerts.update(resolved_at=timezone.now(), resolved_by=user)


def partner_outages_watch(*, now=None) -> dict[str, int]:
    """Raises one alert per partner account that is down (its breaker open or probing)
    and clears it, with the time the partner answered again, once the breaker closes.
    Run by beat every few seconds; safe to run twice."""
    now = now or timezone.now()
    ongoing = {
        alert.partner_account_id: alert
        for alert in Alert.objects.filter(
            kind=AlertKind.PARTNER_DOWN,
            ride__isnull=True,
            cleared_at__isnull=True,
            resolved_at__isnull=True,
        )
    }
    counts = {"raised": 0, "cleared": 0}
    for account in PartnerAccount.objects.filter(enabled=True):
        episode = breaker_episode(account)
        alert = ongoing.pop(account.pk, None)
        if episode.down and alert is None:
            since = timezone.localtime(episode.down_since or now)
            message = _(
                "The partner %(account)s has not been answering since %(time)s. Rides are "
                "kept and sent once it answers again; rides it cannot take within their "
                "deadline are handed to their caseworkers."
            ) % {"account": account.name, "time": clock(since)}
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        unit=None,
                        partner_account=account,
                        kind=AlertKind.PARTNER_DOWN,
                        message=message,
                        created_at=episode.down_since or now,
                    )
            except IntegrityError:
                continue  # raised by a concurrent run
            alert_enqueue_email(alert)
            counts["raised"] += 1
            log.error("alert raised: partner account %s is down", account.pk)
        elif not episode.down and alert is not None:
            alert.cleared_at = episode.last_recovered_at or now
            alert.save(update_fields=["cleared_at"])
            counts["cleared"] += 1
            log.warning("partner account %s answers again", account.pk)
    # Accounts switched off while down: nothing will probe them, so the alert ends here.
    for alert in ongoing.values():
        alert.cleared_at = now
        alert.save(update_fields=["cleared_at"])
        counts["cleared"] += 1
    return counts
