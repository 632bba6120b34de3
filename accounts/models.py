"""Units (service offices), users with their role, API tokens (only a hash stored; a
scope), the answers to API requests made with an Idempotency-Key, the log of
administrators' changes, and the second factor: a TOTP device (its secret encrypted) and
recovery codes (hashed)."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin

from portal.crypto import EncryptedTextField


class Unit(models.Model):
    """A service office: the provincial centre or a city office. Cases and users belong to one."""

    class Kind(models.TextChoices):
        PROVINCIAL_CENTRE = "provincial_centre", _("Provincial centre")
        CITY_OFFICE = "city_office", _("City office")

    code = models.SlugField(max_length=20, unique=True, help_text=_("Short code, e.g. JAKTIM"))
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def oversees_all_units(self) -> bool:
        """The provincial centre's supervisors watch every unit's rides and alerts."""
        return self.kind == self.Kind.PROVINCIAL_CENTRE


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CASEWORKER)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    phone = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="admin") | models.Q(unit__isnull=False),
                name="non_admin_users_belong_to_a_unit",
            )
        ]

    @property
    def is_caseworker(self) -> bool:
        return self.role == Role.CASEWORKER

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_portal_admin(self) -> bool:
        return self.role == Role.ADMIN


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenScope(models.TextChoices):
    """What a token may do: "read" answers safe methods only; "book" may also write (and
    so read)."""

    READ = "read", _("Read only")
    BOOK = "book", _("Read and book")


class ApiToken(models.Model):
    """A bearer token for an integration; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.BOOK)

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @property
    def may_write(self) -> bool:
        return self.scope == TokenScope.BOOK

    def is_usable(self, now=None) -> bool:
        """Neither revoked nor past its expiry."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @staticmethod
    def new_raw_key() -> str:
        return "srp_" + secrets.token_urlsafe(32)


class IdempotentRequest(models.Model):
    """A creating API request made with an `Idempotency-Key`, kept 24 hours: the same key
    from the same caller with the same body gets this answer again instead of a second
    write. The answer may name a survivor, so it is stored encrypted."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="idempotent_requests")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body, hashed
    status_code = models.PositiveSmallIntegerField(null=True)  # null: still being answered
    response = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


ADMIN_ACTIONS = {
    "created": _("Added"),
    "changed": _("Changed"),
    "enabled": _("Enabled"),
    "disabled": _("Disabled"),
    "webhook_secret_rotated": _("Webhook secret rotated"),
    "invited": _("Invited"),
    "deactivated": _("Deactivated"),
    "renamed": _("Renamed"),
    "issued": _("Issued"),
    "expiry_set": _("Expiry set"),
    "revoked": _("Revoked"),
    "two_factor_reset": _("Two-factor login reset"),
    "unlocked": _("Unlocked after failed logins"),
    "password_reset_sent": _("Password reset link sent"),
}


class AdminChange(models.Model):
    """One change an administrator made (partner accounts, users, units, API tokens): who,
    when, to what, and which fields with their old and new values. A secret's value is
    never recorded, only that it changed."""

    class Subject(models.TextChoices):
        PARTNER_ACCOUNT = "partner_account", _("Partner account")
        USER = "user", _("User")
        UNIT = "unit", _("Unit")
        API_TOKEN = "api_token", _("API token")

    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="admin_changes"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    subject = models.CharField(max_length=20, choices=Subject.choices)
    subject_id = models.BigIntegerField()
    subject_label = models.CharField(max_length=200)
    action = models.CharField(max_length=40)
    # {"field": [old, new]}; a secret: {"client_secret": "changed"}
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subject", "subject_id", "-at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.subject_label}"

    @property
    def action_words(self) -> str:
        return str(ADMIN_ACTIONS.get(self.action, self.action))

    def lines(self) -> list[str]:
        """The changes as "field: old → new" lines (a secret: "field: changed")."""
        shown = []
        for field, value in self.changes.items():
            if isinstance(value, list) and len(value) == 2:
                old, new = ("–" if part in (None, "", []) else part for part in value)
                shown.append(f"{field}: {old} → {new}")
            else:
                shown.append(f"{field}: {value}")
        return shown


class TotpDevice(ThrottlingMixin, Device):
    """An authenticator app's TOTP secret (RFC 6238: 6 digits every 30 seconds), one per
    user. django-otp's own TOTPDevice keeps the key in clear; here it is encrypted with
    the portal's keys. Unconfirmed until the user types one code from the app. Failed
    codes slow the next attempt down (1, 2, 4 … seconds; ThrottlingMixin)."""

    key = EncryptedTextField()  # hex of 20 random bytes
    last_t = models.BigIntegerField(default=-1)  # the last time step used: a code works once
    drift = models.SmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    STEP = 30
    DIGITS = 6
    TOLERANCE = 1  # one step either side: a phone's clock a little off still works

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="one_totp_device_per_user")]

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self.key)

    def verify_token(self, token) -> bool:
        from django_otp.oath import TOTP

        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        token = str(token).replace(" ", "").strip()
        verified = False
        if token.isdigit() and len(token) == self.DIGITS:
            totp = TOTP(self.bin_key, step=self.STEP, digits=self.DIGITS, drift=self.drift)
            verified = totp.verify(int(token), tolerance=self.TOLERANCE, min_t=self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.save(update_fields=["last_t", "drift", *THROTTLE_FIELDS])
        if not verified:
            self.throttle_increment(commit=False)
            self.save(update_fields=THROTTLE_FIELDS)
        return verified


THROTTLE_FIELDS = ["throttling_failure_timestamp", "throttling_failure_count"]


class RecoveryCode(models.Model):
    """A one-time code for a login without the phone; only its hash is stored (Django's
    password hashers), and each works once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"recovery code {self.pk} of {self.user_id}"
