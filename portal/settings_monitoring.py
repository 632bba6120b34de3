"""Defaults of the monitoring rules' thresholds (rides/pipeline/monitoring.py): each is an
SOP value (sop/registry.py) that admins set on /admin/sop/; these, read from the
environment, are what it is until they do. And the caches: the board's rows and the
alert cards, rendered, kept in each process's memory (portal/templatetags/fragments.py);
nothing else is cached. Imported by portal/settings.py."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from portal.settings_env import optional as _optional

_LOCAL = "django.core.cache.backends.locmem.LocMemCache"
_KEPT = {"BACKEND": _LOCAL, "LOCATION": "fragments", "OPTIONS": {"MAX_ENTRIES": 5000}}
CACHES = {"default": {"BACKEND": _LOCAL}, "fragments": _KEPT}

MONITORING_NO_DRIVER_MINUTES = _optional("MONITORING_NO_DRIVER_MINUTES", cast=int, default=10)
MONITORING_APPROVAL_MINUTES = _optional("MONITORING_APPROVAL_MINUTES", cast=int, default=15)
MONITORING_NO_PROGRESS_MINUTES = _optional("MONITORING_NO_PROGRESS_MINUTES", cast=int, default=15)
MONITORING_OVERRUN_PERCENT = _optional("MONITORING_OVERRUN_PERCENT", cast=int, default=50)
MONITORING_OVERRUN_MINUTES = _optional("MONITORING_OVERRUN_MINUTES", cast=int, default=90)
MONITORING_STOPPED_MINUTES = _optional("MONITORING_STOPPED_MINUTES", cast=int, default=5)
MONITORING_CORRIDOR_METRES = _optional("MONITORING_CORRIDOR_METRES", cast=int, default=2000)
MONITORING_ARRIVAL_MINUTES = _optional("MONITORING_ARRIVAL_MINUTES", cast=int, default=60)
_MINUTES = ("NO_DRIVER", "APPROVAL", "NO_PROGRESS", "OVERRUN", "STOPPED", "ARRIVAL")
for _name, _low, _high in (
    *((f"MONITORING_{n}_MINUTES", 1, 1440) for n in _MINUTES),
    ("MONITORING_OVERRUN_PERCENT", 10, 1000),
    ("MONITORING_CORRIDOR_METRES", 100, 50_000),
):
    if not _low <= globals()[_name] <= _high:
        raise ImproperlyConfigured(f"Setting {_name} is malformed: must be {_low} to {_high}.")
