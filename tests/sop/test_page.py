"""The SOP settings page: admins only, values with their defaults, every error at once in
the user's language with what was typed kept, the change history paged."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from sop.models import SopChange
from sop.registry import unit_field
from sop.selectors import HISTORY_PAGE_SIZE, current
from sop.services import sop_change
from tests.conftest import logged_in_client

pytestmark = [pytest.mark.django_db]

URL = "/admin/sop/"


def english(user):
    client = logged_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def test_the_url_and_the_header_link_for_admins_only(admin_user, supervisor):
    assert reverse("sop:settings") == URL
    home = english(admin_user).get(reverse("home")).content.decode()
    assert f'href="{URL}"' in home
    assert f'href="{URL}"' not in english(supervisor).get(reverse("home")).content.decode()
    assert english(supervisor).get(URL).status_code == 403


def test_the_page_shows_values_and_defaults(admin_user, unit, settings):
    settings.BOOKING_FARE_CEILING = 250_000
    sop_change(user=admin_user, fare_ceiling=300_000)
    page = english(admin_user).get(URL).content.decode()
    assert "Rp 300.000" in page and "Rp 250.000" in page  # now, and its default
    assert 'name="fare_ceiling"' in page and 'value="300000"' in page
    assert f'name="{unit_field("unit_monthly_budget", unit.pk)}"' in page
    assert unit.name in page


def test_a_save_changes_the_values_and_records_who(admin_user, unit):
    response = english(admin_user).post(
        URL,
        {
            "fare_ceiling": "275.000",
            "service_hours": "06:00-22:00",
            unit_field("unit_monthly_budget", unit.pk): "10000000",
        },
    )
    assert response.status_code == 302 and response["Location"] == URL
    sop = current()
    assert sop.fare_ceiling == 275_000 and sop.service_hours == "06:00-22:00"
    assert sop.unit_monthly_budget(unit) == 10_000_000
    page = english(admin_user).get(URL).content.decode()
    assert admin_user.get_username() in page and "Rp 275.000" in page


def test_every_error_at_once_next_to_its_field_with_what_was_typed(admin_user, unit):
    typed = {
        "fare_ceiling": "banyak",
        "service_hours": "25:00-26:00",
        "approval_margin_percent": "5000",
        unit_field("unit_monthly_budget", unit.pk): "-1",
    }
    response = english(admin_user).post(URL, typed)
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == set(typed)
    page = response.content.decode()
    for value in typed.values():
        assert f'value="{value}"' in page
    assert not SopChange.objects.exists()


def test_the_errors_are_in_indonesian(admin_user):
    client = logged_in_client(admin_user)
    client.cookies["django_language"] = "id"
    with translation.override("id"):
        response = client.post(URL, {"service_hours": "pagi"})
    assert response.status_code == 400
    assert "Tulis jam" in response.context["form"].errors["service_hours"][0]


def test_the_history_is_paged(admin_user, make_user):
    other_admin = make_user(Role.ADMIN, None, username="admin2")
    for amount in range(HISTORY_PAGE_SIZE + 3):
        sop_change(user=other_admin if amount % 2 else admin_user, fare_ceiling=1_000 + amount)
    first = english(admin_user).get(URL)
    rows = first.context["history"]
    assert len(rows) == HISTORY_PAGE_SIZE
    assert rows[0]["change"].new_value == 1_000 + HISTORY_PAGE_SIZE + 2  # newest first
    assert first.context["next_query"]
    older = english(admin_user).get(f"{URL}?{first.context['next_query']}")
    assert [row["change"].new_value for row in older.context["history"]] == [1_002, 1_001, 1_000]
