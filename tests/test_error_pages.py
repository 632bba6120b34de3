"""Error pages (403, 404, 500, a CSRF failure) are the portal's own, in the user's
language, with a way home, and say nothing of whether what was asked for exists."""

import re

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from cases.models import Case
from portal.views import server_error
from tests.conftest import logged_in_client
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _without_tokens(html: str) -> str:
    """The page less its CSRF tokens, which differ on every answer."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'name="csrf-token" content="[^"]+"', "", html)


def _in(language, user):
    client = logged_in_client(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize(
    "language,words", [("id", "Halaman tidak ditemukan"), ("en", "Page not found")]
)
@override_settings(DEBUG=True)
def test_a_case_of_another_unit_answers_the_branded_404_even_in_development(
    caseworker, caseworker_other_unit, language, words
):
    case = CaseFactory(user=caseworker)
    response = _in(language, caseworker_other_unit).get(
        reverse("cases:detail", kwargs={"code": case.code})
    )
    body = response.content.decode()
    assert response.status_code == 404
    assert words in body
    assert 'href="/"' in body
    assert "Django" not in body and "Traceback" not in body
    # the same page as for a code that exists nowhere: nothing says this case exists
    missing = "JKT-2026-999999"
    other = _in(language, caseworker_other_unit).get(
        reverse("cases:detail", kwargs={"code": missing})
    )
    assert _without_tokens(other.content.decode().replace(missing, case.code)) == _without_tokens(
        body
    )
    assert 'name="viewport"' in body


@pytest.mark.parametrize("language,words", [("id", "tidak berhak"), ("en", "not allowed")])
def test_a_page_the_role_may_not_open_answers_the_branded_403(admin_user, language, words):
    response = _in(language, admin_user).get(reverse("cases:list"))
    body = response.content.decode()
    assert response.status_code == 403
    assert words in body and 'href="/"' in body
    assert "403 Forbidden" not in body


def test_a_form_posted_without_its_token_explains_itself(caseworker):
    client = Client(enforce_csrf_checks=True)
    client.force_login(caseworker)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("cases:create"), {"name": "x"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "page was open too long" in body and 'href="/"' in body
    assert not Case.objects.exists()


def test_the_500_page_is_branded_and_needs_nothing_from_the_request():
    request = RequestFactory().get("/")
    response = server_error(request)
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body and "Terjadi kesalahan" in body
    assert 'href="/"' in body
