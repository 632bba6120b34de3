"""Fixtures of the supervision tests: the pipeline's unit, case and rides (English, the
writer's language), supervisors with an email address, and SOP thresholds set by an
admin through the SOP service."""

import pytest

from accounts.models import Role, Unit
from sop.services import sop_change
from tests.pipeline.conftest import (  # noqa: F401  (fixtures)
    english,
    make_ride,
    pipeline_case,
    pipeline_caseworker,
    pipeline_supervisor,
    pipeline_unit,
)


@pytest.fixture
def sop_admin(make_user):
    return make_user(Role.ADMIN, None)


@pytest.fixture
def set_sop(sop_admin):
    """set_sop(alert_stopped_minutes=1, ...): SOP values, as an admin sets them."""

    def set_values(**values):
        sop_change(user=sop_admin, **values)

    return set_values


@pytest.fixture
def provincial_centre(make_unit):
    return make_unit(code="PUSAT", name="Pusat Provinsi", kind=Unit.Kind.PROVINCIAL_CENTRE)


@pytest.fixture
def with_email():
    def give(user, address=None):
        user.email = address or f"{user.username}@ppapp.example"
        user.save(update_fields=["email"])
        return user

    return give
