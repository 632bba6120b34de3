from urllib.parse import urlparse

import pytest
from django.test import Client, override_settings
from django.urls import path, reverse

from accounts.models import Role
from tests.access_table import ACCESS, LOGIN, ROLES
from tests.url_walk import missing_from_table, project_url_names


def test_every_url_pattern_declares_who_may_reach_it():
    missing = missing_from_table(ACCESS)
    assert not missing, f"URL patterns without an entry in tests/access_table.py: {missing}"


def test_table_has_no_entries_for_urls_that_no_longer_exist():
    stale = set(ACCESS) - project_url_names()
    assert not stale, f"entries for URLs that do not exist: {stale}"


def _undeclared_view(request):
    raise AssertionError("never called")


urlpatterns = [
    *__import__("portal.urls", fromlist=["urlpatterns"]).urlpatterns,
    path("added-without-entry/", _undeclared_view, name="added_without_entry"),
]


@override_settings(ROOT_URLCONF=__name__)
def test_a_url_added_without_a_table_entry_is_reported():
    assert missing_from_table(ACCESS, urlconf=__name__) == {"added_without_entry"}


@pytest.fixture
def world(make_user, unit):
    """Objects the URL kwargs builders may use, and one user per role."""
    return {
        "users": {
            "caseworker": make_user(Role.CASEWORKER, unit),
            "supervisor": make_user(Role.SUPERVISOR, unit),
            "admin": make_user(Role.ADMIN, None),
        },
        "unit": unit,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ACCESS))
@pytest.mark.parametrize("role", ROLES)
def test_access_matches_the_table(name, role, world):
    entry = ACCESS[name]
    kwargs = entry["kwargs"](world) if "kwargs" in entry else {}
    url = reverse(name, kwargs=kwargs)
    client = Client()
    if role != "anonymous":
        client.force_login(world["users"][role])
    response = getattr(client, entry["method"])(url, entry.get("data", {}))
    expected = entry["expect"][role]
    if expected == LOGIN:
        assert response.status_code == 302, (name, role, response.status_code)
        assert urlparse(response["Location"]).path == reverse("login"), (name, role)
    else:
        assert response.status_code == expected, (name, role, response.status_code)
    # Whatever it answers, nothing of it stays in a browser's or a proxy's cache, and the
    # page may use no camera, microphone or location (portal.middleware.SecurityHeaders).
    assert "no-store" in response.get("Cache-Control", ""), (name, role)
    assert "geolocation=()" in response.get("Permissions-Policy", ""), (name, role)
    # A strict Content-Security-Policy: scripts and styles from the portal's files only.
    policy = response.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, (name, role, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (name, role)


def test_static_files_keep_their_own_caching(client, settings):
    """Static files are answered by WhiteNoise before the portal's headers apply."""
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_tile_sources_name_the_tile_host_only():
    from portal.policies import tile_sources

    assert tile_sources("https://{s}.tile.example.org/{z}/{x}/{y}.png") == [
        "https://*.tile.example.org"
    ]
    assert tile_sources("http://127.0.0.1:8100/tiles/{z}/{x}/{y}.png") == ["http://127.0.0.1:8100"]
    assert tile_sources("/tiles/{z}/{x}/{y}.png") == []  # the portal's own: 'self'
    assert tile_sources("") == []
