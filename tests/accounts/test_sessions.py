"""Sessions: signed out after SESSION_IDLE_SECONDS without activity (htmx polls are no
activity) and after SESSION_COOKIE_AGE in any case; the login page says why; an htmx
request gets HX-Redirect; every polled endpoint (named live or badge) is marked passive."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.middleware import LOGIN_AT, SEEN_AT
from portal.views import is_passive
from tests.accounts.conftest import password_login

pytestmark = pytest.mark.django_db


def _age(client, **seconds_ago) -> None:
    """Moves the session's recorded login and last activity into the past."""
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = session[key] - ago
    session.save()


def _ride_of(caseworker):
    from tests.access_table import _ride

    world = {"users": {"caseworker": caseworker}}
    return _ride(world)


def test_idle_for_longer_than_the_limit_signs_out_with_the_reason(caseworker, settings):
    client, _response = password_login(caseworker)
    assert client.get(reverse("cases:list")).status_code == 200
    _age(client, **{SEEN_AT: settings.SESSION_IDLE_SECONDS + 5})
    answer = client.get(reverse("cases:list"))
    assert answer.status_code == 302
    assert urlparse(answer["Location"]).path == reverse("login")
    page = client.get(answer["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity." in page
    assert client.get(reverse("cases:list")).status_code == 302


def test_activity_keeps_the_session_and_polls_do_not(caseworker, settings):
    client, _response = password_login(caseworker)
    ride = _ride_of(caseworker)
    # Active 20 minutes ago; then only polls (the live partial, the badge) for 15 minutes.
    _age(client, **{SEEN_AT: 20 * 60})
    before = client.session[SEEN_AT]
    for name, kwargs in (("rides:live", {"reference": ride.reference}), ("rides:notice_badge", {})):
        assert client.get(reverse(name, kwargs=kwargs), HTTP_HX_REQUEST="true").status_code == 200
    assert client.session[SEEN_AT] == before  # polls are no activity
    # A click counts.
    assert client.get(reverse("cases:list")).status_code == 200
    assert client.session[SEEN_AT] > before
    # Polls alone for longer than the limit: the next poll is told to go to the login.
    _age(client, **{SEEN_AT: settings.SESSION_IDLE_SECONDS + 1})
    poll = client.get(reverse("rides:notice_badge"), HTTP_HX_REQUEST="true")
    assert poll.status_code == 204
    assert urlparse(poll["HX-Redirect"]).path == reverse("login")


def test_the_absolute_limit_ends_even_an_active_session(caseworker, settings):
    client, _response = password_login(caseworker)
    _age(client, **{LOGIN_AT: settings.SESSION_COOKIE_AGE + 1})
    answer = client.get(reverse("cases:list"))
    assert answer.status_code == 302
    assert "a session lasts at most 10 hours" in client.get(answer["Location"]).content.decode()


def test_an_api_request_of_a_timed_out_session_is_401(caseworker, settings):
    client, _response = password_login(caseworker)
    _age(client, **{SEEN_AT: settings.SESSION_IDLE_SECONDS + 1})
    assert client.get("/api/v1/cases/").status_code in (401, 403)
    assert "_auth_user_id" not in client.session


def test_production_limits():
    from portal import settings as production

    assert production.SESSION_IDLE_SECONDS == 30 * 60
    assert production.SESSION_COOKIE_AGE == 10 * 3600


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_live_or_badge_endpoint_is_marked_passive():
    polled = [
        (route, view)
        for route, view in _patterns(get_resolver())
        if "live/" in route or "badge/" in route
    ]
    assert polled, "the polled endpoints were not found"
    unmarked = [route for route, view in polled if not is_passive(view)]
    assert not unmarked, f"polled endpoints without @passive: {unmarked}"
