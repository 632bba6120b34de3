"""Throttling and lockout (django-axes): 20 wrong passwords lock the account for the
cool-off only, the right password is refused meanwhile and works after it; per address
too; failures during the lockout do not prolong it; the page says until when, in the
user's language; an administrator unlocks; a forged X-Forwarded-For changes nothing; the
API's bearer tokens are unaffected."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client
from django.urls import reverse

from accounts.models import AdminChange
from accounts.services import api_token_issue
from accounts.services_security import user_locked_until
from tests.accounts.conftest import enrol, password_login
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _move_attempts_back(by: dt.timedelta) -> None:
    """The cool-off passes: django-axes' own attempt timestamps are moved back."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


def test_twenty_wrong_passwords_lock_the_account_for_the_cool_off_only(caseworker, settings):
    client = Client()
    answers = [
        client.post(reverse("login"), {"username": "caseworker1", "password": f"wrong-{n}"})
        for n in range(20)
    ]
    limit = settings.AXES_FAILURE_LIMIT
    assert [a.status_code for a in answers[: limit - 1]] == [200] * (limit - 1)
    assert {a.status_code for a in answers[limit - 1 :]} == {429}
    assert user_locked_until(caseworker) is not None
    from audit.models import AuditEvent, Kind

    lockouts = AuditEvent.objects.filter(kind=Kind.LOCKOUT, actor_name="caseworker1")
    assert lockouts.exists(), "the lockout is in the audit trail"

    # The right password is refused while locked, from any browser and address.
    right = Client(REMOTE_ADDR="10.9.8.7").post(
        reverse("login"), {"username": "caseworker1", "password": TEST_PASSWORD}
    )
    assert right.status_code == 429
    assert "Try again after" in right.content.decode()

    # The failures during the lockout did not prolong it: it ends one cool-off after
    # the failure that reached the limit.
    last = AccessAttempt.objects.order_by("-attempt_time").first().attempt_time
    assert user_locked_until(caseworker) == last + settings.AXES_COOLOFF_TIME
    assert AccessAttempt.objects.get().failures_since_start == limit

    _move_attempts_back(settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1))
    assert user_locked_until(caseworker) is None
    after = Client()
    response = after.post(reverse("login"), {"username": "caseworker1", "password": TEST_PASSWORD})
    assert response.status_code == 302 and _signed_in(after)
    assert not AccessAttempt.objects.exists()  # the good login cleared the failures


def test_one_address_trying_many_accounts_is_locked(make_user, unit, settings):
    victims = [make_user(unit=unit, username=f"petugas{n}") for n in range(3)]
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(
            reverse("login"),
            {"username": victims[n % 3].username, "password": "tebakan-salah"},
        )
    refused = attacker.post(
        reverse("login"), {"username": victims[0].username, "password": TEST_PASSWORD}
    )
    assert refused.status_code == 429 and not _signed_in(attacker)
    # The accounts themselves are not locked: from another address they log in.
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    ok = elsewhere.post(
        reverse("login"), {"username": victims[0].username, "password": TEST_PASSWORD}
    )
    assert ok.status_code == 302 and _signed_in(elsewhere)


def test_a_forged_x_forwarded_for_gives_no_fresh_addresses(caseworker, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").post(
            reverse("login"), {"username": f"nobody{n}", "password": "x"}
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    refused = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.200").post(
        reverse("login"), {"username": "caseworker1", "password": TEST_PASSWORD}
    )
    assert refused.status_code == 429


def test_the_lockout_page_speaks_the_users_language_and_leads_back(caseworker, settings):
    settings.LANGUAGE_CODE = "id"
    client = Client()
    for _n in range(settings.AXES_FAILURE_LIMIT):
        answer = client.post(reverse("login"), {"username": "caseworker1", "password": "salah"})
    html = answer.content.decode()
    assert answer.status_code == 429
    assert 'lang="id"' in html
    assert f'href="{reverse("login")}"' in html
    assert client.get(reverse("login")).status_code == 200  # no dead end


def test_an_admin_unlocks_on_the_users_page(caseworker, admin_user, settings):
    for _n in range(settings.AXES_FAILURE_LIMIT):
        Client().post(reverse("login"), {"username": "caseworker1", "password": "salah"})
    admin, _response = password_login(admin_user, Client(REMOTE_ADDR="10.1.1.1"))
    enrol(admin)
    page = admin.get(reverse("accounts:user_edit", kwargs={"pk": caseworker.pk})).content.decode()
    assert 'id="lockout-state"' in page and "Unlock now" in page
    assert (
        admin.post(reverse("accounts:user_unlock", kwargs={"pk": caseworker.pk})).status_code == 302
    )
    assert user_locked_until(caseworker) is None
    assert AdminChange.objects.filter(subject_id=caseworker.pk, action="unlocked").exists()
    client = Client(REMOTE_ADDR="10.2.2.2")
    client.post(reverse("login"), {"username": "caseworker1", "password": TEST_PASSWORD})
    assert _signed_in(client)


def test_bearer_tokens_are_unaffected_by_a_lockout(caseworker, settings):
    raw = api_token_issue(user=caseworker, name="hotline")
    for _n in range(settings.AXES_FAILURE_LIMIT):
        Client().post(reverse("login"), {"username": "caseworker1", "password": "salah"})
    assert user_locked_until(caseworker) is not None
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/cases/").status_code == 200
    # The token path never touched the failure records.
    assert AccessAttempt.objects.get().failures_since_start == settings.AXES_FAILURE_LIMIT
