import pytest
from django.test import override_settings
from django.urls import reverse

from tests.conftest import logged_in_client


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="id")
def test_login_page_is_public_and_in_indonesian(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'lang="id"' in response.content.decode()
    assert "Masuk" in response.content.decode()


@pytest.mark.django_db
def test_a_good_login_reaches_the_home_page(client, caseworker):
    response = client.post(
        reverse("login"), {"username": "caseworker1", "password": "pw-for-tests-1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Sari" in response.content.decode() or "Caseworker1" in response.content.decode()


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="id")
def test_a_wrong_login_does_not_tell_whether_the_user_exists(client, caseworker):
    wrong_password = client.post(
        reverse("login"), {"username": "caseworker1", "password": "wrong"}
    ).content.decode()
    unknown_user = client.post(
        reverse("login"), {"username": "nobody-here", "password": "wrong"}
    ).content.decode()
    message = "Nama pengguna atau kata sandi tidak benar"
    assert message in wrong_password
    assert message in unknown_user
    # The typed username is kept so the user only retypes the password.
    assert 'value="caseworker1"' in wrong_password


@pytest.mark.django_db
def test_logout_ends_the_session(caseworker):
    client = logged_in_client(caseworker)
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="id")
def test_english_switch(caseworker):
    client = logged_in_client(caseworker)
    assert 'lang="id"' in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("home")).content.decode()
    assert 'lang="en"' in page
    assert "Log out" in page
