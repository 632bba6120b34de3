"""Reading settings from the environment: a required variable and an optional one, each
failure naming the variable (portal/settings.py and portal/settings_sign_in.py read
through these)."""

from __future__ import annotations

import os

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def required(name: str, cast=str, **kwargs):
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


def strict_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"{value!r} is not one of true/false, yes/no, on/off, 1/0")


def optional(name: str, cast=str, default=None):
    if cast is bool:
        cast = strict_bool
    try:
        return env.get_value(name, cast=cast, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"Setting {name} is malformed: {exc}") from exc
