"""Credentials are ciphertext in the database and absent from every page and API answer
an administrator can reach: accounts are made with known secrets, every GET the access
table lets an admin reach is rendered (and the admin-reachable API), and none of the
secrets — client secret, webhook secret (old and new after a rotation), an API token's
raw value after its one-time display — appears."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Role
from accounts.services import api_token_issue
from partners.models import PartnerAccount
from tests.access_table import ACCESS
from tests.conftest import logged_in_client
from tests.factories import PartnerAccountFactory, UnitDefaultPartnerFactory

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "client-secret-KNOWN-1f3a9c"
WEBHOOK_SECRET = "whsec_S05PV04tV0VCSE9PSy1TRUNSRVQtMTIzNA=="


def _admin_gets(world) -> list[str]:
    urls = []
    for name, entry in sorted(ACCESS.items()):
        if entry["method"] != "get" or entry["expect"]["admin"] != 200:
            continue
        kwargs = entry["kwargs"](world) if "kwargs" in entry else {}
        urls.append(reverse(name, kwargs=kwargs))
    return urls


def test_no_secret_on_any_admin_page_or_api_answer_and_ciphertext_in_the_database(
    make_user, unit, admin_user
):
    account = PartnerAccountFactory(
        name="Known secrets", client_secret=CLIENT_SECRET, webhook_secret=WEBHOOK_SECRET
    )
    UnitDefaultPartnerFactory(unit=unit, partner_account=account)
    caseworker = make_user(Role.CASEWORKER, unit)
    world = {
        "users": {
            "caseworker": caseworker,
            "supervisor": make_user(Role.SUPERVISOR, unit),
            "admin": admin_user,
        },
        "unit": unit,
    }
    client = logged_in_client(admin_user)

    # The one-time displays: a rotated webhook secret and a new API token.
    rotated = client.post(reverse("partners:rotate", kwargs={"pk": account.pk}))
    account.refresh_from_db()
    new_webhook_secret = account.webhook_secret
    assert new_webhook_secret in rotated.content.decode()
    issued = client.post(reverse("accounts:token_issue"), {"user": caseworker.pk, "name": "x"})
    raw_token = re.search(r"srp_[A-Za-z0-9_-]+", issued.content.decode()).group(0)
    other_raw = api_token_issue(user=caseworker, name="made elsewhere")
    secrets = [CLIENT_SECRET, WEBHOOK_SECRET, new_webhook_secret, raw_token, other_raw]

    urls = _admin_gets(world)
    urls += [f"{reverse('accounts:changes')}?subject={s}" for s in ("partner_account", "api_token")]
    assert reverse("partners:list") in urls and reverse("accounts:tokens") in urls
    assert (
        reverse(
            "partners:edit",
            kwargs={"pk": PartnerAccount.objects.get(name="Mitra uji akses").pk},
        )
        in urls
    )
    urls.append(reverse("partners:edit", kwargs={"pk": account.pk}))
    seen = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        # bytes: the funding report's XLSX is a zip; a secret would be plain in a CSV or page
        for secret in secrets:
            assert secret.encode() not in body, (url, secret[:6])
        seen += 1
    assert seen >= 15

    # The test connection's answer (a message on the list page) carries no secret either.
    tested = client.post(reverse("partners:test", kwargs={"pk": account.pk}), follow=True)
    for secret in secrets:
        assert secret not in tested.content.decode()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret, webhook_secret, previous_webhook_secret "
            "FROM partners_partneraccount WHERE id = %s",
            [account.pk],
        )
        stored = cursor.fetchone()
        cursor.execute("SELECT key_hash FROM accounts_apitoken")
        hashes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT changes::text FROM accounts_adminchange")
        logged = " ".join(row[0] for row in cursor.fetchall())
    for column in stored:
        assert column.startswith("fernet:"), column[:10]
    for secret in secrets:
        assert all(secret not in column for column in stored)
        assert all(secret not in value for value in hashes)
        assert secret not in logged
