"""The audit tests' shared pieces: a case opened through the service, the booking tests'
fixtures, and every audit row as the text PostgreSQL holds (to look for what must never
be there)."""

import pytest
from django.db import connection

from tests.booking.conftest import (  # noqa: F401  (fixtures)
    adult_case,
    make_case,
    partner_account_db,
    places,
)
from tests.factories import CaseFactory


@pytest.fixture
def case(caseworker):
    return CaseFactory(user=caseworker, name="Siti Aminah", phone="0812-3456-7890")


def audit_table_text() -> str:
    """Every column of every audit row, as stored."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(string_agg(row_to_json(e)::text, '\n'), '') FROM audit_auditevent e"
        )
        return cursor.fetchone()[0]
