"""partner_account_add, demo_partner and the default-partner selector."""

from __future__ import annotations

import base64
import io
import tempfile

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


SECRETS = ("client_secret", "webhook_secret")


def secrets_file(values: dict) -> str:
    """A file of the secrets as the command reads them (client_secret=... lines)."""
    with tempfile.NamedTemporaryFile("w", suffix=".secrets", delete=False) as file:
        for key, value in values.items():
            if value is not None:
                file.write(f"{key}={value}\n")
    return file.name


def base_args(**overrides):
    values = {
        "--name": "Mitra Transportasi",
        "--base-url": "https://partner.example/api",
        "--client-id": "ppapp-jakarta",
        "client_secret": "s3cret-client-value",
        "webhook_secret": new_webhook_secret(),
    }
    values.update(overrides)
    args = []
    for option, value in values.items():
        if value is not None and option not in SECRETS:
            args += [option, value]
    return [*args, "--secrets-file", secrets_file({k: values[k] for k in SECRETS})]


def test_partner_account_add_prints_the_id_and_webhook_url(db, settings, unit):
    settings.PORTAL_BASE_URL = "https://portal.example.go.id"
    secret = new_webhook_secret()
    output = add(*base_args(webhook_secret=secret), "--rate-limit", "120")

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
        ({"webhook_secret": "abc"}, [], "webhook_secret: The webhook signing secret must"),
        ({"webhook_secret": "whsec_not base64!"}, [], "is not valid base64"),
        ({"webhook_secret": short_key}, [], "its key must be at least 16 bytes"),
        ({}, ["--unit", "NOPE", "--default"], "--unit: There is no unit with the code NOPE"),
        ({}, ["--unit", "JAKTIM"], "--unit: A unit is only given to make this account its default"),
        ({}, ["--rate-limit", "0"], "--rate-limit: The rate limit is a whole number"),
        ({"--name": "  "}, [], "--name: Enter a name"),
        ({"client_secret": ""}, [], "client_secret: Enter the client secret"),
        ({"client_secret": None}, [], "client_secret: Enter the client secret"),
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
        add(*base_args(**{"--base-url": "nope", "webhook_secret": "nope"}), "--rate-limit", "0")
    lines = str(failed.value).splitlines()
    assert [line.split(":")[0] for line in lines[1:]] == [
        "--base-url",
        "webhook_secret",
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
    # An account no unit was given is nobody's: a ride uses only its unit's accounts.
    assert default_partner_account_for(unit) is None
    only.units.add(unit)
    assert default_partner_account_for(unit) == only  # the unit's only enabled account
    second = _account("second")
    second.units.add(unit)
    assert default_partner_account_for(unit) is None  # two: somebody has to choose
    UnitDefaultPartner.objects.create(unit=unit, partner_account=second)
    with django_assert_num_queries(1):
        assert default_partner_account_for(unit) == second
    assert default_partner_account_for(other_unit) is None
    second.enabled = False
    second.save()
    assert default_partner_account_for(unit) == only  # a switched-off default is skipped
    assert default_partner_account_for(None) is None


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://partner.example/api", "must start with https://"),
        ("https://169.254.169.254/latest", "169.254.169.254 is an internal address"),
        ("https://127.0.0.1:6379", "127.0.0.1 is an internal address"),
        ("https://10.0.0.5", "10.0.0.5 is an internal address"),
        ("https://[::1]:8443/api", "::1 is an internal address"),
        ("https://[::ffff:192.168.1.9]/", "is an internal address"),
        ("https://100.100.100.200/", "100.100.100.200 is an internal address"),
        ("https://localhost:8100/", "localhost is an internal address"),
        ("https://no-such-host.invalid/api", "no-such-host.invalid cannot be found"),
    ],
)
def test_in_production_a_base_url_is_https_on_a_public_host(db, settings, base_url, expected):
    settings.PARTNER_ALLOW_INTERNAL_URLS = False
    with pytest.raises(CommandError) as failed:
        add(*base_args(**{"--base-url": base_url}))
    assert expected in str(failed.value)
    assert not PartnerAccount.objects.exists()


def test_in_production_a_public_https_host_is_taken(db, settings):
    settings.PARTNER_ALLOW_INTERNAL_URLS = False
    # A literal public address resolves without a name server (this machine has none).
    add(*base_args(**{"--base-url": "https://8.8.8.8/partner/v1"}))
    assert PartnerAccount.objects.get().base_url == "https://8.8.8.8/partner/v1"


def test_development_takes_the_local_sandbox(db, settings):
    settings.PARTNER_ALLOW_INTERNAL_URLS = True
    add(*base_args(**{"--base-url": "http://127.0.0.1:8100"}))
    assert PartnerAccount.objects.get().base_url == "http://127.0.0.1:8100"


@pytest.mark.parametrize("option", ["--client-secret", "--webhook-secret"])
def test_a_secret_given_as_an_argument_is_refused(db, option):
    with pytest.raises(CommandError) as failed:
        add(*base_args(), option, "s3cret-in-ps")
    assert "visible to every user of this machine" in str(failed.value)
    assert not PartnerAccount.objects.exists()


def test_secrets_are_read_from_standard_input(db, monkeypatch):
    secret = new_webhook_secret()
    monkeypatch.setattr(
        "sys.stdin", io.StringIO(f"# from the vault\nclient_secret=abc\nwebhook_secret={secret}\n")
    )
    args = base_args()
    add(*args[: args.index("--secrets-file")], "--secrets-file", "-")
    account = PartnerAccount.objects.get()
    assert account.client_secret == "abc" and account.webhook_secret == secret


def test_a_malformed_secrets_file_names_the_line(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("client_secret=abc\npassword=xyz\n"))
    args = base_args()
    with pytest.raises(CommandError) as failed:
        add(*args[: args.index("--secrets-file")], "--secrets-file", "-")
    assert "line 2 of the secrets" in str(failed.value)
    assert not PartnerAccount.objects.exists()


def test_without_a_terminal_or_a_file_the_command_says_how(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    args = base_args()
    with pytest.raises(CommandError) as failed:
        add(*args[: args.index("--secrets-file")])
    assert "--secrets-file" in str(failed.value)
