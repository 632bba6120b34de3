"""partner_account_add, demo_partner and the default-partner selector."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from partners.client.http import PartnerClient
from partners.client.registry import forget_partner_state
from partners.models import PartnerAccount, UnitDefaultPartner
from partners.selectors import default_partner_account_for
from partners.services import DEMO_ACCOUNT_NAME
from sandbox.testing import free_port
from tests.factories import PartnerAccountFactory

from .conftest import new_webhook_secret


def add(*args):
    out = io.StringIO()
    call_command("partner_account_add", *args, stdout=out)
    return out.getvalue()


def base_args(**overrides):
    values = {
        "--name": "Mitra Transportasi",
        "--base-url": "https://partner.example/api",
        "--client-id": "ppapp-jakarta",
        "--client-secret": "s3cret-client-value",
        "--webhook-secret": new_webhook_secret(),
    }
    values.update(overrides)
    args = []
    for option, value in values.items():
        if value is not None:
            args += [option, value]
    return args


def test_partner_account_add_prints_the_id_and_webhook_url(db, settings, unit):
    settings.PORTAL_BASE_URL = "https://portal.example.go.id"
    secret = new_webhook_secret()
    output = add(*base_args(**{"--webhook-secret": secret}), "--rate-limit", "120")

    account = PartnerAccount.objects.get()
    assert output.splitlines() == [
        f"Partner account {account.pk} created: Mitra Transportasi",
        "Webhook URL to register at the partner: "
        f"https://portal.example.go.id/webhooks/partners/{account.webhook_token}/",
    ]
    assert account.rate_limit_per_minute == 120 and account.enabled
    assert account.client_secret == "s3cret-client-value" and account.webhook_secret == secret
    # Not a default unless asked.
    assert not UnitDefaultPartner.objects.exists()

    # At rest, the secrets are ciphertext.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret, webhook_secret, client_id FROM partners_partneraccount "
            "WHERE id = %s",
            [account.pk],
        )
        client_secret, webhook_secret, client_id = cursor.fetchone()
    assert client_secret.startswith("fernet:") and "s3cret" not in client_secret
    assert webhook_secret.startswith("fernet:") and secret[6:] not in webhook_secret
    assert client_id == "ppapp-jakarta"


def test_default_for_one_unit(db, unit, other_unit):
    output = add(*base_args(), "--unit", unit.code, "--default")
    account = PartnerAccount.objects.get()
    assert output.splitlines()[-1] == f"Default partner of: {unit.code}"
    assert default_partner_account_for(unit) == account
    assert UnitDefaultPartner.objects.get().unit == unit


def test_default_without_a_unit_means_every_unit(db, unit, other_unit):
    output = add(*base_args(), "--default")
    assert output.splitlines()[-1] == f"Default partner of: {other_unit.code}, {unit.code}"
    assert UnitDefaultPartner.objects.count() == 2


def test_a_new_default_replaces_the_old_one(db, unit):
    add(*base_args(), "--unit", unit.code, "--default")
    add(*base_args(**{"--name": "Second partner"}), "--unit", unit.code, "--default")
    assert default_partner_account_for(unit).name == "Second partner"
    assert UnitDefaultPartner.objects.count() == 1


short_key = "whsec_" + base64.b64encode(b"12345678").decode()


@pytest.mark.parametrize(
    ("overrides", "extra", "expected"),
    [
        ({"--base-url": "partner.example/api"}, [], "--base-url: Enter the partner's base URL"),
        ({"--base-url": "ftp://partner.example"}, [], "--base-url: Enter the partner's base URL"),
        (
            {"--base-url": "https://user:pw@partner.example"},
            [],
            "--base-url: The base URL must not contain a user name, password",
        ),
        ({"--webhook-secret": "abc"}, [], "--webhook-secret: The webhook signing secret must"),
        ({"--webhook-secret": "whsec_not base64!"}, [], "is not valid base64"),
        ({"--webhook-secret": short_key}, [], "its key must be at least 16 bytes"),
        ({}, ["--unit", "NOPE", "--default"], "--unit: There is no unit with the code NOPE"),
        ({}, ["--unit", "JAKTIM"], "--unit: A unit is only given to make this account its default"),
        ({}, ["--rate-limit", "0"], "--rate-limit: The rate limit is a whole number"),
        ({"--name": "  "}, [], "--name: Enter a name"),
        ({"--client-secret": ""}, [], "--client-secret: Enter the client secret"),
    ],
)
def test_bad_input_names_the_problem_and_stores_nothing(db, unit, overrides, extra, expected):
    with pytest.raises(CommandError) as failed:
        add(*base_args(**overrides), *extra)
    message = str(failed.value)
    assert message.startswith("Nothing was stored.")
    assert expected in message
    assert not PartnerAccount.objects.exists() and not UnitDefaultPartner.objects.exists()


def test_every_problem_is_listed_at_once(db):
    with pytest.raises(CommandError) as failed:
        add(*base_args(**{"--base-url": "nope", "--webhook-secret": "nope"}), "--rate-limit", "0")
    lines = str(failed.value).splitlines()
    assert [line.split(":")[0] for line in lines[1:]] == [
        "--base-url",
        "--webhook-secret",
        "--rate-limit",
    ]


def test_a_duplicate_name_is_refused(db):
    add(*base_args())
    with pytest.raises(CommandError) as failed:
        add(*base_args(**{"--name": "mitra transportasi"}))
    assert "--name: A partner account named mitra transportasi exists already." in str(failed.value)
    assert PartnerAccount.objects.count() == 1


# --- demo_partner --------------------------------------------------------------------------


def demo(*args):
    out = io.StringIO()
    call_command("demo_partner", *args, stdout=out)
    return out.getvalue()


def test_demo_partner_refuses_to_run_without_debug(db, settings, sandbox):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        demo("--sandbox-url", sandbox.base_url)
    assert not PartnerAccount.objects.exists()


def test_demo_partner_is_idempotent_and_registers_the_client(
    db, settings, control, sandbox, unit, other_unit, partner_settings
):
    settings.DEBUG = True
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    first = demo("--sandbox-url", sandbox.base_url)
    account = PartnerAccount.objects.get(name=DEMO_ACCOUNT_NAME)
    webhook_url = f"http://127.0.0.1:8000/webhooks/partners/{account.webhook_token}/"
    assert first == (
        f"Demo partner account {account.pk} created, registered at {sandbox.base_url} as "
        f"client {account.client_id}; webhooks go to {webhook_url}\n"
    )
    second = demo("--sandbox-url", sandbox.base_url + "/")
    assert second.startswith(f"Demo partner account {account.pk} up to date,")
    assert PartnerAccount.objects.count() == 1

    again = PartnerAccount.objects.get()
    assert (again.client_secret, again.webhook_secret) == (
        account.client_secret,
        account.webhook_secret,
    )
    assert again.webhook_secret.startswith("whsec_")
    for each in (unit, other_unit):
        assert default_partner_account_for(each) == account

    registered = {c["client_id"]: c for c in control.clients()}[account.client_id]
    assert registered["client_secret"] == account.client_secret
    assert registered["webhook_secret"] == account.webhook_secret
    assert registered["webhook_url"] == webhook_url
    # The portal can sign in and call the sandbox with the registered credentials.
    assert PartnerClient(again).list_trips().trips == []
    forget_partner_state(again)


def test_demo_partner_with_force_runs_without_debug(db, settings, control, sandbox):
    settings.DEBUG = False
    output = demo("--sandbox-url", sandbox.base_url, "--force")
    assert "created" in output and len(output.splitlines()) == 1


def test_demo_partner_says_when_no_sandbox_answers(db, settings):
    settings.DEBUG = True
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match="no sandbox answered at"):
        demo("--sandbox-url", url, "--wait", "0.3")


def test_demo_partner_rejects_a_bad_url(db, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="--sandbox-url: Enter the partner's base URL"):
        demo("--sandbox-url", "localhost:8100")


# --- the default partner of a unit -------------------------------------------------------


def _account(name, enabled=True):
    return PartnerAccountFactory(
        name=name,
        base_url="https://partner.example",
        client_id=name,
        client_secret="x",
        webhook_secret=new_webhook_secret(),
        enabled=enabled,
    )


def test_default_partner_selector(db, unit, other_unit, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert default_partner_account_for(unit) is None  # no account at all
    only = _account("only")
    assert default_partner_account_for(unit) == only  # the only enabled account
    second = _account("second")
    assert default_partner_account_for(unit) is None  # two: somebody has to choose
    UnitDefaultPartner.objects.create(unit=unit, partner_account=second)
    with django_assert_num_queries(1):
        assert default_partner_account_for(unit) == second
    assert default_partner_account_for(other_unit) is None
    second.enabled = False
    second.save()
    assert default_partner_account_for(unit) == only  # a switched-off default is skipped
    assert default_partner_account_for(None) == only
