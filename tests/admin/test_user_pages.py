"""Users, units and API tokens in the admin pages: an invitation's one-time link, role and
unit, deactivation (every session and token ends), a move to another unit (assignments
end, the old unit's supervisors are told), and tokens that expire or are revoked failing
over the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminChange, ApiToken, Role, Unit, User
from accounts.services import api_token_issue
from tests.conftest import logged_in_client
from tests.factories import TEST_PASSWORD, CaseFactory

pytestmark = pytest.mark.django_db


def test_an_invitation_sends_a_link_that_sets_the_password_once(
    admin_client, unit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("accounts:user_invite"),
            {
                "username": "petugas9",
                "email": "p9@example.go.id",
                "role": "caseworker",
                "unit": unit.pk,
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="petugas9")
    assert user.unit == unit and not user.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["p9@example.go.id"]
    link = re.search(r"https?://\S+/password/set/\S+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    browser = Client()
    form_page = browser.get("/" + path, follow=True)
    assert form_page.context["validlink"]
    new_password = "Kuat-dan-Panjang-2026"
    done = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)
    again = Client().get("/" + path, follow=True)
    assert not again.context["validlink"]  # one time only
    assert AdminChange.objects.filter(subject="user", subject_id=user.pk, action="invited").exists()


def test_invite_shows_every_error_at_once_and_keeps_what_was_typed(admin_client, caseworker):
    response = admin_client.post(
        reverse("accounts:user_invite"),
        {"username": caseworker.username, "first_name": "Dewi", "email": "", "role": "caseworker"},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"username", "email", "unit"}
    assert 'value="Dewi"' in response.content.decode()


def test_deactivation_ends_every_session_and_every_token(admin_client, caseworker):
    phone, laptop = Client(), Client()
    for device in (phone, laptop):
        # django-axes checks every authentication against its lockout: it needs a request.
        assert device.login(
            request=HttpRequest(), username=caseworker.username, password=TEST_PASSWORD
        )
        assert device.get(reverse("cases:list")).status_code == 200
    raw = api_token_issue(user=caseworker, name="integration")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/cases/").status_code == 200

    response = admin_client.post(reverse("accounts:user_deactivate", kwargs={"pk": caseworker.pk}))
    assert response.status_code == 302
    for device in (phone, laptop):
        assert device.get(reverse("cases:list")).status_code == 302  # to the login page
    assert api.get("/api/v1/cases/").status_code == 401
    assert ApiToken.objects.get(user=caseworker).revoked_at is not None


def test_a_move_to_another_unit_ends_the_old_assignments_and_tells_the_supervisors(
    admin_client, caseworker, supervisor, other_unit, django_capture_on_commit_callbacks
):
    supervisor.email = "spv@example.go.id"
    supervisor.save(update_fields=["email"])
    case = CaseFactory(user=caseworker)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("accounts:user_edit", kwargs={"pk": caseworker.pk}),
            {"role": "caseworker", "unit": other_unit.pk},
        )
    assert response.status_code == 302
    caseworker.refresh_from_db()
    assert caseworker.unit == other_unit
    assert not case.assigned_caseworkers.filter(pk=caseworker.pk).exists()
    [message] = mail.outbox
    assert message.to == ["spv@example.go.id"]
    assert (
        case.code in message.body
        and reverse("cases:detail", kwargs={"code": case.code}) in message.body
    )
    assert case.survivor.name not in message.body
    change = AdminChange.objects.get(subject="user", subject_id=caseworker.pk)
    assert change.changes["assignments_ended"] == [case.code]


def test_a_caseworker_needs_a_unit(admin_client, caseworker):
    response = admin_client.post(
        reverse("accounts:user_edit", kwargs={"pk": caseworker.pk}),
        {"role": "supervisor", "unit": ""},
    )
    assert response.status_code == 400
    assert "unit" in response.context["form"].errors


def test_units_are_added_and_renamed(admin_client):
    response = admin_client.post(
        reverse("accounts:unit_create"),
        {"code": "jakbar", "name": "Pos PPA Jakarta Barat", "kind": "city_office"},
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="JAKBAR")
    response = admin_client.post(
        reverse("accounts:unit_edit", kwargs={"pk": unit.pk}),
        {"name": "Pos Jakbar", "kind": "city_office"},
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.name == "Pos Jakbar"
    duplicate = admin_client.post(
        reverse("accounts:unit_create"), {"code": "JAKBAR", "name": "", "kind": "city_office"}
    )
    assert duplicate.status_code == 400
    assert set(duplicate.context["form"].errors) == {"code", "name"}
    assert list(
        AdminChange.objects.filter(subject="unit")
        .order_by("at", "id")
        .values_list("action", flat=True)
    ) == ["created", "renamed"]


def test_a_token_is_shown_once_and_fails_once_expired_or_revoked(admin_client, caseworker):
    response = admin_client.post(
        reverse("accounts:token_issue"),
        {"user": caseworker.pk, "name": "hotline", "expires_on": ""},
    )
    raw = re.search(r"srp_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    token = ApiToken.objects.get(user=caseworker)
    assert raw not in admin_client.get(reverse("accounts:tokens")).content.decode()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/cases/").status_code == 200

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    admin_client.post(
        reverse("accounts:token_expire", kwargs={"pk": token.pk}), {"expires_on": yesterday}
    )
    token.refresh_from_db()
    assert token.expires_at is not None and token.expires_at <= timezone.now()
    assert api.get("/api/v1/cases/").status_code == 401

    admin_client.post(reverse("accounts:token_expire", kwargs={"pk": token.pk}), {"expires_on": ""})
    assert api.get("/api/v1/cases/").status_code == 200
    admin_client.post(reverse("accounts:token_revoke", kwargs={"pk": token.pk}))
    assert api.get("/api/v1/cases/").status_code == 401
    actions = AdminChange.objects.filter(subject="api_token").values_list("action", flat=True)
    assert sorted(actions) == ["expiry_set", "expiry_set", "issued", "revoked"]


def test_an_expiry_in_the_past_is_refused_when_issuing(admin_client, caseworker):
    response = admin_client.post(
        reverse("accounts:token_issue"),
        {"user": caseworker.pk, "expires_on": timezone.localdate() - dt.timedelta(days=2)},
    )
    assert response.status_code == 400
    assert "expires_on" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_admin_pages_are_for_admins_only(caseworker, supervisor):
    for person in (caseworker, supervisor):
        client = logged_in_client(person)
        assert client.get(reverse("accounts:users")).status_code == 403
        assert client.post(reverse("accounts:user_invite"), {"role": Role.ADMIN}).status_code == 403


def test_every_admin_post_needs_a_csrf_token(admin_user, caseworker):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(reverse("accounts:user_deactivate", kwargs={"pk": caseworker.pk}))
    assert response.status_code == 403
    caseworker.refresh_from_db()
    assert caseworker.is_active
