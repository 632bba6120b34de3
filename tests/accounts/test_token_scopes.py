"""API token scopes: "read" answers safe methods only (403 on every unsafe one), "book"
may also write; picked on the admin page and in issue_api_token --scope."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import api_token_issue
from tests.access_table import ACCESS, _ride_ref
from tests.accounts.conftest import enrol, password_login

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")


def test_a_read_only_token_reads_and_is_refused_every_unsafe_method(caseworker, unit):
    raw = api_token_issue(user=caseworker, name="dashboard", scope="read")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/cases/").status_code == 200
    world = {"users": {"caseworker": caseworker}, "unit": unit}
    # Every API operation; the docs page is a page for people (a session), not one.
    api_names = [name for name in ACCESS if name.startswith("api:") and name != "api:docs"]
    refused = 0
    for name in api_names:
        entry = ACCESS[name]
        kwargs = entry["kwargs"](world) if "kwargs" in entry else {}
        url = reverse(name, kwargs=kwargs)
        for method in UNSAFE:
            answer = getattr(api, method)(url, {}, content_type="application/json")
            assert answer.status_code == 403, (name, method, answer.status_code)
            refused += 1
    assert refused >= 4 * 5
    ride = _ride_ref(world)["reference"]
    from rides.models import Ride

    assert Ride.objects.get(reference=ride).status == "awaiting_approval"  # not cancelled


def test_a_book_token_writes(caseworker, unit):
    raw = api_token_issue(user=caseworker, name="hotline", scope="book")
    world = {"users": {"caseworker": caseworker}, "unit": unit}
    ride = _ride_ref(world)["reference"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    answer = api.post(reverse("api:ride-cancel", kwargs={"reference": ride}), {})
    assert answer.status_code == 200


def test_the_admin_page_picks_the_scope(admin_user, caseworker):
    admin, _response = password_login(admin_user)
    enrol(admin)
    form = admin.get(reverse("accounts:token_issue")).content.decode()
    assert 'name="scope"' in form and 'value="read"' in form
    answer = admin.post(
        reverse("accounts:token_issue"), {"user": caseworker.pk, "name": "laporan", "scope": "read"}
    )
    assert answer.status_code == 200
    assert ApiToken.objects.get(name="laporan").scope == "read"


def test_the_command_takes_a_scope(caseworker):
    out = io.StringIO()
    call_command("issue_api_token", caseworker.username, "--scope", "read", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("srp_")
    assert ApiToken.objects.get().scope == "read"
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.post("/api/v1/cases/", {}).status_code == 403
