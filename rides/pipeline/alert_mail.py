"""Emailing an alert to its audience, once: ids and links only.

Every new alert is enqueued (its id, on commit) by `alert_enqueue_email`; the task
(rides.email_alert) sends one message per person and marks the alert's `emailed_at`, so
a second run sends nothing. Beat resends those whose message was lost (a broker down at
commit time): `alerts_email_overdue`.

Who is told: for a ride's alert, the active supervisors of the ride's unit and those of
the provincial centre (it oversees every unit); for a partner account's alert, every
active supervisor; for a fund alert, the active admins. The message holds what kind of
alert it is, the ride's reference and links to the pages — never a name, an address, a
phone number or a note: an email leaves the portal's protection.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import get_connection, send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, Unit, User
from portal.queue import enqueue_on_commit
from portal.templatetags.portal_format import when
from rides.models import Alert, AlertKind
from rides.models.alerts import Audience

log = logging.getLogger("rides.alerts")

EMAIL_ALERT = "rides.email_alert"
# An alert not emailed this long after it was raised is sent by beat.
OVERDUE = dt.timedelta(minutes=2)


def alert_enqueue_email(alert: Alert) -> None:
    """Sends the alert's email once the transaction that raised it commits."""
    enqueue_on_commit(EMAIL_ALERT, alert.pk)


def alert_recipients(alert: Alert) -> list[str]:
    """The email addresses of the alert's audience (active people with an address)."""
    people = User.objects.filter(is_active=True).exclude(email="")
    if alert.audience == Audience.ADMINS:
        people = people.filter(role=Role.ADMIN)
    else:
        people = people.filter(role=Role.SUPERVISOR)
        if alert.unit_id is not None:
            people = people.filter(
                Q(unit_id=alert.unit_id) | Q(unit__kind=Unit.Kind.PROVINCIAL_CENTRE)
            )
    return sorted(set(people.values_list("email", flat=True)))


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def alert_email_text(alert: Alert) -> tuple[str, str]:
    """The subject and body: the kind, the ride's reference, the time, the links."""
    kind = AlertKind(alert.kind).label
    reference = alert.ride.reference if alert.ride_id else ""
    if reference:
        subject = _("Alert: %(kind)s (ride %(reference)s)") % {"kind": kind, "reference": reference}
    else:
        subject = _("Alert: %(kind)s") % {"kind": kind}
    lines = [
        _("A new alert in the safe rides portal:"),
        "",
        _("Kind: %(kind)s") % {"kind": kind},
    ]
    if reference:
        lines.append(_("Ride: %(reference)s") % {"reference": reference})
    lines += [
        _("Raised: %(time)s") % {"time": when(alert.created_at)},
        "",
        _("Open alerts: %(link)s") % {"link": _absolute(reverse("supervision:alerts"))},
    ]
    if reference and alert.audience == Audience.SUPERVISORS:
        lines.append(
            _("The ride: %(link)s")
            % {"link": _absolute(reverse("rides:detail", kwargs={"reference": reference}))}
        )
    lines += ["", _("Acknowledge it in the portal with a note of what you did.")]
    return subject, "\n".join(lines) + "\n"


def alert_email_send(*, alert_id: int) -> str:
    """Sends the alert's email to its audience unless it went out already. Answers
    sent, already, nobody (no one to tell) or missing."""
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("ride")
            .filter(pk=alert_id)
            .first()
        )
        if alert is None:
            return "missing"
        if alert.emailed_at is not None:
            return "already"
        recipients = alert_recipients(alert)
        if recipients:
            subject, body = alert_email_text(alert)
            messages = [(subject, body, None, [address]) for address in recipients]
            send_mass_mail(messages, fail_silently=False, connection=get_connection())
        alert.emailed_at = timezone.now()
        alert.save(update_fields=["emailed_at"])
    log.info("alert %s emailed to %s people", alert_id, len(recipients))
    return "sent" if recipients else "nobody"


def alerts_email_overdue(*, now=None) -> int:
    """Enqueues the email of every alert raised a while ago and never emailed (the
    message of its raise was lost). Returns how many."""
    now = now or timezone.now()
    ids = list(
        Alert.objects.filter(emailed_at__isnull=True, created_at__lt=now - OVERDUE)
        .filter(created_at__gt=now - dt.timedelta(days=1))
        .values_list("pk", flat=True)[:200]
    )
    for alert_id in ids:
        enqueue_on_commit(EMAIL_ALERT, alert_id)
    return len(ids)
