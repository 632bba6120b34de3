"""What every app's REST API shares: who may call it, how lists page, how a service's
ValidationError becomes DRF's 400, the parts of a refused input a service may still
check (so a 400 names every problem at once), and the schema of the error answers every
operation may give (added to each operation by `PortalSchema`)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers
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


def described(field_class, schema: dict):
    """`field_class`, described in the schema as `schema`: what the service accepts. The
    serializer still lets other values through, so the service's own message (in the
    caller's language, beside every other problem) is the one the caller reads."""
    return extend_schema_field(schema)(type(f"Described{field_class.__name__}", (field_class,), {}))


NOT_BLANK = r"\S"  # at least one character that is not a space


class CaseRoles(BasePermission):
    """Cases (and so rides) are for caseworkers and supervisors; admins never see case
    contents."""

    def has_permission(self, request, view):
        return request.user.role in (Role.CASEWORKER, Role.SUPERVISOR)


class SupervisorRole(BasePermission):
    """Supervisors' work (approvals, alerts): supervisors only."""

    def has_permission(self, request, view):
        return request.user.role == Role.SUPERVISOR


class AdminRole(BasePermission):
    """The admins' work (partner accounts, users, tokens, the fund): admins only."""

    def has_permission(self, request, view):
        return request.user.role == Role.ADMIN


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size_query_param = None


# --- the error answers, as the schema tells them -------------------------------------------

DETAIL_OUT = inline_serializer(
    name="ErrorDetail", fields={"detail": serializers.CharField(help_text="What went wrong.")}
)
FIELD_ERRORS_OUT = OpenApiResponse(
    response={
        "type": "object",
        "description": (
            'Messages by input field (nested like the input, e.g. {"escort": {"phone": '
            "[...]}}); `non_field_errors` for a problem of the whole request."
        ),
        "additionalProperties": {
            "oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "object", "additionalProperties": True},
                {"type": "string"},
            ]
        },
    },
    description="The input was refused: every problem at once, by field.",
)
ERROR_RESPONSES = {
    "400": FIELD_ERRORS_OUT,
    "401": OpenApiResponse(DETAIL_OUT, description="No valid token or session."),
    "403": OpenApiResponse(DETAIL_OUT, description="The caller's role may not do this."),
    "404": OpenApiResponse(
        DETAIL_OUT,
        description="Not there, or not for the caller to see (on a list: a cursor that names "
        "no page).",
    ),
    "405": OpenApiResponse(DETAIL_OUT, description="The method is not offered here."),
    "409": OpenApiResponse(
        FIELD_ERRORS_OUT.response,
        description="The first request with this Idempotency-Key is still being answered.",
    ),
    "422": OpenApiResponse(
        FIELD_ERRORS_OUT.response,
        description="This Idempotency-Key came with another body before.",
    ),
}


class PortalSchema(AutoSchema):
    """drf-spectacular's schema, with the errors each operation may really answer: 401 and
    403 everywhere, 404 where the path names something, 400 where input is read, 409/422
    where an Idempotency-Key is honoured."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        wanted = ["401", "403", "405"]
        if "{" in self.path or self._pages() or self.method in self._body_names_rows():
            wanted.append("404")  # not there; or a list's cursor that names no page
        if self.method in ("POST", "PATCH", "PUT") or self._list_reads_query():
            wanted.append("400")
        if any(p.name == "Idempotency-Key" for p in self._override_parameters()):
            wanted += ["409", "422"]
        for code in wanted:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ERROR_RESPONSES[code], code, direction=direction
                )
        return responses

    def _body_names_rows(self) -> tuple[str, ...]:
        """Methods whose body names a row the caller may not see (a ride's case): 404."""
        return getattr(self.view, "body_names_rows", ())

    def _pages(self) -> bool:
        return self.method == "GET" and getattr(self.view, "pagination_class", None) is not None

    def _list_reads_query(self) -> bool:
        return bool(getattr(self.view, "filters_in", None))

    def _override_parameters(self):
        return [p for p in (self.get_override_parameters() or []) if hasattr(p, "name")]
