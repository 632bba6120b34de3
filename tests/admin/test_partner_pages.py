"""Partner accounts in the admin pages: add, edit (blank secrets unchanged), enable and
disable, one default per unit, the production rule for a base URL, test connection
against the sandbox, webhook secret rotation checked with real signed webhooks, and the
change log."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminChange
from partners.client.registry import forget_partner_state
from partners.models import PartnerAccount, UnitDefaultPartner
from tests.factories import PartnerAccountFactory
from tests.partners.conftest import new_webhook_secret
from tests.pipeline.conftest import sign_webhook

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = {
        "name": "Mitra Antar",
        "base_url": "http://127.0.0.1:9/api",
        "client_id": "portal-1",
        "client_secret": "cs-" + uuid.uuid4().hex,
        "webhook_secret": new_webhook_secret(),
        "rate_limit_per_minute": "120",
    }
    data.update(overrides)
    return data


def test_an_admin_adds_an_account_made_default_of_a_unit(admin_client, unit, admin_user):
    data = _form(default_units=[unit.pk])
    response = admin_client.post(reverse("partners:create"), data)
    assert response.status_code == 302
    account = PartnerAccount.objects.get(name="Mitra Antar")
    assert account.client_secret == data["client_secret"]
    assert account.webhook_secret == data["webhook_secret"]
    assert account.rate_limit_per_minute == 120
    assert UnitDefaultPartner.objects.get(unit=unit).partner_account == account
    change = AdminChange.objects.get(subject="partner_account", subject_id=account.pk)
    assert change.actor == admin_user and change.action == "created"
    assert change.changes["client_secret"] == "changed"
    assert data["client_secret"] not in json.dumps(change.changes)
    assert data["webhook_secret"] not in json.dumps(change.changes)


def test_bad_input_shows_every_error_at_once_and_keeps_all_but_the_secrets(admin_client):
    data = _form(
        name="",
        base_url="ftp://nowhere",
        client_id="",
        webhook_secret="not-a-secret",
        rate_limit_per_minute="zero",
    )
    response = admin_client.post(reverse("partners:create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) >= {
        "name",
        "base_url",
        "client_id",
        "webhook_secret",
        "rate_limit_per_minute",
    }
    html = response.content.decode()
    assert 'value="ftp://nowhere"' in html
    assert data["client_secret"] not in html
    assert "not-a-secret" not in html
    assert not PartnerAccount.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example/api",
        "https://127.0.0.1/",
        "https://169.254.169.254/",
        "https://10.0.0.5/",
    ],
)
def test_in_production_the_base_url_must_be_https_on_a_public_host(admin_client, settings, url):
    settings.PARTNER_ALLOW_INTERNAL_URLS = False
    response = admin_client.post(reverse("partners:create"), _form(base_url=url))
    assert response.status_code == 400
    assert "base_url" in response.context["form"].errors
    assert not PartnerAccount.objects.exists()


def test_a_second_default_account_for_a_unit_is_a_clear_error(admin_client, unit):
    first = PartnerAccountFactory(name="First")
    UnitDefaultPartner.objects.create(unit=unit, partner_account=first)
    response = admin_client.post(reverse("partners:create"), _form(default_units=[unit.pk]))
    assert response.status_code == 400
    [message] = response.context["form"].errors["default_units"]
    assert unit.code in message and "First" in message
    assert not PartnerAccount.objects.filter(name="Mitra Antar").exists()
    assert UnitDefaultPartner.objects.get(unit=unit).partner_account == first


def test_an_edit_with_blank_secrets_keeps_them_and_never_shows_them(admin_client, unit):
    account = PartnerAccountFactory(client_secret="the-client-secret")
    old_webhook_secret = account.webhook_secret
    page = admin_client.get(reverse("partners:edit", kwargs={"pk": account.pk}))
    html = page.content.decode()
    assert "the-client-secret" not in html and old_webhook_secret not in html
    data = _form(
        name="Renamed",
        base_url=account.base_url,
        client_id=account.client_id,
        client_secret="",
        webhook_secret="",
        default_units=[unit.pk],
    )
    assert (
        admin_client.post(reverse("partners:edit", kwargs={"pk": account.pk}), data).status_code
        == 302
    )
    account.refresh_from_db()
    assert account.name == "Renamed"
    assert account.client_secret == "the-client-secret"
    assert account.webhook_secret == old_webhook_secret
    change = AdminChange.objects.filter(subject_id=account.pk, action="changed").get()
    assert change.changes["name"][1] == "Renamed" and "client_secret" not in change.changes
    assert change.changes["default_for"] == [[], [unit.code]]


def test_disable_and_enable(admin_client):
    account = PartnerAccountFactory()
    admin_client.post(reverse("partners:disable", kwargs={"pk": account.pk}))
    account.refresh_from_db()
    assert not account.enabled
    admin_client.post(reverse("partners:enable", kwargs={"pk": account.pk}))
    account.refresh_from_db()
    assert account.enabled
    actions = list(
        AdminChange.objects.filter(subject_id=account.pk)
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["disabled", "enabled"]


def _test_message(client, account) -> str:
    response = client.post(reverse("partners:test", kwargs={"pk": account.pk}), follow=True)
    return " ".join(str(message) for message in response.context["messages"])


def test_test_connection_says_works(admin_client, account):
    assert "Works" in _test_message(admin_client, account)


def test_test_connection_says_wrong_credentials(admin_client, make_account, control):
    account = make_account(register=False)
    message = _test_message(admin_client, account)
    assert "Wrong credentials" in message
    assert account.client_secret not in message


def test_test_connection_says_unreachable(admin_client, partner_settings):
    account = PartnerAccountFactory()  # a closed port
    try:
        assert "Unreachable" in _test_message(admin_client, account)
    finally:
        forget_partner_state(account)


def test_test_connection_says_slow(admin_client, account, control):
    control.force_fault("estimates", "slow", seconds=2.5)
    assert "Slow" in _test_message(admin_client, account)


def test_the_list_shows_breaker_and_rate_limit_state_in_words(admin_client, account):
    page = admin_client.get(reverse("partners:list")).content.decode()
    assert "Working: calls to the partner go through." in page
    assert "the partner has not reported the limit yet" in page
    admin_client.post(reverse("partners:test", kwargs={"pk": account.pk}))
    page = admin_client.get(reverse("partners:list")).content.decode()
    assert "requests left this minute" in page


def _post_webhook(client, account, secret):
    event_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "type": "trip.status_changed",
            "data": {
                "trip_id": "trp_" + uuid.uuid4().hex[:12],
                "status": "driver_assigned",
                "updated_at": timezone.now().isoformat(),
            },
        }
    )
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in sign_webhook(secret, event_id, body).items()
    }
    return client.post(account.webhook_path, body, content_type="application/json", **headers)


def test_a_rotated_webhook_secret_shown_once_and_the_old_one_accepted_for_the_grace_period(
    admin_client, settings, client
):
    settings.PARTNER_WEBHOOK_SECRET_GRACE_HOURS = 24
    account = PartnerAccountFactory()
    old = account.webhook_secret
    response = admin_client.post(reverse("partners:rotate", kwargs={"pk": account.pk}))
    account.refresh_from_db()
    new = account.webhook_secret
    assert new != old and new in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert new not in admin_client.get(reverse("partners:list")).content.decode()

    assert _post_webhook(client, account, new).status_code == 204
    assert _post_webhook(client, account, old).status_code == 204
    assert _post_webhook(client, account, new_webhook_secret()).status_code == 401

    PartnerAccount.objects.filter(pk=account.pk).update(
        previous_webhook_secret_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _post_webhook(client, account, old).status_code == 401
    assert _post_webhook(client, account, new).status_code == 204
    change = AdminChange.objects.get(subject_id=account.pk, action="webhook_secret_rotated")
    assert old not in json.dumps(change.changes) and new not in json.dumps(change.changes)
