"""The second factor of the login: who must give one, enrolment (a TOTP secret shown as a
QR code and as text, confirmed by one code), recovery codes (shown once, hashed, each works
once), the code step after the password, and an administrator's reset.

What a session still owes is recorded in it at login (SESSION_KEY: "verify", "enrol" or
"passed"); a passed session also carries django-otp's record of the device that verified
it (django_otp.login).
"""

from __future__ import annotations

import base64
import secrets
from urllib.parse import quote, urlencode

import django_otp
import segno
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AdminChange, RecoveryCode, TotpDevice, User
from accounts.services import admin_change_record
from accounts.services_security import user_sessions_end
from audit.models import Kind
from audit.services import audit_record

RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
WRONG = "wrong"


def required_for(user: User) -> bool:
    """Whether the user's role must give a second factor (TWO_FACTOR_REQUIRED_ROLES)."""
    roles = settings.TWO_FACTOR_REQUIRED_ROLES
    return roles == "all" or user.role in roles


def confirmed_device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed=True).first()


SESSION_KEY = "_portal_second_factor"
PASSED = "passed"


def owed_by(user: User) -> str:
    """What the user owes after the password: "verify" (a code from the enrolled
    device), "enrol" (the role needs a device and there is none), or PASSED."""
    if confirmed_device(user) is not None:
        return "verify"
    return "enrol" if required_for(user) else PASSED


def stamp_login(sender, request, user, **kwargs):
    """user_logged_in receiver: the session records what is still owed, so that the gate
    (accounts/middleware.py) needs no query on later requests."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = owed_by(user)


def pending_step(request) -> str | None:
    """What the signed-in user still owes before any page: "verify", "enrol", or None.
    A session from before this rule (nothing recorded) is checked once."""
    if not request.user.is_authenticated:
        return None
    owed = request.session.get(SESSION_KEY)
    if owed is None:
        owed = request.session[SESSION_KEY] = owed_by(request.user)
    return None if owed == PASSED else owed


def _passed(request, device: TotpDevice) -> None:
    django_otp.login(request, device)  # records the device that verified the session
    request.session[SESSION_KEY] = PASSED


# --- enrolment ------------------------------------------------------------------------


def enrolment_device(user: User) -> TotpDevice:
    """The user's device waiting for its first code (made with a fresh secret if none)."""
    device = TotpDevice.objects.filter(user=user).first()
    if device is None:
        device = TotpDevice.objects.create(
            user=user, name="authenticator", key=secrets.token_hex(20), confirmed=False
        )
    return device


def secret_text(device: TotpDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    plain = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def provisioning_uri(device: TotpDevice) -> str:
    issuer = settings.TWO_FACTOR_ISSUER
    label = quote(f"{issuer}:{device.user.get_username()}")
    query = urlencode(
        {
            "secret": secret_text(device).replace(" ", ""),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": TotpDevice.DIGITS,
            "period": TotpDevice.STEP,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(device: TotpDevice) -> str:
    """The provisioning URI as an inline SVG QR code (made here, no outside service)."""
    return segno.make(provisioning_uri(device), error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=_("QR code for the authenticator app")
    )


def enrolment_confirm(request, *, code: str) -> list[str]:
    """Confirms the user's new device with one code from the app, marks this session as
    verified, and returns the recovery codes (the only time they are known)."""
    outcome = _confirm(request, code)
    if isinstance(outcome, list):
        audit_record(Kind.TWO_FACTOR, action="enrolled", actor=request.user, request=request)
    if outcome == "confirmed_already":
        raise ValidationError({"code": [_("Two-factor login is set up already.")]})
    if outcome == WRONG:
        raise ValidationError(
            {"code": [_("That code is not right. Type the 6 digits the app shows now.")]}
        )
    return outcome


@transaction.atomic
def _confirm(request, code: str) -> list[str] | str:
    device = TotpDevice.objects.select_for_update().get(pk=enrolment_device(request.user).pk)
    if device.confirmed:
        return "confirmed_already"
    if not device.verify_token(code):
        return WRONG
    device.confirmed = True
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed", "confirmed_at"])
    _passed(request, device)
    return recovery_codes_new(request.user)


def recovery_codes_new(user: User) -> list[str]:
    """Replaces the user's recovery codes with new ones and returns them in clear once."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = [
        "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)
    ]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=make_password(code)) for code in codes]
    )
    return codes


# --- the code step ---------------------------------------------------------------------


def _normalised_recovery(code: str) -> str:
    letters = "".join(ch for ch in code.lower() if ch in RECOVERY_ALPHABET)
    return f"{letters[:5]}-{letters[5:]}" if len(letters) == 10 else ""


def verify(request, *, code: str) -> str:
    """Checks the code given after the password: a TOTP code from the app, or else an
    unused recovery code (which is used up). On success the session is verified and
    "totp" or "recovery" is returned; a wrong code raises ValidationError. Failures slow
    the next attempts down (the device's throttle counts both kinds) and are kept: the
    check commits before the error is raised."""
    outcome = _check(request, code)
    audit_record(
        Kind.TWO_FACTOR,
        action={WRONG: "wrong_code"}.get(
            outcome, "throttled" if isinstance(outcome, int) else outcome
        ),
        actor=request.user,
        request=request,
    )
    if outcome == "no_device":
        raise ValidationError({"code": [_("Set up two-factor login first.")]})
    if isinstance(outcome, int):
        raise ValidationError(
            {
                "code": [
                    _("Too many wrong codes. Wait %(seconds)s seconds, then try again.")
                    % {"seconds": outcome}
                ]
            }
        )
    if outcome == WRONG:
        raise ValidationError(
            {
                "code": [
                    _(
                        "That code is not right. Type the 6 digits the app shows now, "
                        "or a recovery code."
                    )
                ]
            }
        )
    return outcome


@transaction.atomic
def _check(request, code: str) -> str | int:
    """ "totp", "recovery", WRONG, "no_device", or the seconds to wait (throttled)."""
    device = (
        TotpDevice.objects.select_for_update().filter(user=request.user, confirmed=True).first()
    )
    if device is None:
        return "no_device"
    allowed, details = device.verify_is_allowed()
    if not allowed:
        return max(1, int((details["locked_until"] - timezone.now()).total_seconds()) + 1)
    typed = code.replace(" ", "").strip()
    if typed.isdigit():
        if device.verify_token(typed):  # counts a failure itself
            _passed(request, device)
            return "totp"
        return WRONG
    wanted = _normalised_recovery(typed)
    for candidate in RecoveryCode.objects.select_for_update().filter(
        user=request.user, used_at__isnull=True
    ):
        if wanted and check_password(wanted, candidate.code_hash):
            candidate.used_at = timezone.now()
            candidate.save(update_fields=["used_at"])
            device.throttle_reset()
            _passed(request, device)
            return "recovery"
    device.throttle_increment()
    return WRONG


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# --- an administrator's reset ------------------------------------------------------------


@transaction.atomic
def two_factor_reset(*, actor: User, user: User) -> User:
    """For a user who lost the phone and the recovery codes: the device and the codes are
    deleted and every session of the user ends; the next login asks for a new enrolment
    (if the role needs one). Recorded in the change log."""
    devices = TotpDevice.objects.filter(user=user).delete()[0]
    codes = RecoveryCode.objects.filter(user=user).delete()[0]
    sessions = user_sessions_end(user)
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.USER,
        obj=user,
        label=user.get_username(),
        action="two_factor_reset",
        changes={
            "devices_deleted": devices,
            "recovery_codes_deleted": codes,
            "sessions_ended": sessions,
        },
    )
    return user
