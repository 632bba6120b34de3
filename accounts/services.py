"""Writes to units, users and API tokens (the demo seed, the token command and the admin
pages use these), and the log of what administrators change."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import AdminChange, ApiToken, Role, TokenScope, Unit, User, hash_token
from audit.models import Kind
from audit.services import audit_record

SECRET_CHANGED = "changed"


def admin_change_record(
    *, actor: User | None, subject: str, obj, label: str, action: str, changes: dict | None = None
) -> AdminChange:
    """Writes one row of the change log, and the same change to the audit trail.
    `changes` holds {field: [old, new]}; a secret's entry is only SECRET_CHANGED, never
    its value."""
    audit_record(
        Kind.CHANGE,
        action=action,
        actor=actor,
        object_type=subject,
        object_id=obj.pk,
        unit_id=obj.pk if subject == AdminChange.Subject.UNIT else getattr(obj, "unit_id", None),
        changes=changes,
    )
    return AdminChange.objects.create(
        actor=actor,
        subject=subject,
        subject_id=obj.pk,
        subject_label=label[:200],
        action=action,
        changes=changes or {},
    )


def field_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} for each field whose value differs."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


# --- units ---------------------------------------------------------------------------


@transaction.atomic
def unit_ensure(*, code: str, name: str, kind: str) -> tuple[Unit, bool]:
    return Unit.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


def _unit_problems(*, name: str, kind: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not name:
        problems["name"] = [_("Enter the unit's name.")]
    elif len(name) > Unit._meta.get_field("name").max_length:
        problems["name"] = [_("Shorten the name to 120 characters.")]
    if kind not in Unit.Kind.values:
        problems["kind"] = [_("Choose the kind of unit.")]
    return problems


@transaction.atomic
def unit_create(*, actor: User, code: str, name: str, kind: str) -> Unit:
    code, name = code.strip().upper(), name.strip()
    problems = _unit_problems(name=name, kind=kind)
    if not code:
        problems["code"] = [_("Enter a short code, e.g. JAKTIM.")]
    elif Unit.objects.filter(code__iexact=code).exists():
        problems["code"] = [_("A unit with the code %(code)s exists already.") % {"code": code}]
    if problems:
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            unit = Unit.objects.create(code=code, name=name, kind=kind)
    except IntegrityError:
        raise ValidationError(
            {"code": [_("A unit with the code %(code)s exists already.") % {"code": code}]}
        ) from None
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.UNIT,
        obj=unit,
        label=unit.code,
        action="created",
        changes={"code": [None, code], "name": [None, name], "kind": [None, kind]},
    )
    return unit


@transaction.atomic
def unit_rename(*, actor: User, unit: Unit, name: str, kind: str | None = None) -> Unit:
    name = name.strip()
    kind = kind or unit.kind
    problems = _unit_problems(name=name, kind=kind)
    if problems:
        raise ValidationError(problems)
    changes = field_changes({"name": unit.name, "kind": unit.kind}, {"name": name, "kind": kind})
    if changes:
        unit.name, unit.kind = name, kind
        unit.save(update_fields=["name", "kind"])
        admin_change_record(
            actor=actor,
            subject=AdminChange.Subject.UNIT,
            obj=unit,
            label=unit.code,
            action="renamed",
            changes=changes,
        )
    return unit


# --- users ---------------------------------------------------------------------------


@transaction.atomic
def user_ensure(
    *, username: str, role: str, unit: Unit | None, password: str, first_name: str = ""
) -> tuple[User, bool]:
    """Creates the user if absent; an existing user is left exactly as it is."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = User(username=username, role=role, unit=unit, first_name=first_name)
    user.is_staff = role == Role.ADMIN
    user.set_password(password)
    user.full_clean()
    user.save()
    return user, True


def _role_problems(role: str, unit: Unit | None) -> dict[str, list[str]]:
    if role not in Role.values:
        return {"role": [_("Choose a role.")]}
    if role != Role.ADMIN and unit is None:
        return {"unit": [_("Caseworkers and supervisors belong to a unit: choose one.")]}
    return {}


def set_password_url(user: User) -> str:
    """The one-time link of an invitation: Django's password-reset token, which stops
    working once a password is set (and after PASSWORD_RESET_TIMEOUT)."""
    path = reverse(
        "password_set",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _send_invitation(user: User) -> None:
    link = set_password_url(user)
    send_mail(
        _("Your account for the safe rides portal"),
        _(
            "An account was made for you on the safe rides portal of Dinas PPAPP "
            "(user name: %(username)s).\n\nChoose your password here; the link works once:\n"
            "%(link)s\n"
        )
        % {"username": user.get_username(), "link": link},
        None,
        [user.email],
    )


@transaction.atomic
def user_invite(
    *,
    actor: User,
    username: str,
    email: str,
    role: str,
    unit: Unit | None,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Creates the user without a password and emails a one-time set-password link
    (after commit)."""
    username, email = username.strip(), email.strip()
    problems = _role_problems(role, unit)
    if not username:
        problems["username"] = [_("Enter a user name.")]
    elif User.objects.filter(username__iexact=username).exists():
        problems["username"] = [_("The user name %(username)s is taken.") % {"username": username}]
    if not email:
        problems["email"] = [_("Enter the email address the invitation goes to.")]
    if problems:
        raise ValidationError(problems)
    user = User(
        username=username,
        email=email,
        role=role,
        unit=unit,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        is_staff=role == Role.ADMIN,
    )
    user.set_unusable_password()
    try:
        user.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    user.save()
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.USER,
        obj=user,
        label=user.get_username(),
        action="invited",
        changes={"role": [None, role], "unit": [None, unit.code if unit else None]},
    )
    transaction.on_commit(lambda: _send_invitation(user))
    return user


def _tell_supervisors_to_reassign(*, unit: Unit, user: User, case_codes: list[str]) -> None:
    """Tells the old unit's supervisors which cases need another caseworker: the case
    codes and their links only, nothing about the survivors."""
    recipients = list(
        User.objects.filter(unit=unit, role=Role.SUPERVISOR, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients or not case_codes:
        return
    base = settings.PORTAL_BASE_URL.rstrip("/")
    lines = [
        f"{code}: {base}{reverse('cases:detail', kwargs={'code': code})}" for code in case_codes
    ]
    send_mail(
        _("Cases to reassign in %(unit)s") % {"unit": unit.code},
        _(
            "User %(username)s moved to another unit and is no longer assigned to these "
            "cases of %(unit)s. Please assign another caseworker:\n\n%(cases)s\n"
        )
        % {"username": user.get_username(), "unit": unit.code, "cases": "\n".join(lines)},
        None,
        recipients,
    )


@transaction.atomic
def user_update(*, actor: User, user: User, role: str, unit: Unit | None) -> User:
    """Changes a user's role and unit. Moved to another unit, the user's assignments to
    the old unit's cases end and the old unit's supervisors are told (by email, after
    commit) which cases to reassign."""
    problems = _role_problems(role, unit)
    if user.pk == actor.pk and role != Role.ADMIN:
        problems.setdefault("role", []).append(_("You cannot take away your own admin role."))
    if problems:
        raise ValidationError(problems)
    user = User.objects.select_for_update().get(pk=user.pk)
    old_unit = user.unit
    changes = field_changes(
        {"role": user.role, "unit": old_unit.code if old_unit else None},
        {"role": role, "unit": unit.code if unit else None},
    )
    if not changes:
        return user
    user.role, user.unit = role, unit
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["role", "unit", "is_staff"])
    ended: list[str] = []
    if old_unit is not None and (unit is None or unit.pk != old_unit.pk):
        left_behind = user.assigned_cases.filter(unit=old_unit)
        ended = sorted(left_behind.values_list("code", flat=True))
        user.assigned_cases.remove(*left_behind)
        if ended:
            changes["assignments_ended"] = ended
            transaction.on_commit(
                lambda: _tell_supervisors_to_reassign(unit=old_unit, user=user, case_codes=ended)
            )
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.USER,
        obj=user,
        label=user.get_username(),
        action="changed",
        changes=changes,
    )
    return user


def _end_sessions(user: User) -> int:
    """Deletes every stored session of the user (all browsers and devices)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """The user can no longer sign in: every session ends and every API token is revoked."""
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    user.is_active = False
    # A new password hash also invalidates any session not stored in the database.
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    sessions = _end_sessions(user)
    tokens = user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.USER,
        obj=user,
        label=user.get_username(),
        action="deactivated",
        changes={"is_active": [True, False], "sessions_ended": sessions, "tokens_revoked": tokens},
    )
    return user


# --- API tokens ------------------------------------------------------------------------


def _token_label(token: ApiToken) -> str:
    return f"{token.prefix}… ({token.user.get_username()})"


@transaction.atomic
def api_token_issue(
    *,
    user: User,
    name: str = "",
    expires_at: dt.datetime | None = None,
    actor: User | None = None,
    scope: str = TokenScope.BOOK,
) -> str:
    """Issues a token and returns its raw value, the only time it is known: only its
    hash is stored. `scope` "read" allows safe methods only; "book" also writes."""
    name = name.strip()
    problems: dict[str, list[str]] = {}
    if not user.is_active:
        problems["user"] = [_("This user is deactivated; a token for them would not work.")]
    if len(name) > ApiToken._meta.get_field("name").max_length:
        problems["name"] = [_("Shorten the name to 80 characters.")]
    if expires_at is not None and expires_at <= timezone.now():
        problems["expires_at"] = [_("Choose an expiry in the future.")]
    if scope not in TokenScope.values:
        problems["scope"] = [_("Choose what the token may do.")]
    if problems:
        raise ValidationError(problems)
    raw = ApiToken.new_raw_key()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=hash_token(raw),
        prefix=raw[4:12],
        expires_at=expires_at,
        scope=scope,
    )
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.API_TOKEN,
        obj=token,
        label=_token_label(token),
        action="issued",
        changes={
            "name": [None, name],
            "expires_at": [None, _iso(expires_at)],
            "scope": [None, scope],
        },
    )
    return raw


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@transaction.atomic
def api_token_expire(*, actor: User, token: ApiToken, expires_at: dt.datetime | None) -> ApiToken:
    """Sets (or clears) the token's expiry; a token past its expiry fails authentication."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError({"expires_at": [_("This token is revoked already.")]})
    changes = field_changes(
        {"expires_at": _iso(token.expires_at)}, {"expires_at": _iso(expires_at)}
    )
    if changes:
        token.expires_at = expires_at
        token.save(update_fields=["expires_at"])
        admin_change_record(
            actor=actor,
            subject=AdminChange.Subject.API_TOKEN,
            obj=token,
            label=_token_label(token),
            action="expiry_set",
            changes=changes,
        )
    return token


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        admin_change_record(
            actor=actor,
            subject=AdminChange.Subject.API_TOKEN,
            obj=token,
            label=_token_label(token),
            action="revoked",
        )
    return token
