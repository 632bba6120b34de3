"""The admin pages' tests: an administrator's browser session, the sandbox partner."""

import pytest

from tests.conftest import logged_in_client
from tests.partners.conftest import (  # noqa: F401 - fixtures
    account,
    control,
    make_account,
    partner_settings,
    sandbox,
)


@pytest.fixture
def admin_client(admin_user):
    return logged_in_client(admin_user)
