"""What a supervisor oversees: the rides of their unit, or of every unit for the
provincial centre (Unit.oversees_all_units). Admins and caseworkers oversee none."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role
from rides.models import Ride


def oversees(user) -> bool:
    """Whether `user` is a supervisor with a unit (the supervision pages are theirs)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role == Role.SUPERVISOR
        and user.unit_id is not None
    )


def rides_overseen_by(user) -> QuerySet[Ride]:
    """Every ride of the units `user` oversees."""
    if not oversees(user):
        return Ride.objects.none()
    if user.unit.oversees_all_units:
        return Ride.objects.all()
    return Ride.objects.filter(unit_id=user.unit_id)
