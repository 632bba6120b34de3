"""REST API v1 for admins: partner accounts (credentials accepted, never answered), users
(invited by email, role and unit, deactivated), tokens (shown once, revoked), the fund's
summary; the docs page; the schema's patterns held to the rules they describe."""

import re

import pytest
from django.core import mail
from django.utils import translation

from accounts.models import ApiToken, Role, User
from cases.urls import CaseCodeConverter
from partners.models import PartnerAccount
from partners.services import new_webhook_secret
from portal.phones import MOBILE_PATTERN, normalize_indonesian_phone
from rides.urls import RideReferenceConverter
from tests.api.support import api

pytestmark = [pytest.mark.django_db]

ACCOUNTS = "/api/v1/partner-accounts/"
CLIENT_SECRET = "cs-very-secret-value-1234"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _every_answer_lacks(secrets, *responses):
    for response in responses:
        for secret in secrets:
            assert secret.encode() not in response.content, response.request["PATH_INFO"]


def test_partner_credentials_are_accepted_and_never_answered(admin_user, unit):
    webhook_secret = new_webhook_secret()
    client = api(admin_user)
    body = {
        "name": "Mitra API",
        "base_url": "http://127.0.0.1:9/",
        "client_id": "portal-api",
        "client_secret": CLIENT_SECRET,
        "webhook_secret": webhook_secret,
        "default_units": [unit.code],
    }
    created = client.post(ACCOUNTS, body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["client_secret_set"] is True and data["webhook_secret_set"] is True
    assert data["default_units"] == [unit.code]
    assert "client_secret" not in data and "webhook_secret" not in data
    account = PartnerAccount.objects.get(pk=data["id"])
    assert account.client_secret == CLIENT_SECRET and account.webhook_secret == webhook_secret

    detail = f"{ACCOUNTS}{account.pk}/"
    changed = client.patch(detail, {"rate_limit_per_minute": 120, "client_secret": ""}, "json")
    assert changed.status_code == 200 and changed.json()["rate_limit_per_minute"] == 120
    account.refresh_from_db()
    assert account.client_secret == CLIENT_SECRET  # blank: unchanged
    disabled = client.post(f"{detail}disable/")
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    enabled = client.post(f"{detail}enable/")
    assert enabled.json()["enabled"] is True
    _every_answer_lacks(
        [CLIENT_SECRET, webhook_secret],
        created,
        changed,
        disabled,
        enabled,
        client.get(ACCOUNTS),
        client.get(detail),
    )


def test_a_partner_account_refused_names_every_field(admin_user):
    response = api(admin_user).post(
        ACCOUNTS,
        {
            "name": " ",
            "base_url": "ftp://x",
            "client_id": "x",
            "client_secret": "s",
            "webhook_secret": "nope",
            "default_units": ["NOWHERE"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert {"name", "base_url", "webhook_secret", "default_units"} <= set(response.json())
    assert PartnerAccount.objects.count() == 0


def test_users_invited_changed_and_deactivated_through_the_admin_services(
    admin_user, unit, other_unit, django_capture_on_commit_callbacks
):
    client = api(admin_user)
    body = {
        "username": "sari",
        "email": "sari@example.org",
        "role": "caseworker",
        "unit": unit.code,
    }
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post("/api/v1/users/", body, format="json")
    assert invited.status_code == 201, invited.json()
    person = User.objects.get(username="sari")
    assert not person.has_usable_password()
    assert [message.to for message in mail.outbox] == [["sari@example.org"]]
    assert api(admin_user).post(
        "/api/v1/users/", {"username": "x", "email": "x@example.org", "role": "caseworker"}
    ).json() == {"unit": ["Caseworkers and supervisors belong to a unit: choose one."]}

    moved = client.patch(
        f"/api/v1/users/{person.pk}/", {"role": "supervisor", "unit": other_unit.code}, "json"
    )
    assert moved.status_code == 200
    assert (moved.json()["role"], moved.json()["unit"]) == ("supervisor", other_unit.code)

    token = client.post("/api/v1/tokens/", {"user": person.pk, "name": "hotline"}, "json")
    assert token.status_code == 201
    raw = token.json()["token"]
    assert api().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    gone = client.post(f"/api/v1/users/{person.pk}/deactivate/")
    assert gone.status_code == 200 and gone.json()["is_active"] is False
    assert api().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    refused = client.post(f"/api/v1/users/{admin_user.pk}/deactivate/")
    assert refused.json() == {"non_field_errors": ["You cannot deactivate your own account."]}


def test_a_token_is_shown_once_and_works_until_revoked(admin_user, caseworker):
    client = api(admin_user)
    issued = client.post("/api/v1/tokens/", {"user": caseworker.pk, "name": "sync"}, "json")
    assert issued.status_code == 201 and issued["Cache-Control"] == "no-store"
    raw = issued.json()["token"]
    token = ApiToken.objects.get(pk=issued.json()["id"])
    assert raw.startswith("srp_") and token.prefix == issued.json()["prefix"]
    listed = client.get("/api/v1/tokens/")
    assert raw.encode() not in listed.content
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert api().get("/api/v1/rides/", **bearer).status_code == 200
    revoked = client.post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert api().get("/api/v1/rides/", **bearer).status_code == 401


def test_the_funds_summary_is_for_admins_in_numbers(admin_user, supervisor):
    response = api(admin_user).get("/api/v1/funding/")
    assert response.status_code == 200
    data = response.json()
    assert data["currency"] == "IDR"
    assert data["balance"] == {"received": 0, "charged": 0, "held": 0, "available": 0}
    assert isinstance(data["alerts"], list) and data["by_unit"] == []
    assert api(supervisor).get("/api/v1/funding/").status_code == 403


# --- the docs ----------------------------------------------------------------------------------


def test_the_docs_page_loads_swagger_ui_from_the_portal_without_inline_script(caseworker):
    client = api(caseworker, bearer=False)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 3 and all(
        'src="' in attrs and not body.strip() for attrs, body in scripts
    )
    assert "<style" not in html and " style=" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    init = client.get("/api/v1/docs/?script=")
    assert init.status_code == 200 and init["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in init.content.decode()


def test_anonymous_visitors_of_the_docs_are_sent_to_the_login(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- the schema's patterns -----------------------------------------------------------------------


def test_the_schemas_path_patterns_are_the_url_converters(settings):
    overrides = settings.SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"]
    assert overrides["casecode"]["pattern"] == f"^{CaseCodeConverter.regex}$"
    assert overrides["rideref"]["pattern"] == f"^{RideReferenceConverter.regex}$"


@pytest.mark.parametrize(
    "number", ["081234567890", "6281234567890", "+6281234567890", "0857123456", "+628991234567"]
)
def test_a_number_the_mobile_pattern_allows_is_a_mobile_number(number):
    assert re.match(MOBILE_PATTERN, number)
    assert normalize_indonesian_phone(number).startswith("+628")


def test_every_role_reads_the_same_schema(caseworker, admin_user):
    assert api(caseworker).get("/api/v1/schema/").content == (
        api(admin_user).get("/api/v1/schema/").content
    )
    assert Role.ADMIN == admin_user.role


def test_a_url_under_the_api_that_matches_nothing_answers_json(caseworker):
    response = api(caseworker).get("/api/v1/rides/%C3%98%F2%91/events/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    page = api(caseworker, bearer=False).get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
