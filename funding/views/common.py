"""What the fund's pages share: admins only, and a service's ValidationError shown on
the form, every message next to its field."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role


def require_admin(user) -> None:
    if getattr(user, "role", None) != Role.ADMIN:
        raise PermissionDenied("admins only")


def submitted(form, write) -> bool:
    """Runs `write(**form.cleaned_data)` when the form is valid; a ValidationError from
    the service lands on the form's fields (or above it). True when it was written."""
    if not form.is_valid():
        return False
    try:
        write(**form.cleaned_data)
    except ValidationError as error:
        messages = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for field, texts in messages.items():
            target = field if field in form.fields else None
            for text in texts:
                form.add_error(target, text)
        return False
    return True
