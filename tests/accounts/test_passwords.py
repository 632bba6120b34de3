"""Passwords: 12+ characters, Django's common list, the Indonesian-context list with
digits around ("jakarta2026" refused), similarity to the user's own details; messages in
the user's language; Argon2 first, older hashes upgraded at login; the change-password
page (every error at once; other sessions and API tokens end, this one stays); an
administrator's one-time reset link."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import AdminChange, ApiToken
from accounts.services import api_token_issue
from tests.accounts.conftest import enrol, password_login
from tests.conftest import logged_in_client
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _refusals(password, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return [error.code for error in exc.error_list]
    return []


@pytest.mark.parametrize(
    "password",
    [
        "jakarta2026",
        "Jakarta2026!!",
        "bismillah123456",
        "P2TP2A-2026-baru",
        "j4k4rt4-merdeka",
        "persija1928jakmania",
        "sayangku12345",
        "rahasiaku2026",
    ],
)
def test_indonesian_context_passwords_are_refused(password):
    assert "password_indonesian_context" in _refusals(password)


def test_length_common_and_similarity(caseworker):
    assert "password_too_short" in _refusals("kopi-tubruk")
    assert "password_too_common" in _refusals("password1234")
    caseworker.first_name, caseworker.email = "Sariwulandari", "sariwulandari@example.go.id"
    assert "password_too_similar" in _refusals("sariwulandari", caseworker)
    assert _refusals("kopi tubruk di bawah hujan") == []


def test_jakarta2026_is_refused_in_indonesian_on_the_change_page(caseworker, settings):
    settings.LANGUAGE_CODE = "id"
    client = logged_in_client(caseworker)
    answer = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "jakarta2026",
            "new_password2": "jakarta2026",
        },
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "setidaknya 12 karakter" in html  # Django's own message, in Indonesian
    form = answer.context["form"]
    assert any("jakarta" in message for message in form.errors["new_password2"])


def test_the_change_page_shows_every_error_at_once(caseworker):
    client = logged_in_client(caseworker)
    answer = client.post(
        reverse("password_change"),
        {"old_password": "not-mine", "new_password1": "123456", "new_password2": "123456"},
    )
    assert answer.status_code == 400
    assert set(answer.context["form"].errors) == {"old_password", "new_password2"}
    assert len(answer.context["form"].errors["new_password2"]) >= 2


def test_a_new_password_keeps_this_session_and_ends_the_others_and_every_token(caseworker):
    here, laptop = Client(), Client()
    for device in (here, laptop):
        password_login(caseworker, device)
        assert device.get(reverse("cases:list")).status_code == 200
    raw = api_token_issue(user=caseworker, name="integration")
    new = "kopi tubruk di bawah hujan"
    answer = here.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert answer.status_code == 302
    assert here.get(reverse("cases:list")).status_code == 200
    assert laptop.get(reverse("cases:list")).status_code == 302
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/cases/").status_code == 401
    assert ApiToken.objects.get().revoked_at is not None


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
)
def test_argon2_hashes_and_older_hashes_are_upgraded_at_login(caseworker):
    from django.contrib.auth.hashers import make_password

    caseworker.password = make_password(TEST_PASSWORD, hasher="pbkdf2_sha256")
    caseworker.save(update_fields=["password"])
    client, response = password_login(caseworker)
    assert response.status_code == 302
    caseworker.refresh_from_db()
    assert caseworker.password.startswith("argon2")


def test_production_hashes_with_argon2_first():
    from portal import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_an_admin_sends_a_one_time_reset_link(
    caseworker, admin_user, django_capture_on_commit_callbacks
):
    caseworker.email = "sari@example.go.id"
    caseworker.save(update_fields=["email"])
    raw = api_token_issue(user=caseworker, name="integration")
    old_session, _response = password_login(caseworker)
    admin, _response = password_login(admin_user)
    enrol(admin)
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(reverse("accounts:user_password_reset", kwargs={"pk": caseworker.pk}))
    assert answer.status_code == 302
    [message] = mail.outbox
    assert message.to == ["sari@example.go.id"]
    link = re.search(r"https?://\S+/password/set/\S+/", message.body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    browser = Client()
    form_page = browser.get(path, follow=True)
    assert form_page.context["validlink"]
    weak = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "jakarta2026", "new_password2": "jakarta2026"},
    )
    assert weak.status_code == 200 and weak.context["form"].errors
    new = "kopi tubruk di bawah hujan"
    done = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done.status_code == 302
    caseworker.refresh_from_db()
    assert caseworker.check_password(new)
    assert not Client().get(path, follow=True).context["validlink"]  # once only
    assert old_session.get(reverse("cases:list")).status_code == 302
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/cases/").status_code == 401
    assert AdminChange.objects.filter(
        subject_id=caseworker.pk, action="password_reset_sent"
    ).exists()
