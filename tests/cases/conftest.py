import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Role
from cases.services import case_create

ADULT_BIRTH_DATE = dt.date(1990, 4, 17)


def child_birth_date(age: int = 12) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - age) - dt.timedelta(days=30)


@pytest.fixture
def make_case(db):
    """Opens a case through the service, as a caseworker would."""

    def make(
        user,
        *,
        name="Siti Aminah",
        phone="0812-3456-7890",
        birth_date=ADULT_BIRTH_DATE,
        address=None,
        violence_types=("physical",),
        stage="accompaniment",
    ):
        survivor = {"name": name, "phone": phone, "birth_date": birth_date}
        if address is not None:
            survivor["address"] = address
        return case_create(
            user=user, survivor=survivor, violence_types=list(violence_types), stage=stage
        )

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
