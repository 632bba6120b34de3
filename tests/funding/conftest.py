import datetime as dt

import pytest

from accounts.models import Role
from funding.models import Agreement, Funder
from funding.services import tranche_plan, tranche_receive
from tests.factories import PartnerAccountFactory
from tests.pipeline.conftest import (  # noqa: F401  (fixtures)
    make_ride,
    pipeline_case,
    pipeline_caseworker,
    pipeline_supervisor,
    pipeline_unit,
)


@pytest.fixture(autouse=True)
def funding_enforced(settings):
    """The fund's tests run with the fund enforced, as production does (the pipeline's
    own tests send rides without a fund: portal/settings_test.py)."""
    settings.FUNDING_ENFORCED = True
    settings.FUNDING_HOLD_MARGIN_PERCENT = 10
    settings.FUNDING_UNIT_MONTHLY_BUDGET = 0


@pytest.fixture
def agreement(db):
    funder = Funder.objects.create(name="Yayasan Peduli Perempuan dan Anak")
    return Agreement.objects.create(
        funder=funder,
        title="Dana antar aman 2026-2031",
        amount=300_000_000,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2030, 12, 31),
    )


@pytest.fixture
def admins(make_user):
    return make_user(Role.ADMIN, None), make_user(Role.ADMIN, None)


@pytest.fixture
def fund(agreement, admins):
    """fund(amount): the agreement with one tranche of `amount` received."""

    def make(amount: int):
        tranche = tranche_plan(
            agreement=agreement, planned_on=dt.date(2026, 1, 15), planned_amount=amount
        )
        tranche_receive(
            tranche=tranche, amount=amount, received_on=dt.date(2026, 1, 15), user=admins[0]
        )
        return tranche

    return make


@pytest.fixture
def new_ride(make_ride):  # noqa: F811  (the imported fixture)
    """new_ride() -> a requested ride of the pipeline's test case."""
    account = PartnerAccountFactory()
    return lambda: make_ride(account)
