"""What every rides page checks first (who may use it) and how it answers htmx."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role


def require_booking_role(user) -> None:
    """Booking is for caseworkers and supervisors; admins never see case contents."""
    if user.role not in (Role.CASEWORKER, Role.SUPERVISOR):
        raise PermissionDenied


def require_supervisor(user) -> None:
    if user.role != Role.SUPERVISOR or user.unit_id is None:
        raise PermissionDenied


def is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def show_errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)
