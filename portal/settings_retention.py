"""Retention and per-case data keys (cases/retention.py, portal/data_keys.py), read from
the environment. Imported by portal/settings.py."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from portal.settings_env import optional as _optional

# A closed case is anonymised (its data key destroyed) this many days after its closing.
RETENTION_CLOSED_CASE_DAYS = _optional("RETENTION_CLOSED_CASE_DAYS", cast=int, default=730)
# How long a process keeps a case's unwrapped data key: a key destroyed elsewhere stops
# opening anything in every process after at most this long.
DATA_KEY_CACHE_SECONDS = _optional("DATA_KEY_CACHE_SECONDS", cast=int, default=300)

if RETENTION_CLOSED_CASE_DAYS < 1:
    raise ImproperlyConfigured("Setting RETENTION_CLOSED_CASE_DAYS is malformed: at least 1.")
if not 0 <= DATA_KEY_CACHE_SECONDS <= 3600:
    raise ImproperlyConfigured("Setting DATA_KEY_CACHE_SECONDS is malformed: 0 to 3600.")
