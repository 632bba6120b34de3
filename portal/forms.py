"""What every form of the portal shares: a service's ValidationError put on the form's
fields, so each message shows next to what was typed and nothing typed is lost."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def apply_service_errors(form: forms.Form, exc: ValidationError, field_map: dict | None = None):
    """Adds the service's messages to the matching form fields (others as non-field)."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, messages in exc.message_dict.items():
        name = field_map.get(key, key)
        if name not in form.fields:
            name = None
        for message in messages:
            form.add_error(name, message)
