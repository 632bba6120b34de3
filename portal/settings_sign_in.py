"""Settings of signing in, read from the environment like the rest of portal/settings.py
(which imports them): the authentication backends (django-axes first), the password
rules and hashers, the second factor, the lockout after wrong passwords, and the
session's idle and absolute limits. README "Signing in" says what each does."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ImproperlyConfigured

from portal.settings_env import optional as _optional

# django-axes first: it refuses a locked-out account or address before the password is
# even checked; then Django's own backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_MIN_LENGTH = _optional("PASSWORD_MIN_LENGTH", cast=int, default=12)
if not 8 <= PASSWORD_MIN_LENGTH <= 128:
    raise ImproperlyConfigured("Setting PASSWORD_MIN_LENGTH is malformed: must be 8 to 128.")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Words every Jakartan would try first (accounts/indonesian_passwords.txt).
    {"NAME": "accounts.passwords.IndonesianContextValidator"},
]
# Argon2 hashes new passwords; older hashes still verify and are re-hashed at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# --- the second factor -----------------------------------------------------------------
# Roles that must give a TOTP code (or a recovery code) after the password; "all" adds
# caseworkers. Anyone may enrol; whoever has a device gives a code.
_two_factor_roles = _optional(
    "TWO_FACTOR_REQUIRED_ROLES", cast=list, default=["supervisor", "admin"]
)
TWO_FACTOR_REQUIRED_ROLES = (
    "all" if _two_factor_roles == ["all"] else tuple(role for role in _two_factor_roles if role)
)
# The issuer shown in authenticator apps next to the user name.
TWO_FACTOR_ISSUER = _optional("TWO_FACTOR_ISSUER", default="Antar Aman PPAPP")
TWO_FACTOR_RECOVERY_CODES = 10
# django-axes: after AXES_FAILURE_LIMIT wrong passwords for one user name, or from one
# address, both are refused for the cool-off; failures while locked do not prolong it,
# so nobody can keep an account locked for good. Admins unlock on the user's page.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = _optional("AXES_FAILURE_LIMIT", cast=int, default=10)
AXES_COOLOFF_MINUTES = _optional("AXES_COOLOFF_MINUTES", cast=float, default=15.0)
if not 1 <= AXES_FAILURE_LIMIT <= 1000:
    raise ImproperlyConfigured("Setting AXES_FAILURE_LIMIT is malformed: must be 1 to 1000.")
if not 0.01 <= AXES_COOLOFF_MINUTES <= 7 * 24 * 60:
    raise ImproperlyConfigured("Setting AXES_COOLOFF_MINUTES is malformed: must be 0.01 to 10080.")
AXES_COOLOFF_TIME = dt.timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.sign_in.locked_out"
# The client's address is REMOTE_ADDR only (never a header a client can write); behind
# the TLS proxy, the proxy middleware sets REMOTE_ADDR from its X-Forwarded-For.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# --- sessions ------------------------------------------------------------------------
# The absolute limit of a session (seconds since the login), whatever the activity.
SESSION_COOKIE_AGE = _optional("SESSION_COOKIE_AGE", cast=int, default=10 * 3600)
# Signed out after this many seconds without activity (htmx polls are no activity).
SESSION_IDLE_SECONDS = _optional("SESSION_IDLE_SECONDS", cast=int, default=30 * 60)
if not 60 <= SESSION_IDLE_SECONDS <= SESSION_COOKIE_AGE:
    raise ImproperlyConfigured(
        "Setting SESSION_IDLE_SECONDS is malformed: must be 60 to SESSION_COOKIE_AGE."
    )
