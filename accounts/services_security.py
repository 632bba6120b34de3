"""Writes and reads around signing in: ending a user's sessions, what a new password ends
(the other sessions, every API token), the lockout after failed logins (is an account
locked, until when; an administrator's unlock), and an administrator's one-time
password-reset link. The second factor is in accounts/two_factor.py."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AdminChange, User
from accounts.services import admin_change_record, set_password_url


def user_sessions_end(user: User, *, keep_session_key: str | None = None) -> int:
    """Deletes every stored session of the user (all browsers and devices) but the one
    named `keep_session_key`; returns how many ended."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep_session_key:
            continue
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def password_changed(user: User, *, keep_session_key: str | None = None) -> dict[str, int]:
    """After a new password (the change-password page, a reset link, an invitation):
    the user's other sessions end and every API token is revoked (a stolen password's
    tokens must not outlive it)."""
    sessions = user_sessions_end(user, keep_session_key=keep_session_key)
    tokens = user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    return {"sessions_ended": sessions, "tokens_revoked": tokens}


# --- lockout (django-axes) ---------------------------------------------------------------


def _recent_attempts():
    return AccessAttempt.objects.filter(
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME
    )


def locked_until(*, username: str | None = None, ip_address: str | None = None):
    """When a lockout of this user name or address ends; None if neither is locked.
    Counted as django-axes counts: failures within the cool-off, per user name and per
    address, against AXES_FAILURE_LIMIT."""
    latest = None
    for field, value in (("username", username), ("ip_address", ip_address)):
        if not value:
            continue
        found = (
            _recent_attempts()
            .filter(**{field: value})
            .aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        )
        if (found["failures"] or 0) >= settings.AXES_FAILURE_LIMIT:
            until = found["last"] + settings.AXES_COOLOFF_TIME
            latest = until if latest is None else max(latest, until)
    return latest


def user_locked_until(user: User) -> dt.datetime | None:
    return locked_until(username=user.get_username())


@transaction.atomic
def user_unlock(*, actor: User, user: User) -> int:
    """Clears the failed logins counted against the user's name (an administrator, after
    checking with the user); recorded in the change log. Returns the attempts cleared."""
    cleared = axes_reset(username=user.get_username())
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.USER,
        obj=user,
        label=user.get_username(),
        action="unlocked",
        changes={"failed_login_records_cleared": cleared},
    )
    return cleared


# --- an administrator's reset link --------------------------------------------------------


def _send_reset_link(user: User, link: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            _("Choose a new password for the safe rides portal"),
            _(
                "An administrator of the safe rides portal asked for a new password for "
                "your account (user name: %(username)s).\n\nChoose it here; the link works "
                "once and for %(days)s days:\n%(link)s\n\nIf you did not expect this, tell "
                "your supervisor.\n"
            )
            % {
                "username": user.get_username(),
                "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
                "link": link,
            },
            None,
            [user.email],
        )


@transaction.atomic
def password_reset_link_send(*, actor: User, user: User) -> User:
    """Emails the user a one-time link to choose a new password (the invitation's
    set-password mechanism: it stops working once used or after PASSWORD_RESET_TIMEOUT).
    The current password keeps working until the new one is set."""
    if not user.is_active:
        raise ValidationError(_("This user is deactivated; invite them again instead."))
    if not user.email:
        raise ValidationError(_("This user has no email address for the link."))
    link = set_password_url(user)
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.USER,
        obj=user,
        label=user.get_username(),
        action="password_reset_sent",
        changes={"email": user.email},
    )
    transaction.on_commit(lambda: _send_reset_link(user, link))
    return user
