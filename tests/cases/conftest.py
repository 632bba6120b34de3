import pytest

from accounts.models import Role
from tests.factories import CaseFactory, child_birth_date


@pytest.fixture
def make_case(db):
    """Opens a case through the service, as a caseworker would."""

    def make(user, **survivor_and_case):
        return CaseFactory(user=user, **survivor_and_case)

    return make


@pytest.fixture
def case(make_case, caseworker):
    return make_case(caseworker)


@pytest.fixture
def child_case(make_case, caseworker):
    return make_case(caseworker, name="Putri Lestari", birth_date=child_birth_date())


@pytest.fixture
def supervisor_other_unit(make_user, other_unit):
    return make_user(Role.SUPERVISOR, other_unit, username="supervisor2")
