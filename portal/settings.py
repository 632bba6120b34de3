"""Settings, all from the environment (django-environ); `.env.example` documents each variable.

A missing or malformed required variable stops the process at start with a message that
names it. Importing this module starts nothing: when DATABASE_URL / REDIS_URL are unset in
development, the entry points (`manage.py`, `make run`, `make test`, the benchmarks) start
the embedded servers (portal/embedded.py) and set the variables before Django reads them.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.envfile import load_env_file
from portal.hours import parse_service_hours
from portal.policies import PERMISSIONS, content_security_policy
from portal.settings_env import env
from portal.settings_env import optional as _optional
from portal.settings_env import required as _required

BASE_DIR = Path(__file__).resolve().parent.parent

load_env_file()


DEBUG = _optional("DJANGO_DEBUG", cast=bool, default=False)
SECRET_KEY = _required("DJANGO_SECRET_KEY")
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "Setting DJANGO_SECRET_KEY is malformed: production needs at least 50 random characters."
    )
ALLOWED_HOSTS = _optional(
    "DJANGO_ALLOWED_HOSTS", cast=list, default=["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = _optional("DJANGO_CSRF_TRUSTED_ORIGINS", cast=list, default=[])

# Keys for survivors' protected fields (Fernet keys, comma separated, newest first: the
# first encrypts, all decrypt, so keys can be rotated without downtime).
FIELD_ENCRYPTION_KEYS = _required("FIELD_ENCRYPTION_KEYS", cast=list)
try:
    from cryptography.fernet import Fernet

    for _key in FIELD_ENCRYPTION_KEYS:
        Fernet(_key)
except ValueError as exc:
    raise ImproperlyConfigured(
        "Setting FIELD_ENCRYPTION_KEYS is malformed: each key must be a Fernet key "
        "(32 url-safe base64-encoded bytes)."
    ) from exc

# --- backing services -----------------------------------------------------------------
_UNSET_SERVER = (
    "Setting {} is missing: set it in the environment or in .env (see .env.example); "
    "in development `manage.py` and `make run` start the embedded servers when it is unset."
)
for _name in ("DATABASE_URL", "REDIS_URL"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(_UNSET_SERVER.format(_name))
try:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"Setting DATABASE_URL is malformed: {exc}") from exc
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Setting DATABASE_URL is malformed: it must be a postgres:// URL.")
DATABASES["default"]["CONN_MAX_AGE"] = _optional("DATABASE_CONN_MAX_AGE", cast=int, default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": _optional("TEST_DATABASE_NAME", default=None)}
# The tables' owner, for migrations only (`manage.py migrate_with_runtime_role ROLE`); the
# portal runs as DATABASE_URL's role, which owns no table (audit/roles.py).
if _optional("DATABASE_MIGRATE_URL", default=""):
    DATABASES["owner"] = {**env.db_url("DATABASE_MIGRATE_URL"), "CONN_MAX_AGE": 0}
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}

REDIS_URL = _optional("REDIS_URL")
if not REDIS_URL or not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("Setting REDIS_URL is malformed: it must be a redis:// URL.")

# --- applications ---------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as static files (no CDN)
    "django_htmx",
    "django_otp",
    "axes",
    "portal",
    "audit",
    "accounts",
    "cases",
    "rides",
    "partners",
    "funding",
    "sop",
    "supervision",
]

MIDDLEWARE = [
    "portal.middleware.TrustedProxyClientAddress",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.SecurityHeaders",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContext",  # the audit trail's request; denied attempts
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Signs out after SESSION_IDLE_SECONDS without activity (views marked @passive, the
    # htmx polls, are no activity) and after SESSION_COOKIE_AGE in any case.
    "portal.middleware.SessionLimits",
    # A user whose role needs a second factor reaches only the sign-in pages until the
    # code is given (accounts/two_factor.py).
    "accounts.middleware.TwoFactorGate",
    "portal.middleware.BrandedNotFound",
    # Last: turns a lockout flagged during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
PERMISSIONS_POLICY = PERMISSIONS

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Signing in: backends, password rules and hashers, the second factor, lockout, the
# session's limits (README "Signing in").
from portal.settings_sign_in import *  # noqa: E402,F403

# --- language, time, money --------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(_optional("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag, not the cookie
X_FRAME_OPTIONS = "DENY"
# The TLS proxy in front of gunicorn (addresses or networks, comma separated): only its
# X-Forwarded-For and X-Forwarded-Proto are believed. Empty: no proxy is trusted.
PORTAL_TRUSTED_PROXIES = _optional("PORTAL_TRUSTED_PROXIES", cast=list, default=[])
for _proxy in PORTAL_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"Setting PORTAL_TRUSTED_PROXIES is malformed: {_exc}") from None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = _optional("DJANGO_SECURE_SSL_REDIRECT", cast=bool, default=True)
    # Believed only from PORTAL_TRUSTED_PROXIES (portal.middleware.TrustedProxyClientAddress
    # drops the header from anyone else).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _optional("DJANGO_HSTS_SECONDS", cast=int, default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST API: portal/settings_api.py --------------------------------------------------
from portal.settings_api import *  # noqa: E402,F403

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged after it ran, and re-delivered if its worker dies mid-way.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _optional("CELERY_VISIBILITY_TIMEOUT", cast=int, default=300),
    # Lets several test runs share one Redis without taking each other's messages.
    "global_keyprefix": _optional("CELERY_KEY_PREFIX", default=""),
    # Tasks carry a priority, 0 first (rides/tasks.py): when hundreds of dispatches wait
    # (after an outage), the polls and webhooks that keep every ride's status fresh still
    # run at once, and receipts wait their turn.
    "priority_steps": list(range(10)),
    "sep": ":",
    "queue_order_strategy": "priority",
}
CELERY_TASK_DEFAULT_PRIORITY = 5
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.worker_heartbeat", "schedule": 15.0},
    # The booking pipeline (rides/): the outbox sweeper resends lost dispatches, reconciles
    # unknown outcomes, retries cancellations and fetches receipts; polling is paced per
    # partner account by rides.schedule_polls itself.
    "rides-sweep-outbox": {
        "task": "rides.sweep_dispatch_outbox",
        "schedule": _optional("PIPELINE_SWEEP_INTERVAL", cast=float, default=5.0),
        "options": {"expires": 30},
    },
    "rides-schedule-polls": {
        "task": "rides.schedule_polls",
        "schedule": _optional("PIPELINE_POLL_TICK", cast=float, default=1.0),
        # A tick still queued after this is worthless: the next one does the same.
        "options": {"expires": 10},
    },
    # One alert per partner account while its breaker says the partner is down.
    "rides-watch-partner-outages": {
        "task": "rides.watch_partner_outages",
        "schedule": _optional("PIPELINE_SWEEP_INTERVAL", cast=float, default=5.0),
        "options": {"expires": 30},
    },
    "rides-monitor": {  # the monitoring rules, the fund's alerts, lost alert emails
        "task": "rides.monitor_rides",
        "schedule": _optional("MONITORING_SWEEP_INTERVAL", cast=float, default=30.0),
        "options": {"expires": 60},
    },
    "rides-prune-webhook-events": {"task": "rides.prune_webhook_events", "schedule": 3600.0},
    "portal-prune-idempotency-keys": {"task": "portal.prune_idempotency_keys", "schedule": 3600.0},
    # The ledger's kept sums folded into one row per key (funding.models.LedgerTotal).
    "funding-compact-ledger-totals": {
        "task": "funding.compact_ledger_totals",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Closed cases past retention are anonymised (cases/retention.py).
    "cases-apply-retention": {"task": "cases.apply_retention", "schedule": 86400.0},
}
WORKER_HEARTBEAT_KEY = "portal:worker-heartbeat"
WORKER_HEARTBEAT_MAX_AGE = 90

# --- logging: never survivors' data; only ids and machine names are logged -------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Scrubs personal data and withholds exception messages (portal/logs.py).
    "formatters": {
        "plain": {
            "()": "portal.logs.ProtectedDataFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _optional("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Exception messages in the log: in development only (they may quote the data handled).
PORTAL_LOG_EXCEPTION_MESSAGES = _optional("PORTAL_LOG_EXCEPTION_MESSAGES", cast=bool, default=DEBUG)

PORTAL_BASE_URL = _optional("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# Invitations (a one-time set-password link) and notes to supervisors go out by email; the
# demo prints them on the console.
EMAIL_BACKEND = _optional("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = _optional("DEFAULT_FROM_EMAIL", default="no-reply@ppapp.jakarta.go.id")
# How long a set-password link of an invitation works.
PASSWORD_RESET_TIMEOUT = _optional("PASSWORD_RESET_TIMEOUT", cast=int, default=3 * 24 * 3600)
DEMO_PASSWORD = _optional("DEMO_PASSWORD", default="")

# --- transport partners (partners/client/) --------------------------------------------
# Off in production: a partner's base URL must be https on a public host
# (partners/client/destinations.py). On in development and tests, for the local sandbox.
PARTNER_ALLOW_INTERNAL_URLS = _optional("PARTNER_ALLOW_INTERNAL_URLS", cast=bool, default=DEBUG)
PARTNER_CONNECT_TIMEOUT = _optional("PARTNER_CONNECT_TIMEOUT", cast=float, default=2.0)
# After a webhook secret is rotated, webhooks signed with the old one are still accepted
# this long (the partner switches over in its own time).
PARTNER_WEBHOOK_SECRET_GRACE_HOURS = _optional(
    "PARTNER_WEBHOOK_SECRET_GRACE_HOURS", cast=float, default=24.0
)
PARTNER_READ_TIMEOUT = _optional("PARTNER_READ_TIMEOUT", cast=float, default=5.0)
PARTNER_BREAKER_WINDOW_SECONDS = _optional(
    "PARTNER_BREAKER_WINDOW_SECONDS", cast=float, default=30.0
)
PARTNER_BREAKER_MIN_CALLS = _optional("PARTNER_BREAKER_MIN_CALLS", cast=int, default=20)
PARTNER_BREAKER_FAILURE_RATE = _optional("PARTNER_BREAKER_FAILURE_RATE", cast=float, default=0.5)
PARTNER_BREAKER_RESET_SECONDS = _optional("PARTNER_BREAKER_RESET_SECONDS", cast=float, default=5.0)
PARTNER_RATE_LIMIT_HEADROOM = _optional("PARTNER_RATE_LIMIT_HEADROOM", cast=float, default=0.1)
PARTNER_LOW_PRIORITY_RESERVE = _optional("PARTNER_LOW_PRIORITY_RESERVE", cast=float, default=0.25)
PARTNER_POLL_RESERVE = _optional("PARTNER_POLL_RESERVE", cast=float, default=0.1)
for _name, _low, _high in (
    ("PARTNER_CONNECT_TIMEOUT", 0.05, 60),
    ("PARTNER_READ_TIMEOUT", 0.05, 300),
    ("PARTNER_BREAKER_WINDOW_SECONDS", 1, 3600),
    ("PARTNER_BREAKER_MIN_CALLS", 1, 10000),
    ("PARTNER_BREAKER_FAILURE_RATE", 0.01, 1),
    ("PARTNER_BREAKER_RESET_SECONDS", 0.1, 3600),
    ("PARTNER_RATE_LIMIT_HEADROOM", 0, 0.9),
    ("PARTNER_LOW_PRIORITY_RESERVE", 0, 0.9),
    ("PARTNER_POLL_RESERVE", 0, 0.5),
):
    if not _low <= globals()[_name] <= _high:
        raise ImproperlyConfigured(f"Setting {_name} is malformed: must be {_low} to {_high}.")

# --- booking SOP (rides/booking/) -------------------------------------------------------
# Defaults only: administrators change these values on /admin/sop/ (sop/).
# A ride whose estimated fare (rupiah) is above this waits for a supervisor's approval.
BOOKING_FARE_CEILING = _optional("BOOKING_FARE_CEILING", cast=int, default=250_000)
# Pickups outside these hours (Asia/Jakarta, "HH:MM-HH:MM"; may run over midnight; equal
# start and end = all day) wait for a supervisor's approval.
BOOKING_SERVICE_HOURS = _optional("BOOKING_SERVICE_HOURS", default="06:00-21:00")
if BOOKING_FARE_CEILING < 0:
    raise ImproperlyConfigured("Setting BOOKING_FARE_CEILING is malformed: must be 0 or more.")
# A ride sent after its quoted fare's lock ran out (approved later, rebooked) is quoted
# again; a fare more than this many percent above the one approved (or booked) goes back
# to a supervisor (rides/rules.py fare_recheck_reason).
BOOKING_APPROVAL_MARGIN_PERCENT = _optional("BOOKING_APPROVAL_MARGIN_PERCENT", cast=int, default=10)
if not 0 <= BOOKING_APPROVAL_MARGIN_PERCENT <= 1000:
    raise ImproperlyConfigured(
        "Setting BOOKING_APPROVAL_MARGIN_PERCENT is malformed: must be 0 to 1000."
    )
try:
    parse_service_hours(BOOKING_SERVICE_HOURS)
except ValueError as exc:
    raise ImproperlyConfigured(
        "Setting BOOKING_SERVICE_HOURS is malformed: write it like 06:00-21:00."
    ) from exc
# --- the fund (read through funding.selectors.funding_rules only) -------------------------
# Defaults: administrators change the margin and the budget on /admin/sop/ (sop/).
# Off: rides are sent without touching the ledger (the pipeline's own tests run so);
# on in production: every dispatch holds its estimate plus the margin first.
FUNDING_ENFORCED = _optional("FUNDING_ENFORCED", cast=bool, default=True)
# A ride holds its estimated fare plus this many percent while it runs.
FUNDING_HOLD_MARGIN_PERCENT = _optional("FUNDING_HOLD_MARGIN_PERCENT", cast=int, default=10)
# What one unit's rides may commit in a calendar month (rupiah); 0 = no limit.
FUNDING_UNIT_MONTHLY_BUDGET = _optional("FUNDING_UNIT_MONTHLY_BUDGET", cast=int, default=0)
# Admins are alerted when the available money falls below this (rupiah).
FUNDING_LOW_BALANCE_THRESHOLD = _optional(
    "FUNDING_LOW_BALANCE_THRESHOLD", cast=int, default=10_000_000
)
for _name, _high in (
    ("FUNDING_HOLD_MARGIN_PERCENT", 1000),
    ("FUNDING_UNIT_MONTHLY_BUDGET", 10**13),
    ("FUNDING_LOW_BALANCE_THRESHOLD", 10**13),
):
    if not 0 <= globals()[_name] <= _high:
        raise ImproperlyConfigured(f"Setting {_name} is malformed: must be 0 to {_high}.")
# --- monitoring: the alert thresholds and the board's kept parts, settings_monitoring.py -
from portal.settings_monitoring import *  # noqa: E402,F403

# --- retention of closed cases and per-case data keys: portal/settings_retention.py -----
from portal.settings_retention import *  # noqa: E402,F403

# Map tiles for the booking map, e.g. https://tile.example/{z}/{x}/{y}.png (must allow
# your use). Empty: no tiles are fetched; the map shows the places and the pin on a plain
# background, which works offline.
MAP_TILE_URL = _optional("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = _optional("MAP_TILE_ATTRIBUTION", default="")

# --- Content-Security-Policy (django-csp) and Permissions-Policy: portal/policies.py ----
CONTENT_SECURITY_POLICY = content_security_policy(tile_template=MAP_TILE_URL)
# Address search on the booking form: a Nominatim-compatible geocoder (its /search API),
# e.g. a self-hosted Nominatim. `make run` points it at the sandbox's Jakarta gazetteer.
# Empty: no address search; addresses are typed and pinned on the map.
GEOCODER_URL = _optional("GEOCODER_URL", default="")
GEOCODER_TIMEOUT = _optional("GEOCODER_TIMEOUT", cast=float, default=3.0)
if not 0.1 <= GEOCODER_TIMEOUT <= 30:
    raise ImproperlyConfigured("Setting GEOCODER_TIMEOUT is malformed: must be 0.1 to 30.")

# --- booking pipeline (rides/pipeline/) -------------------------------------------------
# The name the rider's SMS shows as the sender: neutral, never the agency's.
PARTNER_SENDER_NAME = _optional("PARTNER_SENDER_NAME", default="Layanan Antar")
# A dispatch holds its ride this long; a worker that died mid-call is noticed after it.
PIPELINE_DISPATCH_LEASE_SECONDS = _optional(
    "PIPELINE_DISPATCH_LEASE_SECONDS", cast=float, default=45.0
)
# How long after commit the sweeper waits before resending a dispatch nobody picked up.
PIPELINE_DISPATCH_GRACE_SECONDS = _optional(
    "PIPELINE_DISPATCH_GRACE_SECONDS", cast=float, default=15.0
)
# How long a ride may take to reach the partner (SOP: 5 minutes): temporary failures are
# retried until then, and only a partner still unreachable after it hands the ride to a
# person. Looking up an unknown outcome may go on for the second figure longer.
PIPELINE_DISPATCH_DEADLINE_SECONDS = _optional(
    "PIPELINE_DISPATCH_DEADLINE_SECONDS", cast=float, default=300.0
)
PIPELINE_RECONCILE_GRACE_SECONDS = _optional(
    "PIPELINE_RECONCILE_GRACE_SECONDS", cast=float, default=120.0
)
# Unusable answers about one trip in a row before its supervisors are alerted.
PIPELINE_UNUSABLE_ANSWERS_MAX = _optional("PIPELINE_UNUSABLE_ANSWERS_MAX", cast=int, default=5)
PIPELINE_CANCEL_MAX_ATTEMPTS = _optional("PIPELINE_CANCEL_MAX_ATTEMPTS", cast=int, default=10)
PIPELINE_RECEIPT_MAX_ATTEMPTS = _optional("PIPELINE_RECEIPT_MAX_ATTEMPTS", cast=int, default=12)
# Retry backoff: base * 2^(attempt-1), capped, with jitter; Retry-After wins when longer.
PIPELINE_BACKOFF_BASE_SECONDS = _optional("PIPELINE_BACKOFF_BASE_SECONDS", cast=float, default=2.0)
PIPELINE_BACKOFF_MAX_SECONDS = _optional("PIPELINE_BACKOFF_MAX_SECONDS", cast=float, default=60.0)
# Seconds after a trip ends before its receipt is asked for.
PIPELINE_RECEIPT_DELAY_SECONDS = _optional(
    "PIPELINE_RECEIPT_DELAY_SECONDS", cast=float, default=5.0
)
# Share of the account's per-minute limit receipts may use (they are not urgent).
PIPELINE_RECEIPT_RATE_SHARE = _optional("PIPELINE_RECEIPT_RATE_SHARE", cast=float, default=0.2)
# Polling: seconds between two polls of an account (with webhooks arriving: the longer one).
PIPELINE_POLL_INTERVAL = _optional("PIPELINE_POLL_INTERVAL", cast=float, default=10.0)
PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS = _optional(
    "PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS", cast=float, default=10.0
)
# Share of the account's per-minute limit polling may use.
PIPELINE_POLL_RATE_SHARE = _optional("PIPELINE_POLL_RATE_SHARE", cast=float, default=0.5)
# The larger share while no booking or cancellation waits to be sent with the account.
PIPELINE_POLL_RATE_SHARE_IDLE = _optional("PIPELINE_POLL_RATE_SHARE_IDLE", cast=float, default=0.7)
# Seconds of overlap before the newest `updated_at` seen, against changes committed late.
PIPELINE_POLL_OVERLAP_SECONDS = _optional("PIPELINE_POLL_OVERLAP_SECONDS", cast=float, default=2.0)
# Polling reads from the head (newest changes first, in turn) once its tail is this close
# to now and the list changes faster than the tail can read it (rides/pipeline/polling.py).
PIPELINE_POLL_FRESH_SECONDS = _optional("PIPELINE_POLL_FRESH_SECONDS", cast=float, default=30.0)
# An active trip not heard of for this long gets its own GET (at most BATCH per poll).
PIPELINE_SAFETY_NET_SECONDS = _optional("PIPELINE_SAFETY_NET_SECONDS", cast=float, default=300.0)
PIPELINE_SAFETY_NET_BATCH = _optional("PIPELINE_SAFETY_NET_BATCH", cast=int, default=3)
# Webhooks: signed timestamps further than this from now are refused.
PIPELINE_WEBHOOK_TOLERANCE_SECONDS = _optional(
    "PIPELINE_WEBHOOK_TOLERANCE_SECONDS", cast=int, default=300
)
# Webhook event ids are remembered this many days (duplicates arrive within an hour).
PIPELINE_WEBHOOK_RETENTION_DAYS = _optional("PIPELINE_WEBHOOK_RETENTION_DAYS", cast=int, default=7)
for _name, _low, _high in (
    ("PIPELINE_DISPATCH_LEASE_SECONDS", 1, 3600),
    ("PIPELINE_DISPATCH_GRACE_SECONDS", 0, 3600),
    ("PIPELINE_DISPATCH_DEADLINE_SECONDS", 1, 86400),
    ("PIPELINE_RECONCILE_GRACE_SECONDS", 0, 86400),
    ("PIPELINE_UNUSABLE_ANSWERS_MAX", 1, 100),
    ("PIPELINE_CANCEL_MAX_ATTEMPTS", 1, 100),
    ("PIPELINE_RECEIPT_MAX_ATTEMPTS", 1, 100),
    ("PIPELINE_BACKOFF_BASE_SECONDS", 0.01, 600),
    ("PIPELINE_BACKOFF_MAX_SECONDS", 0.01, 3600),
    ("PIPELINE_RECEIPT_DELAY_SECONDS", 0, 3600),
    ("PIPELINE_RECEIPT_RATE_SHARE", 0.01, 1),
    ("PIPELINE_POLL_INTERVAL", 0.1, 3600),
    ("PIPELINE_POLL_INTERVAL_WITH_WEBHOOKS", 0.1, 3600),
    ("PIPELINE_POLL_RATE_SHARE", 0.01, 1),
    ("PIPELINE_POLL_RATE_SHARE_IDLE", 0.01, 1),
    ("PIPELINE_POLL_OVERLAP_SECONDS", 0, 600),
    ("PIPELINE_POLL_FRESH_SECONDS", 1, 3600),
    ("PIPELINE_SAFETY_NET_SECONDS", 1, 86400),
    ("PIPELINE_SAFETY_NET_BATCH", 0, 100),
    ("PIPELINE_WEBHOOK_TOLERANCE_SECONDS", 1, 3600),
    ("PIPELINE_WEBHOOK_RETENTION_DAYS", 1, 365),
):
    if not _low <= globals()[_name] <= _high:
        raise ImproperlyConfigured(f"Setting {_name} is malformed: must be {_low} to {_high}.")
