"""What every app's REST API shares: who may call it, how lists page, and how a
service's ValidationError becomes DRF's 400."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission

from accounts.models import Role


def service_errors(exc: DjangoValidationError) -> ValidationError:
    """A service's errors as DRF's 400, dotted keys nested: survivor.phone → survivor/phone."""
    if not hasattr(exc, "error_dict"):
        return ValidationError({"non_field_errors": exc.messages})
    nested: dict = {}
    for key, messages in exc.message_dict.items():
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):  # a message already sits at this level
                break
        else:
            node.setdefault(parts[-1], []).extend(messages)
    return ValidationError(nested)


class CaseRoles(BasePermission):
    """Cases (and so rides) are for caseworkers and supervisors; admins never see case
    contents."""

    def has_permission(self, request, view):
        return request.user.role in (Role.CASEWORKER, Role.SUPERVISOR)


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
