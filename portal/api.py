"""What every app's REST API shares: who may call it, how lists page, how a service's
ValidationError becomes DRF's 400, and the parts of a refused input a service may still
check (so a 400 names every problem at once)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField
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


def valid_parts(serializer) -> dict:
    """After `is_valid()` said no: the values of the input fields that are valid on their
    own, so the service can still check them and the 400 lists every problem at once."""
    data = serializer.initial_data
    if not isinstance(data, Mapping):
        return {}
    parts = {}
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        try:
            parts[name] = field.run_validation(field.get_value(data))
        except (ValidationError, DjangoValidationError, SkipField):
            continue
    return parts


def merged_errors(shape_errors: dict, service: DjangoValidationError | None) -> ValidationError:
    """One 400 with the serializer's errors and the service's about every other field (a
    field whose input could not be read keeps its own message only)."""
    merged = dict(shape_errors)
    if service is not None:
        for key, value in service_errors(service).detail.items():
            merged.setdefault(key, value)
    return ValidationError(merged)


class CaseRoles(BasePermission):
    """Cases (and so rides) are for caseworkers and supervisors; admins never see case
    contents."""

    def has_permission(self, request, view):
        return request.user.role in (Role.CASEWORKER, Role.SUPERVISOR)


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
