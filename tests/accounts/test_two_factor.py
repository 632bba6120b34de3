"""The second factor: enrolment (QR code and secret, one code confirms), the code step
after the password, recovery codes (hashed, each once), throttling of wrong codes, the
encrypted secret, who must enrol, and an administrator's reset."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AdminChange, RecoveryCode, Role, TotpDevice
from tests.accounts.conftest import code_from_secret, code_now, enrol, password_login

pytestmark = pytest.mark.django_db


def _path(response) -> str:
    return urlparse(response["Location"]).path


def test_a_supervisor_without_a_device_is_sent_to_enrolment_and_reaches_nothing_else(
    supervisor,
):
    client, response = password_login(supervisor)
    assert response.status_code == 302
    assert _path(response) == reverse("two_factor_enrol")
    for name in ("home", "cases:list", "rides:approvals", "password_change"):
        blocked = client.get(reverse(name))
        assert blocked.status_code == 302 and _path(blocked) == reverse("two_factor_enrol"), name
    page = client.get(reverse("two_factor_enrol"))
    assert page.status_code == 200
    html = page.content.decode()
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]  # made here: no outside service
    assert "<path" in svg and "http" not in svg
    assert 'id="totp-secret"' in html


def test_enrolment_shows_recovery_codes_once_and_the_next_login_asks_for_a_code(supervisor):
    client, _response = password_login(supervisor)
    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(reverse("rides:approvals")).status_code == 200  # verified by enrolling
    # The codes are stored hashed only; the secret encrypted.
    stored = list(RecoveryCode.objects.filter(user=supervisor).values_list("code_hash", flat=True))
    assert all(identify_hasher(value) for value in stored)
    assert not set(codes) & set(stored)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_totpdevice WHERE user_id = %s", [supervisor.pk])
        [(raw_key,)] = cursor.fetchall()
    device = TotpDevice.objects.get(user=supervisor)
    assert raw_key.startswith("fernet:") and device.key not in raw_key
    # The status page does not show the codes or the secret again.
    status = client.get(reverse("two_factor_enrol")).content.decode()
    assert codes[0] not in status and secret not in status

    client.post(reverse("logout"))
    fresh, response = password_login(supervisor)
    assert _path(response) == reverse("two_factor_verify")
    assert fresh.get(reverse("cases:list")).status_code == 302
    wrong = fresh.post(reverse("two_factor_verify"), {"code": "000000"})
    assert wrong.status_code == 400
    assert "not right" in wrong.content.decode()
    device.throttle_reset()  # the wrong code slowed the next attempt down by a second
    good = fresh.post(
        reverse("two_factor_verify"),
        {"code": code_now(device, steps_ahead=1), "next": reverse("rides:approvals")},
    )
    assert good.status_code == 302 and _path(good) == reverse("rides:approvals")
    assert fresh.get(reverse("rides:approvals")).status_code == 200


def test_a_code_works_once_and_wrong_codes_are_throttled(supervisor):
    client, _response = password_login(supervisor)
    enrol(client)
    device = TotpDevice.objects.get(user=supervisor)
    client.post(reverse("logout"))
    other, _response = password_login(supervisor)
    # The code used at enrolment (this time step) is spent: it does not work again.
    used = code_now(device)
    assert other.post(reverse("two_factor_verify"), {"code": used}).status_code == 400
    # Right after a failure even the right code waits its turn.
    answer = other.post(reverse("two_factor_verify"), {"code": code_now(device, steps_ahead=1)})
    assert answer.status_code == 400
    assert "Too many wrong codes" in answer.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count >= 1
    # Every step is in the audit trail: the enrolment, the wrong code, the throttled one.
    from audit.models import AuditEvent, Kind

    steps = list(
        AuditEvent.objects.filter(kind=Kind.TWO_FACTOR, actor=supervisor)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert steps == ["enrolled", "wrong_code", "throttled"], steps


def test_a_recovery_code_works_once(supervisor):
    client, _response = password_login(supervisor)
    _secret, codes = enrol(client)
    client.post(reverse("logout"))

    first, _response = password_login(supervisor)
    answer = first.post(reverse("two_factor_verify"), {"code": codes[3].upper()})
    assert answer.status_code == 302
    assert first.get(reverse("home")).status_code == 200
    first.post(reverse("logout"))

    TotpDevice.objects.filter(user=supervisor).update(throttling_failure_count=0)
    second, _response = password_login(supervisor)
    again = second.post(reverse("two_factor_verify"), {"code": codes[3]})
    assert again.status_code == 400
    assert second.get(reverse("home")).status_code == 302
    assert RecoveryCode.objects.filter(user=supervisor, used_at__isnull=False).count() == 1


def test_a_caseworker_may_skip_two_factor_unless_the_setting_says_all(caseworker, settings):
    client, response = password_login(caseworker)
    assert _path(response) == reverse("home")
    assert client.get(reverse("cases:list")).status_code == 200

    settings.TWO_FACTOR_REQUIRED_ROLES = "all"
    client, response = password_login(caseworker, Client())
    assert _path(response) == reverse("two_factor_enrol")
    assert client.get(reverse("cases:list")).status_code == 302


def test_a_caseworker_who_enrolled_gives_a_code_at_every_login(caseworker):
    client, _response = password_login(caseworker)
    enrol(client)
    client.post(reverse("logout"))
    _client, response = password_login(caseworker)
    assert _path(response) == reverse("two_factor_verify")


def test_an_admin_resets_a_lost_second_factor(supervisor, admin_user):
    phone, _response = password_login(supervisor)
    enrol(phone)
    assert phone.get(reverse("rides:approvals")).status_code == 200

    admin, _response = password_login(admin_user)
    enrol(admin)
    page = admin.get(reverse("accounts:user_edit", kwargs={"pk": supervisor.pk}))
    assert "Reset two-factor login" in page.content.decode()
    done = admin.post(reverse("accounts:user_two_factor_reset", kwargs={"pk": supervisor.pk}))
    assert done.status_code == 302

    assert not TotpDevice.objects.filter(user=supervisor).exists()
    assert not RecoveryCode.objects.filter(user=supervisor).exists()
    # Signed out everywhere; the next login asks for a new enrolment.
    assert phone.get(reverse("rides:approvals")).status_code == 302
    _client, response = password_login(supervisor)
    assert _path(response) == reverse("two_factor_enrol")
    change = AdminChange.objects.get(subject="user", subject_id=supervisor.pk)
    assert change.action == "two_factor_reset" and change.actor == admin_user
    assert change.changes["sessions_ended"] == 1


def test_an_htmx_request_of_a_session_that_owes_a_code_gets_hx_redirect(supervisor):
    client, _response = password_login(supervisor)
    enrol(client)
    client.post(reverse("logout"))
    other, _response = password_login(supervisor)
    answer = other.get(reverse("rides:notice_badge"), HTTP_HX_REQUEST="true")
    assert answer.status_code == 204
    assert urlparse(answer["HX-Redirect"]).path == reverse("two_factor_verify")
    api = other.get("/api/v1/cases/")
    assert api.status_code == 403


def test_the_enrolment_page_speaks_indonesian(supervisor, settings):
    settings.LANGUAGE_CODE = "id"
    client, _response = password_login(supervisor)
    html = client.get(reverse("two_factor_enrol")).content.decode()
    assert 'lang="id"' in html


def test_the_code_is_computed_from_the_secret_shown(supervisor):
    client, _response = password_login(supervisor)
    html = client.get(reverse("two_factor_enrol")).content.decode()
    device = TotpDevice.objects.get(user=supervisor)
    from accounts.two_factor import secret_text

    assert secret_text(device) in html
    assert code_from_secret(secret_text(device)) == code_now(device)
    assert supervisor.role == Role.SUPERVISOR
