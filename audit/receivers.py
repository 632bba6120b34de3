"""Logins, failed logins and logouts, recorded from Django's own signals (whichever view
or backend logs the person in), and lockouts from django-axes' signal. A failed login or
a lockout records the username tried, never the password."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from audit.models import Kind
from audit.services import audit_record


def _logged_in(sender, request, user, **kwargs):
    audit_record(
        Kind.LOGIN,
        actor=user,
        object_type="user",
        object_id=user.pk,
        unit_id=getattr(user, "unit_id", None),
        request=request,
    )


def _logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    audit_record(
        Kind.LOGOUT,
        actor=user,
        object_type="user",
        object_id=user.pk,
        unit_id=getattr(user, "unit_id", None),
        request=request,
    )


def _login_failed(sender, credentials, request=None, **kwargs):
    tried = str(credentials.get("username") or "")[:150]
    audit_record(Kind.LOGIN_FAILED, actor=None, actor_name=tried, request=request)


def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    tried = str(username or "")[:150]
    audit_record(Kind.LOCKOUT, actor=None, actor_name=tried, request=request)


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="audit.login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit.logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit.login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="audit.lockout")
