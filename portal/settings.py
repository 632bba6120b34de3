"""Settings, all from the environment (django-environ); `.env.example` documents each variable.

A missing or malformed required variable stops the process at start with a message that
names it. When DATABASE_URL / REDIS_URL are absent the embedded servers (portal/embedded.py)
are started and used.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = Path(os.environ.get("PORTAL_ENV_FILE", BASE_DIR / ".env"))
if _env_file.is_file():
    env.read_env(str(_env_file), overwrite=False)


def _required(name: str, cast=str, **kwargs):
    """Reads a variable that has no safe default; failures name the variable."""
    if name not in os.environ:
        raise ImproperlyConfigured(
            f"Setting {name} is missing: set it in the environment or in .env (see .env.example)."
        )
    try:
        return env.get_value(name, cast=cast, **kwargs)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"Setting {name} is malformed: {exc}") from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _strict_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"{value!r} is not one of true/false, yes/no, on/off, 1/0")


def _optional(name: str, cast=str, default=None):
    if cast is bool:
        cast = _strict_bool
    try:
        return env.get_value(name, cast=cast, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"Setting {name} is malformed: {exc}") from exc


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
if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
    from portal import embedded

    _urls = embedded.ensure_running()
    os.environ.setdefault("DATABASE_URL", _urls.database_url)
    os.environ.setdefault("REDIS_URL", _urls.redis_url)

try:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"Setting DATABASE_URL is malformed: {exc}") from exc
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Setting DATABASE_URL is malformed: it must be a postgres:// URL.")
DATABASES["default"]["CONN_MAX_AGE"] = _optional("DATABASE_CONN_MAX_AGE", cast=int, default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": _optional("TEST_DATABASE_NAME", default=None)}

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
    "django_htmx",
    "portal",
    "accounts",
    "cases",
    "rides",
    "partners",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

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
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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
SESSION_COOKIE_AGE = _optional("SESSION_COOKIE_AGE", cast=int, default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = _optional("DJANGO_SECURE_SSL_REDIRECT", cast=bool, default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _optional("DJANGO_HSTS_SECONDS", cast=int, default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Safe-ride portal API",
    "DESCRIPTION": "REST API v1 of the Dinas PPAPP safe-ride portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

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
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.worker_heartbeat", "schedule": 15.0},
}
WORKER_HEARTBEAT_KEY = "portal:worker-heartbeat"
WORKER_HEARTBEAT_MAX_AGE = 90

# --- logging: never survivors' data; only ids and machine names are logged -------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _optional("LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

PORTAL_BASE_URL = _optional("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
DEMO_PASSWORD = _optional("DEMO_PASSWORD", default="")

# --- booking SOP (rides/booking.py) -----------------------------------------------------
# A ride whose estimated fare (rupiah) is above this waits for a supervisor's approval.
BOOKING_FARE_CEILING = _optional("BOOKING_FARE_CEILING", cast=int, default=250_000)
# Pickups outside these hours (Asia/Jakarta, "HH:MM-HH:MM"; may run over midnight; equal
# start and end = all day) wait for a supervisor's approval.
BOOKING_SERVICE_HOURS = _optional("BOOKING_SERVICE_HOURS", default="06:00-21:00")
if BOOKING_FARE_CEILING < 0:
    raise ImproperlyConfigured("Setting BOOKING_FARE_CEILING is malformed: must be 0 or more.")
try:
    import datetime as _dt

    _start, _sep, _end = BOOKING_SERVICE_HOURS.partition("-")
    _dt.time.fromisoformat(_start.strip()), _dt.time.fromisoformat(_end.strip())
except ValueError as exc:
    raise ImproperlyConfigured(
        "Setting BOOKING_SERVICE_HOURS is malformed: write it like 06:00-21:00."
    ) from exc
# Map tiles for the booking map, e.g. https://tile.example/{z}/{x}/{y}.png (must allow
# your use). Empty: no tiles are fetched; the map shows the places and the pin on a plain
# background, which works offline.
MAP_TILE_URL = _optional("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = _optional("MAP_TILE_ATTRIBUTION", default="")
